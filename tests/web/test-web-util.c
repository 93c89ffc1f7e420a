/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit test of the web module's HTTP helpers (web/http.c): byte ranges as
 * RFC 9110 reads them, entity-tag comparison, HTTP dates, ids, the
 * percent-decoding that keeps %00 out of paths, Accept-Language, and the
 * escaping of log lines and of JSON inside <script>; and the cache of JSON
 * and page pieces (web/cache.c): keys in runs all kept, roles and
 * signatures apart, the bytes and the entries capped with the least
 * recently read going.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "web-internal.h"

static void range_is(const char *h, int64_t size, enum web_range_kind want, int64_t wf, int64_t wl)
{
	int64_t f = -7, l = -7;
	enum web_range_kind k = web_range_parse(h, size, &f, &l);

	if (want == WEB_RANGE_ONE)
		ok(k == want && f == wf && l == wl, "Range '%s' of %lld: %lld-%lld",
		   h ? h : "(none)", (long long)size, (long long)wf, (long long)wl);
	else
		ok(k == want, "Range '%s' of %lld: %s", h ? h : "(none)", (long long)size,
		   want == WEB_RANGE_NONE ? "ignored" : "unsatisfiable");
	if (k != want || (want == WEB_RANGE_ONE && (f != wf || l != wl)))
		diag("  got kind %d, %lld-%lld", (int)k, (long long)f, (long long)l);
}

