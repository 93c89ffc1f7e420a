/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Partners: the archives whose catalogues this one harvests over OAI-PMH,
 * and the records harvested from them (schema 16).
 *
 * Always holds: a record is keyed by (partner, OAI identifier), so a page
 * stored twice stores nothing twice; a page is stored in one transaction
 * or not at all, so a harvest that fails keeps every page before it; a
 * link kept for a page to show is http(s), never a script; the records
 * live in their own tables and full-text index, which our own OAI-PMH
 * provider never reads.  A partner's from= moves only when a run went
 * through.  Expected workload: a few dozen partners, up to a few hundred
 * thousand records, stored a page (tens to hundreds of records) at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"

#define URL_MAX 2000	      /* bytes of a base URL or a record's link */
#define FIELD_MAX 4000	      /* bytes of a title, place, speakers, language */
#define DESCRIPTION_MAX 65536 /* bytes of a description */
#define IDENTIFIER_MAX 1000   /* bytes of an OAI identifier */
#define SEARCH_WORDS 16	      /* words of a query that count */
#define PAGE_DEFAULT 50

int prl_partner_name_valid(const char *s)
{
	return prl_institution_short_valid(s);
}

static int http_url(const char *s)
{
	return s && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) && strlen(s) > 8 &&
	       strlen(s) <= URL_MAX && !strpbrk(s, " \t\r\n\"<>");
}

