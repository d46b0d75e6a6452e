/*
 * stats — the numerics of scoring, as pure functions: ranks, normalisation
 * within reference areas, empirical-Bayes shrinkage of rates, the IMD
 * exponential transform, the first principal component, rank correlations,
 * top-N overlap, Dirichlet draws and quantiles.
 *
 * Nothing here touches the database, files or global state. Inputs are
 * borrowed arrays; outputs go into caller-provided arrays of the same length.
 * Missing values are NaN: they never take part in a statistic and come out as
 * NaN. Every function is deterministic (the random ones take a struct gen_rng).
 * Functions that need scratch memory allocate it with xmalloc and free it
 * before they return; out-of-memory aborts, as everywhere in pc6risk.
 *
 * A "group" array assigns each of the n units to a group 0..ngroups-1 (the
 * reference area: one gemeente, or one group for all loaded areas); a group
 * of -1 leaves the unit out (its output is NaN).
 */
#ifndef PC6RISK_STATS_H
#define PC6RISK_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "pc6risk/gen.h"

/* Ranks 1..m of the m non-NaN values of x, ascending (the smallest gets 1),
 * ties getting the mean of the ranks they span; NaN stays NaN. */
void stats_rank(const double *x, size_t n, double *rank);

/* How values are made comparable across indicators. */
enum stats_norm {
	STATS_Z,        /* (x - mean) / sd */
	STATS_ROBUST_Z, /* (x - median) / (IQR / 1.349); IQR from type-7 quantiles */
	STATS_RANK,     /* percentile rank: rank / m, in (0, 1], ties averaged */
	STATS_MINMAX    /* (x - min) / (max - min), in [0, 1] */
};

/* Normalise x within each group. Before STATS_Z and STATS_ROBUST_Z the values
 * are winsorised at the group's lo and hi quantiles (type 7; lo = 0, hi = 1
 * leaves them alone). A group whose spread is 0 (one value, all equal) gives
 * 0 for STATS_Z, STATS_ROBUST_Z and STATS_MINMAX, and ranks as usual. */
void stats_normalise(enum stats_norm method, const double *x, const int *group, size_t n, double lo, double hi,
		     double *out);

/* Room a caller keeps for stats_normalise_in between calls, so that calls on
 * the same n (a Monte Carlo's draws) allocate nothing: start zeroed, free p
 * when done. */
struct stats_room {
	void *p;
	size_t size;
};

/* stats_normalise with its working memory in room (grown when too small). */
void stats_normalise_in(struct stats_room *room, enum stats_norm method, const double *x, const int *group, size_t n,
			double lo, double hi, double *out);

/* The units of x sorted by value within each group, kept to normalise the
 * same x again without sorting it (a Monte Carlo's draws vary the method, not
 * every indicator). stats_normalise_ordered must get the x and n the order
 * was made from; it gives what stats_normalise gives. */
struct stats_order;

struct stats_order *stats_order_new(const double *x, const int *group, size_t n);
void stats_order_free(struct stats_order *o);
void stats_normalise_ordered(const struct stats_order *o, enum stats_norm method, const double *x, double lo,
			     double hi, double *out);

/* Empirical-Bayes shrinkage of rates num/den (Marshall's global moment
 * estimator, per group): with m = sum(num)/sum(den) over the group's units
 * with den > 0, nbar their mean den, s2 = sum(den * (num/den - m)^2) / sum(den)
 * and A = max(0, s2 - m / nbar), each unit gets weight w = A / (A + m / den),
 * shrunk = w * num/den + (1 - w) * m, and sd = sqrt(w * m / den) (its
 * posterior sd). A group with fewer than min_units such units uses the
 * estimates (m, A) of its unit's fallback group instead (fallback[i], in
 * 0..nfallback-1, e.g. the wijk when the group is the buurt), computed the
 * same way over all units of that fallback group; when that has too few as
 * well, w = 1 (no shrinkage). Units with den <= 0 or a NaN get NaN in all
 * three outputs. fallback may be NULL (no fallback). */
void stats_eb_shrink(const double *num, const double *den, const int *group, size_t ngroups, const int *fallback,
		     size_t nfallback, size_t n, size_t min_units, double *shrunk, double *weight, double *sd);

/* The English IMD exponential transform of a rank fraction r in [0, 1]
 * (1 = most deprived): -23 * ln(1 - r * (1 - exp(-100 / 23))), from 0 to 100. */
double stats_imd_transform(double r);

/* The first principal component of the n x p matrix X (row-major, X[i * p + j]):
 * each column is standardised over its non-NaN values (a column with sd 0 is
 * all 0), NaN then counts as the column mean (0), and the leading eigenvector
 * of the correlation matrix is found by power iteration from a fixed start
 * (tolerance 1e-12, at most 10000 steps). Its sign makes loadings[sign_col]
 * >= 0. scores[i] = sum_j loadings[j] * z[i][j]; *explained gets the share of
 * the total variance it explains. Returns 0, or -1 when p == 0, n < 2 or
 * sign_col >= p. */
int stats_pca1(const double *X, size_t n, size_t p, size_t sign_col, double *loadings, double *scores,
	       double *explained);

/* Spearman's rho of the pairs where neither value is NaN (Pearson's r of the
 * tie-averaged ranks); NaN when fewer than 2 pairs or no spread. */
double stats_spearman(const double *a, const double *b, size_t n);

/* Kendall's tau-b of the pairs where neither value is NaN, in O(n log n)
 * (Knight's algorithm), so 450,000 pairs take well under a second; NaN when
 * fewer than 2 pairs or no spread. */
double stats_kendall(const double *a, const double *b, size_t n);

/* The `top` units with the highest values of a and of b (NaN never counts; ties
 * broken by lower index), and the Jaccard index |A & B| / |A | B| of the two
 * top-N sets; 1 when both are empty. */
double stats_jaccard_top(const double *a, const double *b, size_t n, size_t top);

/* Indexes of the `top` units with the highest values (NaN never counts; ties
 * to the lower index), highest first, into out; returns how many (fewer when
 * fewer non-NaN values). */
size_t stats_top(const double *x, size_t n, size_t top, size_t *out);

/* A draw from the Dirichlet distribution with parameters alpha[0..k-1] > 0
 * (gamma draws by Marsaglia and Tsang, normalised). */
void stats_dirichlet(struct gen_rng *r, const double *alpha, size_t k, double *out);

/* The type-7 quantile q in [0, 1] of the non-NaN values of x (the R default);
 * NaN when there are none. Does not change x. */
double stats_quantile(const double *x, size_t n, double q);

/* Weighted mean of the non-NaN values of x with weights w >= 0 (NaN weights
 * and zero weights leave a value out); NaN when the weights sum to 0. */
double stats_weighted_mean(const double *x, const double *w, size_t n);

#endif
