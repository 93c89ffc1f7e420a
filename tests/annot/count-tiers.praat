# SPDX-License-Identifier: GPL-3.0-or-later
# Prints what Praat itself reads in a TextGrid: the tier count, then one
# line per tier with its interval or point count (test-clients.sh).
form Count tiers
	sentence File
endform
Read from file: file$
n = Get number of tiers
writeInfoLine: "tiers ", n
for i to n
	isInterval = Is interval tier: i
	if isInterval
		c = Get number of intervals: i
	else
		c = Get number of points: i
	endif
	appendInfoLine: "tier ", i, " ", c
endfor
