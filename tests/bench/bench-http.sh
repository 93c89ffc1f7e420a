#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# HTTP benchmark of `parlers serve` (a benchmark, not a test).
#
# 1. Range requests for the same Opus file, side by side in one run: wrk at
#    64 connections against parlers, then against nginx (one worker,
#    sendfile on), each asking "Range: bytes=1000-66535".  Prints requests/s
#    of each and the ratio (goal: parlers >= 1.0x nginx), and parlers's
#    resident memory sampled every second over its run (goal: flat).
# 2. The JSON of a recording with 2,000 segments at 16 connections with
#    wrk --latency, accepting gzip as browsers do (goal: p99 under 5 ms).
#
# Usage: tests/bench/bench-http.sh [PARLERS]   (default: build/cli/parlers)
# Environment: DURATION (seconds per wrk run, default 30; the goal is
# stated for 60), THREADS (parlers worker threads, default: one per CPU).
# Needs wrk, nginx (nginx-light), python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PARLERS=${1:-${PARLERS:-$root/build/cli/parlers}}
DURATION=${DURATION:-30}
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

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

reqs() { awk '/Requests\/sec/ {print $2}' "$1"; }

run_wrk() { # name url out
	wrk -t2 -c64 -d"${DURATION}s" -H "Range: bytes=1000-66535" "$2" >"$3" 2>&1
}

echo
echo "== Range bytes=1000-66535, 64 connections, ${DURATION} s each"
: >"$tmp/rss"
( while kill -0 "$ppid" 2>/dev/null; do rss "$ppid" >>"$tmp/rss"; sleep 1; done ) &
sampler=$!
pids="$pids $sampler"
run_wrk parlers "http://127.0.0.1:$pport/media/$media_id.opus" "$tmp/wrk-parlers"
kill "$sampler" 2>/dev/null || true
run_wrk nginx "http://127.0.0.1:$nport/$rel" "$tmp/wrk-nginx"
p=$(reqs "$tmp/wrk-parlers")
n=$(reqs "$tmp/wrk-nginx")
grep -E "Non-2xx|Socket errors" "$tmp/wrk-parlers" "$tmp/wrk-nginx" || true
printf "parlers: %12s requests/s\n" "$p"
printf "nginx:   %12s requests/s\n" "$n"
python3 -c "print('ratio:   %12.2fx nginx (goal >= 1.0)' % ($p / $n))"
python3 - "$tmp/rss" <<'EOF'
import sys
v = [int(x) for x in open(sys.argv[1]).read().split() if x.strip()]
if v:
    half = len(v) // 2 or 1
    print("parlers memory (RSS, KiB): start %d, max %d, end %d; first half max %d, second half max %d"
          % (v[0], max(v), v[-1], max(v[:half]), max(v[half:] or v)))
EOF

echo
echo "== JSON of a recording with $segs segments, 16 connections, ${DURATION} s (Accept-Encoding: gzip, as browsers send)"
wrk -t2 -c16 -d"${DURATION}s" --latency -H "Accept-Encoding: gzip" "http://127.0.0.1:$pport/api/recordings/$long_id" >"$tmp/wrk-json" 2>&1
sed -n '/Latency Distribution/,/99%/p' "$tmp/wrk-json"
awk '/Requests\/sec/ {print "requests/s: " $2}' "$tmp/wrk-json"
p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk-json")
python3 - "$p99" <<'EOF'
import sys
s = sys.argv[1]
ms = float(s[:-2]) if s.endswith("ms") else float(s[:-2]) / 1000 if s.endswith("us") else float(s[:-1]) * 1000
print("p99: %.2f ms (goal < 5 ms): %s" % (ms, "met" if ms < 5 else "NOT met"))
EOF
