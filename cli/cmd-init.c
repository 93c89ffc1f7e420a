/* SPDX-License-Identifier: GPL-3.0-or-later */
/* parlers init: create the data folder, archive.db and media/. Running it on
 * an existing archive is harmless: it upgrades the schema if needed. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_init(struct cli *c, int argc, char **argv)
{
	struct prl_archive *a;

	if (cli_wants_help(argc, argv)) {
		printf("usage: parlers [-d DIR] init\n\n"
		       "Creates an empty archive in DIR (archive.db and media/). On an existing\n"
		       "archive it only upgrades the schema when this parlers is newer.\n");
		return 0;
	}
	if (argc > 1)
		return cli_usage_error("init", "unexpected argument '%s'", argv[1]);
	if (cli_open(c, 1, &a))
		return EXIT_WORK_FAILED;
	printf("archive ready in %s (schema version %d)\n", prl_archive_dir(a),
	       prl_archive_schema_version(a));
	prl_archive_close(a);
	return 0;
}
