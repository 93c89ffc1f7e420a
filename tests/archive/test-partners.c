/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Partners and their harvested records in a real archive (archive/
 * partners.c), and the OAI-PMH answer parser on the saved answers of
 * tests/data/oai (harvester/parse.c): a page stored twice stores nothing
 * twice; a deleted record is counted once and leaves the search; links
 * that are not http(s) are dropped; a field over its bound is cut at a
 * character's edge; a failing page stores nothing; removal takes the
 * records and their index entries; OLAC and oai_dc read the same fields,
 * ISO-8859-1 comes out UTF-8, errors are one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parlers/harvester.h"
#include "scratch.h"
#include "tap.h"

static char *search(struct prl_archive *a, const char *q)
{
	struct prl_buf b = PRL_BUF_INIT;

	if (prl_archive_partner_search_json(a, q, 0, 10, &b) < 0)
		return NULL;
	return prl_buf_detach(&b, NULL);
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static void test_store(const char *dir)
{
	struct prl_buf err = PRL_BUF_INIT, out = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	struct prl_partner p = {"musee-mer", "https://musee.example/oai", "olac", NULL, NULL};
	struct prl_partner_state st;
	struct prl_harvest_counts c = {0, 0, 0};
	struct prl_partner_record recs[3];
	char *big, *s;

	ok(prl_archive_open(dir, PRL_OPEN_CREATE, &a, &err) == 0, "an archive opens");
	is_int(prl_archive_partner_add(a, &p), 0, "a partner is added");
	is_int(prl_archive_partner_add(a, &p), -PRL_EEXIST, "its name twice: EEXIST");
	p.name = "autre";
	p.base_url = "javascript:alert(1)";
	is_int(prl_archive_partner_add(a, &p), -PRL_EINVAL, "a base URL that is not http(s)");
	p.base_url = "https://x.example/oai?verb=Identify";
	is_int(prl_archive_partner_add(a, &p), -PRL_EINVAL, "a base URL with a query");
	p.base_url = "https://x.example/oai";
	p.institution = "nowhere";
	is_int(prl_archive_partner_add(a, &p), -PRL_EINVAL, "an unknown institution");
	memset(&st, 0, sizeof(st));
	is_int(prl_archive_partner_state(a, "musee-mer", &st), 0, "its state is read");
	ok(st.from.len == 0 && !strcmp(prl_buf_str(&st.prefix), "olac"), "never harvested, olac");

	memset(recs, 0, sizeof(recs));
	recs[0].identifier = "oai:m:1";
	recs[0].title = "La mézoun du pêcheur";
	recs[0].url = "https://musee.example/notice/1";
	recs[0].iiif = "javascript:alert(1)";
	recs[1].identifier = "oai:m:2";
	recs[1].title = "Les hitres";
	recs[1].url = "javascript:alert(2)";
	big = malloc(70000);
	memset(big, 'e', 69998);
	memcpy(big + 65535, "é", 2); /* straddles the 64 KiB bound */
	big[69998] = '\0';
	recs[1].description = big;
	is_int(prl_archive_partner_store(a, st.id, recs, 2, &c), 0, "a page is stored");
	is_int(c.added, 2, "two records added");
	is_int(prl_archive_partner_store(a, st.id, recs, 2, &c), 0, "the same page again");
	ok(c.added == 2 && c.updated == 2, "nothing added twice (%ld added, %ld updated)", c.added,
	   c.updated);
	prl_archive_partner_records_json(a, "musee-mer", 0, 10, &out);
	ok(contains(prl_buf_str(&out), "\"total\":2"), "two records listed");
	ok(!contains(prl_buf_str(&out), "javascript"), "links that are not http(s) are dropped");
	ok(prl_utf8_valid(prl_buf_str(&out), out.len), "a long description is cut at a character");
	s = search(a, "mezoun");
	ok(contains(s, "\"total\":1") && contains(s, "musee-mer"),
	   "search without accents finds the record with its partner");
	free(s);
	s = search(a, "hit*");
	ok(contains(s, "\"total\":1"), "a prefix search");
	free(s);
	s = search(a, "\"unbalanced (OR AND NEAR");
	ok(s != NULL, "a query of FTS5 syntax is no error");
	free(s);

	/* a failing page stores nothing of itself */
	recs[2].identifier = NULL;
	recs[0].title = "Changed";
	memset(&c, 0, sizeof(c));
	ok(prl_archive_partner_store(a, st.id, recs, 3, &c) == -PRL_EINVAL && c.updated == 0,
	   "a page with a record without identifier is refused whole");
	s = search(a, "Changed");
	ok(contains(s, "\"total\":0"), "and nothing of it was kept");
	free(s);

	/* deleted: counted once, out of the search */
	recs[0].deleted = 1;
	is_int(prl_archive_partner_store(a, st.id, recs, 1, &c), 0, "a deletion is stored");
	is_int(prl_archive_partner_store(a, st.id, recs, 1, &c), 0, "and again");
	is_int(c.deleted, 1, "counted once");
	s = search(a, "mezoun");
	ok(contains(s, "\"total\":0"), "a deleted record leaves the search");
	free(s);
	recs[0].identifier = "oai:m:never";
	memset(&c, 0, sizeof(c));
	prl_archive_partner_store(a, st.id, recs, 1, &c);
	ok(c.added == 0 && c.deleted == 0, "a deletion of a record never seen stores nothing");

	is_int(prl_archive_partner_finish(a, st.id, "2026-01-02T03:04:05Z", NULL), 0, "a run ends");
	is_int(prl_archive_partner_finish(a, st.id, "2027-01-01T00:00:00Z", "page 2: HTTP 500"), 0,
	       "a failed run ends");
	prl_partner_state_release(&st);
	prl_archive_partner_state(a, "musee-mer", &st);
	is_str(prl_buf_str(&st.from), "2026-01-02T03:04:05Z", "from= moves only on a good run");
	prl_partner_state_release(&st);

	is_int(prl_archive_partner_remove(a, "musee-mer"), 0, "the partner is removed");
	s = search(a, "hitres");
	ok(contains(s, "\"total\":0"), "its records leave the search");
	free(s);
	is_int(prl_archive_partner_remove(a, "musee-mer"), -PRL_ENOTFOUND, "removed twice");
	free(big);
	prl_buf_release(&out);
	prl_buf_release(&err);
	prl_archive_close(a);
}

static void parse_file(const char *name, struct prl_oai_page *page, struct prl_buf *err, int *ret)
{
	struct prl_buf path = PRL_BUF_INIT, body = PRL_BUF_INIT;
	const char *tests = getenv("PARLERS_TESTS");

	prl_buf_addf(&path, "%s/data/oai/%s", tests ? tests : "tests", name);
	if (prl_read_file(prl_buf_str(&path), 0, &body) < 0) {
		ok(0, "%s is read", prl_buf_str(&path));
		memset(page, 0, sizeof(*page));
		*ret = -1;
	} else {
		*ret = prl_oai_parse(body.data, body.len, page, err);
	}
	prl_buf_release(&path);
	prl_buf_release(&body);
}

static void test_parse(void)
{
	struct prl_buf err = PRL_BUF_INIT;
	struct prl_oai_page page;
	int ret;

	parse_file("olac-page1.xml", &page, &err, &ret);
	ok(ret == 0 && page.n == 3 && page.token && !strcmp(page.token, "olac!nrf!3"),
	   "OLAC page 1: three records and the token");
	if (page.n == 3) {
		is_str(page.recs[0].title, "La coupe du vraic à Flamanville", "the first title");
		is_str(page.recs[0].speakers, "Marie Lecoutour; Jean Hamel", "speakers by role");
		is_str(page.recs[1].date, NULL, "no date");
		is_str(page.recs[2].language, "normand", "a language's text wins over its code");
	}
	prl_oai_page_release(&page);
	parse_file("olac-page2.xml", &page, &err, &ret);
	ok(ret == 0 && page.n == 2 && page.recs[1].deleted && !page.token,
	   "OLAC page 2: a deleted record, the list ends");
	prl_oai_page_release(&page);
	parse_file("dc-latin1.xml", &page, &err, &ret);
	ok(ret == 0 && page.n == 2, "oai_dc in ISO-8859-1");
	if (page.n == 2) {
		is_str(page.recs[1].speakers, "Léonie Hébert", "accents come out UTF-8");
		ok(page.recs[0].iiif && strstr(page.recs[0].iiif, "manifest.json"), "the manifest");
	}
	prl_oai_page_release(&page);
	parse_file("error-badtoken.xml", &page, &err, &ret);
	ok(ret == 0 && page.error_code && !strcmp(page.error_code, "badResumptionToken"),
	   "an OAI-PMH error is read");
	prl_oai_page_release(&page);
	prl_buf_reset(&err);
	parse_file("not-oai.html", &page, &err, &ret);
	ok(ret == -PRL_EFORMAT && strstr(prl_buf_str(&err), "not an OAI-PMH answer") &&
		   !strchr(prl_buf_str(&err), '\n'),
	   "a web page: one line");
	prl_oai_page_release(&page);
	prl_buf_reset(&err);
	ret = prl_oai_parse("<OAI-PMH", 8, &page, &err);
	ok(ret == -PRL_EFORMAT && strstr(prl_buf_str(&err), "malformed XML"), "malformed XML");
	prl_oai_page_release(&page);
	prl_buf_release(&err);
}

int main(void)
{
	char dir[256];

	if (scratch_make(dir, sizeof(dir), "partners") < 0)
		return 1;
	test_store(dir);
	test_parse();
	scratch_remove(dir);
	return done_testing();
}
