/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reading one OAI-PMH 2.0 answer: its responseDate, its error if any, the
 * records of a ListRecords page (header and Dublin Core metadata, whether
 * the partner wrapped it as oai_dc or OLAC) and the resumption token.
 *
 * libxml2 reads the bytes in whatever encoding the XML declaration names
 * (ISO-8859-1 included) and hands UTF-8 over; it never fetches a DTD or an
 * entity from the network and substitutes no entity; its messages come
 * back here, never on stderr.  Always holds: every string of a page is
 * UTF-8 and owned by the page; a record whose metadata is over
 * PRL_OAI_RECORD_MAX is counted as left out, never half kept.  Elements
 * are matched by namespace and local name, so any prefix works.
 * Expected workload: pages of tens to a thousand records, one at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "parlers/harvester.h"

#define OAI_NS "http://www.openarchives.org/OAI/2.0/"
#define DC_NS "http://purl.org/dc/elements/1.1/"
#define DCTERMS_NS "http://purl.org/dc/terms/"
#define OLAC_NS "http://www.language-archives.org/OLAC/1.1/"

/* The fields gathered from one record's metadata while it is read. */
struct fields {
	struct prl_buf title, date, place, speakers, language, description, url, iiif;
	size_t bytes; /* metadata text seen, to leave out a huge record */
};

static int is(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, ns) && !strcmp((const char *)n->name, name);
}

static int in_dc(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       (!strcmp((const char *)n->ns->href, DC_NS) ||
		!strcmp((const char *)n->ns->href, DCTERMS_NS));
}

/* The element's text, blanks trimmed at both ends, as a new string (NULL
 * when empty or out of memory). */
static char *text_of(const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	const char *s = (const char *)t, *e;
	char *out = NULL;

	if (!t)
		return NULL;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (e > s && (out = malloc((size_t)(e - s) + 1))) {
		memcpy(out, s, (size_t)(e - s));
		out[e - s] = '\0';
	}
	xmlFree(t);
	return out;
}

static char *dup_or_null(const struct prl_buf *b)
{
	return b->len ? strdup(prl_buf_str(b)) : NULL;
}

/* Appends s to b, after sep when b holds something already. */
static void join(struct prl_buf *b, const char *sep, const char *s)
{
	if (b->len)
		prl_buf_addstr(b, sep);
	prl_buf_addstr(b, s);
}

/* An attribute in the OLAC namespace (olac:code), or NULL; the caller frees. */
static char *olac_attr(const xmlNode *n, const char *name)
{
	return (char *)xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)OLAC_NS);
}

/* Whether a contributor with OLAC role code (NULL: none given) speaks on
 * the recording: the roles of the people heard. */
static int speaking_role(const char *code)
{
	static const char *const roles[] = {"speaker",	   "consultant", "performer",  "singer",
					    "participant", "responder",	 "interviewee"};

	if (!code)
		return 1;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(code, roles[i]))
			return 1;
	return 0;
}

