#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Seeds for the CSV and JSON fuzz targets: no peer writes our CSV or JSON,
# so every interop file that imports is converted (PARLERS_INTEROP is only
# read, never copied into the tree).  Usage: make-seeds.sh TOOL INTEROP OUTDIR FORMAT
tool=$1 interop=$2 out=$3 fmt=$4
mkdir -p "$out"
i=0
for f in "$interop"/textgrid/*/*.TextGrid "$interop"/eaf/*/*.eaf \
	 "$interop"/webvtt/*/*.vtt "$interop"/srt/*/*.srt; do
	i=$((i + 1))
	"$tool" convert "$f" "$fmt" "$out/seed-$i.$fmt" 2>/dev/null || rm -f "$out/seed-$i.$fmt"
done
exit 0
