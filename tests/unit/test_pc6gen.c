/* pc6gen: PC6 sizes, the figures of a buurt's PC6 and CBS-style rows. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/pc6gen.h"
#include "pc6risk/sbuf.h"

Test(pc6gen, sizes_are_derounded_within_what_cbs_would_publish)
{
	struct pc6gen_sizes s = {0};
	struct gen_rng r;
	bool seen_zero = false;

	pc6gen_sizes_add(&s, 20, 40);
	pc6gen_sizes_add(&s, -1, -1);
	pc6gen_sizes_add(&s, -1, 50);
	pc6gen_sizes_add(&s, 5, 5);
	gen_seed(&r, 1, 0);
	for (int i = 0; i < 20000; i++) {
		long hh, inh;

		pc6gen_draw_size(&s, &r, &hh, &inh);
		cr_assert_geq(inh, hh, "never fewer inhabitants than households");
		if (inh >= 38 && inh <= 42 && hh >= 18 && hh <= 22)
			continue;
		if (inh <= 4) {
			cr_assert(inh == 0 ? hh == 0 : hh >= 1 && hh <= inh, "%ld %ld", hh, inh);
			seen_zero |= inh == 0;
			continue;
		}
		if (inh >= 48 && inh <= 52 && hh <= 4)
			continue;
		cr_assert(hh >= 5 && hh <= 7 && inh >= 5 && inh <= 7, "(%ld, %ld) is no de-rounding of a drawn pair", hh,
			  inh);
	}
	cr_assert(seen_zero, "a secret size can be an empty PC6");
	pc6gen_sizes_free(&s);
}

static long total(const struct pc6gen_pc6 *p, size_t n, size_t offset)
{
	long t = 0;

	for (size_t i = 0; i < n; i++)
		t += *(const long *)((const char *)&p[i] + offset);
	return t;
}

Test(pc6gen, a_buurts_pc6_meet_its_totals_exactly)
{
	struct gen_rng w, r;

	gen_seed(&w, 7, 0);
	for (int trial = 0; trial < 300; trial++) {
		size_t n = 1 + gen_below(&w, 120);
		struct pc6gen_pc6 *p = calloc(n, sizeof *p);
		struct pc6gen_buurt b = {0};
		long age[PC6GEN_AGES] = {0};

		b.households = (long)gen_below(&w, 6000);
		b.inhabitants = b.households + (long)gen_below(&w, 7000);
		b.benefits = trial % 5 == 0 ? -1 : (long)gen_below(&w, (uint64_t)b.households / 3 + 1);
		b.other_benefits = (long)gen_below(&w, (uint64_t)b.households / 5 + 1);
		if (trial % 3) {
			for (int k = 0; k < PC6GEN_AGES; k++)
				b.age[k] = (double)gen_below(&w, 40);
			for (int k = 0; k < 3; k++)
				b.hhtype[k] = (double)gen_below(&w, 50);
		}
		b.deprivation = -5 + 4 * gen_uniform(&w);
		for (size_t i = 0; i < n; i++) {
			p[i].w_households = i % 9 == 0 ? 0 : 1 + (double)gen_below(&w, 60);
			p[i].w_inhabitants = p[i].w_households * (1 + gen_uniform(&w) * 2);
			p[i].z = gen_normal(&w);
		}
		gen_seed(&r, (uint64_t)trial, 1);
		cr_assert_eq(pc6gen_buurt(&r, &b, n, p), 0);
		cr_assert_eq(total(p, n, offsetof(struct pc6gen_pc6, households)), b.households, "trial %d", trial);
		cr_assert_eq(total(p, n, offsetof(struct pc6gen_pc6, inhabitants)), b.inhabitants, "trial %d", trial);
		if (b.benefits >= 0)
			cr_assert_eq(total(p, n, offsetof(struct pc6gen_pc6, benefits)), b.benefits, "trial %d", trial);
		cr_assert_eq(total(p, n, offsetof(struct pc6gen_pc6, benefits_all)),
			     total(p, n, offsetof(struct pc6gen_pc6, benefits)) + b.other_benefits);
		for (size_t i = 0; i < n; i++) {
			const struct pc6gen_pc6 *q = &p[i];
			long ages = 0;

			for (int k = 0; k < PC6GEN_AGES; k++) {
				ages += q->age[k];
				age[k] += q->age[k];
			}
			cr_assert_eq(ages, q->inhabitants, "trial %d pc6 %zu: the age bands add up", trial, i);
			cr_assert_geq(q->inhabitants, q->households);
			cr_assert_eq(q->one_person + q->no_children + q->one_parent + q->two_parent, q->households);
			cr_assert_leq(q->no_children + q->one_parent + q->two_parent, q->inhabitants - q->households,
				      "multi-person households have a second person");
			cr_assert(q->age_0_17 >= q->age[0] && q->age_0_17 <= q->age[0] + q->age[1]);
			cr_assert_leq(q->benefits, q->households);
			cr_assert_geq(q->dwellings, q->households);
			cr_assert_leq(q->before1945 + q->from1945to1964, q->dwellings);
			cr_assert(q->corporation <= q->rented && q->rented <= q->dwellings);
			cr_assert(q->low_income >= 0 && q->low_income + q->high_income <= 100 + 1e-9);
			cr_assert(q->income_class >= 1 && q->income_class <= 5);
			cr_assert_gt(q->woz, 0);
		}
		if (trial % 3) {
			/* the buurt's bands, from its percentages */
			double s = b.age[0] + b.age[1] + b.age[2] + b.age[3] + b.age[4];

			for (int k = 0; k < PC6GEN_AGES && s > 0; k++)
				cr_assert_leq(labs(age[k] - lround(b.inhabitants * b.age[k] / s)), 1, "trial %d band %d", trial, k);
		}
		free(p);
	}
}

