/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * OAI-PMH 2.0 at /oai: Identify, ListMetadataFormats, ListSets,
 * ListIdentifiers, ListRecords and GetRecord, with Dublin Core (oai_dc) and
 * OLAC 1.1 (olac) records, one set per collection ("collection:ID"),
 * from/until on the recording's updated_at, and resumption tokens.
 *
 * Always holds: a harvester sees exactly what an anonymous visitor may know
 * of (public and restricted recordings, as metadata only; never a private
 * one), whoever asks; every answer is well-formed UTF-8 XML, every value
 * going through the project's escaper (which also replaces what XML 1.0
 * forbids); errors are the protocol's codes in a 200 answer, as the
 * protocol says.  A resumption token carries its whole state (format, set,
 * dates, position, expiry) and a MAC made with a key drawn at start-up, so
 * a forged, altered or expired token is badResumptionToken, and no state is
 * kept between requests.
 *
 * Expected workload: harvesters walking the catalogue a few times a day,
 * OAI_PAGE records per request; thousands to tens of thousands of records.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "web-internal.h"

#define XML_MIME "text/xml; charset=utf-8"
#define OAI_PAGE 50
#define DC_NS "http://purl.org/dc/elements/1.1/"
#define OLAC_NS "http://www.language-archives.org/OLAC/1.1/"

static unsigned char token_key[crypto_auth_KEYBYTES];
static pthread_once_t token_once = PTHREAD_ONCE_INIT;
static void oai_setup(void)
{
	if (sodium_init() < 0)
		abort(); /* no randomness: no token could be trusted */
	randombytes_buf(token_key, sizeof(token_key));
}

/* Records per page: OAI_PAGE, or fewer when the server was told so (tests). */
static int page_size(const struct web_server *s)
{
	return s->opts.oai_page > 0 && s->opts.oai_page <= 1000 ? (int)s->opts.oai_page : OAI_PAGE;
}

/* How long a resumption token lives, in seconds. */
static long token_ttl(const struct web_server *s)
{
	return s->opts.oai_token_ttl > 0 ? s->opts.oai_token_ttl : 3600;
}

/* The repository's namespace in identifiers (oai:NS:recording/ID). */
static const char *oai_namespace(const struct web_server *s)
{
	const char *ns = s->opts.oai_namespace;

	return ns && *ns ? ns : "parlers.local";
}

static const char *admin_email(const struct web_server *s)
{
	const char *mail = s->opts.admin_email;

	return mail && *mail ? mail : "archive@parlers.local";
}

/* One argument of a POSTed request (application/x-www-form-urlencoded). */
struct form_arg {
	char *key; /* decoded, points into oai.form_data */
	char *value;
};

struct oai {
	struct web_request *r;
	char *form_data;       /* a POST's body, decoded in place, owned; NULL for GET */
	struct form_arg *form; /* its arguments, owned */
	size_t nform;
	struct prl_archive *a;
	struct prl_buf out;  /* the answer */
	struct prl_buf base; /* http://host/oai */
	const char *verb;
};

/* An argument, from the query string (GET) or the form body (POST); the
 * first when repeated (args_ok() refuses repeats). */
static const char *oai_arg(struct oai *o, const char *key)
{
	if (!o->form_data)
		return web_arg(o->r, key);
	for (size_t i = 0; i < o->nform; i++)
		if (strcmp(o->form[i].key, key) == 0)
			return o->form[i].value;
	return NULL;
}

