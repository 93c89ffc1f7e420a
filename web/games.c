/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The listening games over HTTP: GET /api/games/round?game=meaning|where
 * &seen=ID,ID... draws one round (archive/games.c) and adds what the
 * player needs to play it: the public audio of the clip and where the
 * recording comes from.  The page (/games) is pages.c's.
 *
 * Always holds: rounds are public material only, whoever asks, and their
 * audio is the copy an anonymous visitor hears.
 * "seen" lists the segments a player heard already (kept in the browser,
 * never on the server): a malformed list is 400, an over-long one is cut.
 * Expected workload: a round every few seconds per player.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

#define SEEN_MAX 500

/* "12,40,7" into ids; the count, or -1 when it is not such a list. */
static int parse_seen(const char *s, int64_t *ids, size_t max)
{
	size_t n = 0;

	while (s && *s) {
		size_t len = strcspn(s, ",");
		int64_t id;

		if (web_parse_id(s, len, &id) < 0)
			return -1;
		if (n < max)
			ids[n++] = id;
		s += len;
		if (*s == ',')
			s++;
	}
	return (int)n;
}

enum MHD_Result web_api_game_round(struct web_request *r, const struct web_params *p)
{
	int64_t seen[SEEN_MAX];
	struct prl_viewer anon = PRL_VIEWER_ANONYMOUS;
	struct prl_buf b = PRL_BUF_INIT, urls = PRL_BUF_INIT;
	const char *game = web_arg(r, "game");
	struct prl_archive *a;
	json_t *round = NULL;
	char *js = NULL;
	int n, ret;

	(void)p;
	if (!game || (strcmp(game, "meaning") && strcmp(game, "where")))
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "game: 'meaning' or 'where'");
	if ((n = parse_seen(web_arg(r, "seen"), seen, SEEN_MAX)) < 0)
		return web_error_json(r, MHD_HTTP_BAD_REQUEST, "seen: segment ids apart by commas");
	if (!(a = web_archive_get(r->srv)))
		return web_error_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "the archive cannot be opened");
	ret = prl_archive_game_round(a, game, seen, (size_t)n, &b);
	if (ret == -PRL_ENOTFOUND) {
		enum MHD_Result res = web_error_json(r, MHD_HTTP_NOT_FOUND, prl_archive_errmsg(a));

		web_archive_put(r->srv, a);
		prl_buf_release(&b);
		return res;
	}
	/* the clip is heard as anyone hears it: the public copy's URL */
	if (ret == 0 && (round = json_loadb(prl_buf_str(&b), b.len, 0, NULL))) {
		json_t *clip = json_object_get(round, "clip");

		prl_buf_reset(&urls);
		if ((ret = web_media_urls(a, &anon,
					  json_integer_value(json_object_get(clip, "recording_id")),
					  &urls)) > 0)
			ret = json_object_set_new(
				      clip, "media",
				      json_loadb(prl_buf_str(&urls), urls.len, 0, NULL)) < 0
				      ? -PRL_ENOMEM
				      : 0;
		else if (ret == 0)
			ret = -PRL_ENOTFOUND; /* no access copy: nothing to hear */
	} else if (ret == 0) {
		ret = -PRL_ENOMEM;
	}
	web_archive_put(r->srv, a);
	if (ret == 0 && !(js = json_dumps(round, JSON_COMPACT | JSON_REAL_PRECISION(10))))
		ret = -PRL_ENOMEM;
	json_decref(round);
	prl_buf_release(&b);
	prl_buf_release(&urls);
	if (ret < 0) {
		free(js);
		return web_error_json(r, web_status_for(ret), "no round can be drawn now");
	}
	prl_buf_addstr(&b, js);
	prl_buf_addch(&b, '\n');
	free(js);
	return web_send_buf(r, MHD_HTTP_OK, JSON_MIME, &b, "no-store");
}
