#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds parlers and runs the whole test suite three ways: gcc, clang, and
# gcc with AddressSanitizer + UndefinedBehaviorSanitizer; then a short
# libFuzzer run of every parser (clang).  The browser tests drive pages
# and scripts that are the same whatever compiled the server, so they run
# in the gcc build only (the HTTP tests cover the server under the
# sanitizers).  Ends with one line
# "N passed, N failed" counting every check of every run.
set -u
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1

logs=""
status=0
run() { # name, meson options...
	name=$1; shift
	dir=build-test-$name
	echo "== $name"
	if [ ! -d "$dir" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; status=1; return; }
	fi
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		tail -50 "$dir.build.log"
		echo "BUILD FAILED: $name" >&2
		status=1
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 ${SUITE_ARGS:-} || status=1
	logs="$logs $dir/meson-logs/testlog.json"
}

CC=gcc run gcc
CC=clang SUITE_ARGS="--no-suite browser" run clang
CC=gcc SUITE_ARGS="--no-suite browser" run asan -Db_sanitize=address,undefined -Db_lundef=false
if [ "${PARLERS_SKIP_FUZZ:-0}" != 1 ]; then
	CC=clang SUITE_ARGS="--suite fuzz" run fuzz -Dfuzz=true -Db_lundef=false
fi

# shellcheck disable=SC2086
python3 tests/count-results.py $logs || status=1
exit $status
