#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# HTTP benchmark of `parlers serve` (a benchmark, not a test).
#
# 1. Range requests for the same Opus file, side by side in one run: wrk at
#    64 connections against parlers, then against nginx (one worker,
#    sendfile on), each asking "Range: bytes=1000-66535", in ROUNDS
#    alternating rounds so that load from elsewhere on the machine falls on
#    both alike; twice, with one wrk thread and with two.  Prints
#    requests/s of each per round, the medians and their ratio for each
#    setup (goal: parlers >= 1.0x nginx in both), and parlers's resident
#    memory sampled every second over its runs (goal: flat).
# 2. The JSON of a recording with 2,000 segments at 16 connections with
#    wrk --latency, accepting gzip as browsers do, ROUNDS times (goal: p99
#    under 5 ms); the median p99 is the figure.
# 3. With CALLGRIND=1 (needs valgrind): the instructions parlers spends per
#    media request, counted by callgrind over 2,000 kept-alive range
#    requests -- a figure that other load on the machine does not move.
#
# Usage: tests/bench/bench-http.sh [PARLERS]   (default: build/cli/parlers)
# Environment: DURATION (seconds per wrk run, default 30; the goal is
# stated for 60), ROUNDS (default 3), THREADS (parlers worker threads,
# default: one per CPU), CALLGRIND (1 to count instructions).
# Needs wrk, nginx (nginx-light), python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PARLERS=${1:-${PARLERS:-$root/build/cli/parlers}}
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-3}
corpus=${PARLERS_CORPUS:-$root/corpus}
for tool in wrk nginx python3; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
		echo "bench-http: needs $tool" >&2
		exit 1
	}
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$PARLERS" ] || { echo "bench-http: no parlers binary at $PARLERS" >&2; exit 1; }