Test(pc6gen, bijstand_goes_where_deprivation_is_high)
{
	struct pc6gen_pc6 p[200];
	struct pc6gen_buurt b = {.households = 4000, .inhabitants = 9000, .benefits = 600, .other_benefits = -1,
				 .deprivation = -1.9};
	struct gen_rng r;
	double lo = 0, hi = 0, nlo = 0, nhi = 0;

	memset(p, 0, sizeof p);
	for (int i = 0; i < 200; i++) {
		p[i].w_households = 20;
		p[i].w_inhabitants = 45;
		p[i].z = i < 100 ? -1.5 : 1.5;
	}
	gen_seed(&r, 4, 0);
	cr_assert_eq(pc6gen_buurt(&r, &b, 200, p), 0);
	for (int i = 0; i < 200; i++) {
		if (i < 100) {
			lo += (double)p[i].benefits;
			nlo += (double)p[i].households;
		} else {
			hi += (double)p[i].benefits;
			nhi += (double)p[i].households;
		}
	}
	cr_assert_gt(hi / nhi, 1.5 * lo / nlo, "rate where z is high %g, low %g", hi / nhi, lo / nlo);
}

Test(pc6gen, outcomes_rise_with_deprivation_and_saturate)
{
	struct gen_rng r;
	struct pc6gen_extras x;
	double mean[5] = {0};

	gen_seed(&r, 5, 0);
	/* the mean outcome at the Dutch level, +-1 and +-3 around it */
	for (int k = 0; k < 5; k++) {
		static const double d[5] = {-3, -1, 0, 1, 3};

		for (int i = 0; i < 2000; i++) {
			pc6gen_outcome(&r, PC6GEN_NL_DEPRIVATION + d[k], 0, 0, &x);
			cr_assert(x.child_outcome > 0 && x.child_outcome < 100);
			mean[k] += x.child_outcome / 2000;
		}
	}
	cr_assert(fabs(mean[2] - 45) < 1, "the Dutch level: %g", mean[2]);
	for (int k = 1; k < 5; k++)
		cr_assert_gt(mean[k], mean[k - 1] + 1, "rises with deprivation: %g after %g", mean[k], mean[k - 1]);
	cr_assert_lt(mean[4] - mean[3], (mean[3] - mean[2]) / 2, "saturates: %g %g %g", mean[2], mean[3], mean[4]);
	/* a local field 3 sd high lifts it by about 25 points, whatever the poverty */
	pc6gen_outcome(&r, PC6GEN_NL_DEPRIVATION, 3, 0, &x);
	cr_assert_gt(x.child_outcome, 55);
}

