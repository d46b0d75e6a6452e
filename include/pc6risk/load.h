/*
 * load — inputs into the database: area polygons (any GDAL source) and CBS-style
 * indicator files, validated, then swapped in as one transaction.
 *
 * Everything is read into temporary staging tables first; only when every check
 * passes are the area tree and the indicators replaced, together, in the same
 * transaction. A failure anywhere leaves the previous data as it was. Scores and
 * protected output of the old data are cleared with it, so nothing stale can be
 * published.
 */
#ifndef PC6RISK_LOAD_H
#define PC6RISK_LOAD_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct load_stats {
	long long areas[LEVEL_COUNT];
	long long values;      /* indicator values read */
	long long missing;     /* of which missing (secret or unknown) */
	long long repaired;    /* invalid polygons repaired with ST_MakeValid */
	long long straddling;  /* PC6 assigned by overlap that lie partly in another buurt */
	long long outside;     /* PC6 overlapping no loaded buurt, skipped */
};

/* Load every input the config names. */
int load_run(struct db *db, const struct config *cfg, struct load_stats *st, struct err *e);

#endif