/* Splits and decodes a form body ("a=b&c=d", '+' for space, %XX) in place. */
static int parse_form(struct oai *o, const char *body, size_t len)
{
	char *p, *save = NULL, *tok;

	if (!(o->form_data = malloc(len + 1)))
		return -PRL_ENOMEM;
	memcpy(o->form_data, body, len);
	o->form_data[len] = '\0';
	for (tok = strtok_r(o->form_data, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
		struct form_arg *n = realloc(o->form, (o->nform + 1) * sizeof(*n));
		char *eq = strchr(tok, '=');

		if (!n)
			return -PRL_ENOMEM;
		o->form = n;
		if (eq)
			*eq = '\0';
		for (p = tok; *p; p++)
			if (*p == '+')
				*p = ' ';
		for (p = eq ? eq + 1 : tok + strlen(tok); *p; p++)
			if (*p == '+')
				*p = ' ';
		web_unescape(tok);
		if (eq)
			web_unescape(eq + 1);
		o->form[o->nform].key = tok;
		o->form[o->nform].value = eq ? eq + 1 : tok + strlen(tok);
		o->nform++;
	}
	return 0;
}

static void x_text(struct prl_buf *b, const char *s)
{
	prl_xml_escape(b, s ? s : "");
}

/* <name>text</name>, nothing when text is NULL or empty. */
static void x_elem(struct prl_buf *b, const char *name, const char *text)
{
	if (!text || !*text)
		return;
	prl_buf_addf(b, "<%s>", name);
	x_text(b, text);
	prl_buf_addf(b, "</%s>", name);
}

static void now_utc(char out[24])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void head(struct oai *o, int echo_args)
{
	static const char *const args[] = {"verb",  "identifier", "metadataPrefix",  "from",
					   "until", "set",	  "resumptionToken", NULL};
	char when[24];

	now_utc(when);
	prl_buf_addstr(&o->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				"<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\""
				" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
				" xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/"
				" http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd\">\n");
	prl_buf_addf(&o->out, "<responseDate>%s</responseDate>\n<request", when);
	/* the protocol: no attributes when the verb or the arguments are bad */
	for (size_t i = 0; echo_args && args[i]; i++) {
		const char *v = oai_arg(o, args[i]);

		if (v) {
			prl_buf_addf(&o->out, " %s=\"", args[i]);
			x_text(&o->out, v);
			prl_buf_addch(&o->out, '"');
		}
	}
	prl_buf_addch(&o->out, '>');
	x_text(&o->out, prl_buf_str(&o->base));
	prl_buf_addstr(&o->out, "</request>\n");
}

static enum MHD_Result oai_send(struct oai *o)
{
	prl_buf_addstr(&o->out, "</OAI-PMH>\n");
	return web_send_buf(o->r, MHD_HTTP_OK, XML_MIME, &o->out, "no-store");
}

static enum MHD_Result oai_error(struct oai *o, const char *code, const char *msg)
{
	int echo = strcmp(code, "badVerb") != 0 && strcmp(code, "badArgument") != 0;

	prl_buf_reset(&o->out);
	head(o, echo);
	prl_buf_addf(&o->out, "<error code=\"%s\">", code);
	x_text(&o->out, msg);
	prl_buf_addstr(&o->out, "</error>\n");
	return oai_send(o);
}

/* ---- arguments ---- */

struct arg_check {
	const char *const *allowed; /* names this verb takes */
	int bad;		    /* an argument it does not take, or one twice */
	char name[64];		    /* which */
	size_t seen[8];		    /* how often each allowed name came */
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct arg_check *c = cls;
	int ok = 0;

	(void)kind;
	(void)value;
	for (size_t i = 0; c->allowed[i]; i++)
		ok |= strcmp(key, c->allowed[i]) == 0;
	if (!ok && !c->bad) {
		c->bad = 1;
		snprintf(c->name, sizeof(c->name), "%s", key);
	}
	return MHD_YES;
}

static enum MHD_Result count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct arg_check *c = cls;

	(void)kind;
	(void)value;
	for (size_t i = 0; c->allowed[i] && i < sizeof(c->seen) / sizeof(c->seen[0]); i++)
		if (strcmp(key, c->allowed[i]) == 0 && ++c->seen[i] > 1)
			c->bad = 2;
	return MHD_YES;
}

/* 0 when every argument is one the verb takes and none is repeated;
 * else writes the reason into why. */
static int args_ok(struct oai *o, const char *const *allowed, char *why, size_t size)
{
	struct arg_check c;

	memset(&c, 0, sizeof(c));
	c.allowed = allowed;
	if (o->form_data) {
		for (size_t i = 0; i < o->nform; i++)
			check_arg(&c, MHD_POSTDATA_KIND, o->form[i].key, o->form[i].value);
		for (size_t i = 0; !c.bad && i < o->nform; i++)
			count_arg(&c, MHD_POSTDATA_KIND, o->form[i].key, o->form[i].value);
		if (c.bad)
			snprintf(why, size,
				 c.bad == 2 ? "an argument is repeated"
					    : "%s is not an argument of %s",
				 c.name, o->verb);
		return c.bad ? -1 : 0;
	}
	MHD_get_connection_values(o->r->con, MHD_GET_ARGUMENT_KIND, check_arg, &c);
	if (c.bad) {
		snprintf(why, size, "%s is not an argument of %s", c.name, o->verb);
		return -1;
	}
	MHD_get_connection_values(o->r->con, MHD_GET_ARGUMENT_KIND, count_arg, &c);
	if (c.bad) {
		snprintf(why, size, "an argument is repeated");
		return -1;
	}
	return 0;
}

/* An OAI date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ) as a full datestamp;
 * end: the last second of a day.  Returns the granularity (1 day, 2
 * seconds) or 0 when malformed. */
static int parse_date(const char *s, int end, char out[24])
{
	struct tm tm;
	const char *p;
	int day = strlen(s) == 10;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, day ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!p || *p || (!day && strlen(s) != 20) || s[4] != '-' || s[7] != '-')
		return 0;
	/* strptime accepts 2026-02-31: a round trip through timegm refuses it */
	{
		struct tm back = tm;
		time_t t = timegm(&back);
		struct tm chk;

		gmtime_r(&t, &chk);
		if (chk.tm_mday != tm.tm_mday || chk.tm_mon != tm.tm_mon)
			return 0;
	}
	if (day) {
		tm.tm_hour = end ? 23 : 0;
		tm.tm_min = end ? 59 : 0;
		tm.tm_sec = end ? 59 : 0;
	}
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return day ? 1 : 2;
}

/* ---- resumption tokens ---- */

struct list_state {
	char prefix[16];	  /* oai_dc or olac */
	int64_t set;		  /* collection id, 0 for all */
	char from[24], until[24]; /* "" when not given */
	int64_t after;		  /* last id sent */
	int64_t cursor;		  /* records sent before this page */
	int64_t expires;	  /* unix time */
};

