#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Real clients read what parlers writes: every interop file that imports
# is written as TextGrid, WebVTT, SRT and EAF; Praat (headless) must read
# each TextGrid with the same tier and interval counts, ffmpeg each WebVTT
# and SRT with the same number of cues, xmllint each EAF as well-formed.
# A client that is not installed skips its checks.  Output is TAP.
tool=${1:?usage: test-clients.sh ANNOT-TOOL}
interop=${PARLERS_INTEROP:?PARLERS_INTEROP is not set}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
have() { command -v "$1" >/dev/null 2>&1; }

i=0
for f in "$interop"/textgrid/*/*.TextGrid "$interop"/eaf/*/*.eaf \
	 "$interop"/webvtt/*/*.vtt "$interop"/srt/*/*.srt; do
	"$tool" info "$f" >/dev/null 2>&1 || continue # the ones meant to fail
	i=$((i + 1))
	name=${f#"$interop"/}
	for fmt in TextGrid vtt srt eaf; do
		out="$tmp/$i.$fmt"
		if ! "$tool" convert "$f" "$fmt" "$out" 2>"$tmp/err"; then
			notok "$name: written as $fmt ($(cat "$tmp/err"))"
			continue
		fi
		ours=$("$tool" info "$out" 2>&1 | sed 's/^\(tier [0-9]* [0-9]*\).*/\1/')
		case $fmt in
		TextGrid)
			have praat || continue
			theirs=$(praat --run "$here/count-tiers.praat" "$out" 2>&1 | tr -d '\r')
			if [ "$ours" = "$theirs" ]; then ok "$name: Praat reads the TextGrid ($(echo "$ours" | head -1))"
			else notok "$name: Praat reads the TextGrid: ours [$ours] Praat [$theirs]"; fi
			;;
		vtt|srt)
			have ffmpeg || continue
			want=$(echo "$ours" | awk '$1 == "tier" { s += $3 } END { print s + 0 }')
			[ "$want" = 0 ] && continue # an empty subtitle file says nothing
			got=$(ffmpeg -nostdin -v error -i "$out" -f srt - 2>"$tmp/ff" | grep -c -- '-->')
			if [ "$want" = "$got" ] && [ ! -s "$tmp/ff" ]; then ok "$name: ffmpeg reads $got cues from the $fmt"
			else notok "$name: ffmpeg reads the $fmt: $got cues, want $want ($(head -c 200 "$tmp/ff"))"; fi
			;;
		eaf)
			have xmllint || continue
			if xmllint --noout --nonet "$out" 2>"$tmp/x"; then ok "$name: the EAF is well-formed"
			else notok "$name: the EAF is not well-formed: $(head -c 200 "$tmp/x")"; fi
			;;
		esac
	done
done
echo "1..$n"
exit $failed
