#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a command (a test) with every archive it makes keeping its media in
# an S3-compatible object store: starts s3rver (npm's independent S3
# implementation, installed from tests/s3's lock file when missing) on a
# free loopback port with a fresh folder, exports PARLERS_MEDIA and the
# endpoint and credentials that 'parlers init' reads, runs the command,
# and stops the server.  `meson test --setup s3` wraps tests with it.
# Exits 77 (skipped) when node or the package cannot be had.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
	echo "with-s3: needs node" >&2
	exit 77
fi
if [ ! -f "$here/node_modules/s3rver/package.json" ]; then
	# one install for the tests that start together
	(
		flock 9
		[ -f "$here/node_modules/s3rver/package.json" ] ||
			(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1)
	) 9>"$here/.install.lock"
	if [ ! -f "$here/node_modules/s3rver/package.json" ]; then
		echo "with-s3: npm could not install s3rver (see tests/s3/npm.log)" >&2
		exit 77
	fi
fi
store=$(mktemp -d "${TMPDIR:-/tmp}/parlers-s3.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node "$here/node_modules/s3rver/bin/s3rver.js" -d "$store" -a 127.0.0.1 -p "$port" \
	--configure-bucket parlers --silent >"$store.log" 2>&1 &
server=$!
# ready when it answers (a slow machine takes longer: no fixed deadline
# short enough to fail a test, one generous enough to end a hang)
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $server 2>/dev/null; then
		echo "with-s3: s3rver did not start:" >&2
		cat "$store.log" >&2
		kill $server 2>/dev/null
		rm -rf "$store" "$store.log"
		exit 1
	fi
	sleep 0.1
done
export PARLERS_MEDIA=s3://parlers/archive
export PARLERS_S3_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
"$@"
status=$?
kill $server 2>/dev/null
wait $server 2>/dev/null
rm -rf "$store" "$store.log"
exit $status
