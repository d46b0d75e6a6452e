/* gen: the random numbers, allocation, CBS conventions and helpers synth builds on. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/gen.h"

Test(gen, the_same_seed_and_stream_give_the_same_numbers)
{
	struct gen_rng a, b, c;

	gen_seed(&a, 42, 7);
	gen_seed(&b, 42, 7);
	gen_seed(&c, 42, 8);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = gen_next(&a);

		cr_assert_eq(x, gen_next(&b));
		cr_assert_neq(x, gen_next(&c), "another stream gives other numbers");
	}
	cr_assert_neq(gen_stream("BU05182915/sizes"), gen_stream("BU05182916/sizes"));
}

Test(gen, uniform_normal_and_below_have_their_moments)
{
	struct gen_rng r;
	double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
	long counts[7] = {0};
	const int n = 200000;

	gen_seed(&r, 1, 0);
	for (int i = 0; i < n; i++) {
		double u = gen_uniform(&r), z = gen_normal(&r);

		cr_assert(u >= 0 && u < 1);
		sum += u;
		sum2 += u * u;
		nsum += z;
		nsum2 += z * z;
		counts[gen_below(&r, 7)]++;
	}
	cr_assert_float_eq(sum / n, 0.5, 0.005);
	cr_assert_float_eq(sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
	cr_assert_float_eq(nsum / n, 0, 0.01);
	cr_assert_float_eq(nsum2 / n, 1, 0.02);
	for (int k = 0; k < 7; k++)
		cr_assert_float_eq(counts[k] / (double)n, 1.0 / 7, 0.005, "gen_below(7) hits %d too often or too rarely", k);
}

static void check_counts(const char *what, long (*draw)(struct gen_rng *, double, double), double a, double b,
			 double mean, double var)
{
	struct gen_rng r;
	double s = 0, s2 = 0;
	const int n = 100000;

	gen_seed(&r, 3, gen_stream(what));
	for (int i = 0; i < n; i++) {
		long k = draw(&r, a, b);

		cr_assert_geq(k, 0);
		s += (double)k;
		s2 += (double)k * (double)k;
	}
	s /= n;
	s2 = s2 / n - s * s;
	cr_assert_float_eq(s, mean, 0.02 * mean + 0.01, "%s(%g, %g): mean %g, want %g", what, a, b, s, mean);
	cr_assert_float_eq(s2, var, 0.05 * var + 0.01, "%s(%g, %g): variance %g, want %g", what, a, b, s2, var);
}

static long poisson(struct gen_rng *r, double mean, double unused)
{
	(void)unused;
	return gen_poisson(r, mean);
}

static long binomial(struct gen_rng *r, double n, double p)
{
	long k = gen_binomial(r, (long)n, p);

	cr_assert_leq(k, (long)n);
	return k;
}

Test(gen, poisson_and_binomial_have_their_moments_in_every_regime)
{
	check_counts("poisson", poisson, 0.3, 0, 0.3, 0.3);
	check_counts("poisson", poisson, 4, 0, 4, 4);
	check_counts("poisson", poisson, 55, 0, 55, 55);
	check_counts("binomial", binomial, 20, 0.3, 6, 4.2);
	check_counts("binomial", binomial, 500, 0.02, 10, 9.8);
	check_counts("binomial", binomial, 800, 0.4, 320, 192);
	check_counts("binomial", binomial, 300, 0.9, 270, 27);
}

static long sum_of(const long *v, size_t n)
{
	long s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

Test(gen, allocation_meets_the_total_exactly_within_the_limits)
{
	struct gen_rng r, w;

	gen_seed(&w, 99, 0);
	for (int trial = 0; trial < 3000; trial++) {
		size_t n = 1 + gen_below(&w, 40);
		double weight[40];
		long lo[40], hi[40], out[40], minsum = 0, maxsum = 0, total;
		bool bounded = trial % 2 == 0;

		for (size_t i = 0; i < n; i++) {
			weight[i] = trial % 7 == 0 && i % 3 == 0 ? 0 : gen_uniform(&w) * 100;
			lo[i] = bounded ? (long)gen_below(&w, 5) : 0;
			hi[i] = lo[i] + (long)gen_below(&w, 30);
			minsum += lo[i];
			maxsum += hi[i];
		}
		total = bounded ? minsum + (long)gen_below(&w, (uint64_t)(maxsum - minsum + 1)) : (long)gen_below(&w, 1000);
		gen_seed(&r, (uint64_t)trial, 1);
		cr_assert_eq(gen_allocate(&r, total, n, weight, bounded ? lo : NULL, bounded ? hi : NULL, out), 0,
			     "trial %d", trial);
		cr_assert_eq(sum_of(out, n), total, "trial %d: the parts add up to the total", trial);
		for (size_t i = 0; i < n; i++) {
			cr_assert_geq(out[i], bounded ? lo[i] : 0, "trial %d item %zu below its floor", trial, i);
			if (bounded)
				cr_assert_leq(out[i], hi[i], "trial %d item %zu above its ceiling", trial, i);
		}
	}
}

Test(gen, unbounded_allocation_rounds_each_share_up_or_down_and_is_unbiased)
{
	double weight[5] = {1, 2, 3, 0, 4.5};
	double mean[5] = {0};
	long out[5];
	const long total = 37;
	const int runs = 20000;

	for (int s = 0; s < runs; s++) {
		struct gen_rng r;

		gen_seed(&r, (uint64_t)s, 2);
		cr_assert_eq(gen_allocate(&r, total, 5, weight, NULL, NULL, out), 0);
		for (int i = 0; i < 5; i++) {
			double exact = total * weight[i] / 10.5;

			cr_assert(out[i] == (long)floor(exact) || out[i] == (long)ceil(exact), "item %d got %ld of %g", i,
				  out[i], exact);
			mean[i] += (double)out[i] / runs;
		}
	}
	for (int i = 0; i < 5; i++)
		cr_assert_float_eq(mean[i], total * weight[i] / 10.5, 0.02, "item %d: mean %g", i, mean[i]);
}

Test(gen, allocation_refuses_what_the_limits_forbid_and_shares_equally_without_weights)
{
	struct gen_rng r;
	long lo[3] = {1, 1, 1}, hi[3] = {2, 2, 2}, out[3] = {-7, -7, -7};
	double none[3] = {0, 0, 0};

	gen_seed(&r, 5, 0);
	cr_assert_eq(gen_allocate(&r, 2, 3, NULL, lo, hi, out), -1, "below the floors");
	cr_assert_eq(gen_allocate(&r, 7, 3, NULL, lo, hi, out), -1, "above the ceilings");
	cr_assert_eq(out[0], -7, "a refusal leaves out alone");
	cr_assert_eq(gen_allocate(&r, 9, 3, none, NULL, NULL, out), 0);
	cr_assert(out[0] == 3 && out[1] == 3 && out[2] == 3);
	/* the weighted item is full at 2: the rest goes to the others */
	{
		double w[3] = {1, 0, 0};
		long cap[3] = {2, 10, 10};

		cr_assert_eq(gen_allocate(&r, 8, 3, w, NULL, cap, out), 0);
		cr_assert(out[0] == 2 && out[1] == 3 && out[2] == 3, "%ld %ld %ld", out[0], out[1], out[2]);
	}
}

