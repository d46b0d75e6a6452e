/* stats: the numerics of scoring, against hand-computed values and R. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/stats.h"
#include "pc6risk/xalloc.h"

#define EPS 1e-9

/* want NaN matches NaN; anything else within EPS */
static void expect_all(const char *what, const double *got, const double *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (isnan(want[i]))
			cr_assert(isnan(got[i]), "%s[%zu]: %g, want NaN", what, i, got[i]);
		else
			cr_assert_float_eq(got[i], want[i], EPS, "%s[%zu]: %.12g, want %.12g", what, i, got[i], want[i]);
	}
}

Test(stats, rank_averages_ties_and_keeps_nan)
{
	/* sorted: 1 1 2 3 4 5 5 6 9 -> the 1s share ranks 1,2 (1.5), the 5s 6,7 (6.5) */
	const double x[] = {3, 1, 4, 1, 5, NAN, 9, 2, 6, 5};
	const double want[] = {4, 1.5, 5, 1.5, 6.5, NAN, 9, 3, 8, 6.5};
	/* -0 and 0 are equal values, so they tie */
	const double zeros[] = {0.0, -0.0, -1, INFINITY};
	const double want_zeros[] = {2.5, 2.5, 1, 4};
	const double none[] = {NAN, NAN};
	double r[10];

	stats_rank(x, 10, r);
	expect_all("rank", r, want, 10);
	stats_rank(zeros, 4, r);
	expect_all("rank of zeros", r, want_zeros, 4);
	stats_rank(none, 2, r);
	cr_assert(isnan(r[0]) && isnan(r[1]));
	stats_rank(x, 0, r);
}

/* Two groups, a unit left out (-1) and a NaN:
 * group 0 = 1 2 3 4 10, group 1 = 5 5 7 (the NaN does not count). */
static const double norm_x[] = {1, 2, 3, 4, 10, 5, 5, 7, 100, NAN};
static const int norm_group[] = {0, 0, 0, 0, 0, 1, 1, 1, -1, 1};

Test(stats, normalise_z_within_groups)
{
	/* group 0: mean 4, deviations -3 -2 -1 0 6, ss 50, sd sqrt(50/4) = 3.535534;
	 * group 1: mean 17/3, deviations -2/3 -2/3 4/3, ss 24/9, sd sqrt(4/3) = 1.154701 */
	const double want[] = {-3 / sqrt(12.5), -2 / sqrt(12.5), -1 / sqrt(12.5), 0, 6 / sqrt(12.5),
			       -0.577350269189626, -0.577350269189626, 1.154700538379251, NAN, NAN};
	/* Winsorised at 0.1/0.9, group 0: q(0.1) = 1 + 0.4 * (2 - 1) = 1.4 and
	 * q(0.9) = 4 + 0.6 * (10 - 4) = 7.6, so 1.4 2 3 4 7.6: mean 3.6, deviations
	 * -2.2 -1.6 -0.6 0.4 4.0, ss 23.92, sd sqrt(5.98) = 2.445404.
	 * Group 1: q(0.1) = 5, q(0.9) = 5 + 0.8 * 2 = 6.6; 5 5 6.6 has the same
	 * shape as 5 5 7, so the same z. */
	const double want_w[] = {-2.2 / sqrt(5.98), -1.6 / sqrt(5.98), -0.6 / sqrt(5.98), 0.4 / sqrt(5.98),
				 4.0 / sqrt(5.98), -0.577350269189626, -0.577350269189626, 1.154700538379251,
				 NAN, NAN};
	double out[10];

	stats_normalise(STATS_Z, norm_x, norm_group, 10, 0, 1, out);
	expect_all("z", out, want, 10);
	stats_normalise(STATS_Z, norm_x, norm_group, 10, 0.1, 0.9, out);
	expect_all("winsorised z", out, want_w, 10);
}

Test(stats, normalise_robust_z_within_groups)
{
	/* Group 0 unwinsorised: median 3, q(0.25) = 2, q(0.75) = 4, IQR 2, scale
	 * 2 / 1.349; 10 -> 7 * 1.349 / 2 = 4.7215. Winsorised at 0.1/0.9 the 10
	 * becomes 7.6 (see above) and the quartiles stay: 4.6 * 0.6745 = 3.1027.
	 * Group 1 winsorised: 5 5 6.6, median 5, q(0.75) = 5 + 0.5 * 1.6 = 5.8,
	 * IQR 0.8: 6.6 -> 1.6 / (0.8 / 1.349) = 2.698. The winsorised 1.4 gives
	 * (1.4 - 3) / (2 / 1.349) = -1.0792. */
	const double want[] = {-1.349, -0.6745, 0, 0.6745, 4.7215, 0, 0, 2.698, NAN, NAN};
	const double want_w[] = {-1.6 * 1.349 / 2, -0.6745, 0, 0.6745, 3.1027, 0, 0, 2.698, NAN, NAN};
	double out[10];

	stats_normalise(STATS_ROBUST_Z, norm_x, norm_group, 10, 0, 1, out);
	expect_all("robust z", out, want, 10);
	stats_normalise(STATS_ROBUST_Z, norm_x, norm_group, 10, 0.1, 0.9, out);
	expect_all("winsorised robust z", out, want_w, 10);
}

