/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The metadata sidecar NAME.json read beside an audio file at ingest.
 *
 * Every field is optional; a field of the wrong type, an unknown access
 * level, a malformed date or coordinates out of range is an error naming
 * the field, so a typo never lands silently in the catalogue.  Unknown
 * fields are reported as warnings (they may be a misspelt known one).
 * The format is documented in README.md ("Metadata sidecar").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sidecar.h"

static const char *const known_fields[] = {
	"title",       "date",	    "collection", "place",	 "variety",
	"language",    "collector", "device",	  "rights",	 "access",
	"description", "keywords",  "speakers",	  "institution", NULL,
};

static const char *const known_speaker_fields[] = {
	"name", "pseudonym", "birth_year", "sex", "occupation", "origin", "consent", "role", NULL,
};

static int is_known(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

static int take_string(json_t *obj, const char *key, char **out, struct prl_buf *err,
		       const char *where)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		prl_buf_addf(err, "%sfield '%s' must be a string", where, key);
		return -PRL_EFORMAT;
	}
	free(*out);
	if (!(*out = strdup(json_string_value(v))))
		return -PRL_ENOMEM;
	return 0;
}

/* ISO 8601 calendar date, reduced precision allowed: YYYY, YYYY-MM, YYYY-MM-DD. */
static int date_valid(const char *s)
{
	size_t n = strlen(s), i;
	int month, day;

	if (n != 4 && n != 7 && n != 10)
		return 0;
	for (i = 0; i < n; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return 0;
		} else if (!isdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	if (n >= 7) {
		month = (s[5] - '0') * 10 + (s[6] - '0');
		if (month < 1 || month > 12)
			return 0;
	}
	if (n == 10) {
		day = (s[8] - '0') * 10 + (s[9] - '0');
		if (day < 1 || day > 31)
			return 0;
	}
	return 1;
}

/* Reads up to max digits at *p into *v; the count read. */
static int digits(const char **p, int max, int *v)
{
	int n = 0;

	*v = 0;
	while (n < max && isdigit((unsigned char)**p)) {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n;
}

static int date_sep(char c)
{
	return c == '-' || c == ':' || c == '/' || c == '.';
}

/* The end of a date in a tag: nothing, or a time after a space or a T. */
static int date_end(const char *p)
{
	return !*p || *p == ' ' || *p == 'T';
}

static int write_iso(char out[11], int y, int m, int d)
{
	if (m < 0 || m > 12 || d < 0 || d > 31 || (d && !m) || y < 1000 || y > 9999)
		return -PRL_EFORMAT;
	if (!m)
		snprintf(out, 11, "%04d", y);
	else if (!d)
		snprintf(out, 11, "%04d-%02d", y, m);
	else
		snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return 0;
}

int sidecar_date_from_tag(const char *s, char out[11])
{
	const char *p = s;
	int a, b, c, n;

	while (*p == ' ')
		p++;
	n = digits(&p, 8, &a);
	if (n == 8 && date_end(p)) /* 19870612 */
		return a / 10000 && (a / 100) % 100 && a % 100
			       ? write_iso(out, a / 10000, (a / 100) % 100, a % 100)
			       : -PRL_EFORMAT;
	if (n == 4) { /* year first: 1987, 1987-06, 1987:06:12 10:00 */
		if (date_end(p))
			return write_iso(out, a, 0, 0);
		if (!date_sep(*p++) || !digits(&p, 2, &b))
			return -PRL_EFORMAT;
		if (date_end(p))
			return write_iso(out, a, b, 0);
		if (!date_sep(*p++) || !digits(&p, 2, &c) || !date_end(p))
			return -PRL_EFORMAT;
		return write_iso(out, a, b, c);
	}
	/* day or month first: 12/06/1987, 12.06.1987, 6/12/1987 */
	if (n < 1 || n > 2 || !date_sep(*p++) || !digits(&p, 2, &b) || !date_sep(*p++) ||
	    digits(&p, 4, &c) != 4 || !date_end(p))
		return -PRL_EFORMAT;
	if (b > 12 && a <= 12) /* only a month can come first then */
		return write_iso(out, c, a, b);
	return write_iso(out, c, b, a);
}

static int take_number(json_t *obj, const char *key, double *out, int *has, double lo, double hi,
		       struct prl_buf *err, const char *where)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v)) {
		prl_buf_addf(err, "%sfield '%s' must be a number", where, key);
		return -PRL_EFORMAT;
	}
	*out = json_number_value(v);
	if (*out < lo || *out > hi) {
		prl_buf_addf(err, "%sfield '%s' is out of range (%g to %g)", where, key, lo, hi);
		return -PRL_EFORMAT;
	}
	*has = 1;
	return 0;
}

