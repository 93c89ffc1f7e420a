/* SPDX-License-Identifier: GPL-3.0-or-later */
/* parlers serve: the web server (web/). */
#include <stdio.h>

#include "cli.h"

int cmd_serve(struct cli *c, int argc, char **argv)
{
	(void)c;
	if (cli_wants_help(argc, argv)) {
		printf("usage: parlers [-d DIR] serve [--listen ADDR:PORT]\n");
		return 0;
	}
	return cli_error("serve: this build has no web server yet");
}
