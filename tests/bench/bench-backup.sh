#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Benchmark (not a test): `parlers backup` of an archive of N short
# recordings side by side with `cp -a` of the same files (archive.db and
# media/) on the same filesystem, then an incremental backup after one new
# recording.  Prints the times and the speed ratios (backup speed over
# cp's; the goal is 0.8 or more; the incremental backup's goal is under
# 2 s).
#
# Three full runs are timed, best of ROUNDS each, with a warm cache and
# nothing dirty in it at the start (a `sync` before each, not timed):
#   cp -a          the files, nothing made durable
#   backup --copy  every byte read, hashed, written, then made durable
#                  (one syncfs) before the manifest is written
#   backup         hard links (DEST on the archive's filesystem), each new
#                  file still read once to check its SHA-256
# `cp -a; sync` is timed too: the same durability as the backup's.
#
# The recordings are one generated 3-second 48 kHz/24-bit stereo WAV
# (noise, so the access copies have their real size) copied N times with
# one sample changed, so each is a recording of its own.  Ingesting them
# is the slow part: set BENCH_DIR to keep the prepared archive.
#
#   PARLERS=build/cli/parlers N=1000 tests/bench/bench-backup.sh
set -eu

PARLERS=${PARLERS:-parlers}
N=${N:-1000}
ROUNDS=${ROUNDS:-2}
KEEP=${BENCH_DIR:-}
if [ -n "$KEEP" ]; then
	WORK=$KEEP
	mkdir -p "$WORK"
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/parlers-bench-backup.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT INT TERM
fi
IN=$WORK/in-$N
DATA=$WORK/data-$N

if [ ! -f "$DATA/.ready" ]; then
	rm -rf "$IN" "$DATA"
	mkdir -p "$IN"
	sox -n -r 48000 -b 24 -c 2 "$WORK/base.wav" synth 3 pinknoise vol 0.3
	python3 - "$WORK/base.wav" "$IN" "$N" <<'EOF'
import os, sys
base, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(base, "rb").read())
pos = data.find(b"data") + 8
for i in range(n):
    copy = bytearray(data)
    # a different lowest byte in each of the first samples: still valid
    copy[pos + 6 * (i % 1000)] ^= 1 + i // 1000
    with open(os.path.join(out, "rec-%05d.wav" % i), "wb") as f:
        f.write(copy)
EOF
	"$PARLERS" -d "$DATA" init >/dev/null
	echo "ingesting $N recordings (once; BENCH_DIR keeps them)..." >&2
	"$PARLERS" -d "$DATA" ingest --access public "$IN" >/dev/null
	touch "$DATA/.ready"
fi

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
# best of ROUNDS of: rm -rf OUT; sync; time "$@"
best() {
	out=$1
	shift
	b=""
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		rm -rf "$out"
		sync
		cat "$DATA/archive.db" >/dev/null
		find "$DATA/media" -type f -exec cat {} + >/dev/null
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		t=$(elapsed "$t0" "$t1")
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
		r=$((r + 1))
	done
	echo "$b"
}

cp_files() {
	mkdir "$1"
	cp -a "$DATA/archive.db" "$DATA/media" "$1/"
}
cp_sync() {
	cp_files "$1"
	sync
}

FILES=$(find "$DATA/media" -type f | wc -l)
MB=$(du -sm "$DATA/media" | cut -f1)
echo "archive: $N recordings, $FILES media files, $MB MB, archive.db $(du -k "$DATA/archive.db" | cut -f1) KB"

t_cp=$(best "$WORK/cp" cp_files "$WORK/cp")
t_cps=$(best "$WORK/cp" cp_sync "$WORK/cp")
t_copy=$(best "$WORK/bk-copy" "$PARLERS" -d "$DATA" backup --copy "$WORK/bk-copy")
t_link=$(best "$WORK/bk-link" "$PARLERS" -d "$DATA" backup "$WORK/bk-link")
rm -rf "$WORK/cp"

printf '%-28s %8.2f s\n' "cp -a" "$t_cp" "cp -a; sync" "$t_cps" \
	"parlers backup --copy" "$t_copy" "parlers backup (links)" "$t_link"
printf 'ratio backup --copy / cp -a:        %.2f (speed of cp -a; goal >= 0.8)\n' \
	"$(echo "$t_cp / $t_copy" | bc -l)"
printf 'ratio backup --copy / cp -a; sync:  %.2f\n' "$(echo "$t_cps / $t_copy" | bc -l)"
printf 'ratio backup (links) / cp -a:       %.2f\n' "$(echo "$t_cp / $t_link" | bc -l)"

# ---- incremental: one new recording ----
sox -n -r 48000 -b 24 -c 2 "$WORK/one.wav" synth 3 pinknoise vol 0.29
"$PARLERS" -d "$DATA" ingest --access public "$WORK/one.wav" >/dev/null
sync
t0=$(now)
"$PARLERS" -d "$DATA" backup --copy --json "$WORK/bk-copy" >"$WORK/inc-copy.json"
t1=$(now)
"$PARLERS" -d "$DATA" backup --json "$WORK/bk-link" >"$WORK/inc-link.json"
t2=$(now)
printf 'incremental after one new recording: --copy %.2f s (%s), links %.2f s (%s); goal < 2 s\n' \
	"$(elapsed "$t0" "$t1")" \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%d copied, %d kept" % (j["copied"], j["kept"]))' "$WORK/inc-copy.json")" \
	"$(elapsed "$t1" "$t2")" \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%d linked, %d kept" % (j["linked"], j["kept"]))' "$WORK/inc-link.json")"
# (with BENCH_DIR the kept archive keeps that recording: one more per run)
