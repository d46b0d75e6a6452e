/*
 * compare — how far the scenarios agree, and how sure each ranking is.
 *
 * For every pair of scenarios: Spearman's rho and Kendall's tau-b of their
 * scores (PC6 and buurt level) and the Jaccard overlap of their top 3, 5 and
 * 10 buurten; the robust top N (buurten in the top N of all scenarios but at
 * most one). For every scenario a Monte Carlo of its uncertain choices
 * (domain weights drawn around its own, the flag percentile from P75 to P90,
 * the flags needed from 2 to 4, the normalisation, rates drawn from their
 * shrinkage posterior) giving each buurt its median rank, 5-95 % rank interval
 * and the chance of a top-N place, and the domains that drive its score. The
 * draws are spread over the cores and reproducible for a seed. Results go to
 * tables compare_pair and compare_area (one transaction) and, readable, to
 * standard output with a panel of the selected neighbourhoods.
 */
#ifndef PC6RISK_COMPARE_H
#define PC6RISK_COMPARE_H

#include <stdint.h>

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct compare_opts {
	int draws;          /* Monte Carlo draws per scenario (0: none) */
	uint64_t seed;
	int threads;        /* 0: one per core */
	const char *const *select; /* the pilot areas (NULL: publish.neighbourhoods) */
	size_t nselect;
	bool print;         /* tables on standard output */
};

struct compare_stats {
	long long pairs;
	long long areas;
	double draw_seconds; /* wall time of the Monte Carlo */
	long long draws;     /* over all scenarios */
};

int compare_run(struct db *db, const struct config *cfg, const struct compare_opts *opts, struct compare_stats *st,
		struct err *e);

#endif