static int read_speaker(json_t *js, struct sidecar_speaker *sp, size_t index, struct prl_buf *err,
			struct prl_buf *warn)
{
	char where[48];
	const char *key;
	json_t *v;
	double year;
	int has = 0, ret;

	snprintf(where, sizeof(where), "speakers[%zu]: ", index);
	if (!json_is_object(js)) {
		prl_buf_addf(err, "%smust be an object", where);
		return -PRL_EFORMAT;
	}
	json_object_foreach(js, key, v)
	{
		if (!is_known(known_speaker_fields, key))
			prl_buf_addf(warn, "%sunknown field '%s' ignored\n", where, key);
	}
	if ((ret = take_string(js, "name", &sp->name, err, where)) < 0 ||
	    (ret = take_string(js, "sex", &sp->sex, err, where)) < 0 ||
	    (ret = take_string(js, "occupation", &sp->occupation, err, where)) < 0 ||
	    (ret = take_string(js, "origin", &sp->origin, err, where)) < 0 ||
	    (ret = take_string(js, "consent", &sp->consent, err, where)) < 0 ||
	    (ret = take_string(js, "role", &sp->role, err, where)) < 0)
		return ret;
	if (!sp->name || !sp->name[0]) {
		prl_buf_addf(err, "%sfield 'name' is required", where);
		return -PRL_EFORMAT;
	}
	v = json_object_get(js, "pseudonym");
	if (v && !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			prl_buf_addf(err, "%sfield 'pseudonym' must be true or false", where);
			return -PRL_EFORMAT;
		}
		sp->pseudonym = json_is_true(v);
	}
	if ((ret = take_number(js, "birth_year", &year, &has, 1800, 2100, err, where)) < 0)
		return ret;
	if (has) {
		if (year != (double)(int)year) {
			prl_buf_addf(err, "%sfield 'birth_year' must be a whole year", where);
			return -PRL_EFORMAT;
		}
		sp->birth_year = (int)year;
	}
	return 0;
}

/* "place": a name, or {name, commune, lat, lon}. */
static int read_place(json_t *place, struct sidecar *sc, struct prl_buf *err)
{
	int ret;

	if (!place || json_is_null(place))
		return 0;
	if (json_is_string(place))
		return (sc->place_name = strdup(json_string_value(place))) ? 0 : -PRL_ENOMEM;
	if (!json_is_object(place)) {
		prl_buf_addstr(err, "field 'place' must be an object or a string");
		return -PRL_EFORMAT;
	}
	if ((ret = take_string(place, "name", &sc->place_name, err, "place: ")) < 0 ||
	    (ret = take_string(place, "commune", &sc->place_commune, err, "place: ")) < 0 ||
	    (ret = take_number(place, "lat", &sc->lat, &sc->has_coords, -90, 90, err, "place: ")) <
		    0 ||
	    (ret = take_number(place, "lon", &sc->lon, &sc->has_coords, -180, 180, err,
			       "place: ")) < 0)
		return ret;
	if (sc->has_coords && (!json_is_number(json_object_get(place, "lat")) ||
			       !json_is_number(json_object_get(place, "lon")))) {
		prl_buf_addstr(err, "place: 'lat' and 'lon' go together");
		return -PRL_EFORMAT;
	}
	if (!sc->place_name && sc->place_commune && !(sc->place_name = strdup(sc->place_commune)))
		return -PRL_ENOMEM;
	return 0;
}

/* "keywords": an array of strings, kept as its JSON. */
static int read_keywords(json_t *v, struct sidecar *sc, struct prl_buf *err)
{
	json_t *k;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		prl_buf_addstr(err, "field 'keywords' must be an array of strings");
		return -PRL_EFORMAT;
	}
	json_array_foreach(v, i, k)
	{
		if (!json_is_string(k)) {
			prl_buf_addstr(err, "field 'keywords' must be an array of strings");
			return -PRL_EFORMAT;
		}
	}
	return (sc->keywords_json = json_dumps(v, JSON_COMPACT)) ? 0 : -PRL_ENOMEM;
}