static int token_make(const struct list_state *s, char *out, size_t size)
{
	char payload[200];
	unsigned char mac[crypto_auth_BYTES];
	size_t n, b64;
	int len;

	len = snprintf(payload, sizeof(payload), "1|%s|%lld|%s|%s|%lld|%lld|%lld", s->prefix,
		       (long long)s->set, s->from, s->until, (long long)s->after,
		       (long long)s->cursor, (long long)s->expires);
	if (len < 0 || (size_t)len >= sizeof(payload))
		return -1;
	crypto_auth(mac, (const unsigned char *)payload, (size_t)len, token_key);
	b64 = sodium_base64_ENCODED_LEN((size_t)len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (b64 + 1 +
		    sodium_base64_ENCODED_LEN(sizeof(mac),
					      sodium_base64_VARIANT_URLSAFE_NO_PADDING) >
	    size)
		return -1;
	sodium_bin2base64(out, size, (const unsigned char *)payload, (size_t)len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = strlen(out);
	out[n++] = '.';
	sodium_bin2base64(out + n, size - n, mac, sizeof(mac),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

/* 0 and *s when tok is one we made and has not expired; -1 otherwise. */
static int token_read(const char *tok, struct list_state *s)
{
	unsigned char payload[200], mac[crypto_auth_BYTES + 8];
	const char *dot = strchr(tok, '.');
	size_t plen = 0, mlen = 0;
	long long set, after, cursor, expires;
	char prefix[16], from[24], until[24];
	int consumed = 0;

	if (!dot || strlen(tok) > 400)
		return -1;
	if (sodium_base642bin(payload, sizeof(payload) - 1, tok, (size_t)(dot - tok), NULL, &plen,
			      NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    sodium_base642bin(mac, sizeof(mac), dot + 1, strlen(dot + 1), NULL, &mlen, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    mlen != crypto_auth_BYTES || crypto_auth_verify(mac, payload, plen, token_key) != 0)
		return -1;
	payload[plen] = '\0';
	/* fields as token_make wrote them; empty dates are empty fields */
	memset(from, 0, sizeof(from));
	memset(until, 0, sizeof(until));
	if (sscanf((const char *)payload, "1|%15[^|]|%lld|%n", prefix, &set, &consumed) != 2 ||
	    !consumed)
		return -1;
	{
		const char *p = (const char *)payload + consumed, *bar = strchr(p, '|');

		if (!bar || (size_t)(bar - p) >= sizeof(from))
			return -1;
		memcpy(from, p, (size_t)(bar - p));
		p = bar + 1;
		if (!(bar = strchr(p, '|')) || (size_t)(bar - p) >= sizeof(until))
			return -1;
		memcpy(until, p, (size_t)(bar - p));
		if (sscanf(bar + 1, "%lld|%lld|%lld", &after, &cursor, &expires) != 3)
			return -1;
	}
	if ((long long)time(NULL) > expires)
		return -1;
	memset(s, 0, sizeof(*s));
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix);
	s->set = set;
	memcpy(s->from, from, sizeof(s->from));
	memcpy(s->until, until, sizeof(s->until));
	s->after = after;
	s->cursor = cursor;
	s->expires = expires;
	return 0;
}

/* ---- records ---- */

static void identifier(const struct oai *o, struct prl_buf *b, int64_t id)
{
	prl_buf_addf(b, "oai:%s:recording/%lld", oai_namespace(o->r->srv), (long long)id);
}

/* The recording id an identifier names, or 0. */
static int64_t parse_identifier(const struct oai *o, const char *s)
{
	struct prl_buf want = PRL_BUF_INIT;
	int64_t id = 0;

	prl_buf_addf(&want, "oai:%s:recording/", oai_namespace(o->r->srv));
	if (s && strncmp(s, prl_buf_str(&want), want.len) == 0 &&
	    web_parse_id_str(s + want.len, &id) < 0)
		id = 0;
	prl_buf_release(&want);
	return id;
}

static const char *js(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* OLAC's role vocabulary for the roles parlers records. */
static const char *olac_role(const char *role)
{
	static const char *const same[] = {"speaker",	 "interviewer", "recorder",  "transcriber",
					   "translator", "singer",	"annotator", "depositor",
					   "researcher", "consultant",	"performer", "responder",
					   NULL};

	for (size_t i = 0; role && same[i]; i++)
		if (strcmp(role, same[i]) == 0)
			return same[i];
	if (role && (strcmp(role, "collector") == 0 || strcmp(role, "enqueteur") == 0))
		return "recorder";
	return "participant";
}

/* ISO 639-3 for the codes the sidecars use: three letters as they are,
 * the two-letter ones French and English; NULL when unknown. */
static const char *iso639_3(const char *lang)
{
	if (!lang)
		return NULL;
	if (strlen(lang) == 3 && lang[0] >= 'a' && lang[0] <= 'z' && lang[1] >= 'a' &&
	    lang[1] <= 'z' && lang[2] >= 'a' && lang[2] <= 'z')
		return lang;
	if (!strcmp(lang, "fr"))
		return "fra";
	if (!strcmp(lang, "en"))
		return "eng";
	return NULL;
}

static void record_header(struct oai *o, json_t *rec)
{
	int64_t cid = json_integer_value(json_object_get(rec, "collection_id"));

	prl_buf_addstr(&o->out, "<header><identifier>");
	identifier(o, &o->out, json_integer_value(json_object_get(rec, "id")));
	prl_buf_addstr(&o->out, "</identifier><datestamp>");
	x_text(&o->out, js(rec, "updated_at"));
	prl_buf_addstr(&o->out, "</datestamp>");
	if (cid > 0)
		prl_buf_addf(&o->out, "<setSpec>collection:%lld</setSpec>", (long long)cid);
	if (js(json_object_get(rec, "institution"), "short")) {
		prl_buf_addstr(&o->out, "<setSpec>institution:");
		x_text(&o->out, js(json_object_get(rec, "institution"), "short"));
		prl_buf_addstr(&o->out, "</setSpec>");
	}
	prl_buf_addstr(&o->out, "</header>\n");
}

/* The header of a deleted record (status="deleted", no metadata). */
static void deleted_header(struct oai *o, int64_t id, const char *stamp, int64_t cid)
{
	prl_buf_addstr(&o->out, "<header status=\"deleted\"><identifier>");
	identifier(o, &o->out, id);
	prl_buf_addstr(&o->out, "</identifier><datestamp>");
	x_text(&o->out, stamp);
	prl_buf_addstr(&o->out, "</datestamp>");
	if (cid > 0)
		prl_buf_addf(&o->out, "<setSpec>collection:%lld</setSpec>", (long long)cid);
	prl_buf_addstr(&o->out, "</header>\n");
}

/* The speakers as contributors (OLAC: with their roles); true when the
 * recording is a dialogue: an interviewer, or more than one speaker. */
static int dc_speakers(struct prl_buf *b, json_t *rec, int olac)
{
	size_t i, talkers = 0;
	int dialogue = 0;
	json_t *sp;

	json_array_foreach(json_object_get(rec, "speakers"), i, sp)
	{
		const char *role = js(sp, "role");

		if (!role || !strcmp(role, "speaker"))
			talkers++;
		else if (!strcmp(role, "interviewer"))
			dialogue = 1;
		if (olac) {
			prl_buf_addf(b, "<dc:contributor xsi:type=\"olac:role\" olac:code=\"%s\">",
				     olac_role(role));
			x_text(b, js(sp, "name"));
			prl_buf_addstr(b, "</dc:contributor>\n");
		} else {
			x_elem(b, "dc:contributor", js(sp, "name"));
		}
	}
	return dialogue || talkers > 1;
}

/* The recording's language and its variety (OLAC: coded in ISO 639-3). */
static void dc_language(struct prl_buf *b, json_t *rec, int olac)
{
	const char *lang = js(rec, "language"), *code = iso639_3(lang);

	if (olac && code) {
		/* the language of the recording, and the language it documents */
		prl_buf_addf(b, "<dc:language xsi:type=\"olac:language\" olac:code=\"%s\"/>\n",
			     code);
		prl_buf_addf(b, "<dc:subject xsi:type=\"olac:language\" olac:code=\"%s\"", code);
		if (js(rec, "variety")) {
			prl_buf_addch(b, '>');
			x_text(b, js(rec, "variety"));
			prl_buf_addstr(b, "</dc:subject>\n");
		} else {
			prl_buf_addstr(b, "/>\n");
		}
	} else {
		x_elem(b, "dc:language", lang);
		x_elem(b, "dc:subject", js(rec, "variety"));
	}
}

/* Where it was recorded: "name, commune" (the commune once). */
static void dc_place(struct prl_buf *b, json_t *place, int olac)
{
	struct prl_buf where = PRL_BUF_INIT;

	prl_buf_addstr(&where, js(place, "name") ? js(place, "name") : "");
	if (js(place, "commune") &&
	    (!js(place, "name") || strcmp(js(place, "commune"), js(place, "name")) != 0))
		prl_buf_addf(&where, "%s%s", where.len ? ", " : "", js(place, "commune"));
	x_elem(b, olac ? "dcterms:spatial" : "dc:coverage", prl_buf_str(&where));
	prl_buf_release(&where);
}

static void metadata_dc(struct oai *o, json_t *rec, int olac)
{
	struct prl_buf *b = &o->out;
	json_t *place = json_object_get(rec, "place"), *kw;
	int64_t id = json_integer_value(json_object_get(rec, "id"));
	int dialogue;
	size_t i;

	if (olac)
		prl_buf_addstr(b, "<olac:olac xmlns:olac=\"" OLAC_NS "\" xmlns:dc=\"" DC_NS "\""
				  " xmlns:dcterms=\"http://purl.org/dc/terms/\""
				  " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
				  " xsi:schemaLocation=\"" OLAC_NS
				  " http://www.language-archives.org/OLAC/1.1/olac.xsd\">\n");
	else
		prl_buf_addstr(
			b, "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\""
			   " xmlns:dc=\"" DC_NS "\""
			   " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
			   " xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai_dc/"
			   " http://www.openarchives.org/OAI/2.0/oai_dc.xsd\">\n");
	x_elem(b, "dc:title", js(rec, "title"));
	if (olac) {
		if (js(rec, "collector")) {
			prl_buf_addstr(
				b,
				"<dc:contributor xsi:type=\"olac:role\" olac:code=\"recorder\">");
			x_text(b, js(rec, "collector"));
			prl_buf_addstr(b, "</dc:contributor>\n");
		}
	} else {
		x_elem(b, "dc:creator", js(rec, "collector"));
	}
	/* the depositor: the institution of the network that holds it */
	x_elem(b, "dc:publisher", js(json_object_get(rec, "institution"), "name"));
	dialogue = dc_speakers(b, rec, olac);
	dc_language(b, rec, olac);
	json_array_foreach(json_object_get(rec, "keywords"), i, kw)
		x_elem(b, "dc:subject", json_string_value(kw));
	x_elem(b, "dc:description", js(rec, "description"));
	if (olac) {
		/* a single voice telling is narrative; an interview, a dialogue */
		prl_buf_addf(b, "<dc:type xsi:type=\"olac:discourse-type\" olac:code=\"%s\"/>\n",
			     dialogue ? "dialogue" : "narrative");
		prl_buf_addstr(b, "<dc:type xsi:type=\"olac:linguistic-type\""
				  " olac:code=\"primary_text\"/>\n"
				  "<dc:type xsi:type=\"dcterms:DCMIType\">Sound</dc:type>\n");
		x_elem(b, "dcterms:created", js(rec, "date"));
	} else {
		x_elem(b, "dc:date", js(rec, "date"));
		prl_buf_addstr(b, "<dc:type>Sound</dc:type>\n");
	}
	prl_buf_addstr(b, "<dc:format>audio/ogg</dc:format>\n");
	if (json_is_object(place))
		dc_place(b, place, olac);
	x_elem(b, "dc:rights", js(rec, "rights"));
	if (olac)
		x_elem(b, "dcterms:accessRights", js(rec, "access"));
	x_elem(b, "dc:source", js(rec, "collection"));
	{
		struct prl_buf url = PRL_BUF_INIT;

		web_base_url(o->r, &url);
		prl_buf_addf(&url, "/recordings/%lld", (long long)id);
		x_elem(b, "dc:identifier", prl_buf_str(&url));
		prl_buf_release(&url);
	}
	prl_buf_addstr(b, olac ? "</olac:olac>\n" : "</oai_dc:dc>\n");
}

/* The recording as an anonymous visitor may know of it, or NULL. */
static json_t *load(struct oai *o, int64_t id)
{
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf b = PRL_BUF_INIT;
	json_t *rec = NULL;

	if (prl_archive_recording_json(o->a, &anon, id, &b) == 0)
		rec = json_loadb(b.data, b.len, 0, NULL);
	prl_buf_release(&b);
	return rec;
}

static int known_prefix(const char *p)
{
	return p && (!strcmp(p, "oai_dc") || !strcmp(p, "olac"));
}

/* ---- verbs ---- */

/* The network, as Identify names it: "parlers, a network of N
 * institutions: A, B, ...", escaped into out. */
static void network_name(struct oai *o, struct prl_buf *out)
{
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf b = PRL_BUF_INIT, t = PRL_BUF_INIT;
	json_t *root = NULL, *c;
	size_t i, n;

	if (prl_archive_institutions_json(o->a, &anon, &b) == 0)
		root = json_loadb(b.data, b.len, 0, NULL);
	n = json_array_size(json_object_get(root, "institutions"));
	prl_buf_addf(&t, "parlers, a network of %zu institution%s", n, n == 1 ? "" : "s");
	json_array_foreach(json_object_get(root, "institutions"), i, c)
	{
		prl_buf_addstr(&t, i ? ", " : ": ");
		prl_buf_addstr(&t, js(c, "name") ? js(c, "name") : "");
	}
	x_text(out, prl_buf_str(&t));
	json_decref(root);
	prl_buf_release(&b);
	prl_buf_release(&t);
}

static enum MHD_Result verb_identify(struct oai *o)
{
	char earliest[24] = "";

	prl_archive_harvest_earliest(o->a, earliest);
	if (!earliest[0])
		now_utc(earliest);
	head(o, 1);
	prl_buf_addstr(&o->out, "<Identify><repositoryName>parlers: enregistrements de parlers"
				" normands</repositoryName><baseURL>");
	x_text(&o->out, prl_buf_str(&o->base));
	prl_buf_addstr(&o->out, "</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>");
	x_text(&o->out, admin_email(o->r->srv));
	prl_buf_addf(&o->out,
		     "</adminEmail><earliestDatestamp>%s</earliestDatestamp>"
		     /* a recording deleted is reported deleted for good (the
		      * archive keeps its tombstone after the trash is purged) */
		     "<deletedRecord>persistent</deletedRecord>"
		     "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"
		     "<description><oai-identifier"
		     " xmlns=\"http://www.openarchives.org/OAI/2.0/oai-identifier\""
		     " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
		     " xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai-identifier"
		     " http://www.openarchives.org/OAI/2.0/oai-identifier.xsd\">"
		     "<scheme>oai</scheme><repositoryIdentifier>",
		     earliest);
	x_text(&o->out, oai_namespace(o->r->srv));
	prl_buf_addstr(&o->out, "</repositoryIdentifier><delimiter>:</delimiter>"
				"<sampleIdentifier>");
	identifier(o, &o->out, 1);
	prl_buf_addstr(&o->out, "</sampleIdentifier></oai-identifier></description>");
	/* what an OLAC service provider reads about the archive itself */
	{
		char day[24];
		struct prl_buf home = PRL_BUF_INIT;
		const char *mail = admin_email(o->r->srv);

		now_utc(day);
		day[10] = '\0';
		web_base_url(o->r, &home);
		prl_buf_addstr(&home, "/");
		prl_buf_addf(&o->out,
			     "<description><olac-archive"
			     " xmlns=\"http://www.language-archives.org/OLAC/1.1/olac-archive\""
			     " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
			     " xsi:schemaLocation=\"http://www.language-archives.org/OLAC/1.1/"
			     "olac-archive"
			     " http://www.language-archives.org/OLAC/1.1/olac-archive.xsd\""
			     " type=\"institutional\" currentAsOf=\"%s\"><archiveURL>",
			     day);
		x_text(&o->out, prl_buf_str(&home));
		prl_buf_addstr(&o->out, "</archiveURL><participant name=\"archive staff\""
					" role=\"Archivist\" email=\"");
		x_text(&o->out, mail);
		prl_buf_addstr(&o->out, "\"/><institution>");
		network_name(o, &o->out);
		prl_buf_addstr(
			&o->out,
			"</institution>"
			"<shortLocation>Normandie, France</shortLocation>"
			"<synopsis>Recordings of speakers of Norman (Cotentinais, Cauchois,"
			" Augeron, Jèrriais, Guernésiais...) with time-aligned"
			" transcriptions and French translations.</synopsis>"
			"<access>Public recordings may be heard by anyone; restricted ones by"
			" signed-in researchers; their metadata is open.</access>"
			"</olac-archive></description></Identify>\n");
		prl_buf_release(&home);
	}
	return oai_send(o);
}

static enum MHD_Result verb_formats(struct oai *o)
{
	const char *id = oai_arg(o, "identifier");
	json_t *rec;

	if (id) {
		int64_t n = parse_identifier(o, id);

		if (!n || !(rec = load(o, n)))
			return oai_error(o, "idDoesNotExist", "no such record");
		json_decref(rec);
	}
	head(o, 1);
	prl_buf_addstr(&o->out,
		       "<ListMetadataFormats>"
		       "<metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
		       "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
		       "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/"
		       "</metadataNamespace></metadataFormat>"
		       "<metadataFormat><metadataPrefix>olac</metadataPrefix>"
		       "<schema>http://www.language-archives.org/OLAC/1.1/olac.xsd</schema>"
		       "<metadataNamespace>" OLAC_NS "</metadataNamespace></metadataFormat>"
		       "</ListMetadataFormats>\n");
	return oai_send(o);
}

static enum MHD_Result verb_sets(struct oai *o)
{
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf b = PRL_BUF_INIT;
	json_t *root = NULL, *c;
	size_t i, n = 0;

	if (oai_arg(o, "resumptionToken"))
		return oai_error(o, "badResumptionToken", "ListSets is never split");
	if (prl_archive_facets_json(o->a, &anon, &b) == 0)
		root = json_loadb(b.data, b.len, 0, NULL);
	prl_buf_release(&b);
	head(o, 1);
	prl_buf_addstr(&o->out, "<ListSets>");
	json_array_foreach(json_object_get(root, "collections"), i, c)
	{
		prl_buf_addf(&o->out, "<set><setSpec>collection:%lld</setSpec><setName>",
			     (long long)json_integer_value(json_object_get(c, "id")));
		x_text(&o->out, js(c, "name"));
		prl_buf_addstr(&o->out, "</setName></set>");
		n++;
	}
	json_decref(root);
	root = NULL;
	prl_buf_reset(&b);
	/* one set per institution of the network, beside the collections */
	if (prl_archive_institutions_json(o->a, &anon, &b) == 0)
		root = json_loadb(b.data, b.len, 0, NULL);
	prl_buf_release(&b);
	json_array_foreach(json_object_get(root, "institutions"), i, c)
	{
		prl_buf_addstr(&o->out, "<set><setSpec>institution:");
		x_text(&o->out, js(c, "short"));
		prl_buf_addstr(&o->out, "</setSpec><setName>");
		x_text(&o->out, js(c, "name"));
		prl_buf_addstr(&o->out, "</setName></set>");
		n++;
	}
	json_decref(root);
	if (!n)
		return oai_error(o, "noSetHierarchy", "this repository has no collections yet");
	prl_buf_addstr(&o->out, "</ListSets>\n");
	return oai_send(o);
}

/* Says why arguments are refused: the protocol's error code and its message. */
static int refuse(const char **code, const char **msg, const char *c, const char *m)
{
	*code = c;
	*msg = m;
	return -1;
}

/* A first List request's arguments into *s: 0, or -1 with the protocol's
 * error code and its message in *code and *msg. */
static int list_arguments(struct oai *o, struct list_state *s, const char **code, const char **msg)
{
	const char *prefix = oai_arg(o, "metadataPrefix"), *from = oai_arg(o, "from"),
		   *until = oai_arg(o, "until"), *set = oai_arg(o, "set");
	const char *bad = "badArgument";
	int gf = 0, gu = 0;

	if (!prefix)
		return refuse(code, msg, bad, "metadataPrefix is required");
	if (from && !(gf = parse_date(from, 0, s->from)))
		return refuse(code, msg, bad, "from: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
	if (until && !(gu = parse_date(until, 1, s->until)))
		return refuse(code, msg, bad, "until: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
	if (gf && gu && gf != gu)
		return refuse(code, msg, bad, "from and until differ in granularity");
	if (gf && gu && strcmp(s->from, s->until) > 0)
		return refuse(code, msg, bad, "from is after until");
	if (!known_prefix(prefix))
		return refuse(code, msg, "cannotDisseminateFormat", "formats: oai_dc, olac");
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix);
	if (set && !strncmp(set, "institution:", 12)) {
		int64_t inst;

		/* an institution's set travels as its id negated (collections are positive) */
		if (prl_archive_institution_id(o->a, set + 12, &inst) < 0)
			return refuse(code, msg, "noRecordsMatch", "no such set");
		s->set = -inst;
	} else if (set && (strncmp(set, "collection:", 11) != 0 ||
			   web_parse_id_str(set + 11, &s->set) < 0)) {
		return refuse(code, msg, "noRecordsMatch", "no such set");
	}
	return 0;
}

/* The resumptionToken that ends a page of a split list: the next page's
 * (after id last, n records here of total from s's cursor on), or an empty
 * one on the last page.  -1 when the token cannot be made. */
static int list_token(struct oai *o, struct list_state *s, int64_t last, size_t n, int64_t total)
{
	int64_t complete = s->cursor + total, cursor = s->cursor;
	char token[512], exp[24];
	struct tm tm;
	time_t t;

	if ((int64_t)n >= total) {
		/* the last page of a split list: an empty token ends it */
		prl_buf_addf(&o->out,
			     "<resumptionToken completeListSize=\"%lld\" cursor=\"%lld\"/>\n",
			     (long long)complete, (long long)cursor);
		return 0;
	}
	s->after = last;
	s->cursor += (int64_t)n;
	s->expires = (int64_t)time(NULL) + token_ttl(o->r->srv);
	t = (time_t)s->expires;
	gmtime_r(&t, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (token_make(s, token, sizeof(token)) < 0)
		return -1;
	prl_buf_addf(&o->out,
		     "<resumptionToken expirationDate=\"%s\" completeListSize=\"%lld\""
		     " cursor=\"%lld\">%s</resumptionToken>\n",
		     exp, (long long)complete, (long long)cursor, token);
	return 0;
}

static enum MHD_Result verb_list(struct oai *o, int records)
{
	struct list_state s;
	struct prl_harvest_item *items = NULL;
	const char *tok = oai_arg(o, "resumptionToken");
	const char *code = NULL, *msg = NULL;
	size_t n = 0, i;
	int64_t total = 0;
	enum MHD_Result res;

	memset(&s, 0, sizeof(s));
	if (tok && token_read(tok, &s) < 0)
		return oai_error(o, "badResumptionToken",
				 "this token was not made here, or it has expired");
	if (!tok && list_arguments(o, &s, &code, &msg) < 0)
		return oai_error(o, code, msg);
	if (!(items = calloc((size_t)page_size(o->r->srv), sizeof(*items))))
		return MHD_NO;
	if (prl_archive_harvest(o->a, s.from[0] ? s.from : NULL, s.until[0] ? s.until : NULL, s.set,
				s.after, items, (size_t)page_size(o->r->srv), &n, &total) < 0) {
		free(items);
		return web_error_json(o->r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	}
	if (!n) {
		free(items);
		if (tok) /* the list shrank under the harvester: say the list is over */
			return oai_error(o, "noRecordsMatch", "no more records");
		return oai_error(o, "noRecordsMatch", "no record matches");
	}
	head(o, 1);
	prl_buf_addstr(&o->out, records ? "<ListRecords>\n" : "<ListIdentifiers>\n");
	for (i = 0; i < n; i++) {
		json_t *rec;

		if (items[i].deleted) {
			prl_buf_addstr(&o->out, records ? "<record>" : "");
			deleted_header(o, items[i].id, items[i].updated_at, items[i].collection_id);
			prl_buf_addstr(&o->out, records ? "</record>\n" : "");
			continue;
		}
		if (!(rec = load(o, items[i].id)))
			continue; /* made private between the two queries */
		if (records) {
			prl_buf_addstr(&o->out, "<record>");
			record_header(o, rec);
			prl_buf_addstr(&o->out, "<metadata>");
			metadata_dc(o, rec, !strcmp(s.prefix, "olac"));
			prl_buf_addstr(&o->out, "</metadata></record>\n");
		} else {
			record_header(o, rec);
		}
		json_decref(rec);
	}
	if (((int64_t)n < total || tok) && list_token(o, &s, items[n - 1].id, n, total) < 0) {
		free(items);
		return web_error_json(o->r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	}
	free(items);
	prl_buf_addstr(&o->out, records ? "</ListRecords>\n" : "</ListIdentifiers>\n");
	res = oai_send(o);
	return res;
}

static enum MHD_Result verb_get(struct oai *o)
{
	const char *id = oai_arg(o, "identifier"), *prefix = oai_arg(o, "metadataPrefix");
	int64_t n;
	json_t *rec;

	if (!id || !prefix)
		return oai_error(o, "badArgument", "GetRecord needs identifier and metadataPrefix");
	if (!(n = parse_identifier(o, id)))
		return oai_error(o, "idDoesNotExist", "no such record");
	if (!(rec = load(o, n))) {
		char stamp[24];
		int64_t cid = 0;

		if (prl_archive_harvest_deleted(o->a, n, stamp, &cid) != 1)
			return oai_error(o, "idDoesNotExist", "no such record");
		if (!known_prefix(prefix))
			return oai_error(o, "cannotDisseminateFormat", "formats: oai_dc, olac");
		head(o, 1);
		prl_buf_addstr(&o->out, "<GetRecord><record>");
		deleted_header(o, n, stamp, cid);
		prl_buf_addstr(&o->out, "</record></GetRecord>\n");
		return oai_send(o);
	}
	if (!known_prefix(prefix)) {
		json_decref(rec);
		return oai_error(o, "cannotDisseminateFormat", "formats: oai_dc, olac");
	}
	head(o, 1);
	prl_buf_addstr(&o->out, "<GetRecord><record>");
	record_header(o, rec);
	prl_buf_addstr(&o->out, "<metadata>");
	metadata_dc(o, rec, !strcmp(prefix, "olac"));
	prl_buf_addstr(&o->out, "</metadata></record></GetRecord>\n");
	json_decref(rec);
	return oai_send(o);
}

enum MHD_Result web_oai(struct web_request *r, const struct web_params *p)
{
	static const char *const a_identify[] = {"verb", NULL};
	static const char *const a_formats[] = {"verb", "identifier", NULL};
	static const char *const a_sets[] = {"verb", "resumptionToken", NULL};
	static const char *const a_list[] = {"verb", "metadataPrefix",	"from", "until",
					     "set",  "resumptionToken", NULL};
	static const char *const a_get[] = {"verb", "identifier", "metadataPrefix", NULL};
	static const struct {
		const char *verb;
		const char *const *args;
	} verbs[] = {
		{"Identify", a_identify}, {"ListMetadataFormats", a_formats},
		{"ListSets", a_sets},	  {"ListIdentifiers", a_list},
		{"ListRecords", a_list},  {"GetRecord", a_get},
	};
	struct oai o;
	enum MHD_Result res;
	char why[160];
	size_t v;

	(void)p;
	pthread_once(&token_once, oai_setup);
	memset(&o, 0, sizeof(o));
	o.r = r;
	/* the protocol takes its arguments by GET or as a POSTed form */
	if (strcmp(r->method, MHD_HTTP_METHOD_POST) == 0 &&
	    parse_form(&o, r->body.data ? r->body.data : "", r->body.len) < 0) {
		res = MHD_NO;
		goto end;
	}
	o.verb = oai_arg(&o, "verb");
	web_base_url(r, &o.base);
	prl_buf_addstr(&o.base, "/oai");
	for (v = 0; o.verb && v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (!strcmp(o.verb, verbs[v].verb))
			break;
	if (!o.verb || v == sizeof(verbs) / sizeof(verbs[0])) {
		res = oai_error(&o, "badVerb", o.verb ? "no such verb" : "verb is missing");
		goto end;
	}
	if (args_ok(&o, verbs[v].args, why, sizeof(why)) < 0) {
		res = oai_error(&o, "badArgument", why);
		goto end;
	}
	/* a resumption token is exclusive: it stands for all the other arguments */
	if (oai_arg(&o, "resumptionToken") &&
	    (oai_arg(&o, "metadataPrefix") || oai_arg(&o, "from") || oai_arg(&o, "until") ||
	     oai_arg(&o, "set"))) {
		res = oai_error(&o, "badArgument", "resumptionToken comes alone");
		goto end;
	}
	if (!(o.a = web_archive_get(r->srv))) {
		res = web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the archive cannot be opened");
		goto end;
	}
	switch (v) {
	case 0:
		res = verb_identify(&o);
		break;
	case 1:
		res = verb_formats(&o);
		break;
	case 2:
		res = verb_sets(&o);
		break;
	case 3:
		res = verb_list(&o, 0);
		break;
	case 4:
		res = verb_list(&o, 1);
		break;
	default:
		res = verb_get(&o);
		break;
	}
	web_archive_put(r->srv, o.a);
end:
	prl_buf_release(&o.out);
	prl_buf_release(&o.base);
	free(o.form);
	free(o.form_data);
	return res;
}
