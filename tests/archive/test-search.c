/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of search: folding, the query parser on hostile input, and
 * searches on a real archive (accents, elisions, phrases, prefixes,
 * exclusions, close spellings, the staff's equivalent spellings, filters
 * and the access rule); and the postings kept in memory, which must give
 * every answer FTS5 gives, byte for byte.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "parlers/archive.h"
#include "archive-internal.h"
#include "search-corpus.h"
#include "search-internal.h"
#include "scratch.h"
#include "tap.h"

static char tmpdir[256];

static void fold_is(const char *in, const char *want)
{
	char *f = search_fold(in, strlen(in));

	is_str(f, want, "fold(\"%s\")", in);
	free(f);
}

/* The fast path of folding gives utf8proc_map's bytes for every code
 * point, between letters, or leaves the text to utf8proc_map. */
static void test_fold_fast(void)
{
	long fast = 0, slow = 0, differ = 0;

	for (utf8proc_int32_t cp = 0; cp <= 0x10ffff; cp++) {
		utf8proc_uint8_t in[16], *want = NULL;
		struct prl_buf got = PRL_BUF_INIT;
		utf8proc_ssize_t n = 0, wn;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		in[n++] = 'A';
		n += utf8proc_encode_char(cp, in + n);
		in[n++] = 'b';
		wn = utf8proc_map(in, n, &want,
				  UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
					  UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_STRIPCC);
		if (search_fold_map_fast((const char *)in, (size_t)n, &got) != 0) {
			slow++;
		} else {
			fast++;
			if (wn < 0 || (size_t)wn != got.len || memcmp(want, got.data, got.len)) {
				if (differ++ < 5)
					diag("U+%04X: utf8proc %s, fast %s", (unsigned)cp,
					     wn < 0 ? "(error)" : (const char *)want,
					     prl_buf_str(&got));
			}
		}
		free(want);
		prl_buf_release(&got);
	}
	is_int(differ, 0,
	       "the fast fold is utf8proc's for every code point (%ld fast, %ld left to "
	       "utf8proc)",
	       fast, slow);
	fold_is("Ch’est la MÉZOUN de Pèthe, Œuvre", "ch'est la mezoun de pethe, oeuvre");
	{
		/* control characters: utf8proc's own path */
		char *f = search_fold("MÉZOUN\tde\r\nPèthe", strlen("MÉZOUN\tde\r\nPèthe"));

		is_str(f, "mezoun de pethe", "a tab and a line break fold to spaces");
		free(f);
	}
}

static void test_fold(void)
{
	char k1[32], k2[32];

	fold_is("MÉZOUN", "mezoun");
	fold_is("Ch'est", "ch'est");
	fold_is("l’vuus", "l'vuus");
	fold_is("Œuvre à fèrre", "oeuvre a ferre");
	fold_is("ênne", "enne");
	search_sound_key("mezoun", k1, sizeof(k1));
	search_sound_key("maisoun", k2, sizeof(k2));
	is_str(k1, k2, "mezoun and maisoun sound alike");
	search_sound_key("caoud", k1, sizeof(k1));
	search_sound_key("kaoud", k2, sizeof(k2));
	is_str(k1, k2, "c and k before a vowel sound alike");
	ok(search_edit_distance_within("mezoun", "mezon", 1), "mezon is one edit from mezoun");
	ok(!search_edit_distance_within("mezoun", "maison", 1),
	   "maison is more than one edit away");
	ok(search_edit_distance_within("mezoun", "maizoun", 2), "maizoun is two edits away");
	search_sound_key("mesoun", k2, sizeof(k2));
	search_sound_key("mezoun", k1, sizeof(k1));
	is_str(k1, k2, "an s between vowels sounds as z");
}

static int parse_ok(const char *s, size_t want_items, int want_groups)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct query q;
	int ret = query_parse(s, strlen(s), &q, &err), good;

	good = ret == 0 && q.n == want_items && q.ngroups == want_groups;
	if (!good)
		diag("  parse(%s): ret %d, %zu items, %d groups, err %s", s, ret, ret ? 0 : q.n,
		     ret ? 0 : q.ngroups, prl_buf_str(&err));
	if (ret == 0)
		query_clear(&q);
	prl_buf_release(&err);
	return good;
}