int prl_archive_partner_add(struct prl_archive *a, const struct prl_partner *p)
{
	const char *prefix = p->prefix ? p->prefix : "oai_dc";
	sqlite3_stmt *st;
	int64_t inst = 0;
	int ret, rc, constraint;

	if (!prl_partner_name_valid(p->name))
		return archive_fail(a, -PRL_EINVAL,
				    "a partner's name is 1 to %d lowercase letters, digits or '-'",
				    PRL_SHORT_MAX);
	if (!http_url(p->base_url) || strchr(p->base_url, '?') || strchr(p->base_url, '#'))
		return archive_fail(a, -PRL_EINVAL,
				    "the base URL is an http:// or https:// address without "
				    "'?' (the OAI-PMH requests add their own)");
	if (strcmp(prefix, "olac") != 0 && strcmp(prefix, "oai_dc") != 0)
		return archive_fail(a, -PRL_EINVAL, "the prefix is olac or oai_dc");
	if (p->set &&
	    (!*p->set || strlen(p->set) > FIELD_MAX || !prl_utf8_valid(p->set, strlen(p->set))))
		return archive_fail(a, -PRL_EINVAL, "a set is a setSpec of 1 to %d bytes",
				    FIELD_MAX);
	if (p->institution && (ret = archive_institution_find(a, p->institution, &inst, NULL)) < 0)
		return ret == -PRL_ENOTFOUND ? -PRL_EINVAL : ret;
	if (!(st = archive_stmt(a, ST_PARTNER_ADD)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, p->name);
	archive_bind_text(st, 2, p->base_url);
	archive_bind_text(st, 3, prefix);
	archive_bind_text(st, 4, p->set);
	if (inst)
		sqlite3_bind_int64(st, 5, inst);
	rc = sqlite3_step(st);
	constraint = sqlite3_errcode(a->db) == SQLITE_CONSTRAINT;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (constraint)
		return archive_fail(a, -PRL_EEXIST, "partner '%s' already exists", p->name);
	return archive_sql_fail(a, "adding a partner");
}

/* The row id of partner name into *id. */
static int partner_id(struct prl_archive *a, const char *name, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if (!prl_partner_name_valid(name))
		return archive_fail(a, -PRL_ENOTFOUND, "no partner '%s'", name ? name : "");
	if (!(st = archive_stmt(a, ST_PARTNER_GET)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "finding a partner");
	return archive_fail(a, -PRL_ENOTFOUND, "no partner '%s' (see 'parlers harvest list')",
			    name);
}

int prl_archive_partner_remove(struct prl_archive *a, const char *name)
{
	sqlite3_stmt *drop, *del;
	int64_t id;
	int ret;

	if ((ret = partner_id(a, name, &id)) < 0)
		return ret;
	if (!(drop = archive_stmt(a, ST_PARTNER_RECORDS_DROP)) ||
	    !(del = archive_stmt(a, ST_PARTNER_DELETE)))
		return -PRL_ESQL;
	if ((ret = archive_begin(a)) < 0)
		return ret;
	sqlite3_bind_int64(drop, 1, id);
	sqlite3_bind_int64(del, 1, id);
	if ((ret = archive_step_done(a, drop, "removing a partner's records")) < 0 ||
	    (ret = archive_step_done(a, del, "removing a partner")) < 0 ||
	    (ret = archive_commit(a)) < 0)
		goto end;
	return 0;
end:
	archive_rollback(a);
	return ret;
}

/* One row of ST_PARTNER_LIST as an object. */
static void partner_object(struct prl_buf *b, sqlite3_stmt *st)
{
	prl_buf_addstr(b, "{\"name\":");
	prl_json_str(b, (const char *)sqlite3_column_text(st, 0));
	archive_json_text_field(b, "base_url", st, 1);
	archive_json_text_field(b, "prefix", st, 2);
	archive_json_text_field(b, "set", st, 3);
	if (sqlite3_column_type(st, 4) == SQLITE_NULL) {
		prl_buf_addstr(b, ",\"institution\":null");
	} else {
		prl_buf_addstr(b, ",\"institution\":{\"short\":");
		prl_json_str(b, (const char *)sqlite3_column_text(st, 4));
		archive_json_text_field(b, "name", st, 5);
		prl_buf_addch(b, '}');
	}
	archive_json_text_field(b, "added_at", st, 6);
	archive_json_text_field(b, "last_response_date", st, 7);
	archive_json_text_field(b, "last_run_at", st, 8);
	archive_json_text_field(b, "last_status", st, 9);
	archive_json_text_field(b, "last_error", st, 10);
	prl_buf_addf(b, ",\"records\":%lld}", (long long)sqlite3_column_int64(st, 11));
}

int prl_archive_partners_json(struct prl_archive *a, const char *name, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *st;
	int rc, n = 0, ret;

	if (name && !prl_partner_name_valid(name))
		return archive_fail(a, -PRL_ENOTFOUND, "no partner '%s'", name);
	if (!(st = archive_stmt(a, ST_PARTNER_LIST)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, name);
	if (!name)
		prl_buf_addstr(&b, "{\"partners\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++)
			prl_buf_addch(&b, ',');
		partner_object(&b, st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing partners");
	else if (name && n == 0)
		ret = archive_fail(a, -PRL_ENOTFOUND,
				   "no partner '%s' (see 'parlers harvest list')", name);
	else
		ret = name ? 0 : prl_buf_addstr(&b, "]}");
	if (ret == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

void prl_archive_partner_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int prl_archive_partner_names(struct prl_archive *a, char ***names, size_t *n)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARTNER_LIST);
	char **v = NULL, **grown;
	size_t k = 0;
	int rc, ret = 0;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_null(st, 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(grown = realloc(v, (k + 1) * sizeof(*v))) ||
		    !(grown[k] = archive_col_strdup(st, 0))) {
			if (grown)
				v = grown;
			ret = -PRL_ENOMEM;
			break;
		}
		v = grown;
		k++;
	}
	sqlite3_reset(st);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing partners");
	if (ret < 0) {
		prl_archive_partner_names_free(v, k);
		return ret;
	}
	*names = v;
	*n = k;
	return 0;
}

void prl_partner_state_release(struct prl_partner_state *s)
{
	if (!s)
		return;
	prl_buf_release(&s->base_url);
	prl_buf_release(&s->prefix);
	prl_buf_release(&s->set);
	prl_buf_release(&s->from);
}

int prl_archive_partner_state(struct prl_archive *a, const char *name,
			      struct prl_partner_state *out)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	memset(out, 0, sizeof(*out));
	if (!prl_partner_name_valid(name))
		return archive_fail(a, -PRL_ENOTFOUND, "no partner '%s'", name ? name : "");
	if (!(st = archive_stmt(a, ST_PARTNER_GET)))
		return -PRL_ESQL;
	archive_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		if (prl_buf_addstr(&out->base_url, (const char *)sqlite3_column_text(st, 1)) < 0 ||
		    prl_buf_addstr(&out->prefix, (const char *)sqlite3_column_text(st, 2)) < 0)
			ret = -PRL_ENOMEM;
		if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    prl_buf_addstr(&out->set, (const char *)sqlite3_column_text(st, 3)) < 0)
			ret = -PRL_ENOMEM;
		if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
		    prl_buf_addstr(&out->from, (const char *)sqlite3_column_text(st, 4)) < 0)
			ret = -PRL_ENOMEM;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return ret;
	if (rc != SQLITE_DONE)
		return archive_sql_fail(a, "finding a partner");
	return archive_fail(a, -PRL_ENOTFOUND, "no partner '%s' (see 'parlers harvest list')",
			    name);
}

/* Binds s at i, cut to max bytes at a character's edge; NULL, "" and
 * invalid UTF-8 bind NULL. */
static void bind_field(sqlite3_stmt *st, int i, const char *s, size_t max)
{
	size_t n;

	if (!s || !*s || !prl_utf8_valid(s, strlen(s))) {
		sqlite3_bind_null(st, i);
		return;
	}
	n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	sqlite3_bind_text(st, i, s, (int)n, SQLITE_TRANSIENT);
}

/* Binds r's fields 3-12 of ST_PARTNER_RECORD_INSERT and _UPDATE. */
static void bind_record(sqlite3_stmt *st, const struct prl_partner_record *r)
{
	bind_field(st, 3, r->datestamp, 64);
	sqlite3_bind_int(st, 4, r->deleted ? 1 : 0);
	for (int i = 5; i <= 12; i++)
		sqlite3_bind_null(st, i);
	if (r->deleted)
		return;
	bind_field(st, 5, r->title, FIELD_MAX);
	bind_field(st, 6, r->date, 64);
	bind_field(st, 7, r->place, FIELD_MAX);
	bind_field(st, 8, r->speakers, FIELD_MAX);
	bind_field(st, 9, r->language, FIELD_MAX);
	bind_field(st, 10, r->description, DESCRIPTION_MAX);
	if (http_url(r->url))
		bind_field(st, 11, r->url, URL_MAX);
	if (http_url(r->iiif))
		bind_field(st, 12, r->iiif, URL_MAX);
}

/* Stores one record; adds what it did to *c. */
static int store_one(struct prl_archive *a, int64_t partner, const struct prl_partner_record *r,
		     struct prl_harvest_counts *c)
{
	sqlite3_stmt *find = archive_stmt(a, ST_PARTNER_RECORD_FIND), *st;
	int64_t id = 0;
	int rc, was_deleted = 0;

	if (!r->identifier || !*r->identifier || strlen(r->identifier) > IDENTIFIER_MAX ||
	    !prl_utf8_valid(r->identifier, strlen(r->identifier)))
		return archive_fail(a, -PRL_EINVAL,
				    "a record without an identifier of 1 to %d bytes of UTF-8",
				    IDENTIFIER_MAX);
	if (!find)
		return -PRL_ESQL;
	sqlite3_bind_int64(find, 1, partner);
	archive_bind_text(find, 2, r->identifier);
	rc = sqlite3_step(find);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(find, 0);
		was_deleted = sqlite3_column_int(find, 1);
	}
	sqlite3_reset(find);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return archive_sql_fail(a, "finding a harvested record");
	if (!id && r->deleted)
		return 0; /* never seen, now gone: nothing to keep */
	if (!(st = archive_stmt(a, id ? ST_PARTNER_RECORD_UPDATE : ST_PARTNER_RECORD_INSERT)))
		return -PRL_ESQL;
	if (id)
		sqlite3_bind_int64(st, 1, id);
	else
		sqlite3_bind_int64(st, 1, partner);
	archive_bind_text(st, 2, r->identifier);
	bind_record(st, r);
	rc = archive_step_done(a, st, "storing a harvested record");
	sqlite3_clear_bindings(st);
	if (rc < 0)
		return rc;
	if (!id)
		c->added++;
	else if (r->deleted && !was_deleted)
		c->deleted++;
	else if (!r->deleted)
		c->updated++;
	return 0;
}

