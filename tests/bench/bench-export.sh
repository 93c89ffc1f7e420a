#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Benchmark (not a test): `parlers export` of N recordings with their
# original audio, side by side with `zip -0 -r` over the same audio and
# sidecar files.  Prints both times, the speed ratio (export speed over
# zip's; the goal is 0.8 or more) and the export's peak memory at N/4, N/2
# and N recordings, which must stay flat as the bundle grows.
#
# The recordings are the sample corpus repeated: each copy differs from its
# source by one byte (a sample's lowest bit in WAV, a few bytes appended to
# the other containers, which their readers ignore), so every copy is a
# distinct recording with its own checksum.  Ingesting them is the slow
# part (each gets its access copies made): set BENCH_DIR to keep the
# prepared archive between runs.
#
#   PARLERS=build/cli/parlers PARLERS_CORPUS=corpus N=1000 tests/bench/bench-export.sh
set -eu

PARLERS=${PARLERS:-parlers}
CORPUS=${PARLERS_CORPUS:-corpus}
N=${N:-1000}
ROUNDS=${ROUNDS:-2}
KEEP=${BENCH_DIR:-}
if [ -n "$KEEP" ]; then
	WORK=$KEEP
	mkdir -p "$WORK"
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/parlers-bench-export.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT INT TERM
fi
IN=$WORK/in-$N
DATA=$WORK/data-$N

# ---- the copies ----
if [ ! -f "$DATA/.ready" ]; then
	rm -rf "$IN" "$DATA"
	mkdir -p "$IN"
	python3 - "$CORPUS" "$IN" "$N" <<'EOF'
import os, shutil, struct, sys
corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
audio = sorted(f for f in os.listdir(corpus)
               if f.rsplit(".", 1)[-1].lower() in ("wav", "flac", "mp3", "ogg", "m4a"))
for i in range(n):
    src = audio[i % len(audio)]
    stem, ext = src.rsplit(".", 1)
    name = "%s-%04d" % (stem, i)
    with open(os.path.join(corpus, src), "rb") as f:
        data = bytearray(f.read())
    if ext.lower() == "wav":
        # flip the lowest bit of one sample in the data chunk: still valid
        pos = data.find(b"data") + 8 + 2 * (i // len(audio) + 1)
        data[pos] ^= 1
    else:
        data += b"parlers-copy-%06d" % i
    with open(os.path.join(out, name + "." + ext), "wb") as f:
        f.write(data)
    for side in (".json", ".eaf", ".TextGrid"):
        if os.path.exists(os.path.join(corpus, stem + side)):
            shutil.copy(os.path.join(corpus, stem + side), os.path.join(out, name + side))
EOF
	# a smaller prepared archive is a head start: its copies are the first
	# ones here too, and ingest skips them as duplicates
	prev=$(ls -d "$WORK"/data-*/.ready 2>/dev/null | sed 's,.*/data-\([0-9]*\)/.ready,\1,' |
		sort -n | awk -v n="$N" '$1 < n' | tail -1)
	if [ -n "$prev" ]; then
		cp -a "$WORK/data-$prev" "$DATA"
		rm -f "$DATA/.ready"
	else
		"$PARLERS" -d "$DATA" init >/dev/null
	fi
	echo "ingesting $N recordings (once; BENCH_DIR keeps them)..." >&2
	"$PARLERS" -d "$DATA" ingest --access public "$IN" >/dev/null
	touch "$DATA/.ready"
fi

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

OUT=$WORK/out
mkdir -p "$OUT"
best_export=""
best_zip=""
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	rm -f "$OUT/bag.zip" "$OUT/plain.zip"
	t0=$(now)
	"$PARLERS" -d "$DATA" export --audio original -o "$OUT/bag.zip" 2>/dev/null
	t1=$(now)
	(cd "$IN" && zip -0 -r -q "$OUT/plain.zip" .)
	t2=$(now)
	e=$(elapsed "$t0" "$t1")
	z=$(elapsed "$t1" "$t2")
	if [ -z "$best_export" ] || [ "$(echo "$e < $best_export" | bc)" = 1 ]; then best_export=$e; fi
	if [ -z "$best_zip" ] || [ "$(echo "$z < $best_zip" | bc)" = 1 ]; then best_zip=$z; fi
	r=$((r + 1))
done
bag_bytes=$(stat -c %s "$OUT/bag.zip")
zip_bytes=$(stat -c %s "$OUT/plain.zip")
ratio=$(echo "scale=2; $best_zip / $best_export" | bc)
printf 'recordings:      %d\n' "$N"
printf 'parlers export:  %.2f s  (%d bytes, %.0f MB/s)\n' "$best_export" "$bag_bytes" \
	"$(echo "$bag_bytes / $best_export / 1000000" | bc -l)"
printf 'zip -0 -r:       %.2f s  (%d bytes, %.0f MB/s)\n' "$best_zip" "$zip_bytes" \
	"$(echo "$zip_bytes / $best_zip / 1000000" | bc -l)"
printf 'speed ratio:     %s x zip (goal: 0.8 or more)\n' "$ratio"

# ---- memory against bundle size: ids 1..k for three k ----
for k in $((N / 4)) $((N / 2)) "$N"; do
	[ "$k" -ge 1 ] || continue
	ids=$(seq -s, 1 "$k")
	rm -f "$OUT/part.zip"
	/usr/bin/time -f '%M' -o "$OUT/rss" "$PARLERS" -d "$DATA" export --audio original \
		--ids "$ids" -o "$OUT/part.zip" 2>/dev/null
	printf 'peak memory:     %6d KiB for %4d recordings (%d MB bag)\n' "$(tail -1 "$OUT/rss")" \
		"$k" "$(($(stat -c %s "$OUT/part.zip") / 1000000))"
done
rm -f "$OUT"/*.zip