static int parse_refused(const char *s, size_t len)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct query q;
	int ret = query_parse(s, len, &q, &err), refused = ret == -PRL_EINVAL && err.len > 0;

	if (ret == 0)
		query_clear(&q);
	prl_buf_release(&err);
	return refused;
}

static void test_parser(void)
{
	char *huge = malloc(10001);

	ok(parse_ok("mezoun", 1, 1), "one word");
	ok(parse_ok("la mezoun", 2, 2), "two words are ANDed");
	ok(parse_ok("\"ch'est la\" mezoun", 2, 2), "a phrase and a word");
	ok(parse_ok("mezoun OR maison", 2, 1), "OR puts two words in one group");
	ok(parse_ok("mezoun -maison", 2, 1), "-word excludes");
	ok(parse_ok("mezoun NOT maison", 2, 1), "NOT word excludes");
	ok(parse_ok("maiso*", 1, 1), "a prefix");
	{
		struct prl_buf e = PRL_BUF_INIT;
		struct query q;

		query_parse("mé*", strlen("mé*"), &q, &e);
		ok(q.n == 1 && q.items[0].kind == QUERY_WORD,
		   "a prefix of two letters is taken as a word");
		query_clear(&q);
		prl_buf_release(&e);
	}
	ok(parse_ok("\"unbalanced quote", 1, 1), "an unbalanced quote closes at the end");
	ok(parse_ok("NEAR( mezoun", 2, 2), "NEAR( is a word, not syntax");
	ok(parse_ok("'; DROP TABLE segments; --", 3, 3), "SQL is words");
	ok(parse_ok("OR OR mezoun OR", 1, 1), "stray operators are ignored");
	ok(parse_ok("a\x01\x02b\tc", 2, 2), "control characters separate words");
	ok(parse_refused("", 0), "an empty query is refused with a message");
	ok(parse_refused("*", 1), "* alone is refused");
	ok(parse_refused("\"\"", 2), "an empty phrase is refused");
	ok(parse_refused("-mezoun", 7), "only exclusions are refused");
	ok(parse_refused("(((", 3), "punctuation alone is refused");
	memset(huge, 'a', 10000);
	huge[10000] = 0;
	ok(parse_refused(huge, 10000), "a 10,000-character query is refused");
	free(huge);
}

/* A recording with a transcription and a translation tier (WebVTT can
 * hold one tier, so each tier comes from its own sidecar format). */
static int64_t add_recording(struct prl_archive *a, const char *stem, const char *access,
			     const char *place, const char *lines[][2], size_t n)
{
	char wav[512], side[512], tg[512];
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_ingest_result r;
	int64_t id;

	snprintf(wav, sizeof(wav), "%s/%s.wav", tmpdir, stem);
	snprintf(side, sizeof(side), "%s/%s.json", tmpdir, stem);
	snprintf(tg, sizeof(tg), "%s/%s.TextGrid", tmpdir, stem);
	/* a tone of its own, so no two recordings are the same bytes */
	scratch_wav(wav, (double)n * 2 + 1, 200.0 + 10.0 * (double)strlen(stem) + (double)stem[0],
		    0.09, 8000);
	prl_buf_addf(&b,
		     "{\"title\": \"%s\", \"access\": \"%s\", \"date\": \"19%02zu\","
		     " \"place\": {\"name\": \"%s\"}, \"variety\": \"Cotentinais\","
		     " \"speakers\": [{\"name\": \"Speaker %s\"}]}",
		     stem, access, n + 50, place, stem);
	scratch_text(side, b.data);
	prl_buf_reset(&b);
	prl_buf_addf(&b,
		     "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\nxmin = 0\n"
		     "xmax = %zu\ntiers? <exists>\nsize = 2\nitem []:\n",
		     n * 2 + 1);
	for (int t = 0; t < 2; t++) {
		prl_buf_addf(&b,
			     "item [%d]:\nclass = \"IntervalTier\"\nname = \"%s\"\nxmin = 0\n"
			     "xmax = %zu\nintervals: size = %zu\n",
			     t + 1, t ? "traduction" : "transcription", n * 2 + 1, n + 1);
		for (size_t i = 0; i < n; i++)
			prl_buf_addf(&b,
				     "intervals [%zu]:\nxmin = %zu\nxmax = %zu\ntext = \"%s\"\n",
				     i + 1, i * 2, i * 2 + 2, lines[i][t]);
		prl_buf_addf(&b, "intervals [%zu]:\nxmin = %zu\nxmax = %zu\ntext = \"\"\n", n + 1,
			     n * 2, n * 2 + 1);
	}
	scratch_text(tg, b.data);
	prl_buf_release(&b);
	prl_ingest_result_init(&r);
	prl_archive_ingest(a, wav, NULL, &r);
	if (r.status != PRL_INGESTED)
		diag("ingest %s: %s", stem, prl_buf_str(&r.error));
	id = r.id;
	prl_ingest_result_release(&r);
	return id;
}

