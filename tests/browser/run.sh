#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs the browser tests (TAP on stdout): installs playwright-core from the
# lock file into tests/browser/node_modules when it is missing (never a
# browser: Debian's /usr/bin/chromium is used), then runs each test script
# (the listening room, the annotation editor, the sign-in redirect, the
# embeddable player, a thematic route, a listening game, the institutions'
# pages, the map of voices, the list of themes and its staff controls, the
# editor's automatic transcription, a segment's themes in the editor; or
# those named as arguments)
# and joins their TAP into one stream, numbered through, with one plan.
# Skips, with a TAP plan saying why, where Chromium, node or the package
# cannot be had.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 1
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP needs /usr/bin/chromium and node"
	exit 0
fi
if [ ! -f node_modules/playwright-core/package.json ]; then
	# the lock file pins the version; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD keeps npm from fetching browsers
	if ! PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1; then
		echo "1..0 # SKIP npm could not install playwright-core (see tests/browser/npm.log)"
		exit 0
	fi
fi
[ $# -gt 0 ] || set -- test-listening-room.mjs test-editor.mjs test-login-next.mjs test-embed.mjs test-parcours.mjs test-games.mjs test-catalogue.mjs test-institutions.mjs test-contrib.mjs test-map.mjs test-upload.mjs \
	test-speech-editor.mjs test-themes.mjs \
	test-recognize-editor.mjs \
	test-segment-themes.mjs
for t in "$@"; do
	echo "# $t"
	node "$t" 2>&1 || echo "# $t exited with status $?"
done | awk '
	/^(not )?ok [0-9]+/ { n++; if ($1 == "not") fail++; sub(/ok [0-9]+/, "ok " n); print; next }
	/^1\.\.[0-9]+/ { next }
	{ print }
	END { print "1.." n; exit fail ? 1 : 0 }'