Test(gen, a_table_meets_its_row_and_column_sums)
{
	struct gen_rng r, w;

	gen_seed(&w, 11, 0);
	for (int trial = 0; trial < 500; trial++) {
		size_t nr = 1 + gen_below(&w, 30), nc = 1 + gen_below(&w, 6);
		long rows[30], cols[6] = {0}, out[180], total = 0;
		double weight[180];

		for (size_t i = 0; i < nr; i++) {
			rows[i] = (long)gen_below(&w, 60);
			total += rows[i];
		}
		for (size_t i = 0; i < nr * nc; i++)
			weight[i] = gen_uniform(&w);
		/* split the total over the columns at random */
		for (long k = 0; k < total; k++)
			cols[gen_below(&w, nc)]++;
		gen_seed(&r, (uint64_t)trial, 3);
		cr_assert_eq(gen_allocate_table(&r, nr, nc, rows, cols, weight, out), 0);
		for (size_t i = 0; i < nr; i++) {
			long s = 0;

			for (size_t j = 0; j < nc; j++) {
				cr_assert_geq(out[i * nc + j], 0);
				s += out[i * nc + j];
			}
			cr_assert_eq(s, rows[i], "trial %d row %zu", trial, i);
		}
		for (size_t j = 0; j < nc; j++) {
			long s = 0;

			for (size_t i = 0; i < nr; i++)
				s += out[i * nc + j];
			cr_assert_eq(s, cols[j], "trial %d column %zu", trial, j);
		}
	}
	{
		long rows[2] = {3, 4}, cols[2] = {3, 3}, out[4];

		cr_assert_eq(gen_allocate_table(&r, 2, 2, rows, cols, NULL, out), -1, "the sums differ");
	}
}

Test(gen, counts_round_to_the_nearest_multiple_of_five)
{
	static const long in[] = {0, 1, 2, 3, 4, 5, 7, 8, 12, 13, 997, 998, -3};
	static const long want[] = {0, 0, 0, 5, 5, 5, 5, 10, 10, 15, 995, 1000, -5};

	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		cr_assert_eq(gen_cbs_round5(in[i]), want[i], "%ld", in[i]);
}

Test(gen, postcode_letters_skip_sa_sd_ss_and_round_trip)
{
	char prev[3] = "", pair[3];

	for (int i = 0; i < GEN_PC6_LETTERS; i++) {
		gen_pc6_letters(i, pair);
		cr_assert_eq(strlen(pair), 2);
		cr_assert(strcmp(pair, "SA") && strcmp(pair, "SD") && strcmp(pair, "SS"), "%s", pair);
		cr_assert_gt(strcmp(pair, prev), 0, "alphabetical order");
		cr_assert_eq(gen_pc6_letter_index(pair), i, "%s", pair);
		memcpy(prev, pair, 3);
	}
	gen_pc6_letters(0, pair);
	cr_assert_str_eq(pair, "AA");
	gen_pc6_letters(GEN_PC6_LETTERS - 1, pair);
	cr_assert_str_eq(pair, "ZZ");
	cr_assert_eq(gen_pc6_letter_index("SD"), -1);
	cr_assert_eq(gen_pc6_letter_index("ab"), -1);
	cr_assert_eq(gen_pc6_letter_index("ABC"), -1);
}

