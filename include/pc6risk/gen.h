/*
 * gen — pure building blocks for synthetic data: a seeded random number
 * generator and its distributions, integer allocation that meets a total
 * exactly, CBS output conventions (rounding to 5, the -99997 secret code),
 * postcode letters, a Hilbert-curve order, a smoothed random field, a
 * point-in-polygon test and the two-sample Kolmogorov-Smirnov statistic.
 *
 * Nothing here touches files, the database or global state, so the same seed
 * gives the same numbers on every run. A struct gen_rng is a plain value the
 * caller owns. Functions write into caller-provided arrays; the few that need
 * scratch memory free it before they return.
 */
#ifndef PC6RISK_GEN_H
#define PC6RISK_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xoshiro256** state. */
struct gen_rng {
	uint64_t s[4];
};

/* Seed a generator from a seed and a stream number (both expanded with
 * splitmix64), so each purpose (a buurt, a level) can draw from its own stream
 * and changing one part of a generator leaves the others' numbers alone. */
void gen_seed(struct gen_rng *r, uint64_t seed, uint64_t stream);

/* A stream number for a name ("BU05182915/sizes"): 64-bit FNV-1a. */
uint64_t gen_stream(const char *name);

uint64_t gen_next(struct gen_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double gen_uniform(struct gen_rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased. */
uint64_t gen_below(struct gen_rng *r, uint64_t n);
/* Standard normal (Box-Muller, one value per call). */
double gen_normal(struct gen_rng *r);
/* Poisson with the given mean (>= 0). */
long gen_poisson(struct gen_rng *r, double mean);
/* Binomial(n, p); p is clamped to [0, 1]. */
long gen_binomial(struct gen_rng *r, long n, double p);

double gen_logistic(double x);
/* log(p / (1 - p)) with p kept inside [1e-6, 1 - 1e-6]. */
double gen_logit(double p);

/* Share `total` among n items in proportion to weight[i], as integers within
 * [lo[i], hi[i]] that add up to total exactly. lo and hi may be NULL (0 and no
 * upper limit). Each item's exact share is found by water-filling against the
 * limits; it then gets the floor or the ceiling of that share, chosen by
 * systematic sampling so the expected value is the exact share. When the
 * weights of the items with room are all zero, those items share equally.
 * Returns 0, or -1 (out untouched) when total < sum(lo) or total > sum(hi). */
int gen_allocate(struct gen_rng *r, long total, size_t n, const double *weight, const long *lo, const long *hi,
		 long *out);

/* Fill an nrows x ncols table of integers >= 0 (row-major, out[i * ncols + j])
 * whose row sums are rows[] and column sums cols[], each cell in proportion to
 * weight[i * ncols + j] as far as the sums allow. Columns are filled one at a
 * time, each from what its rows have left, in proportion to the row's share of
 * that column among the columns still to fill; the last column takes the rest.
 * Returns -1 when the rows and the columns do not add up to the same total or
 * a value is negative. */
int gen_allocate_table(struct gen_rng *r, size_t nrows, size_t ncols, const long *rows, const long *cols,
		       const double *weight, long *out);

/* The CBS secret code in PC6 and grid files. */
#define GEN_CBS_SECRET (-99997L)

/* A count as CBS publishes it: rounded to the nearest multiple of 5. */
long gen_cbs_round5(long v);

/* The letter pairs a Dutch postcode may end in: AA..ZZ without SA, SD and SS,
 * in alphabetical order. */
#define GEN_PC6_LETTERS 673

/* The pair at index (0 <= index < GEN_PC6_LETTERS) into out[3]. */
void gen_pc6_letters(int index, char out[3]);
/* The index of a pair ("AB"), or -1 when it is not one a postcode may use. */
int gen_pc6_letter_index(const char *letters);

/* Choose k of the n numbers 0..n-1 (k <= n), uniformly, written to out in
 * increasing order (Knuth's selection sampling). */
void gen_choose(struct gen_rng *r, size_t k, size_t n, size_t *out);

/* Position of (x, y) along a Hilbert curve of order 16 over the square with
 * lower-left corner (x0, y0) and side `size`; points outside are clamped. Near
 * positions get near numbers, which orders areas the way postcodes run. */
uint64_t gen_hilbert(double x, double y, double x0, double y0, double size);

/* A smooth random field at n points: independent standard normals, one per
 * point, averaged with a Gaussian kernel of the given bandwidth (cut off at
 * 3 bandwidths) and rescaled so each value is again standard normal. Nearby
 * points get similar values: the correlation of two points at distance d is
 * about exp(-d^2 / (4 bandwidth^2)). */
void gen_smooth_field(struct gen_rng *r, size_t n, const double *x, const double *y, double bandwidth, double *out);

/* Is (x, y) inside the closed ring of n vertices xy[2i], xy[2i+1] (even-odd
 * rule; the ring need not repeat its first vertex)? */
bool gen_point_in_ring(double x, double y, const double *xy, size_t n);

/* The two-sample Kolmogorov-Smirnov statistic D: the largest distance between
 * the empirical distribution functions of a and b. Sorts a and b in place. */
double gen_ks2(double *a, size_t na, double *b, size_t nb);

#endif
