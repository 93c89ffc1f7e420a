#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Scale measurement (not a test): how far one SQLite file carries the
# metadata and the search.  Generates an archive of N segments (default
# 10,000,000) over R recordings (default 100,000) with bench-search's
# generator (Zipf-distributed words, two tiers per recording, segments
# through the same triggers as any import), then prints: the write rate
# while generating and the full reindex, the database's size, the
# server's memory (resident, and its peak) once its search postings are
# in memory, the query mix of bench-search (p50/p99 over HTTP), listing
# pages deep in the recordings, one recording's JSON, the facets, and the
# write rate of an annotation import (1,000 segments, --replace) and of
# segment edits through the HTTP API (one account, one after the other).
#   tests/bench/bench-scale.sh [N [R]]     (BUILD=build by default)
# KEEP=dir keeps the archive (reused by a later run with the same KEEP).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${1:-10000000}
R=${2:-100000}
PORT=${PORT:-18437}
server=
if [ -n "${KEEP:-}" ]; then
	work=$KEEP
	mkdir -p "$work"
	trap 'kill $server 2>/dev/null || true' EXIT
else
	work=$(mktemp -d /tmp/parlers-bench-scale.XXXXXX)
	trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
fi
P="$BUILD/cli/parlers"

if [ -s "$work/queries.tsv" ] && [ -d "$work/data" ]; then
	echo "archive kept in $work: not generated again"
else
	rm -rf "$work/data"
	echo "generating $N segments over $R recordings in $work/data"
	BENCH_RECORDINGS=$R /usr/bin/time -f "generator: %e s, peak memory %M KiB" \
		"$BUILD/tests/bench/bench-search" "$work/data" "$N" >"$work/queries.tsv"
	printf 'bench-scale-pass\n' >"$work/pw"
	"$P" -d "$work/data" user add editor --role admin --password-file "$work/pw" >/dev/null
fi
echo "database: $(du -m "$work/data/archive.db" | cut -f1) MB for $N segments, $R recordings"

"$P" -d "$work/data" serve --listen "127.0.0.1:$PORT" --quiet 2>"$work/server.log" &
server=$!
python3 - "$PORT" "$work/queries.tsv" "$server" "$R" <<'PY'
import http.client, json, random, re, sys, time

port, path, pid, nrec = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(1)


def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def memory():
    status = open("/proc/%d/status" % pid).read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024
    return rss, hwm


for _ in range(600):
    try:
        c = conn()
        c.request("GET", "/api/health"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
c = conn()
t0 = time.perf_counter()
for _ in range(6000):
    c.request("GET", "/api/health")
    if json.loads(c.getresponse().read()).get("search_in_memory"):
        break
    time.sleep(0.1)
print(f"server: search postings in memory after {time.perf_counter() - t0:.1f} s; "
      "resident %d MB, peak %d MB" % memory())


def timed(label, urls, check=lambda b: True):
    times, bad = [], 0
    for u in urls:
        t = time.perf_counter()
        c.request("GET", u)
        r = c.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t) * 1000)
        if r.status != 200 or not check(body):
            bad += 1
    times.sort()
    n = len(times)
    print(f"{label}: {n} requests, p50 {times[n // 2]:.2f} ms, p99 {times[n * 99 // 100]:.2f} ms,"
          f" worst {times[-1]:.2f} ms, {bad} failed")


c.request("GET", "/api/search?q=warmup"); c.getresponse().read()
queries = []
for line in open(path, encoding="utf-8"):
    kind, params, _ = line.rstrip("\n").split("\t")
    q, _, extra = params.partition("&")
    queries.append("/api/search?q=" + q + ("&" + extra if extra else ""))
timed("GET /api/search (the bench-search mix)", queries, lambda b: "total" in json.loads(b))
timed("GET /api/recordings?offset=K&limit=50 (K anywhere)",
      ["/api/recordings?offset=%d&limit=50" % rnd.randrange(0, max(1, nrec - 50))
       for _ in range(100)])
# the generator makes every tenth recording private (404 to a visitor)
visible = [i for i in range(1, nrec + 1) if i % 10]
timed("GET /api/recordings/{id} (100 segments each)",
      ["/api/recordings/%d" % rnd.choice(visible) for _ in range(100)])
timed("GET /api/facets", ["/api/facets"] * 20)
print("server after the reads: resident %d MB, peak %d MB" % memory())

# edits: one staff account, one after the other
c.request("POST", "/api/login", json.dumps({"login": "editor", "password": "bench-scale-pass"}),
          {"Content-Type": "application/json"})
r = c.getresponse()
body = r.read()
cookie = re.match(r"parlers_session=([^;]*)", r.getheader("Set-Cookie")).group(1)
h = {"Cookie": "parlers_session=" + cookie, "X-CSRF-Token": json.loads(body)["csrf_token"],
     "Content-Type": "application/json"}
n, ok, t0 = 200, 0, time.perf_counter()
for i in range(n):
    rid = rnd.choice(visible)
    c.request("GET", "/api/recordings/%d" % rid, headers=h)
    rec = json.loads(c.getresponse().read())
    seg = [t for t in rec["tiers"] if t.get("segments")][0]["segments"][0]
    c.request("PATCH", "/api/segments/%d" % seg["id"],
              json.dumps({"version": seg["version"], "text": seg["text"] + " mézoun"}), h)
    r = c.getresponse(); r.read()
    ok += r.status == 200
dt = time.perf_counter() - t0
print(f"PATCH /api/segments/{{sid}}: {ok} of {n} edits (each after a GET of its recording) "
      f"in {dt:.1f} s: {n / dt:.0f} edits/s with their reads")
print("server at the end: resident %d MB, peak %d MB" % memory())
PY
kill $server 2>/dev/null || true
wait $server 2>/dev/null || true
server=

# an annotation import with --replace into one recording: 1,000 segments
python3 - "$work/import.TextGrid" <<'PY'
import sys
n, step = 1000, 3.0
out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0",
       "xmax = %.1f" % (n * step), "tiers? <exists>", "size = 1", "item []:", "    item [1]:",
       '        class = "IntervalTier"', '        name = "transcription"', "        xmin = 0",
       "        xmax = %.1f" % (n * step), "        intervals: size = %d" % n]
for k in range(n):
    out += ["        intervals [%d]:" % (k + 1), "            xmin = %.1f" % (k * step),
            "            xmax = %.1f" % ((k + 1) * step),
            '            text = "ch\'est byin la mézoun %d"' % k]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
/usr/bin/time -f "annotations import --replace, 1,000 segments into recording 7: %e s" \
	"$P" -d "$work/data" annotations import 7 "$work/import.TextGrid" --replace >/dev/null
