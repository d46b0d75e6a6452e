/*
 * load — inputs into the database: area polygons (any GDAL source), CBS-style
 * indicator files and a PC6 crosswalk, validated, then swapped in as one
 * transaction.
 *
 * Everything is read into temporary staging tables first; only when every check
 * passes are the area tree and the indicators replaced, together, in the same
 * transaction. A failure anywhere (bad file, lost connection, a signal, kill -9)
 * leaves the previous data as it was. Scores and protected output of the old
 * data are cleared with it, so nothing stale can be published. A load whose
 * inputs and config are byte-for-byte those of the previous load changes
 * nothing and says so.
 */
#ifndef PC6RISK_LOAD_H
#define PC6RISK_LOAD_H

#include <stdbool.h>

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct load_opts {
	long long run_id;         /* recorded as the run in which a PC6 changed */
	bool force;               /* load even when the inputs are unchanged */
	long long max_rejects;    /* bad rows that may be skipped; 0: none */
	const char *rejects_path; /* where skipped rows are written (when there are any) */
	bool encoding_set;        /* --encoding: use `encoding` for every delimited file */
	enum encoding encoding;
};

struct load_stats {
	long long areas[LEVEL_COUNT]; /* loaded per level */
	long long values;             /* indicator values loaded */
	long long missing;            /* of which missing (secret or unknown) */
	long long repaired;           /* invalid polygons repaired with ST_MakeValid */
	long long straddling;         /* PC6 with less than 99 % in their buurt */
	long long by_crosswalk;       /* PC6 placed by the crosswalk */
	long long by_overlap;         /* PC6 placed by largest overlap */
	long long outside;            /* PC6 outside the loaded buurten, left out */
	long long rejected;           /* bad rows skipped (--max-rejects) */
	long long pc6_added, pc6_changed, pc6_removed;
	bool unchanged;               /* the inputs were those of the previous load */
	long long peak_rss_kb;
	char fingerprint[65];
};

/* Without reading them: do the input files have the paths, sizes and
 * modification times (to the nanosecond) the last load recorded? 1 with that
 * load's fingerprint copied out, 0 when something differs or nothing was
 * loaded, -1 on error. The daemon's nightly "nothing changed" costs this. */
int load_quick_check(struct db *db, const struct config *cfg, const struct load_opts *opts, char fingerprint[65],
		     struct err *e);

/* Load every input the config names. */
int load_run(struct db *db, const struct config *cfg, const struct load_opts *opts, struct load_stats *st,
	     struct err *e);

#endif
