#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Media range requests with the media in an S3-compatible object store
# (s3rver on loopback, through tests/s3/with-s3.sh) against the same
# recording in an archive whose media are in media/ (a benchmark, not a
# test).
#
# Two archives get the same recording; the object store's cache is
# emptied, then each server is asked, by wrk at 64 connections,
# "Range: bytes=1000-66535" of the Opus copy, in ROUNDS alternating rounds
# so that load from elsewhere on the machine falls on both alike.  Prints
# requests/s per round, the medians and their ratio (goal: S3 >= 0.5x
# local), and the time of the first request, the one that fetches the
# object into the cache, beside a local first request.  A third server on
# the S3 archive runs with --media-redirect: its column is the redirects
# (307 to a presigned URL) it answers a second, the server's own cost when
# the store carries the bytes (wrk does not follow them).
#
# Usage: tests/bench/bench-s3.sh [PARLERS]   (default: build/cli/parlers)
# Environment: DURATION (seconds per wrk run, default 20), ROUNDS (default 3).
# Needs wrk, curl, node (s3rver from tests/s3's lock file), python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${PARLERS_S3_ENDPOINT:-}" ]; then
	exec "$root/tests/s3/with-s3.sh" "$0" "$@"
fi
PARLERS=${1:-${PARLERS:-$root/build/cli/parlers}}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
corpus=${PARLERS_CORPUS:-$root/corpus}
command -v wrk >/dev/null 2>&1 || { echo "bench-s3: needs wrk" >&2; exit 1; }
[ -x "$PARLERS" ] || { echo "bench-s3: no parlers binary at $PARLERS" >&2; exit 1; }

tmp=$(mktemp -d /tmp/parlers-bench-s3.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

src=$(ls "$corpus"/cotentin-1976-la-mezoun.wav 2>/dev/null || ls "$corpus"/*.wav | head -1)
PARLERS_MEDIA= "$PARLERS" -d "$tmp/local" init >/dev/null
"$PARLERS" -d "$tmp/local" ingest --access public "$src" >/dev/null
"$PARLERS" -d "$tmp/s3" --media "$PARLERS_MEDIA/bench-$$" init >/dev/null
"$PARLERS" -d "$tmp/s3" ingest --access public "$src" >/dev/null
# the object store's copy is the one served: the cache starts empty
find "$tmp/s3/media" -mindepth 1 -maxdepth 1 -name '??' -exec rm -rf {} +
echo "media: $(basename "$src"); store $PARLERS_S3_ENDPOINT (s3rver)"

serve() { # data folder, port, [option]
	"$PARLERS" -d "$1" serve --listen "127.0.0.1:$2" --quiet ${3:-} >/dev/null 2>"$1.log$2" &
	pids="$pids $!"
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$2/"; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "bench-s3: server did not start" >&2; exit 1; }
		sleep 0.1
	done
}
lport=$(free_port)
serve "$tmp/local" "$lport"
sport=$(free_port)
serve "$tmp/s3" "$sport"
rport=$(free_port)
serve "$tmp/s3" "$rport" --media-redirect
first() {
	curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Range: bytes=1000-66535' \
		"http://127.0.0.1:$1/media/1.opus"
}
echo "first request (local, media/):         $(first "$lport") s"
echo "first request (S3, fetched to cache):  $(first "$sport") s"
echo "second request (S3, from the cache):   $(first "$sport") s"
echo "redirect (S3, --media-redirect):       $(first "$rport") s"

printf 'wrk.headers["Range"] = "bytes=1000-66535"\n' >"$tmp/range.lua"
rps() { # port
	wrk -t 1 -c 64 -d "${DURATION}s" -s "$tmp/range.lua" "http://127.0.0.1:$1/media/1.opus" |
		awk '/Requests\/sec/ { print $2 }'
}
l_all=""
s_all=""
d_all=""
r=1
while [ $r -le "$ROUNDS" ]; do
	l=$(rps "$lport")
	s=$(rps "$sport")
	d=$(rps "$rport")
	echo "round $r: local $l req/s, S3 $s req/s, S3 redirects $d req/s"
	l_all="$l_all $l"
	s_all="$s_all $s"
	d_all="$d_all $d"
	r=$((r + 1))
done
python3 -c '
import statistics, sys
l = statistics.median(float(x) for x in sys.argv[1].split())
s = statistics.median(float(x) for x in sys.argv[2].split())
print("median: local %.0f req/s, S3 with the read-through cache %.0f req/s" % (l, s))
d = statistics.median(float(x) for x in sys.argv[3].split())
print("ratio S3/local: %.2fx (goal >= 0.5x)" % (s / l))
print("redirects answered (--media-redirect, 307 to a presigned URL): %.0f req/s" % d)' \
	"$l_all" "$s_all" "$d_all"
