#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Search benchmark over HTTP (not a test).  Builds an archive of N segments
# (default 1,000,000; Zipf-distributed words), times the index, serves it,
# sends the fixed mix of 200 queries one after the other to /api/search as
# an anonymous visitor, checking each answer carries its total, and prints
# p50, p99 and the worst query; then the same mix as the bare FTS5 query
# "MATCH ? ORDER BY rank LIMIT 20" on the same index, and the ratios.
# Goal: p50 <= 5 ms, p99 <= 50 ms; index built in at most 20 s.
#   tests/bench/bench-search.sh [N]     (BUILD=build by default)
# KEEP=dir keeps the generated archive and its queries in dir, and a later
# run with the same KEEP measures that archive again without rebuilding it.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${1:-1000000}
PORT=${PORT:-18431}
server=
if [ -n "${KEEP:-}" ]; then
	work=$KEEP
	mkdir -p "$work"
	trap 'kill $server 2>/dev/null || true' EXIT
else
	work=$(mktemp -d /tmp/parlers-bench-search.XXXXXX)
	trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
fi

if [ -s "$work/queries.tsv" ] && [ -d "$work/data" ]; then
	echo "archive kept in $work: not rebuilt"
else
	rm -rf "$work/data"
	"$BUILD/tests/bench/bench-search" "$work/data" "$N" > "$work/queries.tsv"
fi
"$BUILD/cli/parlers" -d "$work/data" serve --listen "127.0.0.1:$PORT" 2>"$work/server.log" &
server=$!
python3 - "$PORT" "$work/queries.tsv" <<'PY'
import http.client, json, sys, time

port, path = int(sys.argv[1]), sys.argv[2]
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/api/health"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
# the server reads the index's vocabulary once, before its first visitor,
# and its postings into memory in the background: the mix starts once
# they are in
t0 = time.perf_counter()
for _ in range(1200):
    c.request("GET", "/api/health")
    if json.loads(c.getresponse().read()).get("search_in_memory"):
        break
    time.sleep(0.1)
print(f"server ready to search from memory after {time.perf_counter() - t0:.1f} s")
c.request("GET", "/api/search?q=warmup"); c.getresponse().read()
times, bad = [], 0
for line in open(path, encoding="utf-8"):
    kind, params, _ = line.rstrip("\n").split("\t")
    q, _, extra = params.partition("&")
    url = "/api/search?q=" + q + ("&" + extra if extra else "")
    t = time.perf_counter()
    c.request("GET", url)
    r = c.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200 or "total" not in json.loads(body):
        bad += 1
    times.append((ms, kind + " " + params))
times.sort()
n = len(times)
print(f"HTTP /api/search: {n} queries, p50 {times[n // 2][0]:.2f} ms, p99 {times[n * 99 // 100][0]:.2f} ms, "
      f"worst {times[-1][0]:.2f} ms ({times[-1][1]}), {bad} without a total (goal: p50 <= 5, p99 <= 50)")
PY
"$BUILD/tests/bench/bench-search-query" "$work/data" "$work/queries.tsv"