static int http_link(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* A link that names a IIIF Presentation manifest. */
static int iiif_link(const char *s)
{
	return http_link(s) && (strstr(s, "manifest") || strstr(s, "/iiif/"));
}

/* One Dublin Core element of a record's metadata into f. */
static void dc_element(const xmlNode *n, struct fields *f)
{
	const char *name = (const char *)n->name;
	char *t = text_of(n), *code = NULL;

	if (!strcmp(name, "language") || !strcmp(name, "contributor") || !strcmp(name, "creator"))
		code = olac_attr(n, "code");
	if (t)
		f->bytes += strlen(t);
	if (!strcmp(name, "title")) {
		if (t && !f->title.len)
			prl_buf_addstr(&f->title, t);
	} else if (!strcmp(name, "date") || !strcmp(name, "created") || !strcmp(name, "issued")) {
		if (t && !f->date.len)
			prl_buf_addstr(&f->date, t);
	} else if (!strcmp(name, "coverage") || !strcmp(name, "spatial")) {
		if (t)
			join(&f->place, "; ", t);
	} else if (!strcmp(name, "contributor") || !strcmp(name, "creator")) {
		/* dc:creator is the collector in oai_dc; OLAC says who speaks */
		if (t && (!strcmp(name, "contributor") || code) && speaking_role(code))
			join(&f->speakers, "; ", t);
	} else if (!strcmp(name, "language")) {
		if (t || code)
			join(&f->language, "; ", t ? t : code);
	} else if (!strcmp(name, "description") || !strcmp(name, "abstract")) {
		if (t)
			join(&f->description, "\n\n", t);
	} else if (!strcmp(name, "identifier") || !strcmp(name, "relation") ||
		   !strcmp(name, "isFormatOf") || !strcmp(name, "hasFormat") ||
		   !strcmp(name, "isReferencedBy") || !strcmp(name, "source")) {
		if (t && iiif_link(t) && !f->iiif.len)
			prl_buf_addstr(&f->iiif, t);
		else if (t && http_link(t) && !strcmp(name, "identifier") && !f->url.len)
			prl_buf_addstr(&f->url, t);
	}
	free(t);
	xmlFree(code);
}

static void fields_release(struct fields *f)
{
	struct prl_buf *all[] = {&f->title,    &f->date,	&f->place, &f->speakers,
				 &f->language, &f->description, &f->url,   &f->iiif};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		prl_buf_release(all[i]);
}

/* Walks the metadata's wrapper (oai_dc:dc, olac:olac or another) and its
 * Dublin Core children. */
static void read_metadata(const xmlNode *md, struct fields *f)
{
	for (const xmlNode *w = md->children; w; w = w->next) {
		if (w->type != XML_ELEMENT_NODE)
			continue;
		if (in_dc(w)) {
			dc_element(w, f);
			continue;
		}
		for (const xmlNode *e = w->children; e; e = e->next)
			if (in_dc(e))
				dc_element(e, f);
	}
}

/* One <record> into the page's next slot; a huge one is counted out. */
static int read_record(const xmlNode *rec, struct prl_oai_page *page)
{
	struct prl_partner_record *r = &page->recs[page->n];
	const xmlNode *header = NULL, *md = NULL;
	struct fields f;
	xmlChar *status;
	int ret = 0;

	memset(&f, 0, sizeof(f));
	memset(r, 0, sizeof(*r));
	for (const xmlNode *c = rec->children; c; c = c->next) {
		if (is(c, OAI_NS, "header"))
			header = c;
		else if (is(c, OAI_NS, "metadata"))
			md = c;
	}
	if (!header)
		return 0; /* not a record one can key: nothing to store */
	for (const xmlNode *c = header->children; c; c = c->next) {
		if (is(c, OAI_NS, "identifier") && !r->identifier)
			r->identifier = text_of(c);
		else if (is(c, OAI_NS, "datestamp") && !r->datestamp)
			r->datestamp = text_of(c);
	}
	if (!r->identifier) {
		free((char *)r->datestamp);
		r->datestamp = NULL;
		return 0;
	}
	status = xmlGetProp(header, (const xmlChar *)"status");
	r->deleted = status && !strcmp((const char *)status, "deleted");
	xmlFree(status);
	if (!r->deleted && md)
		read_metadata(md, &f);
	if (f.bytes > PRL_OAI_RECORD_MAX) {
		page->skipped++;
		if (!page->skipped_first)
			page->skipped_first = (char *)r->identifier;
		else
			free((char *)r->identifier);
		free((char *)r->datestamp);
		memset(r, 0, sizeof(*r));
		goto end;
	}
	r->title = dup_or_null(&f.title);
	r->date = dup_or_null(&f.date);
	r->place = dup_or_null(&f.place);
	r->speakers = dup_or_null(&f.speakers);
	r->language = dup_or_null(&f.language);
	r->description = dup_or_null(&f.description);
	r->url = dup_or_null(&f.url);
	r->iiif = dup_or_null(&f.iiif);
	page->n++;
end:
	fields_release(&f);
	return ret;
}

static int read_list(const xmlNode *list, struct prl_oai_page *page)
{
	size_t max = 0;
	int ret;

	for (const xmlNode *c = list->children; c; c = c->next)
		if (is(c, OAI_NS, "record"))
			max++;
	if (max && !(page->recs = calloc(max, sizeof(*page->recs))))
		return -PRL_ENOMEM;
	for (const xmlNode *c = list->children; c; c = c->next) {
		if (is(c, OAI_NS, "record")) {
			if ((ret = read_record(c, page)) < 0)
				return ret;
		} else if (is(c, OAI_NS, "resumptionToken") && !page->token) {
			/* an empty token ends the list: NULL */
			page->token = text_of(c);
		}
	}
	return 0;
}

/* Whether the answer is an HTML page (what a base URL that is a site's
 * home answers), which is seldom well-formed XML. */
static int html_page(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return (len - i >= 9 && !strncasecmp(buf + i, "<!doctype", 9) &&
		(len - i < 14 || !strncasecmp(buf + i + 9, " html", 5))) ||
	       (len - i >= 5 && !strncasecmp(buf + i, "<html", 5));
}

int prl_oai_parse(const char *buf, size_t len, struct prl_oai_page *page, struct prl_buf *err)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	const xmlNode *root;
	int ret = 0;

	memset(page, 0, sizeof(*page));
	if (len > (size_t)0x7fffffff) {
		prl_buf_addstr(err, "the answer is too large to read");
		return -PRL_EFORMAT;
	}
	if (html_page(buf, len)) {
		prl_buf_addstr(err, "not an OAI-PMH answer (a web page: is the base URL right?)");
		return -PRL_EFORMAT;
	}
	if (!(ctxt = xmlNewParserCtxt()))
		return -PRL_ENOMEM;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "oai-pmh.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
					XML_PARSE_HUGE | XML_PARSE_NOCDATA);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		size_t n;

		prl_buf_addstr(err, "malformed XML");
		if (e && e->message) {
			n = strcspn(e->message, "\r\n");
			prl_buf_addf(err, " (line %d: %.*s)", e->line, (int)n, e->message);
		}
		ret = -PRL_EFORMAT;
		goto end;
	}
	root = xmlDocGetRootElement(doc);
	if (!is(root, OAI_NS, "OAI-PMH")) {
		prl_buf_addf(err, "not an OAI-PMH answer (its root element is <%.64s>)",
			     root ? (const char *)root->name : "nothing");
		ret = -PRL_EFORMAT;
		goto end;
	}
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (is(c, OAI_NS, "responseDate") && !page->response_date) {
			page->response_date = text_of(c);
		} else if (is(c, OAI_NS, "error") && !page->error_code) {
			xmlChar *code = xmlGetProp(c, (const xmlChar *)"code");

			page->error_code = strdup(code ? (const char *)code : "unknown");
			xmlFree(code);
			page->error_message = text_of(c);
			if (!page->error_code) {
				ret = -PRL_ENOMEM;
				goto end;
			}
		} else if (is(c, OAI_NS, "ListRecords")) {
			if ((ret = read_list(c, page)) < 0)
				goto end;
		}
	}
end:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return ret;
}

void prl_oai_page_release(struct prl_oai_page *page)
{
	if (!page)
		return;
	for (size_t i = 0; i < page->n; i++) {
		struct prl_partner_record *r = &page->recs[i];
		const char *all[] = {r->identifier, r->datestamp, r->title,	  r->date, r->place,
				     r->speakers,   r->language,  r->description, r->url,  r->iiif};

		for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			free((char *)all[k]);
	}
	free(page->recs);
	free(page->response_date);
	free(page->error_code);
	free(page->error_message);
	free(page->token);
	free(page->skipped_first);
	memset(page, 0, sizeof(*page));
}