/* "speakers": an array of objects. */
static int read_speakers(json_t *v, struct sidecar *sc, struct prl_buf *err, struct prl_buf *warn)
{
	json_t *s;
	size_t i;
	int ret;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		prl_buf_addstr(err, "field 'speakers' must be an array of objects");
		return -PRL_EFORMAT;
	}
	sc->nspeakers = json_array_size(v);
	if (sc->nspeakers && !(sc->speakers = calloc(sc->nspeakers, sizeof(*sc->speakers)))) {
		sc->nspeakers = 0;
		return -PRL_ENOMEM;
	}
	json_array_foreach(v, i, s)
	{
		if ((ret = read_speaker(s, &sc->speakers[i], i, err, warn)) < 0)
			return ret;
	}
	return 0;
}

int sidecar_parse(const char *data, size_t len, struct sidecar *sc, struct prl_buf *err,
		  struct prl_buf *warn)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	int ret = 0;

	memset(sc, 0, sizeof(*sc));
	sc->access = -1;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		prl_buf_addf(err, "invalid JSON at line %d: %s", jerr.line, jerr.text);
		return -PRL_EFORMAT;
	}
	if (!json_is_object(root)) {
		prl_buf_addstr(err, "must be a JSON object");
		ret = -PRL_EFORMAT;
		goto end;
	}
	json_object_foreach(root, key, v)
	{
		if (!is_known(known_fields, key))
			prl_buf_addf(warn, "unknown field '%s' ignored\n", key);
	}
	if ((ret = take_string(root, "title", &sc->title, err, "")) < 0 ||
	    (ret = take_string(root, "date", &sc->date, err, "")) < 0 ||
	    (ret = take_string(root, "collection", &sc->collection, err, "")) < 0 ||
	    (ret = take_string(root, "variety", &sc->variety, err, "")) < 0 ||
	    (ret = take_string(root, "language", &sc->language, err, "")) < 0 ||
	    (ret = take_string(root, "collector", &sc->collector, err, "")) < 0 ||
	    (ret = take_string(root, "device", &sc->device, err, "")) < 0 ||
	    (ret = take_string(root, "rights", &sc->rights, err, "")) < 0 ||
	    (ret = take_string(root, "description", &sc->description, err, "")) < 0 ||
	    (ret = take_string(root, "institution", &sc->institution, err, "")) < 0)
		goto end;
	if (sc->institution && !prl_institution_short_valid(sc->institution)) {
		prl_buf_addf(err,
			     "field 'institution' must be a short name (lowercase letters, "
			     "digits, '-'), not '%s'",
			     sc->institution);
		ret = -PRL_EFORMAT;
		goto end;
	}
	if (sc->date && !date_valid(sc->date)) {
		prl_buf_addf(err, "field 'date' must be YYYY, YYYY-MM or YYYY-MM-DD, not '%s'",
			     sc->date);
		ret = -PRL_EFORMAT;
		goto end;
	}
	v = json_object_get(root, "access");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || prl_access_parse(json_string_value(v)) < 0) {
			prl_buf_addstr(err, "field 'access' must be \"public\", \"restricted\" or "
					    "\"private\"");
			ret = -PRL_EFORMAT;
			goto end;
		}
		sc->access = prl_access_parse(json_string_value(v));
	}
	if ((ret = read_place(json_object_get(root, "place"), sc, err)) < 0)
		goto end;
	if ((ret = read_keywords(json_object_get(root, "keywords"), sc, err)) < 0)
		goto end;
	ret = read_speakers(json_object_get(root, "speakers"), sc, err, warn);
end:
	json_decref(root);
	if (ret < 0)
		sidecar_clear(sc);
	return ret;
}

void sidecar_clear(struct sidecar *sc)
{
	size_t i;

	if (!sc)
		return;
	free(sc->title);
	free(sc->date);
	free(sc->collection);
	free(sc->variety);
	free(sc->language);
	free(sc->collector);
	free(sc->device);
	free(sc->rights);
	free(sc->description);
	free(sc->institution);
	free(sc->place_name);
	free(sc->place_commune);
	free(sc->keywords_json);
	for (i = 0; i < sc->nspeakers; i++) {
		struct sidecar_speaker *sp = &sc->speakers[i];

		free(sp->name);
		free(sp->sex);
		free(sp->occupation);
		free(sp->origin);
		free(sp->consent);
		free(sp->role);
	}
	free(sc->speakers);
	memset(sc, 0, sizeof(*sc));
	sc->access = -1;
}
