#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Ingest benchmark (not a test): how long `parlers ingest` takes on a long
# master, against the ffmpeg command-line sequence that makes the same
# outputs, and how much memory it needs.
#
# Makes a 35-minute 48 kHz / 24-bit stereo WAV of speech-like noise (pink
# noise in the speech band, modulated at syllable and phrase rate, with
# pauses), then times, in one run on the same machine:
#   (a) ffmpeg -af ebur128=peak=true (measure), an Opus encode and an MP3
#       encode with the gain the measure gives, and sha256sum;
#   (b) "$PARLERS" -d DIR ingest FILE, under /usr/bin/time -v for its
#       peak resident memory.
# and prints both wall times, their ratio and the peak memory.  The goal
# is ratio <= 0.6 and peak RSS < 64 MB.  Both sides are CPU-bound, so on a
# shared machine other work skews one side or the other: ROUNDS=n runs
# (a) and (b) alternately n times and keeps the fastest of each.
#
#   tests/bench/bench-ingest.sh [MINUTES]        (default 35)
#   PARLERS=path/to/parlers  (default build/cli/parlers)
#   ROUNDS=3 alternates the two sides three times (default 1).
#   KEEP=1 keeps the scratch folder.
set -eu

minutes=${1:-35}
here=$(cd "$(dirname "$0")/../.." && pwd)
parlers=${PARLERS:-$here/build/cli/parlers}

for tool in sox ffmpeg sha256sum /usr/bin/time; do
	command -v "$tool" > /dev/null || { echo "bench-ingest: needs $tool" >&2; exit 2; }
done
[ -x "$parlers" ] || { echo "bench-ingest: no parlers binary at $parlers (set PARLERS)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-ingest.XXXXXX")
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

src=$tmp/master.wav
echo "making a $minutes-minute 48 kHz 24-bit stereo master..."
# Pink noise band-limited to the voice (80 Hz - 8 kHz); a 4 Hz tremolo
# gives syllables, a slow deep one gives phrases and pauses.
sox -n -r 48000 -b 24 -c 2 "$src" synth "$((minutes * 60))" pinknoise \
	sinc 80-8000 tremolo 4.2 85 tremolo 0.23 95 gain -n -3
ls -l "$src" | awk '{ printf "master: %.0f MB\n", $5 / 1e6 }'

run_ffmpeg() {
	echo "(a) ffmpeg sequence..."
	t0=$(now)
	ffmpeg -nostdin -hide_banner -nostats -i "$src" -af ebur128=peak=true -f null - \
		> "$tmp/ebur128.txt" 2>&1
	t1=$(now)
	lufs=$(awk '/Summary:/ { s = 1 } s && $1 == "I:" { print $2; exit }' "$tmp/ebur128.txt")
	peak=$(awk '/Summary:/ { s = 1 } s && $1 == "Peak:" { print $2; exit }' "$tmp/ebur128.txt")
	# The same rule as parlers: one gain to -18 LUFS, held so the true peak
	# stays at or under -1 dBTP.
	gain=$(echo "g = -18 - ($lufs); c = -1 - ($peak); if (c < g) g = c; g" | bc -l)
	ffmpeg -nostdin -loglevel error -y -i "$src" -af "volume=${gain}dB" \
		-c:a libopus -b:a 96k "$tmp/ref.opus"
	t2=$(now)
	ffmpeg -nostdin -loglevel error -y -i "$src" -af "volume=${gain}dB" \
		-c:a libmp3lame -b:a 128k "$tmp/ref.mp3"
	t3=$(now)
	sha256sum "$src" > /dev/null
	t4=$(now)
	ffmpeg_wall=$(elapsed "$t0" "$t4")
	printf '    measure %.1f s, opus %.1f s, mp3 %.1f s, sha256 %.1f s (gain %.2f dB)\n' \
		"$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" "$(elapsed "$t2" "$t3")" \
		"$(elapsed "$t3" "$t4")" "$gain"
}

run_parlers() {
	echo "(b) parlers ingest..."
	rm -rf "$tmp/data"
	"$parlers" -d "$tmp/data" init > /dev/null 2>&1 || true
	t0=$(now)
	/usr/bin/time -v -o "$tmp/time.txt" "$parlers" -d "$tmp/data" ingest "$src" > "$tmp/ingest.txt"
	t1=$(now)
	parlers_wall=$(elapsed "$t0" "$t1")
	rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.txt")
	sed 's/^/    /' "$tmp/ingest.txt"
	printf '    %.1f s, peak RSS %.1f MB\n' "$parlers_wall" "$(echo "$rss_kb / 1024" | bc -l)"
}

rounds=${ROUNDS:-1}
best_ffmpeg= best_parlers= best_rss=
i=0
while [ "$i" -lt "$rounds" ]; do
	run_ffmpeg
	run_parlers
	if [ -z "$best_ffmpeg" ] || [ "$(echo "$ffmpeg_wall < $best_ffmpeg" | bc)" = 1 ]; then
		best_ffmpeg=$ffmpeg_wall
	fi
	if [ -z "$best_parlers" ] || [ "$(echo "$parlers_wall < $best_parlers" | bc)" = 1 ]; then
		best_parlers=$parlers_wall
	fi
	if [ -z "$best_rss" ] || [ "$rss_kb" -gt "$best_rss" ]; then
		best_rss=$rss_kb
	fi
	i=$((i + 1))
done
ffmpeg_wall=$best_ffmpeg
parlers_wall=$best_parlers
rss_kb=$best_rss

ratio=$(echo "$parlers_wall / $ffmpeg_wall" | bc -l)
printf 'ffmpeg sequence: %.1f s\n' "$ffmpeg_wall"
printf 'parlers ingest:  %.1f s\n' "$parlers_wall"
printf 'ratio:           %.2f (goal <= 0.60)\n' "$ratio"
printf 'peak RSS:        %.1f MB, the most of any round (goal < 64 MB)\n' "$(echo "$rss_kb / 1024" | bc -l)"