Test(gen, choose_picks_k_distinct_sorted_numbers_uniformly)
{
	struct gen_rng r;
	long hits[20] = {0};
	size_t out[20];

	gen_seed(&r, 8, 0);
	for (int t = 0; t < 20000; t++) {
		gen_choose(&r, 5, 20, out);
		for (int i = 0; i < 5; i++) {
			cr_assert_lt(out[i], 20);
			if (i)
				cr_assert_gt(out[i], out[i - 1]);
			hits[out[i]]++;
		}
	}
	for (int i = 0; i < 20; i++)
		cr_assert_float_eq(hits[i] / 20000.0, 0.25, 0.02, "number %d", i);
	gen_choose(&r, 20, 20, out);
	for (size_t i = 0; i < 20; i++)
		cr_assert_eq(out[i], i);
}

Test(gen, the_hilbert_order_steps_between_neighbouring_cells)
{
	/* at the coarse level of 16 x 16 cells, consecutive positions are adjacent */
	int cx[256], cy[256];

	memset(cx, -1, sizeof cx);
	for (int x = 0; x < 16; x++) {
		for (int y = 0; y < 16; y++) {
			uint64_t d = gen_hilbert(x * 100 + 50, y * 100 + 50, 0, 0, 1600) >> 24;

			cr_assert_lt(d, 256);
			cr_assert_eq(cx[d], -1, "two cells share position %llu", (unsigned long long)d);
			cx[d] = x;
			cy[d] = y;
		}
	}
	for (int d = 1; d < 256; d++)
		cr_assert_eq(abs(cx[d] - cx[d - 1]) + abs(cy[d] - cy[d - 1]), 1, "step %d", d);
}

Test(gen, the_smooth_field_is_standard_normal_and_alike_for_neighbours)
{
	enum { side = 120 };
	static double x[side * side], y[side * side], f[side * side];
	struct gen_rng r;
	double s = 0, s2 = 0, near = 0, far = 0;
	size_t n = side * side, nnear = 0, nfar = 0;

	for (size_t i = 0; i < n; i++) {
		x[i] = (double)(i % side) * 50;
		y[i] = (double)(i / side) * 50;
	}
	gen_seed(&r, 21, 0);
	gen_smooth_field(&r, n, x, y, 150, f);
	for (size_t i = 0; i < n; i++) {
		s += f[i];
		s2 += f[i] * f[i];
		if (i % side + 1 < side) {
			near += f[i] * f[i + 1];
			nnear++;
		}
		if (i % side + 20 < side) {
			far += f[i] * f[i + 20];
			nfar++;
		}
	}
	cr_assert_float_eq(s / n, 0, 0.2);
	cr_assert_float_eq(s2 / n, 1, 0.2);
	/* 50 m apart with a 150 m bandwidth: exp(-50^2 / (4 * 150^2)) = 0.97 */
	cr_assert_gt(near / nnear, 0.85, "neighbours correlate %g", near / nnear);
	cr_assert_lt(fabs(far / nfar), 0.15, "points 1 km apart hardly correlate: %g", far / nfar);
}

Test(gen, point_in_ring_follows_the_even_odd_rule)
{
	/* an L shape */
	static const double ring[] = {0, 0, 10, 0, 10, 4, 4, 4, 4, 10, 0, 10};

	cr_assert(gen_point_in_ring(2, 2, ring, 6));
	cr_assert(gen_point_in_ring(2, 8, ring, 6));
	cr_assert(gen_point_in_ring(8, 2, ring, 6));
	cr_assert_not(gen_point_in_ring(8, 8, ring, 6), "the notch is outside");
	cr_assert_not(gen_point_in_ring(-1, 2, ring, 6));
	cr_assert_not(gen_point_in_ring(2, 2, ring, 2), "two vertices are no ring");
}

Test(gen, ks_statistic_of_known_samples)
{
	double a[4] = {1, 2, 3, 4}, b[4] = {4, 3, 2, 1}, c[2] = {10, 11}, d[3] = {1, 2, 2}, e[3] = {2, 3, 3};

	cr_assert_float_eq(gen_ks2(a, 4, b, 4), 0, 1e-12);
	cr_assert_float_eq(gen_ks2(a, 4, c, 2), 1, 1e-12);
	/* F_d: 1/3 at 1, 1 at 2; F_e: 0 at 1, 1/3 at 2, 1 at 3 */
	cr_assert_float_eq(gen_ks2(d, 3, e, 3), 2.0 / 3, 1e-12);
}
