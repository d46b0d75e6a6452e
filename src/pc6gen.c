#include "pc6risk/pc6gen.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Dutch averages (CBS, around 2015-2020) used when a buurt gives none. */
static const double nl_age[PC6GEN_AGES] = {16, 12, 25, 28, 19};
static const double nl_hhtype[3] = {38, 33, 29};

void pc6gen_sizes_add(struct pc6gen_sizes *s, long households, long inhabitants)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->households = xrealloc(s->households, s->cap * sizeof *s->households);
		s->inhabitants = xrealloc(s->inhabitants, s->cap * sizeof *s->inhabitants);
	}
	s->households[s->n] = households;
	s->inhabitants[s->n] = inhabitants;
	s->n++;
}

void pc6gen_sizes_free(struct pc6gen_sizes *s)
{
	free(s->households);
	free(s->inhabitants);
	memset(s, 0, sizeof *s);
}

/* A whole number CBS would have published as v (>= 5). */
static long unround(struct gen_rng *r, long v)
{
	long lo = v - 2 < 5 ? 5 : v - 2;

	return lo + (long)gen_below(r, (uint64_t)(v + 2 - lo + 1));
}

void pc6gen_draw_size(const struct pc6gen_sizes *s, struct gen_rng *r, long *households, long *inhabitants)
{
	size_t k = (size_t)gen_below(r, s->n);
	long hh = s->households[k], inh = s->inhabitants[k];

	if (inh < 0) {
		inh = (long)gen_below(r, 5);
		hh = inh == 0 ? 0 : 1 + (long)gen_below(r, (uint64_t)inh);
	} else {
		inh = unround(r, inh);
		hh = hh < 0 ? (long)gen_below(r, 5) : unround(r, hh);
	}
	*households = hh;
	*inhabitants = inh < hh ? hh : inh;
}

/* gen_allocate within [0, hi] when that is possible, else without the ceiling. */
static void share_out(struct gen_rng *r, long total, size_t n, const double *w, const long *hi, long *out)
{
	if (gen_allocate(r, total, n, w, NULL, hi, out) < 0)
		gen_allocate(r, total, n, w, NULL, NULL, out);
}