Test(stats, normalise_rank_and_minmax_within_groups)
{
	/* group 0: ranks 1..5 of 5; group 1: 5 5 7 rank 1.5 1.5 3 of 3 */
	const double want_rank[] = {0.2, 0.4, 0.6, 0.8, 1, 0.5, 0.5, 1, NAN, NAN};
	/* group 0: (x - 1) / 9; group 1: (x - 5) / 2 */
	const double want_minmax[] = {0, 1.0 / 9, 2.0 / 9, 3.0 / 9, 1, 0, 0, 1, NAN, NAN};
	double out[10];

	stats_normalise(STATS_RANK, norm_x, norm_group, 10, 0, 1, out);
	expect_all("rank", out, want_rank, 10);
	/* winsorising is only for the z scores: clamping would make ties */
	stats_normalise(STATS_RANK, norm_x, norm_group, 10, 0.25, 0.75, out);
	expect_all("rank, winsorising asked", out, want_rank, 10);
	stats_normalise(STATS_MINMAX, norm_x, norm_group, 10, 0, 1, out);
	expect_all("minmax", out, want_minmax, 10);
}

Test(stats, a_group_without_spread_gives_zero_and_ranks_as_usual)
{
	/* group 0: 0.1 three times (their mean need not be 0.1 exactly, which
	 * must not turn rounding into scores); group 1: one value */
	const double x[] = {0.1, 0.1, 0.1, 7};
	const int group[] = {0, 0, 0, 1};
	const double zero[] = {0, 0, 0, 0, 0};
	const double want_rank[] = {2.0 / 3, 2.0 / 3, 2.0 / 3, 1};
	/* an IQR of 0 with values that differ: 1 1 1 1 5 has q(0.25) = q(0.75) = 1 */
	const double sparse[] = {1, 1, 1, 1, 5};
	const int one[] = {0, 0, 0, 0, 0};
	const enum stats_norm flat[] = {STATS_Z, STATS_ROBUST_Z, STATS_MINMAX};
	double out[5];

	for (size_t k = 0; k < 3; k++) {
		stats_normalise(flat[k], x, group, 4, 0, 1, out);
		expect_all("constant group", out, zero, 4);
		stats_normalise(flat[k], x, group, 4, 0.05, 0.95, out);
		expect_all("constant group, winsorised", out, zero, 4);
	}
	stats_normalise(STATS_RANK, x, group, 4, 0, 1, out);
	expect_all("constant group ranks", out, want_rank, 4);
	stats_normalise(STATS_ROBUST_Z, sparse, one, 5, 0, 1, out);
	expect_all("robust z with IQR 0", out, zero, 5);
	/* winsorising away the only spread leaves none: 1 1 1 1 5 at hi 0.75 */
	stats_normalise(STATS_Z, sparse, one, 5, 0, 0.75, out);
	expect_all("z with the spread winsorised away", out, zero, 5);
}

/* The naive way, one group at a time, with stats_quantile (tested below). */
static void naive_normalise(enum stats_norm method, const double *x, const int *group, size_t n, int g, double lo,
			    double hi, double *out)
{
	double *v = xmalloc(n * sizeof *v), wlo, whi, centre, scale, sum = 0, ss = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (group[i] == g && !isnan(x[i]))
			v[m++] = x[i];
	wlo = stats_quantile(v, m, lo);
	whi = stats_quantile(v, m, hi);
	for (size_t k = 0; k < m; k++) {
		v[k] = fmin(fmax(v[k], wlo), whi);
		sum += v[k];
	}
	if (method == STATS_Z) {
		centre = sum / (double)m;
		for (size_t k = 0; k < m; k++)
			ss += (v[k] - centre) * (v[k] - centre);
		scale = sqrt(ss / (double)(m - 1));
	} else {
		centre = stats_quantile(v, m, 0.5);
		scale = (stats_quantile(v, m, 0.75) - stats_quantile(v, m, 0.25)) / 1.349;
	}
	/* no spread (one unit, all equal, an IQR of 0) gives 0, as documented */
	for (size_t i = 0; i < n; i++)
		if (group[i] == g && !isnan(x[i]))
			out[i] = m > 1 && scale > 0 ? (fmin(fmax(x[i], wlo), whi) - centre) / scale : 0;
	free(v);
}

/* groups sets their size: a few hundred units each (sorted by radix), or a
 * handful (by insertion), some groups empty. */
