/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target for what the public and staff send the map of voices and
 * the themes: every input is cut at its newlines into a variety, a decade,
 * a theme and an institution (the filters of /api/map and of a place's
 * voices, as a visitor and as staff), then into a slug, a name and a
 * description (a theme added, then edited), on a small archive
 * (tests/archive/search-corpus.c).  Each call either answers or refuses
 * with a sentence: a map is always a FeatureCollection that parses, a
 * refused theme changes nothing, and the list of themes always parses.
 * The archive lives in /dev/shm when there is one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "search-corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct prl_archive *archive;

static void setup(void)
{
	if (archive)
		return;
	archive = search_corpus_scratch("fuzz-map");
}

/* The themes as staff list them; aborts unless it parses. */
static char *themes(void)
{
	struct prl_viewer staff = PRL_VIEWER_STAFF;
	struct prl_buf out = PRL_BUF_INIT;
	json_t *o;

	if (prl_archive_themes_json(archive, &staff, &out) < 0 ||
	    !(o = json_loads(prl_buf_str(&out), 0, NULL)) ||
	    !json_is_array(json_object_get(o, "themes")))
		abort();
	json_decref(o);
	return prl_buf_detach(&out, NULL);
}

/* The map for v under f: a FeatureCollection, or a refusal with a sentence. */
static void map(const struct prl_viewer *v, const struct prl_map_filter *f)
{
	struct prl_buf out = PRL_BUF_INIT;
	json_t *o;
	int ret = prl_archive_map_json(archive, v, f, &out);

	if (ret < 0 && (ret != -PRL_EINVAL || !prl_archive_errmsg(archive)[0]))
		abort();
	if (ret == 0) {
		if (!(o = json_loads(prl_buf_str(&out), 0, NULL)) ||
		    strcmp(json_string_value(json_object_get(o, "type")), "FeatureCollection"))
			abort();
		json_decref(o);
	}
	prl_buf_reset(&out);
	ret = prl_archive_map_place_json(archive, v, f, 1, &out);
	if (ret < 0 && ret != -PRL_EINVAL)
		abort();
	if (ret == 0) {
		if (!(o = json_loads(prl_buf_str(&out), 0, NULL)))
			abort();
		json_decref(o);
	}
	prl_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS, staff = PRL_VIEWER_STAFF;
	char *text, *field[7] = {NULL}, *p, *before, *after;
	struct prl_map_filter f;
	int ret;

	if (size > 4096)
		return 0;
	setup();
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	for (int i = 0; i < 7 && p; i++) {
		field[i] = p;
		if ((p = strchr(p, '\n')))
			*p++ = '\0';
	}
	memset(&f, 0, sizeof(f));
	f.variety = field[0];
	f.decade = field[1] ? atoi(field[1]) : 0;
	f.theme = field[2];
	f.institution = field[3];
	map(&anon, &f);
	map(&staff, &f);

	before = themes();
	ret = prl_archive_theme_add(archive, field[4] ? field[4] : "", field[5], field[6]);
	if (ret < 0 && !prl_archive_errmsg(archive)[0])
		abort(); /* a refusal always says why */
	after = themes();
	if (ret < 0 && strcmp(before, after))
		abort(); /* a refused theme changes nothing */
	free(before);
	free(after);
	if (ret == 0) {
		before = themes();
		ret = prl_archive_theme_edit(archive, field[4], field[0], field[6], field[5]);
		after = themes();
		if (ret < 0 && strcmp(before, after))
			abort();
		free(before);
		free(after);
		prl_archive_theme_delete(archive, ret == 0 && field[0] ? field[0] : field[4]);
		prl_archive_theme_delete(archive, field[4]);
	}
	free(text);
	return 0;
}