static json_t *search(struct prl_archive *a, const struct prl_viewer *v, const char *q,
		      const char *tier, int *ret)
{
	struct prl_search_opts o;
	struct prl_buf out = PRL_BUF_INIT;
	json_t *j = NULL;

	memset(&o, 0, sizeof(o));
	o.query = q;
	o.tier_type = tier;
	o.with_groups = 1;
	*ret = prl_archive_search_json(a, v, &o, &out);
	if (*ret == 0)
		j = json_loads(out.data, 0, NULL);
	prl_buf_release(&out);
	return j;
}

static long long jint(json_t *j, const char *k)
{
	return (long long)json_integer_value(json_object_get(j, k));
}

static void test_search(void)
{
	static const char *one[][2] = {
		{"Ch'est la mézoun d'mon pèthe", "C'est la maison de mon père"},
		{"I fait byin caoud auspi", "Il fait bien chaud aussi"},
		{"L'vuus bouonhoumme est à la MÉZOUN", "Le vieux bonhomme est à la maison"},
	};
	static const char *two[][2] = {
		{"La maisoun est grande", "La maison est grande"},
		{"Nou-s-allait à la mézon", "On allait à la maison"},
	};
	static const char *secret[][2] = {
		{"Une mézoun secrète", "Une maison secrète"},
		{"La mézzoun cachée", "La maison cachée"},
	};
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS, staff = PRL_VIEWER_STAFF;
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_archive *a;
	char dir[300];
	json_t *j, *hits;
	int ret;

	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	if (!ok(prl_archive_open(dir, PRL_OPEN_CREATE, &a, &err) == 0, "an archive"))
		return;
	add_recording(a, "one", "public", "La Hague", one, 3);
	add_recording(a, "two", "public", "Valognes", two, 2);
	add_recording(a, "secret", "private", "La Hague", secret, 2);

	j = search(a, &anon, "mezoun", NULL, &ret);
	ok(ret == 0 && j, "search mezoun");
	is_int(jint(j, "total_exact"), 2, "mezoun finds mézoun and MÉZOUN, not the private one");
	ok(jint(j, "total") >= 4, "with close spellings (mézon, maisoun) counted in total: %lld",
	   jint(j, "total"));
	hits = json_object_get(j, "hits");
	ok(!strcmp(json_string_value(json_object_get(json_array_get(hits, 0), "match")), "exact"),
	   "exact hits come first");
	ok(!strcmp(json_string_value(json_object_get(json_array_get(hits, 2), "match")), "variant"),
	   "close spellings after them, marked as variants");
	ok(strstr(json_string_value(json_object_get(json_array_get(hits, 0), "snippet")),
		  "<mark>mézoun</mark>") ||
		   strstr(json_string_value(json_object_get(json_array_get(hits, 0), "snippet")),
			  "<mark>MÉZOUN</mark>"),
	   "the snippet marks the word as written");
	ok(json_string_value(json_object_get(json_array_get(hits, 0), "translation")) != NULL,
	   "a hit carries the translation of its span: %s",
	   json_string_value(json_object_get(json_array_get(hits, 0), "translation")));
	ok(json_array_size(json_object_get(j, "groups")) == 2, "hits are grouped by recording");
	{
		char *vs = json_dumps(json_object_get(j, "variants"), 0);

		ok(vs && !strstr(vs, "mezzoun"),
		   "a close spelling only a private recording holds is not named to visitors");
		free(vs);
	}
	json_decref(j);

	/* the same counts when they are split across two threads */
	archive_search_tuning(1);
	j = search(a, &anon, "mezoun", NULL, &ret);
	is_int(jint(j, "total_exact"), 2, "a count split across two threads is the same");
	ok(jint(j, "total") >= 4, "with its close spellings too");
	json_decref(j);
	j = search(a, &staff, "la", "translation", &ret);
	is_int(jint(j, "total_exact"), 5, "split, for staff, in translations only");
	json_decref(j);
	archive_search_tuning(100000);
	j = search(a, &staff, "la", "translation", &ret);
	is_int(jint(j, "total_exact"), 5, "the same count on one thread");
	json_decref(j);

	j = search(a, &staff, "mezoun", NULL, &ret);
	is_int(jint(j, "total_exact"), 3, "staff also find the private recording");
	{
		char *vs = json_dumps(json_object_get(j, "variants"), 0);

		ok(vs && strstr(vs, "mezzoun") != NULL, "staff see that close spelling: %s", vs);
		free(vs);
	}
	json_decref(j);

	j = search(a, &anon, "vuus", NULL, &ret);
	is_int(jint(j, "total_exact"), 1, "the elided word alone is found (l'vuus)");
	json_decref(j);
	j = search(a, &anon, "l'vuus", NULL, &ret);
	is_int(jint(j, "total_exact"), 1, "the whole elided form is found");
	json_decref(j);
	j = search(a, &anon, "ch’est", NULL, &ret);
	is_int(jint(j, "total_exact"), 1, "a typographic apostrophe finds a plain one");
	hits = json_object_get(j, "hits");
	is_str(json_string_value(
		       json_object_get(json_object_get(json_array_get(hits, 0), "kwic"), "match")),
	       "Ch", "the elided form is marked where it starts");
	json_decref(j);
	j = search(a, &anon, "\"la mezoun\"", NULL, &ret);
	is_int(jint(j, "total_exact"), 2, "a phrase");
	json_decref(j);
	j = search(a, &anon, "mais*", "translation", &ret);
	is_int(jint(j, "total_exact"), 4, "a prefix, restricted to translation tiers");
	json_decref(j);
	j = search(a, &anon, "maison -pere", "translation", &ret);
	is_int(jint(j, "total_exact"), 3, "an exclusion");
	json_decref(j);
	j = search(a, &anon, "caoud OR grande", NULL, &ret);
	is_int(jint(j, "total_exact"), 3, "OR (grande is in both tiers)");
	json_decref(j);
	{
		struct prl_search_opts o;
		struct prl_buf out = PRL_BUF_INIT;

		memset(&o, 0, sizeof(o));
		o.query = "mezoun";
		o.place = "Valognes";
		ret = prl_archive_search_json(a, &anon, &o, &out);
		ok(ret == 0 && strstr(out.data, "\"total_exact\":0") &&
			   strstr(out.data, "\"total\":2"),
		   "a place filter: %.80s", prl_buf_str(&out));
		prl_buf_release(&out);
	}

	ret = prl_archive_reindex(a);
	ok(ret == 0, "the index can be rebuilt from scratch: %s", prl_archive_errmsg(a));
	j = search(a, &anon, "mezoun", NULL, &ret);
	is_int(jint(j, "total_exact"), 2, "and answers the same afterwards");
	json_decref(j);
	j = search(a, &staff, "secrete", NULL, &ret);
	is_int(jint(j, "total_exact"), 2, "private segments are still indexed for staff");
	json_decref(j);

	ok(prl_archive_variants_import_csv(a, "mézoun,maisoun,mézon\n",
					   strlen("mézoun,maisoun,mézon\n")) == 0,
	   "import a group of equivalent spellings");
	j = search(a, &anon, "mezoun", NULL, &ret);
	is_int(jint(j, "total_exact"), 4, "equivalent spellings count as exact");
	json_decref(j);
	ret = prl_archive_variants_import_csv(a, "a,b\nb,c\n", 8);
	ok(ret < 0 && strstr(prl_archive_errmsg(a), "line 2"),
	   "a spelling in two groups is refused, naming the line: %s", prl_archive_errmsg(a));
	{
		struct prl_buf csv = PRL_BUF_INIT;

		prl_archive_variants_export_csv(a, &csv);
		is_str(csv.data, "mézoun,maisoun,mézon\n",
		       "a refused import left the table as it was");
		prl_buf_release(&csv);
	}

	{
		static const char *const odd[] = {
			"\"",	    "NEAR(",	 "*",	    "'; DROP TABLE segments;--",
			"\x01\x02", "a\"b\"c\"", "OR",	    "-",
			"((mezoun", "\"\"\"",	 "^mezoun", "body:mezoun",
			"meta : a0"};

		for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
			j = search(a, &anon, odd[i], NULL, &ret);
			ok((ret == 0 && j) ||
				   (ret == -PRL_EINVAL && strlen(prl_archive_errmsg(a)) &&
				    !strstr(prl_archive_errmsg(a), "fts5")),
			   "odd query %zu answered sensibly (%d: %s)", i, ret,
			   ret ? prl_archive_errmsg(a) : "ok");
			json_decref(j);
		}
		j = search(a, &anon, "meta : a0", NULL, &ret);
		is_int(jint(j, "total"), 0, "the filter column cannot be searched from a query");
		json_decref(j);
	}
	prl_buf_release(&err);
	prl_archive_close(a);
}

