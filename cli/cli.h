/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The command-line tool: one cmd_<name>() per subcommand (cmd-<name>.c),
 * dispatched from main.c.  Each returns the exit status: 0 success, 1 the
 * work failed (after one line on stderr saying what and why), 2 usage.
 * Only this module prints.
 */
#ifndef PARLERS_CLI_H
#define PARLERS_CLI_H

#include "parlers/archive.h"

#define EXIT_WORK_FAILED 1
#define EXIT_USAGE 2

struct cli {
	const char *data_dir; /* -d DIR, $PARLERS_DATA, or ./parlers-data */
	const char *prog;     /* "parlers" */
	const char *media;    /* --media URL, or $PARLERS_MEDIA for init: NULL for media/ */
	int media_given;      /* --media was on the command line */
};

int cmd_init(struct cli *c, int argc, char **argv);
int cmd_ingest(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_fsck(struct cli *c, int argc, char **argv);
int cmd_annotations(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_search(struct cli *c, int argc, char **argv);
int cmd_variants(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_institution(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_reindex(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_restore(struct cli *c, int argc, char **argv);
int cmd_verify_backup(struct cli *c, int argc, char **argv);
int cmd_rebuild(struct cli *c, int argc, char **argv);
int cmd_route(struct cli *c, int argc, char **argv);
int cmd_segment(struct cli *c, int argc, char **argv);
int cmd_align(struct cli *c, int argc, char **argv);
int cmd_edit(struct cli *c, int argc, char **argv);
int cmd_delete(struct cli *c, int argc, char **argv);
int cmd_restore_deleted(struct cli *c, int argc, char **argv);
int cmd_trash(struct cli *c, int argc, char **argv);
int cmd_purge_trash(struct cli *c, int argc, char **argv);
int cmd_speaker(struct cli *c, int argc, char **argv);
int cmd_place(struct cli *c, int argc, char **argv);
int cmd_harvest(struct cli *c, int argc, char **argv);

/* `serve --harvest-every HOURS`: a thread that harvests every partner of
 * the archive in data_dir at once, then every hours; quiet: only errors
 * on stderr.  Stop it (it finishes or abandons its run) before exiting. */
int cli_harvest_schedule_start(const char *data_dir, double hours, int quiet);
void cli_harvest_schedule_stop(void);
int cmd_theme(struct cli *c, int argc, char **argv);
int cmd_recognize(struct cli *c, int argc, char **argv);
int cmd_accept(struct cli *c, int argc, char **argv);

/* Prints "parlers: <msg>" on stderr; returns EXIT_WORK_FAILED. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a usage error and the hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt_long() returned '?': names the unknown option; returns EXIT_USAGE. */
int cli_unknown_option(const char *cmd, char **argv);
/* Opens the archive (create: for init and ingest). Prints the error. */
int cli_open(struct cli *c, int create, struct prl_archive **out);
/* True when argv holds -h or --help before "--". */
int cli_wants_help(int argc, char **argv);
/* Parses a whole decimal id > 0; returns 0 on success. */
int cli_parse_id(const char *s, int64_t *out);

struct json_t;
/* Adds FIELD=VALUE (assignment) to the JSON object o: an empty VALUE is
 * null, a VALUE starting with [ or { (or for a field of numbers) JSON,
 * keywords and speakers a comma-separated list, else a string.  Returns
 * 0, or the exit status after printing why. */
int cli_set_field(struct json_t *o, const char *cmd, const char *assignment,
		  const char *const *numbers);

/* A kind of catalogue record (speakers, places) and its archive calls. */
struct cli_records_kind {
	const char *cmd;	    /* "speaker" */
	const char *key;	    /* the list's key: "speakers" */
	const char *help;	    /* the usage text */
	const char *const *numbers; /* --set fields whose values are numbers */
	int (*list)(struct prl_archive *a, int64_t id, struct prl_buf *out);
	int (*edit)(struct prl_archive *a, const struct prl_viewer *v, int64_t id, const char *json,
		    size_t len, struct prl_buf *out);
	int (*merge)(struct prl_archive *a, const struct prl_viewer *v, int64_t from, int64_t into,
		     struct prl_buf *out);
};

/* `parlers speaker|place list|edit|merge` for kind k. */
int cli_records(struct cli *c, int argc, char **argv, const struct cli_records_kind *k);

#endif