static double clamp01(double p)
{
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* Split a buurt total over categories in proportion to shares (all 0: fallback). */
static void split_total(struct gen_rng *r, long total, size_t n, const double *shares, const double *fallback,
			long *out)
{
	double sum = 0;

	for (size_t k = 0; k < n; k++)
		sum += shares[k] > 0 ? shares[k] : 0;
	gen_allocate(r, total, n, sum > 0 ? shares : fallback, NULL, NULL, out);
}

int pc6gen_buurt(struct gen_rng *r, const struct pc6gen_buurt *b, size_t n, struct pc6gen_pc6 *p)
{
	/* the order the age columns are filled in: the smallest bands first, the
	 * largest (25-44) last, as it takes what the others leave */
	static const int age_order[PC6GEN_AGES] = {0, 4, 1, 3, 2};
	double *w = NULL, *wt = NULL, *rel = NULL, *dep = NULL;
	long *v = NULL, *hi = NULL, *rows = NULL, *cells = NULL;
	long ages[PC6GEN_AGES], types[3], cols[PC6GEN_AGES];
	double mean_size, ddep, woz_b, old_b, postwar_b, corp_b;

	if (n == 0)
		return b->households > 0 || b->inhabitants > 0 ? -1 : 0;
	w = xcalloc(n, sizeof *w);
	wt = xcalloc(n * PC6GEN_AGES, sizeof *wt);
	rel = xcalloc(n, sizeof *rel);
	dep = xcalloc(n, sizeof *dep);
	v = xcalloc(n, sizeof *v);
	hi = xcalloc(n, sizeof *hi);
	rows = xcalloc(n, sizeof *rows);
	cells = xcalloc(n * PC6GEN_AGES, sizeof *cells);

	/* sizes: households, then inhabitants, at least one per household */
	for (size_t i = 0; i < n; i++)
		w[i] = p[i].w_households;
	gen_allocate(r, b->households, n, w, NULL, NULL, v);
	for (size_t i = 0; i < n; i++) {
		p[i].households = v[i];
		w[i] = p[i].w_inhabitants;
	}
	if (b->inhabitants < b->households || gen_allocate(r, b->inhabitants, n, w, v, NULL, v) < 0)
		gen_allocate(r, b->inhabitants, n, w, NULL, NULL, v);
	mean_size = b->households > 0 ? (double)b->inhabitants / (double)b->households : 1;
	if (!(mean_size > 0))
		mean_size = 1;
	ddep = b->deprivation - PC6GEN_NL_DEPRIVATION;
	for (size_t i = 0; i < n; i++) {
		p[i].inhabitants = v[i];
		rel[i] = p[i].households > 0 ? (double)p[i].inhabitants / (double)p[i].households / mean_size : 1;
		/* a smooth part neighbours share, and a part of its own */
		dep[i] = b->deprivation + 0.45 * p[i].z + 0.3 * gen_normal(r);
	}

	/* bijstand: households times a rate rising with local deprivation */
	for (size_t i = 0; i < n; i++) {
		w[i] = (double)p[i].households * gen_logistic(dep[i]);
		hi[i] = p[i].households;
	}
	if (b->benefits >= 0) {
		share_out(r, b->benefits, n, w, hi, v);
		for (size_t i = 0; i < n; i++)
			p[i].benefits = v[i];
	} else {
		for (size_t i = 0; i < n; i++)
			p[i].benefits = gen_binomial(r, p[i].households, gen_logistic(dep[i]));
	}
	/* AO and WW: less tied to place than bijstand */
	for (size_t i = 0; i < n; i++) {
		w[i] = (double)p[i].households * exp(0.25 * p[i].z);
		hi[i] = p[i].inhabitants - p[i].benefits > 0 ? p[i].inhabitants - p[i].benefits : 0;
	}
	if (b->other_benefits >= 0) {
		share_out(r, b->other_benefits, n, w, hi, v);
	} else {
		for (size_t i = 0; i < n; i++)
			v[i] = gen_binomial(r, p[i].households, gen_logistic(gen_logit(0.08) + 0.3 * ddep + 0.25 * p[i].z));
	}
	for (size_t i = 0; i < n; i++)
		p[i].benefits_all = p[i].benefits + v[i];

	/* ages: a table with the PC6 inhabitants as rows and the buurt's bands as
	 * columns; larger households hold more children, smaller more elderly */
	split_total(r, b->inhabitants, PC6GEN_AGES, b->age, nl_age, ages);
	for (int k = 0; k < PC6GEN_AGES; k++)
		cols[k] = ages[age_order[k]];
	for (size_t i = 0; i < n; i++) {
		static const double size_tilt[PC6GEN_AGES] = {1.5, 0.5, 0, 0, -1.5};
		static const double z_tilt[PC6GEN_AGES] = {0.2, 0.1, 0, -0.05, -0.2};
		double s = b->age[0] + b->age[1] + b->age[2] + b->age[3] + b->age[4];

		rows[i] = p[i].inhabitants;
		for (int k = 0; k < PC6GEN_AGES; k++) {
			int band = age_order[k];
			double share = s > 0 ? b->age[band] : nl_age[band];

			wt[i * PC6GEN_AGES + (size_t)k] =
				(share + 0.5) * pow(rel[i], size_tilt[band]) * exp(z_tilt[band] * p[i].z);
		}
	}
	gen_allocate_table(r, n, PC6GEN_AGES, rows, cols, wt, cells);
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < PC6GEN_AGES; k++)
			p[i].age[age_order[k]] = cells[i * PC6GEN_AGES + (size_t)k];
		p[i].age_0_17 = p[i].age[0] + gen_binomial(r, p[i].age[1], 0.3);
	}

	/* household types: multi-person households need a second person, and
	 * households with children lean towards the larger households */
	split_total(r, b->households, 3, b->hhtype, nl_hhtype, types);
	{
		long room = 0, excess;

		for (size_t i = 0; i < n; i++) {
			long spare = p[i].inhabitants - p[i].households;

			w[i] = (double)p[i].households * rel[i] * rel[i];
			hi[i] = spare < p[i].households ? (spare > 0 ? spare : 0) : p[i].households;
			room += hi[i];
		}
		/* too few people for that many multi-person households: the rest
		 * live alone (without children first) */
		excess = types[1] + types[2] - room;
		if (excess > 0) {
			long from_z = excess < types[1] ? excess : types[1];

			types[1] -= from_z;
			types[2] -= excess - from_z;
			types[0] += excess;
		}
	}
	share_out(r, types[1] + types[2], n, w, hi, v);
	for (size_t i = 0; i < n; i++) {
		p[i].one_person = p[i].households - v[i];
		w[i] = (double)v[i] * pow(rel[i], 1.5) * exp(0.2 * p[i].z);
		hi[i] = v[i];
		rows[i] = v[i];
	}
	share_out(r, types[2], n, w, hi, v);
	for (size_t i = 0; i < n; i++) {
		double one_parent = gen_logistic(gen_logit(0.25) + 0.45 * (dep[i] - PC6GEN_NL_DEPRIVATION));

		p[i].no_children = rows[i] - v[i];
		p[i].one_parent = gen_binomial(r, v[i], one_parent);
		p[i].two_parent = v[i] - p[i].one_parent;
	}

	/* dwellings, their age, owners and value */
	old_b = b->old_stock > 0 ? b->old_stock : gen_logistic(gen_logit(0.25) + 0.3 * ddep);
	postwar_b = b->postwar > 0 ? b->postwar : gen_logistic(gen_logit(0.18) + 0.2 * ddep);
	corp_b = gen_logistic(gen_logit(0.29) + 0.75 * ddep);
	woz_b = b->woz > 0 ? b->woz : 235 * exp(-0.3 * ddep);
	for (size_t i = 0; i < n; i++) {
		struct pc6gen_pc6 *q = &p[i];
		double old = gen_logistic(gen_logit(old_b) + 0.6 * q->z + 0.5 * gen_normal(r));
		double post = gen_logistic(gen_logit(postwar_b) - 0.3 * q->z + 0.5 * gen_normal(r));
		double corp = gen_logistic(gen_logit(corp_b) + 0.8 * q->z + 0.4 * gen_normal(r));
		double size = q->households > 0 ? (double)q->inhabitants / (double)q->households : mean_size;
		double low;

		q->unoccupied = gen_poisson(r, 0.03 * (double)q->households + 0.15);
		q->dwellings = q->households + q->unoccupied;
		q->before1945 = gen_binomial(r, q->dwellings, old);
		q->from1945to1964 = gen_binomial(r, q->dwellings - q->before1945, clamp01(post / (1 - old + 1e-9)));
		q->corporation = gen_binomial(r, q->dwellings, corp);
		q->rented = q->corporation + gen_binomial(r, q->dwellings - q->corporation, 0.22 * exp(0.2 * gen_normal(r)));
		q->woz = woz_b * exp(-0.25 * q->z + 0.12 * gen_normal(r));
		q->gas = 1250 * (1 + 0.5 * old) * pow(size / 2.1, 0.3) * exp(0.1 * gen_normal(r));
		low = gen_logistic(gen_logit(0.40) + 0.55 * (dep[i] - PC6GEN_NL_DEPRIVATION) + 0.1 * gen_normal(r));
		q->low_income = 100 * low;
		q->high_income = 100 * gen_logistic(gen_logit(0.20) - 0.55 * (dep[i] - PC6GEN_NL_DEPRIVATION) +
						    0.1 * gen_normal(r));
		if (q->low_income + q->high_income > 100)
			q->high_income = 100 - q->low_income;
		q->income_class = q->low_income >= 60 ? 1 : q->low_income >= 45 ? 2 : q->low_income >= 33 ? 3
				: q->low_income >= 22 ? 4 : 5;
	}
	free(w);
	free(wt);
	free(rel);
	free(dep);
	free(v);
	free(hi);
	free(rows);
	free(cells);
	return 0;
}

