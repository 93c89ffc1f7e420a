/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parlers user add|passwd|role|del|grant|revoke LOGIN: the accounts of the
 * people who sign in to the web pages (researchers, annotators, admins),
 * and the restricted material each researcher is granted.
 *
 * The password comes from --password-file F (its first line), else from
 * standard input: one line when it is not a terminal (scripts), asked
 * twice without echo when it is.  It never appears on the command line,
 * where every user of the machine could read it in the process list.
 * Always holds: the password is wiped from memory once hashed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define PW_BUF (PRL_PASSWORD_MAX + 2)

static void wipe(char *s, size_t n)
{
	volatile char *p = s;

	while (n--)
		*p++ = 0;
}

/* One line of f into buf (without its line end); 0, or -1 when empty,
 * unreadable or too long. */
static int read_line(FILE *f, char *buf, size_t size)
{
	size_t n;

	if (!fgets(buf, (int)size, f))
		return -1;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == size - 1 && !feof(f))
		return -1; /* longer than any password we take */
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return n ? 0 : -1;
}

static int ask(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	int ret;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	ret = read_line(stdin, buf, size);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return ret;
}

/* The new password into pw; prints why not and returns an exit status. */
static int get_password(const char *file, char *pw, size_t size)
{
	char again[PW_BUF];
	FILE *f;
	int ret;

	if (file) {
		if (!(f = fopen(file, "r")))
			return cli_error("%s: %s", file, strerror(errno));
		ret = read_line(f, pw, size);
		fclose(f);
		return ret < 0 ? cli_error("%s: no password on its first line (or too long)", file)
			       : 0;
	}
	if (!isatty(STDIN_FILENO))
		return read_line(stdin, pw, size) < 0
			       ? cli_error("no password on standard input (one line expected)")
			       : 0;
	if (ask("New password: ", pw, size) < 0)
		return cli_error("no password given");
	ret = ask("Again: ", again, sizeof(again));
	if (ret < 0 || strcmp(pw, again) != 0) {
		wipe(again, sizeof(again));
		return cli_error("the two passwords differ");
	}
	wipe(again, sizeof(again));
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: parlers [-d DIR] user add LOGIN [--role "
		"admin|annotator|researcher|contributor]\n"
		"                                [--institution SHORT] [--password-file F]\n"
		"       parlers [-d DIR] user passwd LOGIN [--role ROLE] [--password-file F]\n"
		"       parlers [-d DIR] user role LOGIN --role ROLE\n"
		"       parlers [-d DIR] user del LOGIN\n"
		"       parlers [-d DIR] user grant LOGIN --institution SHORT | --all [--json]\n"
		"       parlers [-d DIR] user revoke LOGIN\n"
		"       parlers [-d DIR] user add-batch PREFIX N [--role ROLE] [--institution "
		"SHORT]\n"
		"       parlers [-d DIR] user suspend LOGIN\n"
		"       parlers [-d DIR] user list [--json]\n\n"
		"Accounts for the web pages. Roles: researcher (hears and reads restricted\n"
		"recordings), annotator (also sees private ones and edits transcripts),\n"
		"admin (the same, and administers). The default role is researcher.\n"
		"An account belongs to an institution (--institution SHORT) or, without\n"
		"it, to the network: annotators and admins of an institution change only\n"
		"its recordings, the network's change every recording.\n"
		"The password (%d to %d bytes) is read from --password-file F (its first\n"
		"line), else from standard input: one line when it is not a terminal,\n"
		"asked twice without echo when it is. 'passwd' and 'role' end the\n"
		"account's sessions; 'del' removes the account (its history stays).\n"
		"A researcher hears and reads the restricted recordings it is granted:\n"
		"its institution's when added with --institution, else every one's;\n"
		"'grant' gives it one institution's (--institution) or all (--all) in\n"
		"place of that, 'revoke' none. It holds from the account's next request.\n"
		"'add-batch' makes accounts PREFIX-1 ... PREFIX-N for a workshop (role\n"
		"contributor by default: proposes transcriptions, hears what anyone hears)\n"
		"and prints each with a one-time password. 'suspend' stops an account from\n"
		"signing in, ends its sessions and removes its pending proposals.\n"
		"A contributor (also 'add --role contributor') proposes texts that staff\n"
		"review and hears what anyone hears. 'list' prints every account with its\n"
		"role, institution and whether it is suspended (never an e-mail address).\n",
		PRL_PASSWORD_MIN, PRL_PASSWORD_MAX);
}

/* ---- contributors: add-batch and suspend ---- */