static void normalise_against_the_naive_way(int groups)
{
	enum { N = 2000 };
	static double x[N], got[N], want[N];
	static int group[N];
	struct gen_rng r;

	gen_seed(&r, 11, gen_stream("stats/normalise") + (uint64_t)groups);
	for (size_t i = 0; i < N; i++) {
		group[i] = (int)gen_below(&r, (uint64_t)groups + 1) - 1; /* -1 now and then */
		x[i] = gen_below(&r, 20) == 0 ? NAN : floor(exp(2 * gen_normal(&r)) * 10) / 10; /* skewed, ties */
	}
	for (int k = 0; k < 2; k++) {
		enum stats_norm method = k ? STATS_ROBUST_Z : STATS_Z;

		for (size_t i = 0; i < N; i++)
			want[i] = NAN;
		for (int g = 0; g < groups; g++)
			naive_normalise(method, x, group, N, g, 0.02, 0.95, want);
		stats_normalise(method, x, group, N, 0.02, 0.95, got);
		expect_all(k ? "robust z" : "z", got, want, N);
	}
	stats_normalise(STATS_RANK, x, group, N, 0, 1, got);
	for (int g = 0; g < groups; g++) {
		static double sub[N], rank[N];
		static size_t back[N];
		size_t m = 0;

		for (size_t i = 0; i < N; i++)
			if (group[i] == g && !isnan(x[i])) {
				back[m] = i;
				sub[m++] = x[i];
			}
		stats_rank(sub, m, rank);
		for (size_t k = 0; k < m; k++)
			cr_assert_float_eq(got[back[k]], rank[k] / (double)m, EPS, "%d groups, group %d", groups, g);
	}
	for (size_t i = 0; i < N; i++)
		if (group[i] < 0 || isnan(x[i]))
			cr_assert(isnan(got[i]), "unit %zu has no group or no value, yet a rank", i);
	/* a kept order gives the same, method after method, to the last bit */
	{
		static const enum stats_norm methods[] = {STATS_Z, STATS_ROBUST_Z, STATS_RANK, STATS_MINMAX};
		struct stats_order *o = stats_order_new(x, group, N);

		for (size_t k = 0; k < 4; k++) {
			stats_normalise(methods[k], x, group, N, 0.02, 0.95, want);
			stats_normalise_ordered(o, methods[k], x, 0.02, 0.95, got);
			for (size_t i = 0; i < N; i++)
				cr_assert(memcmp(&got[i], &want[i], sizeof got[i]) == 0,
					  "method %zu, unit %zu: %.17g from the kept order, %.17g sorted anew", k, i, got[i],
					  want[i]);
		}
		stats_order_free(o);
	}
}

Test(stats, normalise_agrees_with_the_naive_way_on_random_groups)
{
	normalise_against_the_naive_way(7);
}

Test(stats, normalise_agrees_with_the_naive_way_on_many_small_groups)
{
	normalise_against_the_naive_way(700);
}

/* Group 0 (5 units, min_units 3): num/den 10/1000 2/10 50/1000 30/1000 1/20.
 * m = 93 / 3030 = 0.0306931, nbar = 606; s2 = sum(den (rate - m)^2) / 3030
 * = (0.42820 + 0.28666 + 0.37276 + 0.00048 + 0.00746) / 3030 = 0.00036157;
 * A = s2 - m / nbar = 0.00036157 - 0.00005065 = 0.00031092.
 * A unit with den 1000: w = A / (A + m / 1000) = 0.910152; with den 10:
 * w = A / (A + m / 10) = 0.091981.
 * Group 1 (3/50, 0/80) is too small; its units use fallback 0 (groups 0 and 1,
 * 7 units): m = 96 / 3160 = 0.0303797, A = 0.00031674.
 * Group 2 (4/100) is too small and so is its fallback 1: w = 1.
 * Then a unit with den 0, one with group -1 and one with a NaN num. */
static const double eb_num[] = {10, 2, 50, 30, 1, 3, 0, 4, 5, 1, NAN};
static const double eb_den[] = {1000, 10, 1000, 1000, 20, 50, 80, 100, 0, 50, 100};
static const int eb_group[] = {0, 0, 0, 0, 0, 1, 1, 2, 0, -1, 0};
static const int eb_fallback[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};

Test(stats, eb_shrinks_small_units_most_and_uses_the_fallback)
{
	/* from the formulas in the header, computed in python3 */
	const double want_shrunk[] = {0.01185923495595114, 0.0462661317608391, 0.04826530709851449,
				      0.03006227102723281, 0.03394564447592068, 0.04052957746478873,
				      0.01656409961465462, 0.04, NAN, NAN, NAN};
	const double want_w[] = {0.9101518035640838, 0.09198124607279233, 0.9101518035640838, 0.9101518035640838,
				 0.16846671388101989, 0.3426652221018419, 0.454765054350952, 1, NAN, NAN, NAN};
	const double want_sd[] = {0.005285390466807574, 0.016802341386396306, 0.005285390466807574,
				  0.005285390466807574, 0.016079117707543854, 0.014429194500570583,
				  0.013141369421025161, 0.02, NAN, NAN, NAN};
	const double m0 = 93.0 / 3030;
	double shrunk[11], w[11], sd[11];

	stats_eb_shrink(eb_num, eb_den, eb_group, 3, eb_fallback, 2, 11, 3, shrunk, w, sd);
	expect_all("shrunk", shrunk, want_shrunk, 11);
	expect_all("weight", w, want_w, 11);
	expect_all("sd", sd, want_sd, 11);
	/* the large unit (rate 0.03, den 1000) barely moves; the small one (rate
	 * 0.2, den 10) goes most of the way to the group rate */
	cr_assert_lt(fabs(shrunk[3] - 0.03), 0.1 * fabs(0.03 - m0));
	cr_assert_lt(fabs(shrunk[1] - m0), 0.1 * fabs(0.2 - m0));
	cr_assert_float_eq(w[0], 0.00031092 / (0.00031092 + m0 / 1000), 1e-5);
	cr_assert_float_eq(w[1], 0.00031092 / (0.00031092 + m0 / 10), 1e-5);
	for (size_t i = 0; i < 8; i++)
		cr_assert(w[i] >= 0 && w[i] <= 1, "weight[%zu] = %g", i, w[i]);
}

