#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a libFuzzer target for a bounded time over its seeds.  libFuzzer
# writes the inputs it finds into its first corpus folder, so that folder
# is a fresh temporary one: the seed folders (the interop fixtures, the
# sample corpus) are only read.
#   run-fuzz.sh FUZZER SECONDS SEED...
set -eu
fuzzer=$1 seconds=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/parlers-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -artifact_prefix="$work/" \
	"$work" "$@"