/* parlers user add-batch PREFIX N [--role ROLE] [--institution SHORT]:
 * accounts PREFIX-1 ... PREFIX-N for a workshop, printed one a line with
 * their one-time password (the only place it ever appears). */
static int user_add_batch(struct cli *c, int argc, char **argv)
{
	const char *prefix = NULL, *count = NULL, *role_s = "contributor", *institution = NULL;
	struct prl_archive *a = NULL;
	char **pw = NULL, *end;
	long n;
	int role, ret;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc)
			role_s = argv[++i];
		else if (!strncmp(argv[i], "--role=", 7))
			role_s = argv[i] + 7;
		else if (!strcmp(argv[i], "--institution") && i + 1 < argc)
			institution = argv[++i];
		else if (!strncmp(argv[i], "--institution=", 14))
			institution = argv[i] + 14;
		else if (argv[i][0] == '-')
			return cli_usage_error("user", "unknown option '%s'", argv[i]);
		else if (!prefix)
			prefix = argv[i];
		else if (!count)
			count = argv[i];
		else
			return cli_usage_error("user", "unexpected argument '%s'", argv[i]);
	}
	if (!prefix || !count)
		return cli_usage_error("user", "add-batch: PREFIX and N are expected");
	n = strtol(count, &end, 10);
	if (*end || n < 1 || n > PRL_BATCH_MAX)
		return cli_usage_error("user", "add-batch: N is 1 to %d", PRL_BATCH_MAX);
	role = !strcmp(role_s, "contributor") ? PRL_ROLE_CONTRIBUTOR : prl_role_parse(role_s);
	if (role == -1 && strcmp(role_s, "contributor"))
		return cli_usage_error(
			"user", "'%s': the role is contributor, researcher, annotator or admin",
			role_s);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	ret = prl_archive_user_add_batch(a, prefix, (int)n, (enum prl_role)role, institution, &pw);
	if (ret < 0) {
		ret = cli_error("user add-batch %s: %s", prefix, prl_archive_errmsg(a));
	} else {
		for (long i = 0; i < n; i++)
			printf("%s-%ld %s\n", prefix, i + 1, pw[i]);
		ret = fflush(stdout) == 0 ? 0 : cli_error("user add-batch: %s", strerror(errno));
	}
	prl_passwords_free(pw, (int)n);
	prl_archive_close(a);
	return ret;
}

/* parlers user suspend LOGIN: no more sign-in, sessions ended, pending
 * proposals removed. */
static int user_suspend(struct cli *c, int argc, char **argv)
{
	struct prl_archive *a = NULL;
	int64_t removed = 0;
	int ret;

	if (argc != 3 || argv[2][0] == '-')
		return cli_usage_error("user", "suspend takes only a LOGIN");
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if ((ret = prl_archive_user_suspend(a, argv[2], &removed)) < 0)
		ret = cli_error("user suspend %s: %s", argv[2], prl_archive_errmsg(a));
	else
		printf("%s suspended; %lld pending proposals removed\n", argv[2],
		       (long long)removed);
	prl_archive_close(a);
	return ret;
}

/* parlers user list [--json]: one line per account, or the JSON object. */
static int user_list(struct cli *c, int argc, char **argv)
{
	struct prl_buf b = PRL_BUF_INIT;
	struct prl_archive *a = NULL;
	json_t *root, *e;
	size_t i;
	int json = 0, ret = 0;

	for (int k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = 1;
		else
			return cli_usage_error("user", "list: unexpected argument '%s'", argv[k]);
	}
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	if (prl_archive_users_json(a, &b) < 0) {
		ret = cli_error("user list: %s", prl_archive_errmsg(a));
	} else if (json) {
		printf("%s\n", prl_buf_str(&b));
	} else if ((root = json_loadb(b.data, b.len, 0, NULL))) {
		json_array_foreach(json_object_get(root, "users"), i, e)
		{
			const char *inst = json_string_value(json_object_get(e, "institution"));

			printf("%s\t%s\t%s%s\n", json_string_value(json_object_get(e, "login")),
			       json_string_value(json_object_get(e, "role")), inst ? inst : "-",
			       json_is_true(json_object_get(e, "suspended")) ? "\tsuspended" : "");
		}
		json_decref(root);
	} else {
		ret = cli_error("user list: out of memory");
	}
	prl_buf_release(&b);
	prl_archive_close(a);
	return ret;
}

