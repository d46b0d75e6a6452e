/*
 * report — the scenario comparison as files a data team reads: report.csv
 * (one row per scenario and published area) and report.json (the agreement of
 * the scenarios, the robust top N, each scenario's top 10 and the panel of the
 * selected neighbourhoods).
 *
 * Like publish, report reads only what protect released (protected_value,
 * protected_area, protected_compare, protected_agreement,
 * protected_compare_run), inside publish's read-only transaction. Neither
 * file holds a time or a release id: the same data and config give the same
 * bytes. docs/report.md describes every column and key.
 */
#ifndef PC6RISK_REPORT_H
#define PC6RISK_REPORT_H

#include <stddef.h>

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

/* A selected neighbourhood, as publish resolved it. */
struct report_pick {
	const char *query; /* what the user asked for */
	const char *level; /* "wijk" or "buurt" */
	const char *code;
	const char *name;
};

/* Write report.csv and report.json into dir; *files counts what was written. */
int report_write(struct db *db, const struct config *cfg, const char *dir, const struct report_pick *picks,
		 size_t npicks, long long *files, struct err *e);

#endif