void pc6gen_extras(struct gen_rng *r, double deprivation, struct pc6gen_extras *x)
{
	double d = deprivation - PC6GEN_NL_DEPRIVATION;

	x->low_education = 100 * gen_logistic(gen_logit(0.25) + 0.6 * d + 0.2 * gen_normal(r));
	x->poor_health = 100 * gen_logistic(gen_logit(0.20) + 0.35 * d + 0.15 * gen_normal(r));
	x->below110 = 100 * gen_logistic(gen_logit(0.07) + 0.8 * d + 0.15 * gen_normal(r));
	x->below120 = 100 * gen_logistic(gen_logit(0.09) + 0.8 * d + 0.15 * gen_normal(r));
	if (x->below120 < x->below110)
		x->below120 = x->below110;
	x->crime = 55 * exp(0.3 * d + 0.25 * gen_normal(r));
}

void pc6gen_outcome(struct gen_rng *r, double deprivation, double local, double regional, struct pc6gen_extras *x)
{
	/* tanh: where bijstand is very high or very low, outcomes differ less
	 * than the rates do; the fields and the noise are about as strong as
	 * present poverty, so the two rank buurten differently */
	double d = tanh(deprivation - PC6GEN_NL_DEPRIVATION);

	x->child_outcome = 100 * gen_logistic(gen_logit(0.45) + 0.55 * d + 0.35 * local + 0.2 * regional +
					       0.15 * gen_normal(r));
}

