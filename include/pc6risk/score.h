/*
 * score — scenarios into scores per area.
 *
 * The foundation scenario is a rate, numerator / denominator * per, for every
 * area of the scenario's level; an area whose figures are missing gets no value
 * and the reason why. Scores are internal: only protect reads them.
 */
#ifndef PC6RISK_SCORE_H
#define PC6RISK_SCORE_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct score_stats {
	long long scored;   /* areas with a value, over all scenarios */
	long long unscored; /* areas without one */
};

/* Replace the scores of every configured scenario, in one transaction. */
int score_run(struct db *db, const struct config *cfg, struct score_stats *st, struct err *e);

#endif
