#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Makes tests/data/schema/schema-N.db (and schema-N.search.json) with the
# parlers binary of an earlier commit, whose newest schema version is N:
# an archive made by that version's own code paths (init, ingest of two
# recordings of the sample corpus with their annotations, an annotation
# import with --replace, and, where that version has them, staff
# spellings, accounts and institutions), of which only archive.db is kept.
# schema-N.search.json holds what that binary's search found for a few
# words, for the migration test to compare with.  See README.md here.
#
# usage: make-fixture.sh N OLD-PARLERS-BINARY CORPUS-DIR OUT-DIR
set -eu
v=$1 bin=$2 corpus=$3 out=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/in"
d=$work/data
"$bin" -d "$d" init >/dev/null
# schema 1 has no tiers yet: its archive holds the recordings alone
tiers=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM sqlite_master WHERE name = ?", ("tiers",)).fetchone()[0])' "$d/archive.db")
for name in caux-1981-le-temps-des-foins caux-1982-terre-neuve; do
	if [ "$tiers" = 1 ]; then
		cp "$corpus/$name".* "$work/in/"
	else
		cp "$corpus/$name".json "$corpus/$name".wav "$corpus/$name".flac "$work/in/" 2>/dev/null || :
	fi
done
"$bin" -d "$d" ingest "$work/in" >/dev/null
if [ "$tiers" = 1 ]; then
	# the first recording's tiers replaced by the same file, through import
	"$bin" -d "$d" annotations import 1 "$work/in/caux-1981-le-temps-des-foins.eaf" \
		--replace >/dev/null
fi
has() { "$bin" -d "$d" "$1" --help >/dev/null 2>&1; }
if has variants; then
	printf 'maison,mezon,maisoun\nfoin,fein\n' >"$work/variants.csv"
	"$bin" -d "$d" variants import "$work/variants.csv" >/dev/null
fi
if has institution; then
	"$bin" -d "$d" institution add musee --name "Musée du Cotentin" >/dev/null
fi
if has user; then
	printf 'correct horse battery\n' >"$work/pw"
	"$bin" -d "$d" user add alice --role annotator --password-file "$work/pw" >/dev/null
	"$bin" -d "$d" user add bob --role admin --password-file "$work/pw" >/dev/null
	if has institution; then
		"$bin" -d "$d" user add carol --institution musee --password-file "$work/pw" >/dev/null
	else
		"$bin" -d "$d" user add carol --password-file "$work/pw" >/dev/null
	fi
fi
cp "$d/archive.db" "$out/schema-$v.db"
[ ! -e "$d/archive.db-wal" ] || [ ! -s "$d/archive.db-wal" ] || {
	echo "archive.db-wal left non-empty" >&2
	exit 1
}
if has search; then
	{
		printf '{'
		sep=
		for q in foin maison temps pain "la mer"; do
			ids=$("$bin" -d "$d" search --json --limit 100 "$q" | python3 -c '
import json, sys
print(json.dumps(sorted(h["segment_id"] for h in json.load(sys.stdin)["hits"])))')
			printf '%s"%s": %s' "$sep" "$q" "$ids"
			sep=', '
		done
		printf '}\n'
	} >"$out/schema-$v.search.json"
fi
