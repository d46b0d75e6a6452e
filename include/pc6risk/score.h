/*
 * score — scenarios into scores per area.
 *
 * A scenario (a shipped preset or one written out in the config) names
 * indicators, how each is made comparable, how they combine into domains and
 * domains into one score, and the levels it scores. score reads the area tree
 * and the figures the scenarios need from the database into memory, computes
 * every scenario there (rates with empirical-Bayes shrinkage, normalisation
 * and ranking within each gemeente or over everything, aggregation of PC6 up
 * to buurt and wijk weighted by population or children), and writes tables
 * score, score_part, rate and rate_part in one transaction. Scores are
 * internal: only protect reads them.
 *
 * The in-memory model (struct score_model) is also what compare perturbs for
 * its Monte Carlo; score_model_load returns one the caller frees with
 * score_model_free.
 */
#ifndef PC6RISK_SCORE_H
#define PC6RISK_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"
#include "pc6risk/gen.h"

struct score_stats {
	long long scored;   /* areas with a value, over all scenarios and levels */
	long long unscored; /* areas without one */
	long long too_small;
};

/* Score every configured scenario, replacing the previous scores. */
int score_run(struct db *db, const struct config *cfg, struct score_stats *st, struct err *e);

/* The area tree and the figures the scenarios need, in memory. */
struct score_model;

struct score_model *score_model_load(struct db *db, const struct config *cfg, struct err *e);
void score_model_free(struct score_model *m);

/* Areas of a level in the model: how many, and the code of one. */
size_t score_model_count(const struct score_model *m, enum level level);
const char *score_model_code(const struct score_model *m, enum level level, size_t i);
/* The index of the area of a level with this code, or -1. */
long score_model_find(const struct score_model *m, enum level level, const char *code);
/* The ancestor at level `up` (coarser) of area i of `level`, or -1. */
long score_model_ancestor(const struct score_model *m, enum level level, size_t i, enum level up);

/* Choices a Monte Carlo draw may vary around a scenario's own. */
struct score_variation {
	const double *domain_weights; /* NULL: the scenario's */
	double flag_percentile;       /* 0: the scenario's */
	int flags_needed;             /* 0: the scenario's */
	int normalise;                /* -1: the scenario's, else an enum norm */
	struct gen_rng *shrink_draw;  /* non-NULL: rates drawn from their shrinkage posterior */
};

/* Working memory that score_compute keeps between calls (a Monte Carlo
 * thread's draws), so that they allocate nothing after the first. */
struct score_work;

struct score_work *score_work_new(void);
void score_work_free(struct score_work *w);

/* One scenario's scores at one output level: value[i] for area i of `level`
 * (NaN: none), and ranks within the reference areas (1 = most at risk, NaN:
 * not ranked). Arrays have score_model_count(m, level) entries. w may be
 * NULL: the call then allocates and frees its own memory. */
int score_compute(const struct score_model *m, const struct config_scenario *s, const struct score_variation *v,
		  enum level level, double *value, double *rank, struct score_work *w, struct err *e);

#endif
