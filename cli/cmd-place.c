/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers place list|edit|merge: the places of the recordings as records
 * of their own, edited once and merged when one village was spelt twice
 * (the steps are cli_records() of cmd-speaker.c).
 */
#include <stdio.h>

#include "cli.h"

int cmd_place(struct cli *c, int argc, char **argv)
{
	static const char *const numbers[] = {"lat", "lon", NULL};
	static const struct cli_records_kind k = {
		"place",
		"places",
		"usage: parlers [-d DIR] place list [--json]\n"
		"       parlers [-d DIR] place edit ID --set FIELD=VALUE...\n"
		"       parlers [-d DIR] place merge FROM INTO\n\n"
		"The places of the recordings. edit changes name, commune, lat and lon (the two\n"
		"together) for all of their recordings; merge makes FROM's recordings INTO's\n"
		"and removes FROM.\n",
		numbers,
		prl_archive_places_json,
		prl_archive_place_edit,
		prl_archive_place_merge,
	};

	return cli_records(c, argc, argv, &k);
}