tmp=$(mktemp -d /tmp/parlers-bench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	[ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
	sleep 0.3
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ---- data: one public recording for the media run, one with 2,000 segments ----
data="$tmp/data"
src=$(ls "$corpus"/cotentin-1976-la-mezoun.wav 2>/dev/null || ls "$corpus"/*.wav | head -1)
"$PARLERS" -d "$data" ingest --access public "$src" >/dev/null
opus=$(find "$data/media" -name '*.opus' | head -1)
rel=${opus#"$data/media/"}
echo "media: $(basename "$src") -> Opus access copy of $(stat -c %s "$opus") bytes"

python3 - "$tmp/long" <<'EOF'
# 200 s of quiet tone at 16 kHz and a TextGrid of 2,000 sentences of 100 ms
import json, math, os, struct, sys, wave
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rate, secs = 16000, 200
with wave.open(os.path.join(d, "long.wav"), "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
    frames = bytearray()
    for i in range(rate * secs):
        frames += struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * i / rate)))
    w.writeframes(bytes(frames))
n = 2000
lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", "xmax = %d" % secs,
         "tiers? <exists>", "size = 1", "item []:", "    item [1]:", '        class = "IntervalTier"',
         '        name = "transcription"', "        xmin = 0", "        xmax = %d" % secs,
         "        intervals: size = %d" % n]
for i in range(n):
    lines += ["        intervals [%d]:" % (i + 1), "            xmin = %.1f" % (i * 0.1),
              "            xmax = %.1f" % ((i + 1) * 0.1),
              '            text = "phrase %d : ch\'est la mézoun d\'mon grand-père"' % (i + 1)]
open(os.path.join(d, "long.TextGrid"), "w").write("\n".join(lines) + "\n")
json.dump({"title": "Deux mille phrases", "access": "public", "language": "nrf"},
          open(os.path.join(d, "long.json"), "w"))
EOF
long_id=$("$PARLERS" -d "$data" ingest --json "$tmp/long/long.wav" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
segs=$("$PARLERS" -d "$data" show --json "$long_id" | python3 -c 'import json,sys; print(sum(len(t["segments"]) for t in json.load(sys.stdin)["tiers"]))')
echo "json: recording $long_id with $segs segments"
media_id=$("$PARLERS" -d "$data" list --json | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin)["recordings"] if r["id"] != '"$long_id"'][0])')

# ---- servers ----
pport=$(free_port)
if [ -n "${THREADS:-}" ]; then targs="--threads $THREADS"; else targs=""; fi
# shellcheck disable=SC2086
"$PARLERS" -d "$data" serve --listen "127.0.0.1:$pport" --quiet $targs 2>"$tmp/parlers.log" &
ppid=$!
pids="$pids $ppid"

nport=$(free_port)
mkdir -p "$tmp/nginx"
# nginx's worker may run as another user (nobody, www-data) than the one who made the files
chmod -R a+rX "$tmp"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon on;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	keepalive_requests 100000;
	client_body_temp_path $tmp/nginx;
	proxy_temp_path $tmp/nginx;
	fastcgi_temp_path $tmp/nginx;
	uwsgi_temp_path $tmp/nginx;
	scgi_temp_path $tmp/nginx;
	types { audio/ogg opus; }
	server {
		listen 127.0.0.1:$nport;
		root $data/media;
	}
}
EOF
"$NGINX" -c "$tmp/nginx.conf" -p "$tmp/nginx" -e "$tmp/nginx/error.log" 2>/dev/null ||
	"$NGINX" -c "$tmp/nginx.conf" -p "$tmp/nginx"
sleep 0.5
for u in "http://127.0.0.1:$pport/media/$media_id.opus" "http://127.0.0.1:$nport/$rel"; do
	code=$(python3 - "$u" <<'EOF'
import sys, urllib.request
r = urllib.request.Request(sys.argv[1], headers={"Range": "bytes=1000-66535"})
with urllib.request.urlopen(r) as f:
    print(f.status, len(f.read()))
EOF
)
	echo "check $u: $code"
done
# parlers keeps media answers once the archive's files have been still for
# 2.5 s (web/cache.c): a server that has just opened it is not yet there
sleep 3

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

reqs() { awk '/Requests\/sec/ {print $2}' "$1"; }

run_wrk() { # threads url out
	wrk -t"$1" -c64 -d"${DURATION}s" -H "Range: bytes=1000-66535" "$2" >"$3" 2>&1
}

# the median of the numbers on stdin
median() { python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.stdin.read().split()))'; }

# Two client setups, each measured against both servers in alternating
# rounds: wrk with one thread (the client is then the lighter load on the
# machine and each server's cost per request shows most) and with two.
: >"$tmp/rss"
: >"$tmp/summary"
for wt in 1 2; do
	echo
	echo "== Range bytes=1000-66535, wrk -t$wt -c64, ${DURATION} s each, $ROUNDS rounds"
	: >"$tmp/p"
	: >"$tmp/n"
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		( while kill -0 "$ppid" 2>/dev/null; do rss "$ppid" >>"$tmp/rss"; sleep 1; done ) &
		sampler=$!
		run_wrk "$wt" "http://127.0.0.1:$pport/media/$media_id.opus" "$tmp/wrk-parlers"
		kill "$sampler" 2>/dev/null || true
		wait "$sampler" 2>/dev/null || true
		run_wrk "$wt" "http://127.0.0.1:$nport/$rel" "$tmp/wrk-nginx"
		grep -E "Non-2xx|Socket errors" "$tmp/wrk-parlers" "$tmp/wrk-nginx" || true
		p=$(reqs "$tmp/wrk-parlers")
		n=$(reqs "$tmp/wrk-nginx")
		echo "$p" >>"$tmp/p"
		echo "$n" >>"$tmp/n"
		python3 -c "print('round $round: parlers %10.0f, nginx %10.0f requests/s: %.2fx' % ($p, $n, $p / $n))"
		round=$((round + 1))
	done
	p=$(median <"$tmp/p")
	n=$(median <"$tmp/n")
	printf "parlers: %12.0f requests/s (median)\n" "$p"
	printf "nginx:   %12.0f requests/s (median)\n" "$n"
	python3 -c "print('ratio:   %12.2fx nginx (goal >= 1.0)' % ($p / $n))"
	python3 -c "print('wrk -t$wt -c64: parlers %.0f, nginx %.0f requests/s: %.2fx' % ($p, $n, $p / $n))" >>"$tmp/summary"
done
echo
echo "== media, both setups (medians)"
cat "$tmp/summary"
python3 - "$tmp/rss" <<'EOF'
import sys
v = [int(x) for x in open(sys.argv[1]).read().split() if x.strip()]
if v:
    half = len(v) // 2 or 1
    print("parlers memory (RSS, KiB): start %d, max %d, end %d; first half max %d, second half max %d"
          % (v[0], max(v), v[-1], max(v[:half]), max(v[half:] or v)))
EOF

echo
echo "== JSON of a recording with $segs segments, 16 connections, ${DURATION} s, $ROUNDS rounds (Accept-Encoding: gzip, as browsers send)"
: >"$tmp/p99"
round=1
while [ "$round" -le "$ROUNDS" ]; do
	wrk -t2 -c16 -d"${DURATION}s" --latency -H "Accept-Encoding: gzip" \
		"http://127.0.0.1:$pport/api/recordings/$long_id" >"$tmp/wrk-json" 2>&1
	python3 - "$tmp/wrk-json" "$round" >>"$tmp/p99" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(s):
    if s.endswith("us"):
        return float(s[:-2]) / 1000
    if s.endswith("ms"):
        return float(s[:-2])
    return float(s[:-1]) * 1000
pct = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", text, re.M))
rps = re.search(r"Requests/sec:\s+(\S+)", text)
print("%.3f" % ms(pct["99"]))
print("round %s: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, %s requests/s"
      % (sys.argv[2], ms(pct["50"]), ms(pct["90"]), ms(pct["99"]), rps.group(1) if rps else "?"),
      file=sys.stderr)
EOF
	round=$((round + 1))
done
p99=$(median <"$tmp/p99")
python3 -c "print('p99: %.2f ms, median of $ROUNDS (goal < 5 ms): %s' % ($p99, 'met' if $p99 < 5 else 'NOT met'))"

# ---- instructions per request: the same figure however loaded the machine ----
if [ "${CALLGRIND:-0}" = 1 ]; then
	echo
	echo "== callgrind: instructions per media request (2,000 kept-alive range requests, 2 threads)"
	kill "$ppid" 2>/dev/null || true
	wait "$ppid" 2>/dev/null || true
	cport=$(free_port)
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p" "$PARLERS" -d "$data" serve \
		--listen "127.0.0.1:$cport" --quiet --threads 2 2>"$tmp/cg.log" &
	vpid=$!
	pids="$pids $vpid"
	cat >"$tmp/client.py" <<'EOF'
import http.client, socket, sys, time
port = int(sys.argv[1])
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.2)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(int(sys.argv[3])):
    c.request("GET", sys.argv[2], headers={"Range": "bytes=1000-66535"})
    r = c.getresponse()
    r.read()
    assert r.status == 206, r.status
EOF
	python3 "$tmp/client.py" "$cport" "/media/$media_id.opus" 1
	# the archive's files settle first: the media cache keeps nothing before
	sleep 3
	python3 "$tmp/client.py" "$cport" "/media/$media_id.opus" 200
	callgrind_control -z "$vpid" >/dev/null 2>&1
	python3 "$tmp/client.py" "$cport" "/media/$media_id.opus" 2000
	callgrind_control -d "$vpid" >/dev/null 2>&1
	kill "$vpid" 2>/dev/null || true
	wait "$vpid" 2>/dev/null || true
	callgrind_annotate --inclusive=yes "$tmp/cg.$vpid.1" 2>/dev/null | python3 -c '
import re, sys
tot = memset = 0
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) ", line)
    if not m:
        continue
    v = int(m.group(1).replace(",", ""))
    if "PROGRAM TOTALS" in line:
        tot = v
    elif "__memset" in line and not memset:
        memset = v
print("instructions per request: %d, of which %d in memset (libmicrohttpd clearing the"
      " connection memory pool for each request)" % (tot // 2000, memset // 2000))
'
fi
