/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the archive module: the parsed metadata sidecar (sidecar.c). */
#ifndef PARLERS_SIDECAR_H
#define PARLERS_SIDECAR_H

#include "parlers/archive.h"

struct sidecar_speaker {
	char *name;	/* required */
	int pseudonym;	/* the name is a pseudonym */
	int birth_year; /* 0 when unknown */
	char *sex;
	char *occupation;
	char *origin;  /* place of origin, free text */
	char *consent; /* consent notes */
	char *role;    /* "speaker" when NULL */
};

struct sidecar {
	char *title, *date, *collection, *variety, *language, *collector, *rights;
	char *device; /* the recorder or machine it was made with */
	char *description;
	char *institution; /* the depositor's short name */
	char *place_name, *place_commune;
	double lat, lon;
	int has_coords;
	char *keywords_json; /* a JSON array, as stored */
	int access;	     /* prl_access, or -1 when not given */
	struct sidecar_speaker *speakers;
	size_t nspeakers;
};

/* Parses data into *sc (cleared first). On failure returns -PRL_EFORMAT
 * with one line in err and leaves *sc empty. Owned strings: sidecar_clear. */
int sidecar_parse(const char *data, size_t len, struct sidecar *sc, struct prl_buf *err,
		  struct prl_buf *warn);
void sidecar_clear(struct sidecar *sc);

/* A date as a file's tags write it (BWF origination date, RIFF ICRD, ID3,
 * Vorbis DATE: "1987-06-12", "1987:06:12 10:00", "12/06/1987", "19870612",
 * "1987") as ISO 8601 at the precision it has, into out.  Day-first when
 * the day and month could be either way round (as French tools write
 * them).  Returns 0, or -PRL_EFORMAT when it is no date read here. */
int sidecar_date_from_tag(const char *s, char out[11]);

#endif