int cmd_user(struct cli *c, int argc, char **argv)
{
	const char *verb, *login = NULL, *file = NULL, *role_s = NULL, *institution = NULL;
	struct prl_archive *a = NULL;
	char pw[PW_BUF];
	int role = -1, ret, status = 0, need_pw, all = 0, json = 0;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage_error("user", "add, passwd, role, del, grant or revoke expected");
	verb = argv[1];
	if (!strcmp(verb, "add-batch"))
		return user_add_batch(c, argc, argv);
	if (!strcmp(verb, "suspend"))
		return user_suspend(c, argc, argv);
	if (!strcmp(verb, "list"))
		return user_list(c, argc, argv);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc)
			role_s = argv[++i];
		else if (!strncmp(argv[i], "--role=", 7))
			role_s = argv[i] + 7;
		else if (!strcmp(argv[i], "--institution") && i + 1 < argc)
			institution = argv[++i];
		else if (!strncmp(argv[i], "--institution=", 14))
			institution = argv[i] + 14;
		else if (!strcmp(argv[i], "--all"))
			all = 1;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--password-file") && i + 1 < argc)
			file = argv[++i];
		else if (!strncmp(argv[i], "--password-file=", 16))
			file = argv[i] + 16;
		else if (argv[i][0] == '-')
			return cli_usage_error("user", "unknown option '%s'", argv[i]);
		else if (!login)
			login = argv[i];
		else
			return cli_usage_error("user", "unexpected argument '%s'", argv[i]);
	}
	if (strcmp(verb, "add") && strcmp(verb, "passwd") && strcmp(verb, "del") &&
	    strcmp(verb, "role") && strcmp(verb, "grant") && strcmp(verb, "revoke"))
		return cli_usage_error(
			"user", "'%s': add, passwd, role, del, grant or revoke expected", verb);
	if (!login)
		return cli_usage_error("user", "a LOGIN is expected");
	if (!prl_login_valid(login))
		return cli_usage_error("user",
				       "'%s': a login is 1 to %d letters, digits, '.', '_', "
				       "'-' or '@'",
				       login, PRL_LOGIN_MAX);
	/* a contributor's role is below anonymous: it parses as no role */
	if (role_s && !strcmp(verb, "add") && !strcmp(role_s, "contributor"))
		role = PRL_ROLE_CONTRIBUTOR;
	else if (role_s && (role = prl_role_parse(role_s)) < 0)
		return cli_usage_error("user", "'%s': the role is admin, annotator or researcher%s",
				       role_s, strcmp(verb, "add") ? "" : " or contributor");
	if (!strcmp(verb, "role") && role < 0)
		return cli_usage_error("user", "role: --role is expected");
	if (!strcmp(verb, "del") && (role_s || file))
		return cli_usage_error("user", "del takes only a LOGIN");
	if (institution && strcmp(verb, "add") && strcmp(verb, "grant"))
		return cli_usage_error("user", "--institution goes with add or grant");
	if ((all || json) && strcmp(verb, "grant"))
		return cli_usage_error("user", "--all and --json go with grant");
	if (!strcmp(verb, "grant") && !!institution == all)
		return cli_usage_error("user", "grant: --institution SHORT or --all, one of them");
	if ((!strcmp(verb, "grant") || !strcmp(verb, "revoke")) && (role_s || file))
		return cli_usage_error("user", "%s takes no --role or --password-file", verb);
	if (institution && !prl_institution_short_valid(institution))
		return cli_usage_error("user",
				       "--institution: '%s' is no short name (lowercase letters, "
				       "digits, '-')",
				       institution);
	if (cli_open(c, 0, &a))
		return EXIT_WORK_FAILED;
	need_pw = !strcmp(verb, "add") || !strcmp(verb, "passwd");
	if (need_pw && (status = get_password(file, pw, sizeof(pw))) != 0)
		goto end;
	if (!strcmp(verb, "grant") || !strcmp(verb, "revoke")) {
		struct prl_buf b = PRL_BUF_INIT;

		ret = !strcmp(verb, "grant") ? prl_archive_user_grant(a, login, institution)
					     : prl_archive_user_revoke(a, login);
		if (ret == 0 && json && (ret = prl_archive_user_grant_json(a, login, &b)) == 0)
			printf("%s\n", prl_buf_str(&b));
		prl_buf_release(&b);
	} else if (!strcmp(verb, "add"))
		ret = prl_archive_user_add_to(a, login,
					      !role_s ? PRL_ROLE_RESEARCHER : (enum prl_role)role,
					      pw, institution);
	else if (!strcmp(verb, "del"))
		ret = prl_archive_user_del(a, login);
	else
		ret = prl_archive_user_update(a, login, role, need_pw ? pw : NULL);
	if (ret < 0)
		status = cli_error("user %s %s: %s", verb, login, prl_archive_errmsg(a));
end:
	wipe(pw, sizeof(pw));
	prl_archive_close(a);
	return status;
}