const struct pc6gen_column pc6gen_columns[] = {
	{"INWONER", "inhabitants", "count"},
	{"INW_014", "children_0_14", "count"},
	{"INW_1524", "inhabitants_15_24", "count"},
	{"INW_2544", "inhabitants_25_44", "count"},
	{"INW_4564", "inhabitants_45_64", "count"},
	{"INW_65PL", "inhabitants_65_plus", "count"},
	{"INW_017", "children_0_17", "count"},
	{"AANTAL_HH", "households", "count"},
	{"TOTHH_EENP", "one_person_households", "count"},
	{"TOTHH_MPZK", "households_without_children", "count"},
	{"HH_EENOUD", "one_parent_households", "count"},
	{"HH_TWEEOUD", "two_parent_households", "count"},
	{"GEM_HH_GR", "mean_household_size", "amount"},
	{"WONING", "dwellings", "count"},
	{"WONVOOR45", "dwellings_before_1945", "count"},
	{"WON_4564", "dwellings_1945_1964", "count"},
	{"WON_HCORP", "corporation_dwellings", "count"},
	{"WON_NBEW", "unoccupied_dwellings", "count"},
	{"P_KOOPWON", "owner_occupied_share", "share"},
	{"P_HUURWON", "rented_share", "share"},
	{"WOZWONING", "woz_value", "amount"},
	{"G_GAS_WON", "gas_use", "amount"},
	{"P_LINK_HH", "low_income_share", "share"},
	{"P_HINK_HH", "high_income_share", "share"},
	{"M_INKHH", "income_class", "amount"},
	{"UITKMINAOW", "benefits_below_aow_age", "count"},
	{"WWB_UITTOT", "benefit_recipients", "count"},
	{NULL, NULL, NULL},
};

void pc6gen_csv_header(struct sbuf *b)
{
	sbuf_puts(b, "PC6");
	for (const struct pc6gen_column *c = pc6gen_columns; c->column; c++)
		sbuf_printf(b, ";%s", c->column);
	sbuf_puts(b, ";BRON\n");
}

static void put_count(struct sbuf *b, long v, bool secret)
{
	sbuf_printf(b, ";%ld", secret ? GEN_CBS_SECRET : gen_cbs_round5(v));
}

static void put_whole(struct sbuf *b, double v, bool secret)
{
	sbuf_printf(b, ";%ld", secret ? GEN_CBS_SECRET : lround(v));
}

void pc6gen_csv_row(struct sbuf *b, const char *code, const struct pc6gen_pc6 *p)
{
	bool person = p->inhabitants < 5, household = person || p->households < 5, dwelling = p->dwellings < 5;
	long rented = dwelling ? 0 : lround(100.0 * (double)p->rented / (double)p->dwellings);

	sbuf_puts(b, code);
	put_count(b, p->inhabitants, person);
	for (int k = 0; k < PC6GEN_AGES; k++)
		put_count(b, p->age[k], person);
	put_count(b, p->age_0_17, person);
	put_count(b, p->households, household);
	put_count(b, p->one_person, household);
	put_count(b, p->no_children, household);
	put_count(b, p->one_parent, household);
	put_count(b, p->two_parent, household);
	if (household) {
		sbuf_printf(b, ";%ld", GEN_CBS_SECRET);
	} else {
		long tenths = lround(10.0 * (double)p->inhabitants / (double)p->households);

		sbuf_printf(b, ";%ld,%ld", tenths / 10, tenths % 10);
	}
	put_count(b, p->dwellings, dwelling);
	put_count(b, p->before1945, dwelling);
	put_count(b, p->from1945to1964, dwelling);
	put_count(b, p->corporation, dwelling);
	put_count(b, p->unoccupied, dwelling);
	put_whole(b, (double)(100 - rented), dwelling);
	put_whole(b, (double)rented, dwelling);
	put_whole(b, p->woz, dwelling);
	put_whole(b, 10 * round(p->gas / 10), dwelling);
	put_whole(b, p->low_income, household);
	put_whole(b, p->high_income, household);
	put_whole(b, p->income_class, household);
	put_count(b, p->benefits_all, person);
	put_count(b, p->benefits, person);
	sbuf_puts(b, ";" PC6GEN_BRON "\n");
}