static void test_ranges(void)
{
	range_is(NULL, 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=0-99", 1000, WEB_RANGE_ONE, 0, 99);
	range_is("bytes=100-", 1000, WEB_RANGE_ONE, 100, 999);
	range_is("bytes=-100", 1000, WEB_RANGE_ONE, 900, 999);
	range_is("bytes=-5000", 1000, WEB_RANGE_ONE, 0, 999);
	range_is("bytes=999-999", 1000, WEB_RANGE_ONE, 999, 999);
	range_is("bytes=0-5000", 1000, WEB_RANGE_ONE, 0, 999);
	range_is("Bytes=1-2", 1000, WEB_RANGE_ONE, 1, 2);
	range_is("bytes = 1-2", 1000, WEB_RANGE_ONE, 1, 2);
	range_is("bytes=1-2,", 1000, WEB_RANGE_ONE, 1, 2);
	range_is("bytes=, 1-2", 1000, WEB_RANGE_ONE, 1, 2);
	range_is("bytes=0-99999999999999999999999", 1000, WEB_RANGE_ONE, 0, 999);
	range_is("bytes=1000-", 1000, WEB_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=1000-2000", 1000, WEB_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=99999999999999999999999-", 1000, WEB_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=-0", 1000, WEB_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=0-0", 0, WEB_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=-10", 0, WEB_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=5-1", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=-5-10", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=-", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=abc", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=1-2x", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=+1-2", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=0x10-20", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("items=0-5", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes0-5", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=0-1,5-6", 1000, WEB_RANGE_NONE, 0, 0);
	range_is("bytes=0-1,2000-", 1000, WEB_RANGE_NONE, 0, 0);
}

static void test_etags(void)
{
	const char *e = "\"abc\"";

	ok(web_etag_match_weak("\"abc\"", e), "If-None-Match: the tag itself");
	ok(web_etag_match_weak("W/\"abc\"", e), "If-None-Match: the weak form matches weakly");
	ok(web_etag_match_weak("\"x\", \"abc\"", e), "If-None-Match: in a list");
	ok(web_etag_match_weak(" * ", e), "If-None-Match: *");
	ok(!web_etag_match_weak("\"abcd\"", e), "If-None-Match: a longer tag does not match");
	ok(!web_etag_match_weak("\"ab\"", e), "If-None-Match: a prefix does not match");
	ok(!web_etag_match_weak("abc", e), "If-None-Match: unquoted is not a tag");
	ok(!web_etag_match_weak("\"abc", e), "If-None-Match: unterminated");
	ok(!web_etag_match_weak("", e), "If-None-Match: empty");
	ok(web_etag_match_strong("\"abc\"", e), "If-Range: strong match");
	ok(!web_etag_match_strong("W/\"abc\"", e), "If-Range: a weak tag never matches strongly");
}

static void test_dates(void)
{
	char buf[32];
	time_t t = 0;

	web_http_date(784111777, buf);
	is_str(buf, "Sun, 06 Nov 1994 08:49:37 GMT", "IMF-fixdate out");
	ok(web_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t) == 0 && t == 784111777,
	   "IMF-fixdate in");
	t = 0;
	ok(web_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t) == 0 && t == 784111777,
	   "RFC 850 date in");
	t = 0;
	ok(web_http_date_parse("Sun Nov  6 08:49:37 1994", &t) == 0 && t == 784111777,
	   "asctime date in");
	ok(web_http_date_parse("yesterday", &t) < 0, "not a date");
	ok(web_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT trailing", &t) < 0,
	   "a date with trailing junk");
	ok(web_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", &t) < 0, "an unknown month");
}

static void test_ids_and_paths(void)
{
	int64_t id = 0;
	char s1[] = "/media/%2e%2e%2farchive.db", s2[] = "/media/1.opus%00.txt", s3[] = "a%zz%4",
	     s4[] = "%C3%A9";

	ok(web_parse_id("12", 2, &id) == 0 && id == 12, "id 12");
	ok(web_parse_id("9223372036854775807", 19, &id) == 0 && id == INT64_MAX, "id INT64_MAX");
	ok(web_parse_id("9223372036854775808", 19, &id) < 0, "id past INT64_MAX");
	ok(web_parse_id("0", 1, &id) < 0, "id 0");
	ok(web_parse_id("-1", 2, &id) < 0, "id -1");
	ok(web_parse_id("1a", 2, &id) < 0, "id 1a");
	ok(web_parse_id("", 0, &id) < 0, "empty id");
	web_unescape(s1);
	is_str(s1, "/media/../archive.db", "percent-decoding");
	web_unescape(s2);
	is_str(s2, "/media/1.opus%00.txt", "%%00 stays as it is");
	web_unescape(s3);
	is_str(s3, "a%zz%4", "malformed escapes stay as they are");
	web_unescape(s4);
	is_str(s4, "\xc3\xa9", "UTF-8 escapes");
}

/* What the sign-in page may go back to: a page of this site, as every
 * browser reads the URL (tabs and newlines dropped, '\\' as '/'). */
static void test_local_paths(void)
{
	static const char *const good[] = {"/", "/recordings/3", "/search?q=m%C3%A9zoun&lang=en",
					   "/recordings/3#t=1,2", "/a/b//c"};
	static const char *const bad[] = {"",
					  "//evil.example/x",
					  "/\\evil.example/x",
					  "/\t/evil.example/x",
					  "/\n/evil.example",
					  "/\r//evil",
					  "\t//evil",
					  "/ /evil",
					  "https://evil.example/",
					  "evil.example",
					  "javascript:alert(1)",
					  "/\x7f/evil",
					  "/x\\y"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(web_local_path(good[i]), "a page of this site: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!web_local_path(bad[i]), "not a page of this site: bad[%zu]", i);
	ok(!web_local_path(NULL), "no next at all");
}

static void test_languages(void)
{
	is_int(web_lang_parse("en"), WEB_LANG_EN, "lang=en");
	is_int(web_lang_parse("EN-gb"), WEB_LANG_EN, "lang=EN-gb");
	is_int(web_lang_parse("fr"), WEB_LANG_FR, "lang=fr");
	is_int(web_lang_parse("de"), -1, "lang=de");
	is_int(web_lang_parse("english"), -1, "lang=english");
	is_int(web_lang_accept("en-US,en;q=0.9"), WEB_LANG_EN, "Accept-Language en-US");
	is_int(web_lang_accept("de, en;q=0.5, fr;q=0.8"), WEB_LANG_FR, "Accept-Language by weight");
	is_int(web_lang_accept("de, en;q=0"), -1, "q=0 is a refusal");
	is_int(web_lang_accept("fr-CA"), WEB_LANG_FR, "Accept-Language fr-CA");
	is_int(web_lang_accept(""), -1, "empty Accept-Language");
	is_int(web_lang_accept(NULL), -1, "no Accept-Language");
}

static void test_escaping(void)
{
	struct prl_buf b = PRL_BUF_INIT;
	char line[16];
	const char *j = "{\"t\":\"</script><b>\"}";

	web_log_escape(line, sizeof(line), "/a b\n\x01\\");
	is_str(line, "/a\\x20b\\x0a\\x01", "log escaping, cut to fit");
	web_json_for_script(&b, j, strlen(j));
	is_str(prl_buf_str(&b), "{\"t\":\"\\u003c/script>\\u003cb>\"}", "JSON inside <script>");
	prl_buf_release(&b);
}

static void test_listen(void)
{
	char addr[64];
	uint16_t port = 0;

	ok(prl_web_parse_listen("127.0.0.1:8080", addr, sizeof(addr), &port) == 0 &&
		   !strcmp(addr, "127.0.0.1") && port == 8080,
	   "--listen 127.0.0.1:8080");
	ok(prl_web_parse_listen("[::1]:9000", addr, sizeof(addr), &port) == 0 &&
		   !strcmp(addr, "::1") && port == 9000,
	   "--listen [::1]:9000");
	ok(prl_web_parse_listen(":81", addr, sizeof(addr), &port) == 0 && !addr[0] && port == 81,
	   "--listen :81");
	ok(prl_web_parse_listen("8082", addr, sizeof(addr), &port) == 0 && port == 8082,
	   "--listen 8082");
	ok(prl_web_parse_listen("host:0", addr, sizeof(addr), &port) < 0, "port 0 refused");
	ok(prl_web_parse_listen("host:70000", addr, sizeof(addr), &port) < 0, "port 70000 refused");
	ok(prl_web_parse_listen("::1:80", addr, sizeof(addr), &port) < 0, "bare IPv6 refused");
	ok(prl_web_parse_listen("a:", addr, sizeof(addr), &port) < 0, "no port refused");
}

static void test_spans(void)
{
	static const struct {
		const char *t;
		int ok;
		int64_t t0, t1;
	} cases[] = {
		{NULL, 1, 0, 60000},
		{"5,16", 1, 5000, 16000},
		{"1.5,3.25", 1, 1500, 3250},
		{",10", 1, 0, 10000},
		{"30", 1, 30000, 60000},
		{"50,90", 1, 50000, 60000},
		{"0.1234,1", 1, 123, 1000},
		{"60", 0, 0, 0},
		{"3,2", 0, 0, 0},
		{"3,3", 0, 0, 0},
		{"", 0, 0, 0},
		{",", 0, 0, 0},
		{"abc", 0, 0, 0},
		{"1.,2", 1, 1000, 2000},
		{".5,2", 0, 0, 0},
		{"-1,2", 0, 0, 0},
		{"1,2,3", 0, 0, 0},
		{"1e3", 0, 0, 0},
		{"99999999999999999999", 0, 0, 0},
		{"1 ,2", 0, 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t a = -1, b = -1;
		int got = web_parse_span(cases[i].t, 60000, &a, &b);

		ok(got == cases[i].ok && (!got || (a == cases[i].t0 && b == cases[i].t1)),
		   "t=%s is %s", cases[i].t ? cases[i].t : "(none)",
		   cases[i].ok ? "the span meant" : "refused");
	}
}

static struct web_blob *blob_of(size_t n, char fill)
{
	char *text = malloc(n);
	struct web_blob *b;

	memset(text, fill, n);
	/* web_blob_new_level at 0: stored as is, so its size is known */
	b = web_blob_new_level(text, n, 0);
	free(text);
	return b;
}

static int holds(struct web_cache *c, int64_t id, int role, uint64_t sig)
{
	struct web_blob *b = web_cache_get(c, id, role, sig);

	web_blob_unref(b);
	return b != NULL;
}

static void test_cache(void)
{
	struct web_cache c;
	const uint64_t sig = 0x1234500ull | 1u, other = 0x6789a00ull | 1u;
	struct web_blob *b;
	int kept = 0, n = 0;

	ok(web_cache_init(&c, "/nonexistent") == 0, "a cache is made");
	/* a network's pages: a hundred institutions, four pieces each, two
	 * roles; and a thousand recordings */
	for (int64_t inst = 1; inst <= 100; inst++)
		for (int k = 1; k <= 4; k++)
			for (int role = 0; role < 2; role++) {
				b = blob_of(100, 'a');
				web_cache_put(&c, -(inst * 8 + k), role, sig, b);
				web_blob_unref(b);
			}
	for (int64_t id = 1; id <= 1000; id++) {
		b = blob_of(100, 'r');
		web_cache_put(&c, id, 0, sig, b);
		web_blob_unref(b);
	}
	for (int64_t inst = 1; inst <= 100; inst++)
		for (int k = 1; k <= 4; k++)
			for (int role = 0; role < 2; role++, n++)
				kept += holds(&c, -(inst * 8 + k), role, sig);
	ok(kept == n, "800 page pieces beside 1,000 recordings are all kept (%d of %d)", kept, n);
	kept = 0;
	for (int64_t id = 1; id <= 1000; id++)
		kept += holds(&c, id, 0, sig);
	ok(kept == 1000, "and the recordings all (%d of 1000)", kept);
	ok(!holds(&c, -13, 2, sig), "another role's entry is not given");
	ok(!holds(&c, -13, 0, other), "nor one built before the files changed");
	ok(!holds(&c, 5000, 0, sig), "nor one never put");
	b = blob_of(200, 'z');
	web_cache_put(&c, -13, 0, sig, b);
	web_blob_unref(b);
	b = web_cache_get(&c, -13, 0, sig);
	ok(b && b->len == 200 && b->data[0] == 'z', "a key put again holds the new bytes");
	web_blob_unref(b);
	web_cache_release(&c);

	/* the cap: 1 MB, blobs of 100 KB */
	ok(web_cache_init(&c, "/nonexistent") == 0, "a cache capped at 1 MB");
	c.max_bytes = 1u << 20;
	for (int64_t id = 1; id <= 30; id++) {
		b = blob_of(100 * 1024, 'x');
		web_cache_put(&c, id, 0, sig, b);
		web_blob_unref(b);
		if (id > 1)
			web_blob_unref(web_cache_get(&c, 1, 0, sig)); /* 1 is read often */
	}
	ok(c.bytes <= c.max_bytes, "30 answers of 100 KB hold %zu bytes, within the cap", c.bytes);
	ok(holds(&c, 30, 0, sig) && holds(&c, 29, 0, sig), "the newest are kept");
	ok(holds(&c, 1, 0, sig), "and the one read often");
	ok(!holds(&c, 2, 0, sig) && !holds(&c, 3, 0, sig), "the least recently read went");
	b = blob_of(200 * 1024, 'y');
	web_cache_put(&c, 99, 0, sig, b);
	ok(!holds(&c, 99, 0, sig), "an answer larger than an eighth of the cap is not kept");
	ok(b->refs == 1, "and its bytes stay the caller's alone");
	web_blob_unref(b);
	web_cache_release(&c);

	/* the count: past WEB_CACHE_ENTRIES, the oldest go */
	ok(web_cache_init(&c, "/nonexistent") == 0, "a cache of small answers");
	for (int64_t id = 1; id <= WEB_CACHE_ENTRIES + 100; id++) {
		b = blob_of(10, 'c');
		web_cache_put(&c, id, 0, sig, b);
		web_blob_unref(b);
	}
	ok(c.entries == WEB_CACHE_ENTRIES, "%zu entries kept of %d put", c.entries,
	   WEB_CACHE_ENTRIES + 100);
	ok(!holds(&c, 100, 0, sig) && holds(&c, 101, 0, sig) &&
		   holds(&c, WEB_CACHE_ENTRIES + 100, 0, sig),
	   "the first hundred went, the rest are there");
	web_cache_release(&c);
}

int main(void)
{
	test_ranges();
	test_etags();
	test_dates();
	test_ids_and_paths();
	test_local_paths();
	test_languages();
	test_escaping();
	test_listen();
	test_spans();
	test_cache();
	return done_testing();
}
