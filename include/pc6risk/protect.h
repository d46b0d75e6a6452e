/*
 * protect — decide what may be published, and write only that.
 *
 * The foundation rule: a unit is published only when its size (privacy.count,
 * households by default) is known and at least privacy.k, and it has a score;
 * otherwise it is suppressed, with the reason. Published scores are rounded to
 * one decimal and ranked among the published units only. protect writes
 * protected_area and protected_value, the only tables publish reads.
 */
#ifndef PC6RISK_PROTECT_H
#define PC6RISK_PROTECT_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct protect_stats {
	long long published;  /* values, over all scenarios */
	long long suppressed;
};

/* Replace the protected tables from the current scores, in one transaction. */
int protect_run(struct db *db, const struct config *cfg, struct protect_stats *st, struct err *e);

#endif