Test(stats, eb_without_fallback_does_not_shrink_small_groups)
{
	double shrunk[11], w[11], sd[11];

	stats_eb_shrink(eb_num, eb_den, eb_group, 3, NULL, 0, 11, 3, shrunk, w, sd);
	cr_assert_float_eq(w[0], 0.9101518035640838, EPS, "group 0 is large enough on its own");
	/* group 1: w = 1, rate kept, sd = sqrt(m1 / den) with m1 = 3 / 130 */
	cr_assert_eq(w[5], 1);
	cr_assert_eq(shrunk[5], 0.06);
	cr_assert_eq(shrunk[6], 0);
	cr_assert_float_eq(sd[6], sqrt(3.0 / 130 / 80), EPS);
	/* min_units 1: every group uses its own estimates; group 2 has one
	 * unit, so s2 = 0, A = 0 and w = 0 */
	stats_eb_shrink(eb_num, eb_den, eb_group, 3, NULL, 0, 11, 1, shrunk, w, sd);
	cr_assert_eq(w[7], 0);
	cr_assert_float_eq(shrunk[7], 0.04, EPS);
	cr_assert_eq(sd[7], 0);
	for (size_t i = 8; i < 11; i++)
		cr_assert(isnan(shrunk[i]) && isnan(w[i]) && isnan(sd[i]));
}

Test(stats, eb_equal_rates_shrink_fully)
{
	/* all rates 0.05: s2 = 0, A = 0, w = 0, shrunk = m = 0.05 (also for all
	 * zeros, where m / den = 0 as well) */
	const double num[] = {5, 10, 1, 0, 0, 0};
	const double den[] = {100, 200, 20, 10, 20, 30};
	const int group[] = {0, 0, 0, 1, 1, 1};
	double shrunk[6], w[6], sd[6];

	stats_eb_shrink(num, den, group, 2, NULL, 0, 6, 2, shrunk, w, sd);
	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(w[i], 0);
		cr_assert_float_eq(shrunk[i], i < 3 ? 0.05 : 0, EPS);
		cr_assert_eq(sd[i], 0);
	}
}

Test(stats, imd_transform_follows_the_formula)
{
	/* -23 ln(1 - 0.5 (1 - e^(-100/23))) = -23 ln(0.506468) = 15.646790 */
	cr_assert_eq(stats_imd_transform(0), 0);
	cr_assert(!signbit(stats_imd_transform(0)), "0, not -0");
	cr_assert_float_eq(stats_imd_transform(0.5), 15.646790072602894, EPS);
	cr_assert_float_eq(stats_imd_transform(0.9), 50.426654274244, EPS);
	cr_assert_float_eq(stats_imd_transform(1), 100, EPS);
	for (double r = 0; r < 1; r += 0.01)
		cr_assert_lt(stats_imd_transform(r), stats_imd_transform(r + 0.01));
	cr_assert(isnan(stats_imd_transform(NAN)));
}

Test(stats, pca_of_two_perfectly_correlated_columns)
{
	/* z of 1 2 3 4: (x - 2.5) / sqrt(5/3); both columns the same z, so the
	 * correlation matrix is all 1s: eigenvalue 2 of trace 2, loadings
	 * 1/sqrt(2) each, scores sqrt(2) z = (-1.5 -0.5 0.5 1.5) * 1.0954451.
	 * A third, constant column gets loading 0 and adds no variance. */
	const double X[] = {1, 2, 7, 2, 4, 7, 3, 6, 7, 4, 8, 7};
	const double want_scores[] = {-1.5 * sqrt(1.2), -0.5 * sqrt(1.2), 0.5 * sqrt(1.2), 1.5 * sqrt(1.2)};
	double loadings[3], scores[4], explained;

	cr_assert_eq(stats_pca1(X, 4, 3, 0, loadings, scores, &explained), 0);
	cr_assert_float_eq(loadings[0], 1 / sqrt(2), EPS);
	cr_assert_float_eq(loadings[1], 1 / sqrt(2), EPS);
	cr_assert_eq(loadings[2], 0);
	cr_assert_float_eq(explained, 1, EPS);
	expect_all("scores", scores, want_scores, 4);
}