Test(pc6gen, an_empty_buurt_needs_no_pc6_but_people_do)
{
	struct gen_rng r;
	struct pc6gen_buurt empty = {0}, people = {.households = 3, .inhabitants = 5, .benefits = -1, .other_benefits = -1};

	gen_seed(&r, 1, 0);
	cr_assert_eq(pc6gen_buurt(&r, &empty, 0, NULL), 0);
	cr_assert_eq(pc6gen_buurt(&r, &people, 0, NULL), -1);
}

Test(pc6gen, rows_follow_cbs_rounding_and_secrecy)
{
	struct pc6gen_pc6 p = {0};
	struct sbuf b = {0};

	pc6gen_csv_header(&b);
	cr_assert_str_eq(b.s, "PC6;INWONER;INW_014;INW_1524;INW_2544;INW_4564;INW_65PL;INW_017;AANTAL_HH;TOTHH_EENP;"
			      "TOTHH_MPZK;HH_EENOUD;HH_TWEEOUD;GEM_HH_GR;WONING;WONVOOR45;WON_4564;WON_HCORP;WON_NBEW;"
			      "P_KOOPWON;P_HUURWON;WOZWONING;G_GAS_WON;P_LINK_HH;P_HINK_HH;M_INKHH;UITKMINAOW;"
			      "WWB_UITTOT;BRON\n");
	sbuf_reset(&b);
	p = (struct pc6gen_pc6){.inhabitants = 43, .households = 21, .age = {8, 6, 13, 11, 5}, .age_0_17 = 9,
				.one_person = 7, .no_children = 6, .one_parent = 3, .two_parent = 5, .dwellings = 22,
				.before1945 = 12, .from1945to1964 = 2, .corporation = 9, .unoccupied = 1, .rented = 13,
				.benefits = 4, .benefits_all = 7, .woz = 187.4, .gas = 1344, .low_income = 51.5,
				.high_income = 11.2, .income_class = 2};
	pc6gen_csv_row(&b, "2525AB", &p);
	cr_assert_str_eq(b.s, "2525AB;45;10;5;15;10;5;10;20;5;5;5;5;2,0;20;10;0;10;0;41;59;187;1340;52;11;2;5;5;"
			      "synthetisch\n");

	/* 4 inhabitants: person and household figures are secret, 6 dwellings are not */
	sbuf_reset(&b);
	p = (struct pc6gen_pc6){.inhabitants = 4, .households = 2, .age = {1, 0, 2, 1, 0}, .dwellings = 6,
				.rented = 3, .woz = 300, .gas = 1000, .income_class = 3};
	pc6gen_csv_row(&b, "2525AC", &p);
	cr_assert_str_eq(b.s, "2525AC;-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;"
			      "-99997;-99997;5;0;0;0;0;50;50;300;1000;-99997;-99997;-99997;-99997;-99997;synthetisch\n");

	/* 40 people in 3 households (a care home) in 3 dwellings */
	sbuf_reset(&b);
	p = (struct pc6gen_pc6){.inhabitants = 40, .households = 3, .age = {0, 0, 0, 0, 40}, .dwellings = 3,
				.one_person = 3, .income_class = 4};
	pc6gen_csv_row(&b, "2525AD", &p);
	cr_assert_str_eq(b.s, "2525AD;40;0;0;0;0;40;0;-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;"
			      "-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;-99997;0;0;synthetisch\n");
	sbuf_free(&b);
}
