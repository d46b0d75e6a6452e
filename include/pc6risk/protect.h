/*
 * protect — decide what may be published, and write only that.
 *
 * With PC6 loaded: PC6 are merged into groups and small buurten into units
 * until each meets the policy's size rules, and every count of every region
 * is published rounded or suppressed (primary and secondary), by sdc (the
 * pure core; docs/disclosure.md). PC6 scores are published only as their
 * group's band; a buurt below the size rules shows its wijk's score. Without
 * PC6 a unit is published when its size (privacy.count) is at least
 * privacy.k. Published scores are rounded to one decimal and ranked among the
 * published units only. protect writes the protected_* tables, the only ones
 * publish reads.
 */
#ifndef PC6RISK_PROTECT_H
#define PC6RISK_PROTECT_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct protect_stats {
	long long published;  /* scores of areas, over all scenarios */
	long long suppressed;
	long long group_values; /* banded group scores, over all scenarios */
	long long groups;     /* PC6 groups */
	long long merged_pc6; /* PC6 in groups of more than one */
	long long merged_buurten; /* buurten in units of more than one */
	long long figures_published, figures_primary, figures_secondary;
};

/* Replace the protected tables from the current scores, in one transaction. */
int protect_run(struct db *db, const struct config *cfg, struct protect_stats *st, struct err *e);

#endif