Test(stats, pca_of_a_known_three_column_case_and_the_sign_rule)
{
	/* u = (1 1 -1 -1), w = (1 -1 1 -1), t = (1 -1 -1 1) are orthogonal with
	 * mean 0. Columns u, u + w, t have correlations r12 = 4 / (2 sqrt(8)) =
	 * 1/sqrt(2), r13 = r23 = 0: eigenvalues 1 + 1/sqrt(2), 1, 1 - 1/sqrt(2);
	 * the first has loadings (1, 1, 0) / sqrt(2) and explains
	 * (1 + 1/sqrt(2)) / 3 = 0.569036. Scores: z1 = u * sqrt(3)/2, z2 = (u + w)
	 * * sqrt(3/8), so row 1 scores (0.866025 + 1.224745) / sqrt(2) = 1.478398
	 * and row 2 0.866025 / sqrt(2) = 0.612372. */
	const double X[] = {1, 2, 1, 1, 0, -1, -1, 0, -1, -1, -2, 1};
	const double want_scores[] = {1.4783978394, 0.6123724357, -0.6123724357, -1.4783978394};
	double neg[12], loadings[3], scores[4], explained;

	cr_assert_eq(stats_pca1(X, 4, 3, 2, loadings, scores, &explained), 0);
	cr_assert_float_eq(loadings[0], 1 / sqrt(2), EPS);
	cr_assert_float_eq(loadings[1], 1 / sqrt(2), EPS);
	cr_assert_float_eq(loadings[2], 0, EPS);
	cr_assert_float_eq(explained, (1 + 1 / sqrt(2)) / 3, EPS);
	expect_all("scores", scores, want_scores, 4);

	/* Column 2 turned around: loadings (1, -1, 0) / sqrt(2), the sign set
	 * by whichever column is asked to be >= 0. */
	memcpy(neg, X, sizeof neg);
	for (size_t i = 0; i < 4; i++)
		neg[i * 3 + 1] = -neg[i * 3 + 1];
	cr_assert_eq(stats_pca1(neg, 4, 3, 0, loadings, scores, &explained), 0);
	cr_assert_float_eq(loadings[0], 1 / sqrt(2), EPS);
	cr_assert_float_eq(loadings[1], -1 / sqrt(2), EPS);
	expect_all("scores", scores, want_scores, 4);
	cr_assert_eq(stats_pca1(neg, 4, 3, 1, loadings, scores, &explained), 0);
	cr_assert_float_eq(loadings[0], -1 / sqrt(2), EPS);
	cr_assert_float_eq(loadings[1], 1 / sqrt(2), EPS);
	cr_assert_float_eq(scores[0], -want_scores[0], EPS);
	cr_assert_float_eq(explained, (1 + 1 / sqrt(2)) / 3, EPS);
}

Test(stats, pca_counts_nan_as_the_column_mean)
{
	/* x1 = 1..5: z1 = (x1 - 3) / sqrt(10/4). x2 = 1 2 NaN 4 5: mean 3, sd
	 * sqrt(10/3), NaN -> 0, so z2 = z1 * sqrt(3/4). Correlation matrix
	 * [[1, sqrt(3)/2], [sqrt(3)/2, 3/4]] has rank 1: eigenvalue 7/4 = trace,
	 * loadings (1, sqrt(3)/2) / sqrt(7/4) = (2, sqrt(3)) / sqrt(7), scores
	 * sqrt(7/4) z1. */
	const double X[] = {1, 1, 2, 2, 3, NAN, 4, 4, 5, 5};
	double loadings[2], scores[5], explained;

	cr_assert_eq(stats_pca1(X, 5, 2, 0, loadings, scores, &explained), 0);
	cr_assert_float_eq(loadings[0], 2 / sqrt(7), EPS);
	cr_assert_float_eq(loadings[1], sqrt(3) / sqrt(7), EPS);
	cr_assert_float_eq(explained, 1, EPS);
	for (size_t i = 0; i < 5; i++)
		cr_assert_float_eq(scores[i], sqrt(1.75) * ((double)i - 2) / sqrt(2.5), EPS);
}

Test(stats, pca_refuses_what_has_no_component)
{
	const double X[] = {1, 2, 1, 2};
	double loadings[2] = {9, 9}, scores[2], explained;

	cr_assert_eq(stats_pca1(X, 2, 0, 0, loadings, scores, &explained), -1, "p == 0");
	cr_assert_eq(stats_pca1(X, 1, 2, 0, loadings, scores, &explained), -1, "n < 2");
	cr_assert_eq(stats_pca1(X, 2, 2, 2, loadings, scores, &explained), -1, "sign_col >= p");
	/* every column constant: no variance to explain */
	cr_assert_eq(stats_pca1(X, 2, 2, 0, loadings, scores, &explained), 0);
	cr_assert_eq(loadings[0], 0);
	cr_assert_eq(loadings[1], 0);
	cr_assert_eq(scores[0], 0);
	cr_assert(isnan(explained));
}

