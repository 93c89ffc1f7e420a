#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Listening-game benchmark (not a test).  On the search benchmark's archive
# of N segments (default 1,000,000, a quarter of them translated; its places
# given coordinates here), draws 300 rounds of each game over HTTP as an
# anonymous visitor, checking each answer, and prints p50, p99 and the
# worst; then, on the same file, the naive draw "ORDER BY random() LIMIT 1"
# over the same eligible segments, and the ratio.  Goal: a round in under
# 10 ms.
#   tests/bench/bench-games.sh [N]      (BUILD=build by default)
# KEEP=dir keeps (or reuses) the generated archive, as bench-search.sh does.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${1:-1000000}
PORT=${PORT:-18432}
server=
if [ -n "${KEEP:-}" ]; then
	work=$KEEP
	mkdir -p "$work"
	trap 'kill $server 2>/dev/null || true' EXIT
else
	work=$(mktemp -d /tmp/parlers-bench-games.XXXXXX)
	trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
fi
if [ -d "$work/data" ]; then
	echo "archive kept in $work: not rebuilt"
else
	"$BUILD/tests/bench/bench-search" "$work/data" "$N" > "$work/queries.tsv"
fi
python3 - "$work/data/archive.db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("UPDATE places SET lat = 49.3 + id * 0.1, lon = -1.5 + id * 0.3 WHERE lat IS NULL")
con.commit()
PY
"$BUILD/cli/parlers" -d "$work/data" serve --listen "127.0.0.1:$PORT" --no-search-memory \
	--quiet 2>"$work/server.log" &
server=$!
python3 - "$PORT" "$work/data/archive.db" <<'PY'
import http.client, json, sqlite3, sys, time

port, db = int(sys.argv[1]), sys.argv[2]
for _ in range(200):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/api/health"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
segments = sqlite3.connect(db).execute("SELECT count(*) FROM segments").fetchone()[0]
print(f"archive: {segments:,} segments")

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]

ours = {}
for game in ("meaning", "where"):
    times, bad = [], 0
    for i in range(301):
        t0 = time.perf_counter()
        c.request("GET", "/api/games/round?game=" + game)
        r = c.getresponse()
        body = r.read()
        dt = (time.perf_counter() - t0) * 1000
        if i == 0:
            continue  # the first warms the statement cache
        j = json.loads(body) if r.status == 200 else {}
        good = r.status == 200 and (len(set(j.get("choices", []))) == 4 if game == "meaning"
                                    else "lat" in j.get("answer", {}))
        bad += not good
        times.append(dt)
    ours[game] = pct(times, 50)
    print(f"{game:8s} over HTTP: p50 {pct(times, 50):.2f} ms  p99 {pct(times, 99):.2f} ms"
          f"  worst {max(times):.2f} ms  ({bad} bad answers)")

# the naive draw: every eligible segment sorted by a random key
con = sqlite3.connect(db)
naive = ("SELECT s.id FROM segments s JOIN tiers t ON t.id = s.tier_id"
         " JOIN recordings r ON r.id = t.recording_id"
         " WHERE t.type = 'transcription' AND r.access = 0 AND s.text <> ''"
         " AND EXISTS (SELECT 1 FROM tiers u JOIN segments x ON x.tier_id = u.id"
         "  WHERE u.recording_id = t.recording_id AND u.type = 'translation'"
         "  AND x.start_ms < s.end_ms AND x.end_ms > s.start_ms)"
         " ORDER BY random() LIMIT 1")
times = []
for i in range(11):
    t0 = time.perf_counter()
    con.execute(naive).fetchone()
    times.append((time.perf_counter() - t0) * 1000)
print(f"naive ORDER BY random() in process: p50 {pct(times, 50):.1f} ms (11 draws)")
print(f"ratio naive / parlers (meaning, p50): {pct(times, 50) / ours['meaning']:.0f}x")
PY
