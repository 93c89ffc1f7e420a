#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Every C file in git is laid out as .clang-format says: one TAP check,
# naming the files that differ.  Run clang-format -i on them to mend.
set -u
cd "$(dirname "$0")/.." || exit 1
echo "1..1"
if ! command -v clang-format >/dev/null 2>&1; then
	echo "not ok 1 - clang-format is not installed (scripts/install-deps.sh installs it)"
	exit 1
fi
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
if [ -z "$files" ]; then
	# not a git checkout (a release tarball): lay out what is there
	files=$(find common transcode annot archive web cli include tests -name '*.[ch]')
fi
# shellcheck disable=SC2086
bad=$(for f in $files; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$bad" ]; then
	echo "not ok 1 - C files differ from .clang-format:" $bad
	exit 1
fi
echo "ok 1 - $(echo "$files" | wc -l) C files laid out as .clang-format says"