Test(stats, rank_correlations_of_identical_and_reversed_vectors)
{
	const double a[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
	double rev[10];

	for (size_t i = 0; i < 10; i++)
		rev[i] = -a[i];
	cr_assert_float_eq(stats_spearman(a, a, 10), 1, EPS);
	cr_assert_float_eq(stats_kendall(a, a, 10), 1, EPS);
	cr_assert_float_eq(stats_spearman(a, rev, 10), -1, EPS);
	cr_assert_float_eq(stats_kendall(a, rev, 10), -1, EPS);
}

Test(stats, rank_correlations_with_ties_match_r)
{
	/* R: a <- c(1,2,2,3,4,4,4,5,6,7); b <- c(2,1,3,3,5,4,6,6,8,7)
	 * cor(a, b, method = "kendall") = 0.8335696394 (tau-b: 45 pairs, 37
	 * concordant, 2 discordant, 4 tied in a, 2 in b: 35 / sqrt(41 * 43));
	 * cor(a, b, method = "spearman") = 0.9381209600 (Pearson's r of the
	 * ranks 1 2.5 2.5 4 6 6 6 8 9 10 and 2 1 3.5 3.5 6 5 7.5 7.5 10 9).
	 * Both computed by brute force in python3. */
	const double a[] = {1, 2, 2, 3, 4, 4, 4, 5, 6, 7};
	const double b[] = {2, 1, 3, 3, 5, 4, 6, 6, 8, 7};
	/* the same pairs shuffled, with pairs that have a NaN mixed in */
	const double a2[] = {4, NAN, 7, 1, 2, 4, 5, 3, 6, 2, 4, 8};
	const double b2[] = {6, 3, 7, 2, 3, 4, 6, 3, 8, 1, 5, NAN};

	cr_assert_float_eq(35 / sqrt(41.0 * 43), 0.8335696394016967, EPS);
	cr_assert_float_eq(stats_kendall(a, b, 10), 0.8335696394016967, EPS);
	cr_assert_float_eq(stats_spearman(a, b, 10), 0.93812095999547, EPS);
	cr_assert_float_eq(stats_kendall(a2, b2, 12), 0.8335696394016967, EPS);
	cr_assert_float_eq(stats_spearman(a2, b2, 12), 0.93812095999547, EPS);
}

Test(stats, rank_correlations_tie_minus_zero_with_zero)
{
	/* a ties 0 and -0: 3 pairs, 1 tied in a, the other 2 concordant, so
	 * tau-b = 2 / sqrt(2 * 3); ranks 1.5 1.5 3 and 2 1 3 around 2 give
	 * rho = 1.5 / sqrt(1.5 * 2) */
	const double a[] = {0.0, -0.0, 1};
	const double b[] = {2, 1, 3};

	cr_assert_float_eq(stats_kendall(a, b, 3), 2 / sqrt(6), EPS);
	cr_assert_float_eq(stats_spearman(a, b, 3), 1.5 / sqrt(3), EPS);
}

Test(stats, rank_correlations_need_two_pairs_and_spread)
{
	const double a[] = {1, 2, NAN, 4};
	const double b[] = {NAN, 5, 6, NAN};
	const double c[] = {5, 6, 7};
	const double flat[] = {3, 3, 3};

	cr_assert(isnan(stats_kendall(a, b, 4)), "one complete pair");
	cr_assert(isnan(stats_spearman(a, b, 4)));
	cr_assert(isnan(stats_kendall(a, b, 0)));
	cr_assert(isnan(stats_spearman(a, b, 0)));
	cr_assert(isnan(stats_kendall(flat, c, 3)), "no spread in a");
	cr_assert(isnan(stats_spearman(c, flat, 3)), "no spread in b");
	cr_assert_float_eq(stats_kendall(a + 1, c, 3), 1, EPS, "(2,5) (4,7): one concordant pair");
	cr_assert_float_eq(stats_spearman(a + 1, c, 3), 1, EPS);
}

/* tau-b by its definition, over all pairs */
static double naive_kendall(const double *a, const double *b, size_t n)
{
	double conc = 0, disc = 0, ta = 0, tb = 0, pairs = 0;

	for (size_t i = 0; i < n; i++) {
		if (isnan(a[i]) || isnan(b[i]))
			continue;
		for (size_t j = i + 1; j < n; j++) {
			double s;

			if (isnan(a[j]) || isnan(b[j]))
				continue;
			s = (a[i] - a[j]) * (b[i] - b[j]);
			pairs++;
			conc += s > 0;
			disc += s < 0;
			ta += a[i] == a[j];
			tb += b[i] == b[j];
		}
	}
	return (conc - disc) / sqrt((pairs - ta) * (pairs - tb));
}

/* Pearson's r of ranks found by counting */
static double naive_spearman(const double *a, const double *b, size_t n)
{
	double ra[500], rb[500], ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		double less_a = 0, eq_a = 0, less_b = 0, eq_b = 0;

		if (isnan(a[i]) || isnan(b[i]))
			continue;
		for (size_t j = 0; j < n; j++) {
			if (isnan(a[j]) || isnan(b[j]))
				continue;
			less_a += a[j] < a[i];
			eq_a += a[j] == a[i];
			less_b += b[j] < b[i];
			eq_b += b[j] == b[i];
		}
		ra[m] = less_a + (eq_a + 1) / 2;
		rb[m] = less_b + (eq_b + 1) / 2;
		ma += ra[m];
		mb += rb[m++];
	}
	ma /= (double)m;
	mb /= (double)m;
	for (size_t k = 0; k < m; k++) {
		sab += (ra[k] - ma) * (rb[k] - mb);
		saa += (ra[k] - ma) * (ra[k] - ma);
		sbb += (rb[k] - mb) * (rb[k] - mb);
	}
	return sab / sqrt(saa * sbb);
}

