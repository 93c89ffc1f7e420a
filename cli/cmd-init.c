/* SPDX-License-Identifier: GPL-3.0-or-later */
/* parlers init: create the data folder, archive.db and media/. Running it on
 * an existing archive is harmless: it upgrades the schema if needed.  With
 * --institution SHORT --name NAME it names the archive's own institution
 * (the first, which a new archive has as 'archive'). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Names the archive's first institution short_name / name, when it is
 * still the unnamed 'archive' or already short_name. */
static int name_institution(struct prl_archive *a, const char *short_name, const char *name)
{
	struct prl_buf first = PRL_BUF_INIT;
	struct prl_institution in;
	int status = 0;

	memset(&in, 0, sizeof(in));
	in.short_name = short_name;
	in.name = name;
	if (prl_archive_institution_first(a, &first) < 0)
		status = cli_error("init: %s", prl_archive_errmsg(a));
	else if (strcmp(first.data, "archive") != 0 && strcmp(first.data, short_name) != 0)
		status = cli_error("init: this archive's institution is already '%s' (see "
				   "'parlers institution edit')",
				   first.data);
	else if (prl_archive_institution_edit(a, first.data, &in) < 0)
		status = cli_error("init: %s", prl_archive_errmsg(a));
	prl_buf_release(&first);
	return status;
}

int cmd_init(struct cli *c, int argc, char **argv)
{
	const char *short_name = NULL, *name = NULL;
	struct prl_archive *a;
	int status = 0;

	if (cli_wants_help(argc, argv)) {
		printf("usage: parlers [-d DIR] init [--institution SHORT --name NAME]\n\n"
		       "Creates an empty archive in DIR (archive.db and media/). On an existing\n"
		       "archive it only upgrades the schema when this parlers is newer.\n"
		       "--institution and --name name the archive's own institution (without\n"
		       "them it is 'archive', which 'parlers institution edit' renames).\n");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--institution") && i + 1 < argc)
			short_name = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else
			return cli_usage_error("init", "unexpected argument '%s'", argv[i]);
	}
	if (!short_name != !name)
		return cli_usage_error("init", "--institution and --name go together");
	if (short_name && !prl_institution_short_valid(short_name))
		return cli_usage_error("init",
				       "--institution: '%s' is no short name (lowercase letters, "
				       "digits, '-')",
				       short_name);
	if (cli_open(c, 1, &a))
		return EXIT_WORK_FAILED;
	if (short_name && (status = name_institution(a, short_name, name)) != 0) {
		prl_archive_close(a);
		return status;
	}
	printf("archive ready in %s (schema version %d)\n", prl_archive_dir(a),
	       prl_archive_schema_version(a));
	prl_archive_close(a);
	return 0;
}