/* ---- the postings in memory against FTS5 ---- */

struct memory_case {
	const char *q, *tier, *place, *speaker, *variety, *date_from;
	enum prl_search_sort sort;
	int64_t offset, limit;
	int no_variants;
};

static char *answer(struct prl_archive *a, const struct prl_viewer *v, const struct memory_case *c)
{
	struct prl_search_opts o;
	struct prl_buf out = PRL_BUF_INIT;
	int ret;

	memset(&o, 0, sizeof(o));
	o.query = c->q;
	o.tier_type = c->tier;
	o.place = c->place;
	o.speaker = c->speaker;
	o.variety = c->variety;
	o.date_from = c->date_from;
	o.sort = c->sort;
	o.offset = c->offset;
	o.limit = c->limit;
	o.no_variants = c->no_variants;
	o.with_groups = 1;
	ret = prl_archive_search_json(a, v, &o, &out);
	if (ret < 0) {
		prl_buf_reset(&out);
		prl_buf_addf(&out, "error %d: %s", ret, prl_archive_errmsg(a));
	}
	return prl_buf_detach(&out, NULL);
}

static void test_memory(void)
{
	static const struct memory_case cases[] = {
		{"la", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"la", NULL, NULL, NULL, NULL, NULL, 0, 40, 30, 0},
		{"est de", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"\"la est\"", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"\"est la de\"", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"\"hardi caoudement\"", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"\"la la\"", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"ch'est", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"l'vuus", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"mezoun", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"mezoun", NULL, NULL, NULL, NULL, NULL, 0, 3, 5, 0},
		{"mezoun", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 1},
		{"maisoun caoud", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"mais*", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"caoud*", "translation", NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"l'vu*", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"mezoun -la", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"byin OR auspi", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"oeuvre coeur", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"p1", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"1977", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"pas", NULL, "Hague", NULL, NULL, NULL, 0, 0, 0, 0},
		{"pas", NULL, NULL, "Bob", "Cauchois", NULL, 0, 0, 0, 0},
		{"pas", NULL, "Nowhere", NULL, NULL, NULL, 0, 0, 0, 0},
		{"grande", NULL, NULL, NULL, NULL, "1955", 0, 0, 0, 0},
		{"grande", NULL, NULL, NULL, NULL, NULL, PRL_SORT_DATE, 0, 0, 0},
		{"grande", NULL, NULL, NULL, NULL, NULL, PRL_SORT_PLACE, 2, 4, 0},
		{"absentword", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
		{"\"absentword la\"", NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	const struct prl_viewer viewers[] = {
		PRL_VIEWER_ANONYMOUS, {PRL_ROLE_RESEARCHER, 0}, PRL_VIEWER_STAFF};
	char *fts[sizeof(cases) / sizeof(cases[0])][3];
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_archive *a;
	char dir[300];
	long before;
	int same = 0;

	snprintf(dir, sizeof(dir), "%s/memory", tmpdir);
	if (!ok(prl_archive_open(dir, PRL_OPEN_CREATE, &a, &err) == 0, "an archive for memory"))
		return;
	search_corpus_fill(a);
	prl_archive_variants_import_csv(a, "maisoun,maison\n", strlen("maisoun,maison\n"));
	for (size_t i = 0; i < n; i++)
		for (int v = 0; v < 3; v++)
			fts[i][v] = answer(a, &viewers[v], &cases[i]);
	ok(!prl_archive_search_memory_state(NULL, NULL, NULL), "no postings in memory until asked");

	prl_archive_search_keep(a, 1);
	{
		size_t bytes = 0;
		int64_t rows = 0;

		int ready = prl_archive_search_memory_state(&bytes, &rows, NULL);

		ok(ready && rows == 900 && bytes > 0,
		   "the postings are read into memory: %lld rows, %zu bytes", (long long)rows,
		   bytes);
	}
	before = archive_search_memory_answers();
	for (size_t i = 0; i < n; i++)
		for (int v = 0; v < 3; v++) {
			char *mem = answer(a, &viewers[v], &cases[i]);

			if (!strcmp(mem, fts[i][v]))
				same++;
			else
				diag("%s (viewer %d):\n  FTS5:   %.400s\n  memory: %.400s",
				     cases[i].q, v, fts[i][v], mem);
			free(mem);
		}
	is_int(same, (long long)n * 3, "every answer from memory is FTS5's, byte for byte");
	/* dates, a prefix inside a phrase and a filter naming nothing go to
	 * FTS5 (or nowhere): the others were answered from memory */
	ok(archive_search_memory_answers() - before >= (long)(n - 4) * 3,
	   "and memory answered them (%ld of %zu)", archive_search_memory_answers() - before,
	   n * 3);

	/* a change to the index: memory is stale and FTS5 answers, at once */
	{
		char *old = answer(a, &viewers[2], &cases[0]), *now;

		search_corpus_exec(a, "INSERT INTO segments(tier_id, start_ms, end_ms, text, ord)"
				      " VALUES (1, 999000, 999500, 'la la la', 999)");
		before = archive_search_memory_answers();
		now = answer(a, &viewers[2], &cases[0]);
		ok(strcmp(old, now) != 0 && archive_search_memory_answers() == before,
		   "after an edit the answer counts it, from FTS5");
		free(old);
		old = now;
		prl_archive_search_keep(a, 1);
		now = answer(a, &viewers[2], &cases[0]);
		ok(!strcmp(old, now) && archive_search_memory_answers() == before + 1,
		   "read again, memory gives the same answer");
		free(old);
		free(now);
	}
	/* inside a transaction the caller's own writes count: FTS5 answers */
	search_corpus_exec(a, "BEGIN");
	search_corpus_exec(a, "DELETE FROM segments WHERE id = 1");
	before = archive_search_memory_answers();
	free(answer(a, &viewers[2], &cases[0]));
	ok(archive_search_memory_answers() == before, "a search inside a transaction is FTS5's");
	search_corpus_exec(a, "ROLLBACK");

	prl_archive_search_forget();
	ok(!prl_archive_search_memory_state(NULL, NULL, NULL), "forgotten, the memory is freed");
	for (size_t i = 0; i < n; i++)
		for (int v = 0; v < 3; v++)
			free(fts[i][v]);
	prl_buf_release(&err);
	prl_archive_close(a);
}

/* An archive without a single segment: its index holds no word. */
static void test_empty(void)
{
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_archive *a;
	char dir[300];
	json_t *j;
	int ret;

	snprintf(dir, sizeof(dir), "%s/empty", tmpdir);
	if (!ok(prl_archive_open(dir, PRL_OPEN_CREATE, &a, &err) == 0, "an empty archive"))
		return;
	prl_archive_search_warm(a);
	prl_archive_search_keep(a, 1);
	ok(prl_archive_search_memory_state(NULL, NULL, NULL),
	   "its empty index is read into memory");
	j = search(a, &anon, "mezoun", NULL, &ret);
	ok(ret == 0 && j && jint(j, "total") == 0, "a search finds nothing, and says so");
	json_decref(j);
	prl_archive_search_forget();
	prl_buf_release(&err);
	prl_archive_close(a);
}

int main(void)
{
	if (scratch_make(tmpdir, sizeof(tmpdir), "test-search") < 0)
		return 1;
	test_fold();
	test_fold_fast();
	test_parser();
	test_search();
	test_memory();
	test_empty();
	scratch_remove(tmpdir);
	return done_testing();
}