Test(stats, rank_correlations_agree_with_their_definitions_on_random_ties)
{
	enum { N = 500 };
	double a[N], b[N];
	struct gen_rng r;

	gen_seed(&r, 5, gen_stream("stats/kendall"));
	for (int round = 0; round < 20; round++) {
		uint64_t levels = 2 + gen_below(&r, 40);

		for (size_t i = 0; i < N; i++) {
			a[i] = (double)gen_below(&r, levels) - (double)levels / 2;
			b[i] = round % 2 ? floor(a[i] / 3 + gen_normal(&r)) : gen_normal(&r);
			if (gen_below(&r, 25) == 0)
				(gen_below(&r, 2) ? a : b)[i] = NAN;
		}
		cr_assert_float_eq(stats_kendall(a, b, N), naive_kendall(a, b, N), 1e-12, "round %d", round);
		cr_assert_float_eq(stats_spearman(a, b, N), naive_spearman(a, b, N), 1e-12, "round %d", round);
	}
}

/* National scale: it must finish well within the test timeout, and agree with
 * theory for a bivariate normal with correlation 1/sqrt(2): tau = (2/pi)
 * asin(rho) = 0.5, rho_s = (6/pi) asin(rho/2) = 0.690184. */
Test(stats, national_scale_rank_kendall_and_normalise)
{
	const size_t n = 450000;
	double *a = xmalloc(n * sizeof *a), *b = xmalloc(n * sizeof *b), *rank = xmalloc(n * sizeof *rank);
	size_t *at = xcalloc(n, sizeof *at);
	int *group = xmalloc(n * sizeof *group);
	struct gen_rng r;

	gen_seed(&r, 2026, gen_stream("stats/national"));
	for (size_t i = 0; i < n; i++) {
		a[i] = gen_normal(&r);
		b[i] = a[i] + gen_normal(&r);
		group[i] = (int)gen_below(&r, 342);
	}
	stats_rank(a, n, rank);
	/* the ranks are a permutation of 1..n in the order of a */
	for (size_t i = 0; i < n; i++) {
		size_t k = (size_t)rank[i];

		cr_assert(k >= 1 && k <= n && (double)k == rank[i] && at[k - 1] == 0);
		at[k - 1] = i + 1;
	}
	for (size_t k = 1; k < n; k++)
		cr_assert_lt(a[at[k - 1] - 1], a[at[k] - 1]);
	cr_assert_float_eq(stats_kendall(a, b, n), 0.5, 0.005);
	cr_assert_float_eq(stats_spearman(a, b, n), 0.690184, 0.005);
	stats_normalise(STATS_ROBUST_Z, a, group, n, 0.01, 0.99, rank);
	for (size_t i = 0; i < n; i++)
		cr_assert(rank[i] > -4 && rank[i] < 4, "a winsorised normal stays within 2.33 / 0.674 sd");
	free(a);
	free(b);
	free(rank);
	free(at);
	free(group);
}

Test(stats, top_takes_the_highest_with_ties_to_the_lower_index)
{
	const double x[] = {5, NAN, 7, 5, 7, 1};
	const size_t want[] = {2, 4, 0, 3, 5};
	size_t out[6];

	cr_assert_eq(stats_top(x, 6, 3, out), 3);
	cr_assert_arr_eq(out, want, 3 * sizeof *out);
	cr_assert_eq(stats_top(x, 6, 10, out), 5, "NaN never counts");
	cr_assert_arr_eq(out, want, 5 * sizeof *out);
	cr_assert_eq(stats_top(x, 6, 0, out), 0);
}

Test(stats, jaccard_of_top_sets)
{
	const double a[] = {9, 8, 7, 1, 2, 3};
	const double b[] = {1, 8, 7, 9, 2, 3};
	const double c[] = {1, 2, 3, 9, 8, 7};
	const double ties[] = {4, 4, 4, 4, 4, 4};
	const double none[] = {NAN, NAN, NAN, NAN, NAN, NAN};

	cr_assert_eq(stats_jaccard_top(a, a, 6, 3), 1, "identical");
	cr_assert_eq(stats_jaccard_top(a, c, 6, 3), 0, "disjoint: {0 1 2} and {3 4 5}");
	cr_assert_eq(stats_jaccard_top(a, b, 6, 3), 0.5, "{0 1 2} and {1 2 3}: 2 of 4");
	cr_assert_eq(stats_jaccard_top(ties, a, 6, 2), 1, "all tied: the lowest indexes, {0 1}");
	cr_assert_eq(stats_jaccard_top(none, none, 6, 3), 1, "both empty");
	cr_assert_eq(stats_jaccard_top(a, b, 6, 0), 1, "top 0: both empty");
	cr_assert_eq(stats_jaccard_top(a, none, 6, 3), 0, "one empty");
	cr_assert_eq(stats_jaccard_top(a, c, 6, 100), 1, "top beyond n: everything");
}