int prl_archive_partner_store(struct prl_archive *a, int64_t partner_id,
			      const struct prl_partner_record *recs, size_t n,
			      struct prl_harvest_counts *counts)
{
	struct prl_harvest_counts c = {0, 0, 0};
	int ret;

	if (n == 0)
		return 0;
	if ((ret = archive_begin(a)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		if ((ret = store_one(a, partner_id, &recs[i], &c)) < 0)
			goto end;
	if ((ret = archive_commit(a)) < 0)
		goto end;
	counts->added += c.added;
	counts->updated += c.updated;
	counts->deleted += c.deleted;
	return 0;
end:
	archive_rollback(a);
	return ret;
}

int prl_archive_partner_finish(struct prl_archive *a, int64_t partner_id, const char *response_date,
			       const char *error)
{
	sqlite3_stmt *st = archive_stmt(a, ST_PARTNER_RUN_DONE);
	int ret;

	if (!st)
		return -PRL_ESQL;
	sqlite3_bind_int64(st, 1, partner_id);
	archive_bind_text(st, 2, error ? "error" : "ok");
	bind_field(st, 3, error, FIELD_MAX);
	if (!error)
		bind_field(st, 4, response_date, 64);
	else
		sqlite3_bind_null(st, 4);
	ret = archive_step_done(a, st, "recording a harvest");
	sqlite3_clear_bindings(st);
	return ret;
}

/* Columns 0-9 of ST_PARTNER_RECORDS_PAGE / ST_PARTNER_SEARCH as an
 * object's members (no braces). */
static void record_members(struct prl_buf *b, sqlite3_stmt *st)
{
	static const char *const keys[] = {"identifier", "datestamp",	 "title",    "date",
					   "place",	 "speakers",	 "language", "description",
					   "url",	 "iiif_manifest"};

	for (int i = 0; i < 10; i++) {
		prl_buf_addf(b, "%s\"%s\":", i ? "," : "", keys[i]);
		prl_json_str(b, (const char *)sqlite3_column_text(st, i));
	}
	prl_buf_addstr(b, ",\"harvested\":true");
}

static long clamp_limit(long limit, long dflt)
{
	return limit <= 0 ? dflt : limit > 1000 ? 1000 : limit;
}

int prl_archive_partner_records_json(struct prl_archive *a, const char *name, long offset,
				     long limit, struct prl_buf *out)
{
	struct prl_buf b = PRL_BUF_INIT;
	sqlite3_stmt *count, *page;
	int64_t id, total = 0;
	int rc, n = 0, ret;

	if ((ret = partner_id(a, name, &id)) < 0)
		return ret;
	if (offset < 0)
		offset = 0;
	limit = clamp_limit(limit, PAGE_DEFAULT);
	if (!(count = archive_stmt(a, ST_PARTNER_RECORDS_COUNT)) ||
	    !(page = archive_stmt(a, ST_PARTNER_RECORDS_PAGE)))
		return -PRL_ESQL;
	sqlite3_bind_int64(count, 1, id);
	if ((rc = sqlite3_step(count)) == SQLITE_ROW)
		total = sqlite3_column_int64(count, 0);
	sqlite3_reset(count);
	if (rc != SQLITE_ROW)
		return archive_sql_fail(a, "counting a partner's records");
	prl_buf_addstr(&b, "{\"partner\":");
	prl_json_str(&b, name);
	prl_buf_addf(&b, ",\"total\":%lld,\"offset\":%ld,\"limit\":%ld,\"records\":[",
		     (long long)total, offset, limit);
	sqlite3_bind_int64(page, 1, id);
	sqlite3_bind_int64(page, 2, limit);
	sqlite3_bind_int64(page, 3, offset);
	while ((rc = sqlite3_step(page)) == SQLITE_ROW) {
		prl_buf_addstr(&b, n++ ? ",{" : "{");
		record_members(&b, page);
		prl_buf_addstr(&b, ",\"partner\":");
		prl_json_str(&b, name);
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(page);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "listing a partner's records");
	else if ((ret = prl_buf_addstr(&b, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
	prl_buf_release(&b);
	return ret;
}

/* The query as an FTS5 expression that cannot be a syntax error: each
 * word a quoted string ("" inside doubled), a trailing '*' kept as a
 * prefix, the words ANDed.  Empty when the query has no word. */
static int fts_query(const char *q, struct prl_buf *out)
{
	int words = 0;

	while (*q && words < SEARCH_WORDS) {
		size_t n;
		int prefix = 0;

		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '"' ||
		       *q == '-')
			q++;
		n = strcspn(q, " \t\r\n\"");
		if (n == 0)
			break;
		while (n > 0 && q[n - 1] == '*') {
			prefix = 1;
			n--;
		}
		if (n > 0 && !(n == 2 && !strncmp(q, "OR", 2))) {
			prl_buf_addstr(out, words++ ? " \"" : "\"");
			prl_buf_add(out, q, n);
			prl_buf_addstr(out, prefix ? "\"*" : "\"");
		}
		q += strcspn(q, " \t\r\n\"");
	}
	return words;
}

int prl_archive_partner_search_json(struct prl_archive *a, const char *query, long offset,
				    long limit, struct prl_buf *out)
{
	struct prl_buf q = PRL_BUF_INIT, b = PRL_BUF_INIT;
	sqlite3_stmt *count, *page;
	int64_t total = 0;
	int rc, n = 0, ret = 0;

	if (offset < 0)
		offset = 0;
	limit = clamp_limit(limit, 10);
	if (!query || !prl_utf8_valid(query, strlen(query)) || fts_query(query, &q) == 0) {
		ret = prl_buf_addstr(out, "{\"total\":0,\"records\":[]}");
		goto end;
	}
	if (!(count = archive_stmt(a, ST_PARTNER_SEARCH_COUNT)) ||
	    !(page = archive_stmt(a, ST_PARTNER_SEARCH))) {
		ret = -PRL_ESQL;
		goto end;
	}
	archive_bind_text(count, 1, prl_buf_str(&q));
	if ((rc = sqlite3_step(count)) == SQLITE_ROW)
		total = sqlite3_column_int64(count, 0);
	sqlite3_reset(count);
	if (rc != SQLITE_ROW) {
		ret = archive_sql_fail(a, "searching the harvested records");
		goto end;
	}
	prl_buf_addf(&b, "{\"total\":%lld,\"records\":[", (long long)total);
	archive_bind_text(page, 1, prl_buf_str(&q));
	sqlite3_bind_int64(page, 2, limit);
	sqlite3_bind_int64(page, 3, offset);
	while ((rc = sqlite3_step(page)) == SQLITE_ROW) {
		prl_buf_addstr(&b, n++ ? ",{" : "{");
		record_members(&b, page);
		prl_buf_addstr(&b, ",\"partner\":");
		prl_json_str(&b, (const char *)sqlite3_column_text(page, 10));
		prl_buf_addch(&b, '}');
	}
	sqlite3_reset(page);
	if (rc != SQLITE_DONE)
		ret = archive_sql_fail(a, "searching the harvested records");
	else if ((ret = prl_buf_addstr(&b, "]}")) == 0)
		ret = prl_buf_add(out, prl_buf_str(&b), b.len);
end:
	prl_buf_release(&q);
	prl_buf_release(&b);
	return ret;
}