Test(stats, dirichlet_draws_sum_to_one_are_reproducible_and_have_their_moments)
{
	/* alpha 0.3 1 2.5 6 (sum 9.8): means alpha / 9.8, variances
	 * alpha (9.8 - alpha) / (9.8^2 * 10.8) */
	const double alpha[] = {0.3, 1, 2.5, 6};
	const int draws = 100000;
	double mean[4] = {0}, sq[4] = {0}, x[4], y[4];
	struct gen_rng r, r2;

	gen_seed(&r, 7, gen_stream("stats/dirichlet"));
	gen_seed(&r2, 7, gen_stream("stats/dirichlet"));
	for (int d = 0; d < draws; d++) {
		double sum = 0;

		stats_dirichlet(&r, alpha, 4, x);
		if (d < 100) {
			stats_dirichlet(&r2, alpha, 4, y);
			cr_assert_arr_eq(x, y, sizeof x, "the same seed gives the same draws");
		}
		for (size_t j = 0; j < 4; j++) {
			cr_assert(x[j] >= 0 && x[j] <= 1);
			sum += x[j];
			mean[j] += x[j];
			sq[j] += x[j] * x[j];
		}
		cr_assert_float_eq(sum, 1, 1e-12);
	}
	for (size_t j = 0; j < 4; j++) {
		double m = mean[j] / draws, v = sq[j] / draws - m * m;
		double want_m = alpha[j] / 9.8, want_v = alpha[j] * (9.8 - alpha[j]) / (9.8 * 9.8 * 10.8);

		cr_assert_float_eq(m, want_m, 0.003, "mean[%zu] %g, want %g", j, m, want_m);
		cr_assert_float_eq(v, want_v, 0.03 * want_v, "variance[%zu] %g, want %g", j, v, want_v);
	}
	gen_seed(&r2, 8, gen_stream("stats/dirichlet"));
	stats_dirichlet(&r2, alpha, 4, y);
	stats_dirichlet(&r, alpha, 4, x);
	cr_assert(memcmp(x, y, sizeof x) != 0, "another seed, other draws");
}

Test(stats, dirichlet_with_tiny_alphas_still_sums_to_one)
{
	/* u^(1/alpha) underflows for alpha 0.001; the draws are made in logs */
	const double alpha[] = {0.001, 0.001, 0.002};
	const double bad[] = {1, 0};
	double x[3];
	struct gen_rng r;

	gen_seed(&r, 1, 0);
	for (int d = 0; d < 1000; d++) {
		stats_dirichlet(&r, alpha, 3, x);
		cr_assert(!isnan(x[0]) && !isnan(x[1]) && !isnan(x[2]));
		cr_assert_float_eq(x[0] + x[1] + x[2], 1, 1e-12);
	}
	stats_dirichlet(&r, bad, 2, x);
	cr_assert(isnan(x[0]) && isnan(x[1]), "alpha 0 is no distribution");
}

Test(stats, quantiles_match_r_type_7)
{
	/* R: quantile(c(3,1,4,1,5,9,2,6), c(0,.1,.25,.5,.75,.9,1)) gives
	 * 1 1 1.75 3.5 5.25 6.9 9: sorted 1 1 2 3 4 5 6 9, position 1 + 7q,
	 * e.g. q = 0.25 -> 2.75 -> 1 + 0.75 * (2 - 1), q = 0.9 -> 7.3 -> 6 + 0.3 * 3 */
	double x[] = {3, 1, 4, NAN, 1, 5, 9, 2, 6};
	const double copy[] = {3, 1, 4, NAN, 1, 5, 9, 2, 6};
	const double q[] = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 1};
	const double want[] = {1, 1, 1.75, 3.5, 5.25, 6.9, 9};
	const double one = 42, none[] = {NAN};

	for (size_t k = 0; k < 7; k++)
		cr_assert_float_eq(stats_quantile(x, 9, q[k]), want[k], EPS, "q %g", q[k]);
	for (size_t i = 0; i < 9; i++)
		cr_assert(x[i] == copy[i] || (isnan(x[i]) && isnan(copy[i])), "x is not changed");
	cr_assert_eq(stats_quantile(&one, 1, 0.3), 42);
	cr_assert(isnan(stats_quantile(none, 1, 0.5)));
	cr_assert(isnan(stats_quantile(x, 0, 0.5)));
	cr_assert(isnan(stats_quantile(x, 9, 1.5)));
}

Test(stats, weighted_mean_skips_nan_and_zero_weights)
{
	/* (1 * 1 + 3 * 2) / (1 + 3) = 1.75: the NaN value, the zero weight and
	 * the NaN weight leave their values out */
	const double x[] = {1, 2, NAN, 4, 10};
	const double w[] = {1, 3, 5, 0, NAN};
	const double zero[] = {0, 0, 0, 0, 0};

	cr_assert_float_eq(stats_weighted_mean(x, w, 5), 1.75, EPS);
	cr_assert(isnan(stats_weighted_mean(x, zero, 5)));
	cr_assert(isnan(stats_weighted_mean(x, w, 0)));
}
