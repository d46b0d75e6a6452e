#include "pc6risk/score.h"
#include "pc6risk/log.h"
#include "pc6risk/pgbin.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/stats.h"
#include "pc6risk/strmap.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The model: every area of every level (codes in C order, each with its
 * parent), the figures the scenarios need, and each distinct figure or rate a
 * scenario term uses, computed once per level (raw, shrunk, shrinkage weight
 * and sd). A scenario is then pure arithmetic over these arrays.
 */

/* Why a figure is missing. */
enum why { WHY_VALUE, WHY_SECRET, WHY_UNKNOWN, WHY_NO_ROW };

/* A figure or rate at one level. */
struct rate {
	enum level level;
	char *definition; /* "a+b / c", "share of base", "value" */
	bool shrink;
	double *num, *den; /* the counts behind it (NULL for a plain figure) */
	double *raw, *shrunk, *weight, *sd;
	char **why;        /* per area: why raw is NaN ("benefit_recipients is secret"), or NULL */
};

struct score_model {
	const struct config *cfg;
	size_t n[LEVEL_COUNT];
	struct strmap *codes[LEVEL_COUNT];
	long *up[LEVEL_COUNT]; /* parent at the level above, -1 for a gemeente */
	struct strmap *fig_names[LEVEL_COUNT];
	double **fig[LEVEL_COUNT];
	unsigned char **fig_why[LEVEL_COUNT];
	struct rate *rates;
	size_t nrates;
};

/* Minimum areas in a buurt to estimate its shrinkage target from it alone. */
#define SHRINK_MIN_AREAS 3

static const char *const why_text[] = {"", "secret", "unknown", "not given"};

/* ---- loading ---------------------------------------------------------- */

struct tree_load {
	struct score_model *m;
	enum level level;
	struct err *e;
};

static int tree_row(char *row, size_t len, void *arg, struct err *e)
{
	struct tree_load *t = arg;
	struct score_model *m = t->m;
	enum level l = t->level;
	char *parent = strchr(row, '\t');
	size_t i;

	(void)len;
	if (parent)
		*parent++ = '\0';
	i = strmap_put(m->codes[l], row, NULL);
	if (i >= m->n[l]) {
		m->n[l] = i + 1;
		m->up[l] = xrealloc(m->up[l], (i + 1) * sizeof *m->up[l]);
	}
	m->up[l][i] = -1;
	if (parent && l > LEVEL_GEMEENTE) {
		long p = strmap_get(m->codes[l - 1], parent);

		if (p < 0)
			return err_set(e, ERR_INTERNAL, NULL, "%s %s: parent %s is not loaded", level_name(l), row, parent);
		m->up[l][i] = p;
	}
	return 0;
}

static int load_tree(struct db *db, struct score_model *m, struct err *e)
{
	static const char *const sql[] = {
		"COPY (SELECT code FROM gemeente ORDER BY code COLLATE \"C\") TO STDOUT",
		"COPY (SELECT code, gemeente_code FROM wijk ORDER BY code COLLATE \"C\") TO STDOUT",
		"COPY (SELECT code, wijk_code FROM buurt ORDER BY code COLLATE \"C\") TO STDOUT",
		"COPY (SELECT code, buurt_code FROM pc6 ORDER BY code COLLATE \"C\") TO STDOUT",
	};

	for (int l = 0; l < LEVEL_COUNT; l++) {
		struct tree_load t = {m, (enum level)l, e};

		m->codes[l] = strmap_new();
		if (db_copy_out(db, sql[l], tree_row, &t, e) < 0)
			return -1;
	}
	return 0;
}

/* Note a figure a scenario needs at a level. */
static void need(struct score_model *m, enum level l, const char *name)
{
	bool added;
	size_t k;

	if (!name)
		return;
	k = strmap_put(m->fig_names[l], name, &added);
	if (added) {
		m->fig[l] = xrealloc(m->fig[l], (k + 1) * sizeof *m->fig[l]);
		m->fig_why[l] = xrealloc(m->fig_why[l], (k + 1) * sizeof *m->fig_why[l]);
		m->fig[l][k] = xmalloc((m->n[l] ? m->n[l] : 1) * sizeof **m->fig[l]);
		m->fig_why[l][k] = xmalloc(m->n[l] ? m->n[l] : 1);
		for (size_t i = 0; i < m->n[l]; i++) {
			m->fig[l][k][i] = NAN;
			m->fig_why[l][k][i] = WHY_NO_ROW;
		}
	}
}

/* Where one file's columns go: position in the file's arrays -> figure k. */
struct figure_load {
	struct score_model *m;
	enum level level;
	long *slot[64];   /* per file (1..63): position -> k, -1 when not needed */
	size_t nslot[64];
};

/* One row (code, file, vals, missing) of the binary COPY of figure. */
static int figure_row(const unsigned char *row, size_t len, void *arg, struct err *e)
{
	struct figure_load *f = arg;
	struct pgbin_reader r, vals, miss;
	const unsigned char *code_b, *file_b, *vals_b, *miss_b;
	long code_n, vals_n, miss_n;
	size_t nv, nw;
	char code[64];
	long i, file;

	pgbin_read(&r, row, len);
	code_n = pgbin_field(&r, &code_b);
	if (pgbin_field(&r, &file_b) != 2 || code_n < 1 || (size_t)code_n >= sizeof code)
		return err_set(e, ERR_INTERNAL, NULL, "unexpected figure row");
	vals_n = pgbin_field(&r, &vals_b);
	miss_n = pgbin_field(&r, &miss_b);
	memcpy(code, code_b, (size_t)code_n);
	code[code_n] = '\0';
	i = strmap_get(f->m->codes[f->level], code);
	file = pgbin_get_int2(file_b);
	if (i < 0 || file < 1 || file > 63 || !f->slot[file])
		return 0;
	pgbin_array_open(&vals, vals_b, vals_n, &nv);
	pgbin_array_open(&miss, miss_b, miss_n, &nw);
	for (size_t j = 0; j < nv && j < f->nslot[file]; j++) {
		const unsigned char *v, *w = NULL;
		long vn = pgbin_array_next(&vals, &v), wn = j < nw ? pgbin_array_next(&miss, &w) : -1;
		long k = f->slot[file][j];

		if (k < 0)
			continue;
		if (vn == 8) {
			f->m->fig[f->level][k][i] = pgbin_get_float8(v);
			f->m->fig_why[f->level][k][i] = WHY_VALUE;
		} else {
			f->m->fig_why[f->level][k][i] = wn == 6 && memcmp(w, "secret", 6) == 0 ? WHY_SECRET : WHY_UNKNOWN;
		}
	}
	if (r.bad || vals.bad || miss.bad)
		return err_set(e, ERR_INTERNAL, NULL, "figure row of %s cut short", code);
	return 0;
}

static int load_figures(struct db *db, struct score_model *m, struct err *e)
{
	for (int l = 0; l < LEVEL_COUNT; l++) {
		struct figure_load f = {.m = m, .level = (enum level)l};
		const char *params[1] = {level_name((enum level)l)};
		struct db_result *r;
		char *sql;
		int rc;

		if (strmap_size(m->fig_names[l]) == 0)
			continue;
		r = db_query(db, "SELECT name, file, position FROM indicator_def WHERE level = $1", 1, params, e);
		if (!r)
			return -1;
		for (int row = 0; row < db_nrows(r); row++) {
			long k = strmap_get(m->fig_names[l], db_value(r, row, 0));
			long file = atol(db_value(r, row, 1)), pos = atol(db_value(r, row, 2));

			if (k < 0 || file < 1 || file > 63 || pos < 1)
				continue;
			if ((size_t)pos > f.nslot[file]) {
				f.slot[file] = xrealloc(f.slot[file], (size_t)pos * sizeof *f.slot[file]);
				for (size_t q = f.nslot[file]; q < (size_t)pos; q++)
					f.slot[file][q] = -1;
				f.nslot[file] = (size_t)pos;
			}
			f.slot[file][pos - 1] = k;
		}
		db_result_free(r);
		sql = xasprintf("COPY (SELECT code, file, vals, missing FROM figure WHERE level = '%s') TO STDOUT"
				" WITH (FORMAT binary)",
				level_name((enum level)l));
		rc = db_copy_out_binary(db, sql, figure_row, &f, e);
		free(sql);
		for (int q = 0; q < 64; q++)
			free(f.slot[q]);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static const double *figure(const struct score_model *m, enum level l, const char *name, const unsigned char **why)
{
	long k = strmap_get(m->fig_names[l], name);

	if (k < 0)
		return NULL;
	if (why)
		*why = m->fig_why[l][k];
	return m->fig[l][k];
}

/* The definition string of a term: what identifies its rate. */
static char *term_definition(const struct config_term *t)
{
	struct sbuf b = {0};

	if (t->value) {
		sbuf_puts(&b, t->value);
		if (t->base)
			sbuf_printf(&b, " of %s", t->base);
	} else {
		for (size_t i = 0; i < t->nnumerator; i++)
			sbuf_printf(&b, "%s%s", i ? "+" : "", t->numerator[i]);
		sbuf_puts(&b, " / ");
		for (size_t i = 0; i < t->ndenominator; i++)
			sbuf_printf(&b, "%s%s", i ? "+" : "", t->denominator[i]);
	}
	return sbuf_take(&b);
}

/* The sum of figures (NaN when any is missing); the reason of the first
 * missing one into *why. */
static double sum_of(const struct score_model *m, enum level l, char *const *names, size_t n, size_t i,
		     const char **name_missing, unsigned char *why)
{
	double s = 0;

	for (size_t k = 0; k < n; k++) {
		const unsigned char *w;
		const double *f = figure(m, l, names[k], &w);

		if (!f || isnan(f[i])) {
			*name_missing = names[k];
			*why = f ? w[i] : WHY_NO_ROW;
			return NAN;
		}
		s += f[i];
	}
	return s;
}

/* Compute a rate for every area of its level. */
static void rate_compute(const struct score_model *m, struct rate *r, const struct config_term *t)
{
	size_t n = m->n[r->level];
	enum level l = r->level;

	r->raw = xmalloc((n ? n : 1) * sizeof *r->raw);
	r->shrunk = xmalloc((n ? n : 1) * sizeof *r->shrunk);
	r->weight = xmalloc((n ? n : 1) * sizeof *r->weight);
	r->sd = xmalloc((n ? n : 1) * sizeof *r->sd);
	r->why = xcalloc(n ? n : 1, sizeof *r->why);
	if (t->nnumerator || t->base) {
		r->num = xmalloc((n ? n : 1) * sizeof *r->num);
		r->den = xmalloc((n ? n : 1) * sizeof *r->den);
	}
	for (size_t i = 0; i < n; i++) {
		const char *missing = NULL;
		unsigned char why = WHY_VALUE;
		double raw;

		if (t->value) {
			char *names[2] = {t->value, t->base};

			raw = sum_of(m, l, names, 1, i, &missing, &why);
			if (t->base) {
				double base = sum_of(m, l, names + 1, 1, i, &missing, &why);

				r->num[i] = isnan(raw) || isnan(base) ? NAN : raw / 100 * base;
				r->den[i] = base;
			}
		} else {
			double num = sum_of(m, l, t->numerator, t->nnumerator, i, &missing, &why);
			double den = isnan(num) ? NAN : sum_of(m, l, t->denominator, t->ndenominator, i, &missing, &why);

			r->num[i] = num;
			r->den[i] = den;
			raw = isnan(den) ? NAN : den > 0 ? num / den : NAN;
			if (!isnan(den) && den <= 0) {
				r->why[i] = t->ndenominator == 1 ? xasprintf("%s is 0", t->denominator[0])
								  : xstrdup("the denominator is 0");
			}
		}
		if (missing)
			r->why[i] = xasprintf("%s is %s", missing, why_text[why]);
		r->raw[i] = raw;
		r->shrunk[i] = raw;
		r->weight[i] = isnan(raw) ? NAN : 1;
		r->sd[i] = isnan(raw) ? NAN : 0;
	}
	/* shrink toward the parent's rate (the buurt for a PC6), falling back to
	 * the grandparent's when the parent has too few areas */
	if (r->shrink && r->num && l > LEVEL_GEMEENTE) {
		enum level up = (enum level)(l - 1);
		int *group = xmalloc((n ? n : 1) * sizeof *group), *fallback = NULL;
		double *shrunk = xmalloc((n ? n : 1) * sizeof *shrunk);

		for (size_t i = 0; i < n; i++)
			group[i] = (int)m->up[l][i];
		if (up > LEVEL_GEMEENTE) {
			fallback = xmalloc((n ? n : 1) * sizeof *fallback);
			for (size_t i = 0; i < n; i++)
				fallback[i] = group[i] < 0 ? -1 : (int)m->up[up][group[i]];
		}
		stats_eb_shrink(r->num, r->den, group, m->n[up], fallback, fallback ? m->n[up - 1] : 0, n,
				SHRINK_MIN_AREAS, shrunk, r->weight, r->sd);
		for (size_t i = 0; i < n; i++) {
			/* shrink rates, keep the scale of the figure: a share stays in % */
			double scale = t->value ? 100 : 1;

			if (!isnan(shrunk[i])) {
				r->shrunk[i] = shrunk[i] * scale;
				r->sd[i] *= scale;
			}
		}
		free(group);
		free(fallback);
		free(shrunk);
	}
}

/* The rate of a term in a scenario, made when first asked for. */
static struct rate *rate_of(struct score_model *m, const struct config_scenario *s, const struct config_term *t)
{
	char *def = term_definition(t);
	bool shrink = s->shrink && (t->nnumerator || t->base);

	for (size_t i = 0; i < m->nrates; i++) {
		if (m->rates[i].level == t->level && m->rates[i].shrink == shrink &&
		    strcmp(m->rates[i].definition, def) == 0) {
			free(def);
			return &m->rates[i];
		}
	}
	m->rates = xrealloc(m->rates, (m->nrates + 1) * sizeof *m->rates);
	memset(&m->rates[m->nrates], 0, sizeof m->rates[m->nrates]);
	m->rates[m->nrates].level = t->level;
	m->rates[m->nrates].definition = def;
	m->rates[m->nrates].shrink = shrink;
	rate_compute(m, &m->rates[m->nrates], t);
	return &m->rates[m->nrates++];
}

struct score_model *score_model_load(struct db *db, const struct config *cfg, struct err *e)
{
	struct score_model *m = xcalloc(1, sizeof *m);

	m->cfg = cfg;
	if (load_tree(db, m, e) < 0)
		goto fail;
	for (int l = 0; l < LEVEL_COUNT; l++)
		m->fig_names[l] = strmap_new();
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const struct config_scenario *s = &cfg->scenarios[i];

		for (size_t j = 0; j < s->nterms; j++) {
			const struct config_term *t = &s->terms[j];

			if (!t->present)
				continue;
			need(m, t->level, t->value);
			need(m, t->level, t->base);
			for (size_t k = 0; k < t->nnumerator; k++)
				need(m, t->level, t->numerator[k]);
			for (size_t k = 0; k < t->ndenominator; k++)
				need(m, t->level, t->denominator[k]);
		}
		need(m, s->level, s->weight);
		need(m, s->level, s->volume_count);
		need(m, s->level, s->size);
		need(m, s->level, cfg->k_indicator);
	}
	if (load_figures(db, m, e) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const struct config_scenario *s = &cfg->scenarios[i];

		for (size_t j = 0; j < s->nterms; j++)
			if (s->terms[j].present)
				rate_of(m, s, &s->terms[j]);
	}
	return m;
fail:
	score_model_free(m);
	return NULL;
}

void score_model_free(struct score_model *m)
{
	if (!m)
		return;
	for (int l = 0; l < LEVEL_COUNT; l++) {
		for (size_t k = 0; m->fig_names[l] && k < strmap_size(m->fig_names[l]); k++) {
			free(m->fig[l][k]);
			free(m->fig_why[l][k]);
		}
		free(m->fig[l]);
		free(m->fig_why[l]);
		strmap_free(m->fig_names[l]);
		strmap_free(m->codes[l]);
		free(m->up[l]);
	}
	for (size_t i = 0; i < m->nrates; i++) {
		struct rate *r = &m->rates[i];

		for (size_t k = 0; k < m->n[r->level]; k++)
			free(r->why[k]);
		free(r->why);
		free(r->definition);
		free(r->num);
		free(r->den);
		free(r->raw);
		free(r->shrunk);
		free(r->weight);
		free(r->sd);
	}
	free(m->rates);
	free(m);
}

size_t score_model_count(const struct score_model *m, enum level level)
{
	return m->n[level];
}

const char *score_model_code(const struct score_model *m, enum level level, size_t i)
{
	return strmap_key(m->codes[level], i);
}

long score_model_find(const struct score_model *m, enum level level, const char *code)
{
	return strmap_get(m->codes[level], code);
}

long score_model_ancestor(const struct score_model *m, enum level level, size_t i, enum level up)
{
	long j = (long)i;

	for (int l = level; l > (int)up && j >= 0; l--)
		j = m->up[l][j];
	return j;
}

/* ---- one scenario ------------------------------------------------------- */

/* Everything one scenario computes at its own level. */
struct outcome {
	size_t n, ndomains;
	double *value;     /* the score */
	double *domain;    /* n x ndomains, normalised */
	double *flags;     /* combine flags */
	signed char *at_risk;
	double *size, *volume, *weight;
	bool *too_small;
	int *ref;          /* reference group: the gemeente, or 0 */
	const char **why;  /* why value is NaN */
	struct score_work *work; /* where the arrays are, when not their own */
};

/* ---- a Monte Carlo's working memory ------------------------------------ */

/* How many normalisations there are (enum norm). */
#define NORMS (NORM_MINMAX + 1)

/* The arrays of one score_compute, kept from one draw to the next. Each draw
 * asks for the same arrays in the same order, so after the first it
 * allocates nothing. Nationally a draw uses about 100 MB of arrays; when each
 * draw allocated and freed its own, glibc gave most of that back to the
 * kernel every time and the next draw faulted it in again. */
struct score_work {
	struct work_slot {
		void *p;
		size_t size;
	} *slot;
	size_t nslots, next;
	struct stats_room room;
	/* per term of scenario `of`: its units in order, when its values are
	 * the same every draw (not drawn from a shrinkage posterior) */
	const struct config_scenario *of;
	struct stats_order **order;
	size_t norders;
	/* per domain and normalisation (d * NORMS + norm): the domain's percentiles,
	 * when all its indicators have the same values every draw */
	double **pct;
	size_t npct;
};

static void work_forget_orders(struct score_work *w)
{
	for (size_t j = 0; j < w->norders; j++)
		stats_order_free(w->order[j]);
	free(w->order);
	w->order = NULL;
	w->norders = 0;
	for (size_t k = 0; k < w->npct; k++)
		free(w->pct[k]);
	free(w->pct);
	w->pct = NULL;
	w->npct = 0;
}

struct score_work *score_work_new(void)
{
	return xcalloc(1, sizeof(struct score_work));
}

void score_work_free(struct score_work *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nslots; i++)
		free(w->slot[i].p);
	free(w->slot);
	free(w->room.p);
	work_forget_orders(w);
	free(w);
}

/* An array of n items of size sz (zeroed when zero is set): w's next slot, or
 * with no w an allocation of its own, which give frees. */
static void *take(struct score_work *w, size_t n, size_t sz, bool zero)
{
	size_t bytes = (n ? n : 1) * sz;
	struct work_slot *t;

	if (!w)
		return zero ? xcalloc(n ? n : 1, sz) : xmalloc(bytes);
	if (w->next == w->nslots) {
		w->slot = xrealloc(w->slot, (w->nslots + 1) * sizeof *w->slot);
		w->slot[w->nslots++] = (struct work_slot){NULL, 0};
	}
	t = &w->slot[w->next++];
	if (t->size < bytes) {
		free(t->p);
		t->p = xmalloc(bytes);
		t->size = bytes;
	}
	if (zero)
		memset(t->p, 0, bytes);
	return t->p;
}

/* The end of an array from take. */
static void give(struct score_work *w, void *p)
{
	if (!w)
		free(p);
}

static void outcome_free(struct outcome *o)
{
	if (o->work) {
		memset(o, 0, sizeof *o);
		return;
	}
	free(o->value);
	free(o->domain);
	free(o->flags);
	free(o->at_risk);
	free(o->size);
	free(o->volume);
	free(o->weight);
	free(o->too_small);
	free(o->ref);
	free(o->why);
	memset(o, 0, sizeof *o);
}

static const struct rate *find_rate(const struct score_model *m, const struct config_scenario *s,
				    const struct config_term *t)
{
	char *def = term_definition(t);
	bool shrink = s->shrink && (t->nnumerator || t->base);

	for (size_t i = 0; i < m->nrates; i++) {
		if (m->rates[i].level == t->level && m->rates[i].shrink == shrink &&
		    strcmp(m->rates[i].definition, def) == 0) {
			free(def);
			return &m->rates[i];
		}
	}
	free(def);
	return NULL;
}

/* The reference group of each area of a level: its gemeente, or 0 for all. */
static int *reference_groups(const struct score_model *m, const struct config_scenario *s, enum level level,
			     struct score_work *w)
{
	size_t n = m->n[level];
	int *g = take(w, n, sizeof *g, false);

	for (size_t i = 0; i < n; i++)
		g[i] = s->reference_all ? 0 : (int)score_model_ancestor(m, level, i, LEVEL_GEMEENTE);
	return g;
}

/* Rank units by value within groups: 1 = highest; ties share the rank, as
 * SQL's rank(); NaN values and excluded units get NaN. *of gets the group's
 * count of ranked units. */
struct rank_item {
	int group;
	double value;
	size_t index;
};

static int by_group_value(const void *a, const void *b)
{
	const struct rank_item *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void group_rank(const double *value, const bool *exclude, const int *group, size_t n, double *rank,
		       double *of)
{
	struct rank_item *it = xmalloc((n ? n : 1) * sizeof *it);
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		rank[i] = NAN;
		if (of)
			of[i] = NAN;
		if (isnan(value[i]) || (exclude && exclude[i]) || group[i] < 0)
			continue;
		it[m].group = group[i];
		it[m].value = value[i];
		it[m].index = i;
		m++;
	}
	qsort(it, m, sizeof *it, by_group_value);
	for (size_t a = 0; a < m;) {
		size_t b = a;

		while (b < m && it[b].group == it[a].group)
			b++;
		for (size_t k = a; k < b; k++) {
			size_t r = k;

			while (r > a && it[r - 1].value == it[k].value)
				r--;
			rank[it[k].index] = (double)(r - a + 1);
			if (of)
				of[it[k].index] = (double)(b - a);
		}
		a = b;
	}
	free(it);
}

/* An outcome for the areas of a level, every array zeroed (the domains only
 * when asked for), with its reference groups. */
static void outcome_init(struct outcome *o, const struct score_model *m, const struct config_scenario *s,
			 enum level level, size_t nd, bool domains, struct score_work *work)
{
	size_t n = m->n[level];

	memset(o, 0, sizeof *o);
	o->n = n;
	o->ndomains = nd;
	o->work = work;
	o->value = take(work, n, sizeof *o->value, true);
	if (domains)
		o->domain = take(work, (n ? n : 1) * (nd ? nd : 1), sizeof *o->domain, true);
	o->flags = take(work, n, sizeof *o->flags, true);
	o->at_risk = take(work, n, sizeof *o->at_risk, true);
	o->size = take(work, n, sizeof *o->size, true);
	o->volume = take(work, n, sizeof *o->volume, true);
	o->weight = take(work, n, sizeof *o->weight, true);
	o->too_small = take(work, n, sizeof *o->too_small, true);
	o->why = take(work, n, sizeof *o->why, true);
	o->ref = reference_groups(m, s, level, work);
}

/* Percentile rank in (0, 1] within groups, over the given units only. */
static void group_percentile(const double *x, const int *group, size_t n, double *out, struct stats_room *room)
{
	stats_normalise_in(room, STATS_RANK, x, group, n, 0, 1, out);
}

/* The scenario at its own level. With domains false, o->domain is left out
 * (NULL) unless the combination needs it: score_compute gives only values and
 * ranks, and nationally the domains cost a twentieth of a draw. */
static int compute_own(const struct score_model *m, const struct config_scenario *s,
		       const struct score_variation *v, bool domains, struct outcome *o, struct score_work *work,
		       struct err *e)
{
	enum level L = s->level;
	size_t n = m->n[L], nt = s->nterms, nd = s->ndomains;
	enum norm norm = v && v->normalise >= 0 ? (enum norm)v->normalise : s->normalise;
	double flag_pct = v && v->flag_percentile > 0 ? v->flag_percentile : s->flag_percentile;
	int needed = v && v->flags_needed > 0 ? v->flags_needed : s->flags_needed;
	const double *dw_given = v && v->domain_weights ? v->domain_weights : NULL;
	double *x = take(work, n, sizeof *x, false), *z = take(work, n, sizeof *z, false);
	/* per domain d and area i at [d * n + i]: a domain's areas side by side,
	 * as a term adds to them */
	double *dsum = take(work, (n ? n : 1) * (nd ? nd : 1), sizeof *dsum, true);
	int *dcount = take(work, (n ? n : 1) * (nd ? nd : 1), sizeof *dcount, true);
	double *pca_in = NULL;
	bool *moving = take(work, nd, sizeof *moving, true); /* a domain with values drawn anew each draw */
	struct stats_room own_room = {0}, *room = work ? &work->room : &own_room;
	size_t npresent = 0, low_income_col = 0;
	int rc = 0;

	if (work && (work->of != s || work->norders != nt)) {
		work_forget_orders(work);
		work->of = s;
		work->norders = nt;
		work->order = xcalloc(nt ? nt : 1, sizeof *work->order);
		work->npct = NORMS * nd;
		work->pct = xcalloc(work->npct ? work->npct : 1, sizeof *work->pct);
	}
	outcome_init(o, m, s, L, nd, domains || s->combine == COMBINE_MEAN || s->combine == COMBINE_GEOMEAN, work);
	{
		const double *size = figure(m, L, m->cfg->k_indicator, NULL);
		const double *small = s->size ? figure(m, L, s->size, NULL) : NULL;
		const double *w = s->weight ? figure(m, L, s->weight, NULL) : NULL;

		for (size_t i = 0; i < n; i++) {
			o->size[i] = size ? size[i] : NAN;
			o->weight[i] = w ? (isnan(w[i]) ? 0 : w[i]) : 1;
			o->too_small[i] = small && !(small[i] >= s->min_size);
			o->volume[i] = NAN;
		}
	}
	if (s->combine == COMBINE_PCA)
		pca_in = take(work, (n ? n : 1) * (nt ? nt : 1), sizeof *pca_in, false);

	for (size_t j = 0; j < nt; j++) {
		const struct config_term *t = &s->terms[j];
		const struct rate *r;
		bool drawn; /* its values drawn anew from their shrinkage posterior */
		size_t d;

		if (!t->present)
			continue;
		r = find_rate(m, s, t);
		if (!r) {
			rc = err_set(e, ERR_INTERNAL, NULL, "scenario %s: no rate for %s", s->name, t->name);
			goto out;
		}
		drawn = v && v->shrink_draw && r->shrink;
		for (d = 0; d < nd && strcmp(s->domains[d].name, t->domain) != 0; d++)
			;
		if (d < nd && drawn)
			moving[d] = true;
		for (size_t i = 0; i < n; i++) {
			long a = score_model_ancestor(m, L, i, t->level);
			double val = NAN;

			if (a >= 0) {
				val = r->shrink ? r->shrunk[a] : r->raw[a];
				if (drawn && !isnan(val) && r->sd[a] > 0)
					val = fmax(0, val + r->sd[a] * gen_normal(v->shrink_draw));
				if (isnan(val) && !o->why[i])
					o->why[i] = r->why[a];
			}
			x[i] = val;
		}
		if (s->combine == COMBINE_RATE) {
			for (size_t i = 0; i < n; i++)
				o->value[i] = x[i] * s->per;
			goto out;
		}
		if (s->volume_share && strcmp(s->volume_share, t->name) == 0) {
			const double *count = figure(m, L, s->volume_count, NULL);

			for (size_t i = 0; i < n; i++) {
				double share = t->value ? x[i] / 100 : x[i];

				o->volume[i] = count && !isnan(count[i]) && !isnan(share) ? count[i] * share : NAN;
			}
		}
		if (strcmp(t->name, "low_income") == 0)
			low_income_col = npresent;
		if (work && !drawn) {
			/* the same values every draw: sorted once */
			if (!work->order[j])
				work->order[j] = stats_order_new(x, o->ref, n);
			stats_normalise_ordered(work->order[j], (enum stats_norm)norm, x, s->winsor_lo, s->winsor_hi, z);
		} else {
			stats_normalise_in(room, (enum stats_norm)norm, x, o->ref, n, s->winsor_lo, s->winsor_hi, z);
		}
		for (size_t i = 0; i < n; i++) {
			double zi = z[i];

			if (isnan(zi))
				continue;
			if (t->direction < 0)
				zi = norm == NORM_RANK || norm == NORM_MINMAX ? 1 - zi : -zi;
			dsum[d * n + i] += zi;
			dcount[d * n + i]++;
			if (pca_in)
				pca_in[i * nt + npresent] = zi;
		}
		if (pca_in)
			for (size_t i = 0; i < n; i++)
				if (isnan(z[i]))
					pca_in[i * nt + npresent] = NAN;
		npresent++;
	}

	/* domains: the mean of their normalised indicators */
	for (size_t i = 0; o->domain && i < n; i++)
		for (size_t d = 0; d < nd; d++)
			o->domain[i * nd + d] = dcount[d * n + i] ? dsum[d * n + i] / dcount[d * n + i] : NAN;

	switch (s->combine) {
	case COMBINE_RATE:
		break;
	case COMBINE_MEAN:
	case COMBINE_GEOMEAN:
		for (size_t i = 0; i < n; i++) {
			double sw = 0, acc = 0;

			for (size_t d = 0; d < nd; d++) {
				double dv = o->domain[i * nd + d], w = dw_given ? dw_given[d] : s->domains[d].weight;

				if (isnan(dv))
					continue;
				if (s->combine == COMBINE_GEOMEAN)
					dv = log(fmax(dv, 0.001));
				acc += w * dv;
				sw += w;
			}
			o->value[i] = sw > 0 ? (s->combine == COMBINE_GEOMEAN ? exp(acc / sw) : acc / sw) : NAN;
		}
		break;
	case COMBINE_FLAGS:
	case COMBINE_IMD: {
		/* each domain's percentile within the reference area */
		double *col = take(work, n, sizeof *col, false), *pct = take(work, n, sizeof *pct, false);
		double *acc = take(work, n, sizeof *acc, true), *sw = take(work, n, sizeof *sw, true);

		for (size_t d = 0; d < nd; d++) {
			double w = dw_given ? dw_given[d] : s->domains[d].weight;

			const double *p = pct;
			double **kept = work && !moving[d] ? &work->pct[d * NORMS + (size_t)norm] : NULL;

			/* a domain whose values are the same every draw (for this
			 * normalisation) has its percentiles worked out once, for
			 * imd already through the transform */
			if (!kept || !*kept) {
				for (size_t i = 0; i < n; i++)
					col[i] = dcount[d * n + i] ? dsum[d * n + i] / dcount[d * n + i] : NAN;
				group_percentile(col, o->ref, n, pct, room);
				if (kept) {
					*kept = xmalloc((n ? n : 1) * sizeof **kept);
					for (size_t i = 0; i < n; i++)
						(*kept)[i] = s->combine == COMBINE_IMD && !isnan(pct[i])
								     ? stats_imd_transform(pct[i])
								     : pct[i];
				}
			}
			if (kept)
				p = *kept;
			for (size_t i = 0; i < n; i++) {
				if (isnan(p[i]))
					continue;
				if (s->combine == COMBINE_FLAGS) {
					o->flags[i] += p[i] >= flag_pct;
					acc[i] += p[i];
					sw[i] += 1;
				} else {
					acc[i] += w * (kept ? p[i] : stats_imd_transform(p[i]));
					sw[i] += w;
				}
			}
		}
		for (size_t i = 0; i < n; i++) {
			if (sw[i] == 0) {
				o->value[i] = NAN;
				continue;
			}
			if (s->combine == COMBINE_FLAGS) {
				/* the flag count, with the mean domain percentile to break ties */
				o->value[i] = o->flags[i] + acc[i] / sw[i];
				o->at_risk[i] = o->flags[i] >= needed ? 1 : 0;
			} else {
				o->value[i] = acc[i] / sw[i];
			}
		}
		give(work, col);
		give(work, pct);
		give(work, acc);
		give(work, sw);
		break;
	}
	case COMBINE_PCA: {
		double *loadings = take(work, npresent, sizeof *loadings, false), explained;
		double *packed = take(work, (n ? n : 1) * (npresent ? npresent : 1), sizeof *packed, false), *pc;

		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < npresent; j++)
				packed[i * npresent + j] = pca_in[i * nt + j];
		pc = take(work, n, sizeof *pc, false);
		if (stats_pca1(packed, n, npresent, low_income_col, loadings, pc, &explained) < 0) {
			for (size_t i = 0; i < n; i++)
				o->value[i] = NAN;
		} else {
			/* percentiles 1-100 within the reference area */
			group_percentile(pc, o->ref, n, x, room);
			for (size_t i = 0; i < n; i++)
				o->value[i] = isnan(x[i]) ? NAN : ceil(x[i] * 100);
		}
		give(work, loadings);
		give(work, packed);
		give(work, pc);
		break;
	}
	}
out:
	for (size_t i = 0; i < n; i++)
		if (isnan(o->value[i]) && !o->why[i])
			o->why[i] = "no figures for any of its indicators";
	give(work, x);
	give(work, z);
	give(work, dsum);
	give(work, dcount);
	give(work, pca_in);
	give(work, moving);
	free(own_room.p);
	if (rc < 0)
		outcome_free(o);
	return rc;
}

/* The scenario at a coarser level: each area the weighted mean of its own
 * areas' scores and domains; for combine flags, the weighted share (%) of its
 * areas at risk. Sizes and volumes add up. */
static void aggregate(const struct score_model *m, const struct config_scenario *s, const struct outcome *own,
		      enum level level, struct outcome *o, struct score_work *work)
{
	size_t n = m->n[level], nd = own->domain ? own->ndomains : 0;
	double *wsum = take(work, n, sizeof *wsum, true), *dw = take(work, (n ? n : 1) * (nd ? nd : 1), sizeof *dw, true);

	outcome_init(o, m, s, level, nd, own->domain != NULL, work);
	const double *own_small = s->size ? figure(m, s->level, s->size, NULL) : NULL;
	double *small = own_small ? take(work, n, sizeof *small, true) : NULL;

	for (size_t j = 0; j < n; j++) {
		o->volume[j] = NAN;
		o->at_risk[j] = -1;
	}
	for (size_t i = 0; i < own->n; i++) {
		long a = score_model_ancestor(m, s->level, i, level);
		double w = own->weight[i];

		if (a < 0)
			continue;
		/* an unknown (secret) size counts as nothing: an area is ranked
		 * only when its known parts are big enough */
		if (small && !isnan(own_small[i]))
			small[a] += own_small[i];
		if (!isnan(own->size[i]))
			o->size[a] += own->size[i];
		if (!isnan(own->volume[i]))
			o->volume[a] = (isnan(o->volume[a]) ? 0 : o->volume[a]) + own->volume[i];
		o->weight[a] += w;
		if (isnan(own->value[i]) || !(w > 0))
			continue;
		if (s->combine == COMBINE_FLAGS)
			o->value[a] += w * (own->at_risk[i] > 0 ? 100 : 0);
		else
			o->value[a] += w * own->value[i];
		wsum[a] += w;
		for (size_t d = 0; d < nd; d++) {
			double dv = own->domain[i * nd + d];

			if (!isnan(dv)) {
				o->domain[a * nd + d] += w * dv;
				dw[a * nd + d] += w;
			}
		}
	}
	for (size_t j = 0; j < n; j++) {
		o->too_small[j] = small && !(small[j] >= s->min_size);
		o->value[j] = wsum[j] > 0 ? o->value[j] / wsum[j] : NAN;
		if (isnan(o->value[j]))
			o->why[j] = "none of its areas has a score";
		for (size_t d = 0; d < nd; d++)
			o->domain[j * nd + d] = dw[j * nd + d] > 0 ? o->domain[j * nd + d] / dw[j * nd + d] : NAN;
	}
	give(work, wsum);
	give(work, dw);
	give(work, small);
}

int score_compute(const struct score_model *m, const struct config_scenario *s, const struct score_variation *v,
		  enum level level, double *value, double *rank, struct score_work *w, struct err *e)
{
	struct outcome own, up, *o = &own;

	if (w)
		w->next = 0;
	if (compute_own(m, s, v, false, &own, w, e) < 0)
		return -1;
	if (level != s->level) {
		aggregate(m, s, &own, level, &up, w);
		o = &up;
	}
	memcpy(value, o->value, o->n * sizeof *value);
	group_rank(o->value, o->too_small, o->ref, o->n, rank, NULL);
	if (o == &up)
		outcome_free(&up);
	outcome_free(&own);
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

static void put_double_or_null(struct sbuf *b, double v)
{
	if (isnan(v))
		pgbin_null(b);
	else
		pgbin_float8(b, v);
}

/* Binary COPY rows for score: one scenario at one level, sent in pieces
 * through the COPY the caller began. */
static int score_rows(struct db *db, const struct score_model *m, const struct config_scenario *s, enum level level,
		      const struct outcome *o, struct sbuf *rows, struct score_stats *st, struct err *e)
{
	int rc = 0;

	double *rank = xmalloc((o->n ? o->n : 1) * sizeof *rank), *of = xmalloc((o->n ? o->n : 1) * sizeof *of);
	double *pct = xmalloc((o->n ? o->n : 1) * sizeof *pct), *ranked = xmalloc((o->n ? o->n : 1) * sizeof *ranked);
	bool *null = xcalloc(o->ndomains ? o->ndomains : 1, sizeof *null);
	int *ref_for_pct = xmalloc((o->n ? o->n : 1) * sizeof *ref_for_pct);

	group_rank(o->value, o->too_small, o->ref, o->n, rank, of);
	for (size_t i = 0; i < o->n; i++) {
		ranked[i] = isnan(rank[i]) ? NAN : o->value[i];
		ref_for_pct[i] = o->ref[i];
	}
	{
		struct stats_room room = {0};

		group_percentile(ranked, ref_for_pct, o->n, pct, &room);
		free(room.p);
	}
	for (size_t i = 0; i < o->n && rc == 0; i++) {
		char reason[200];
		const char *why = NULL;

		if (isnan(o->value[i])) {
			why = o->why[i] ? o->why[i] : "no score";
			st->unscored++;
		} else {
			st->scored++;
			if (o->too_small[i]) {
				snprintf(reason, sizeof reason, "too small to rank: fewer than %g %s", s->min_size, s->size);
				why = reason;
				st->too_small++;
			}
		}
		pgbin_row(rows, 15);
		pgbin_text(rows, s->name);
		pgbin_text(rows, level_name(level));
		pgbin_text(rows, score_model_code(m, level, i));
		put_double_or_null(rows, o->value[i]);
		if (isnan(rank[i]))
			pgbin_null(rows), pgbin_null(rows), pgbin_null(rows);
		else
			pgbin_int4(rows, (int32_t)rank[i]), pgbin_int4(rows, (int32_t)of[i]),
				pgbin_float8(rows, 100 * pct[i]);
		if (s->combine == COMBINE_FLAGS && level == s->level)
			pgbin_int2(rows, (int16_t)o->flags[i]);
		else
			pgbin_null(rows);
		if (o->at_risk[i] >= 0 && s->combine == COMBINE_FLAGS && level == s->level) {
			bool b = o->at_risk[i] > 0;

			pgbin_bytes(rows, &b, 1);
		} else {
			pgbin_null(rows);
		}
		pgbin_bytes(rows, &(bool){o->too_small[i]}, 1);
		put_double_or_null(rows, o->size[i]);
		put_double_or_null(rows, o->volume[i]);
		if (s->reference_all || o->ref[i] < 0)
			pgbin_text(rows, "all");
		else
			pgbin_text(rows, score_model_code(m, LEVEL_GEMEENTE, (size_t)o->ref[i]));
		if (why)
			pgbin_text(rows, why);
		else
			pgbin_null(rows);
		if (o->ndomains > 1) {
			for (size_t d = 0; d < o->ndomains; d++)
				null[d] = isnan(o->domain[i * o->ndomains + d]);
			pgbin_float8_array(rows, o->domain + i * o->ndomains, null, o->ndomains);
		} else {
			pgbin_null(rows);
		}
		rc = db_copy_flush(db, rows, DB_COPY_BATCH, e);
	}
	free(rank);
	free(of);
	free(pct);
	free(ranked);
	free(null);
	free(ref_for_pct);
	return rc;
}

static int write_parts(struct db *db, const struct score_model *m, const struct config_scenario *s, struct err *e)
{
	for (size_t d = 0; d < s->ndomains; d++) {
		char pos[24], w[32];
		const char *p[5] = {s->name, "domain", pos, s->domains[d].name, w};

		snprintf(pos, sizeof pos, "%zu", d + 1);
		snprintf(w, sizeof w, "%.17g", s->domains[d].weight);
		if (db_execp(db, "INSERT INTO score_part (scenario, kind, position, name, weight) VALUES ($1, $2, $3, $4, $5)",
			     5, p, e) < 0)
			return -1;
	}
	for (size_t j = 0; j < s->nterms; j++) {
		const struct config_term *t = &s->terms[j];
		const struct rate *r = t->present ? find_rate(m, s, t) : NULL;
		char pos[24], rate[24];
		const char *p[7] = {s->name, "indicator", pos, t->name, t->present ? level_name(t->level) : NULL, t->domain,
				    NULL};

		snprintf(pos, sizeof pos, "%zu", j + 1);
		if (r) {
			/* its place among the rates of its level */
			size_t k = 0;

			for (size_t q = 0; q < m->nrates && &m->rates[q] != r; q++)
				k += m->rates[q].level == r->level;
			snprintf(rate, sizeof rate, "%zu", k + 1);
			p[6] = rate;
		}
		if (db_execp(db,
			     "INSERT INTO score_part (scenario, kind, position, name, level, domain, rate)"
			     " VALUES ($1, $2, $3, $4, $5, $6, $7)",
			     7, p, e) < 0)
			return -1;
	}
	return 0;
}

/* The rates of each level, as arrays per area. */
static int write_rates(struct db *db, const struct score_model *m, struct err *e)
{
	for (int l = 0; l < LEVEL_COUNT; l++) {
		size_t nr = 0, n = m->n[l];
		const struct rate **rs = xcalloc(m->nrates ? m->nrates : 1, sizeof *rs);
		double *a[4];
		bool *null;
		struct sbuf rows = {0};
		int rc = 0;

		for (size_t q = 0; q < m->nrates; q++)
			if (m->rates[q].level == (enum level)l)
				rs[nr++] = &m->rates[q];
		if (nr == 0) {
			free(rs);
			continue;
		}
		for (size_t q = 0; q < nr && rc == 0; q++) {
			char pos[24], shrunk[8];
			const char *p[4] = {level_name((enum level)l), pos, rs[q]->definition, shrunk};

			snprintf(pos, sizeof pos, "%zu", q + 1);
			snprintf(shrunk, sizeof shrunk, "%s", rs[q]->shrink ? "true" : "false");
			rc = db_execp(db, "INSERT INTO rate_part (level, position, definition, shrunk) VALUES ($1, $2, $3, $4)",
				      4, p, e) < 0
				     ? -1
				     : 0;
		}
		for (int c = 0; c < 4; c++)
			a[c] = xmalloc(nr * sizeof *a[c]);
		null = xmalloc(nr * sizeof *null);
		if (rc == 0)
			rc = db_copy_begin(db, "COPY rate (level, code, raw, shrunk, weight, sd) FROM STDIN WITH (FORMAT binary)",
					   e);
		pgbin_header(&rows);
		for (size_t i = 0; i < n && rc == 0; i++) {
			pgbin_row(&rows, 6);
			pgbin_text(&rows, level_name((enum level)l));
			pgbin_text(&rows, score_model_code(m, (enum level)l, i));
			for (int c = 0; c < 4; c++) {
				for (size_t q = 0; q < nr; q++) {
					const double *src[4] = {rs[q]->raw, rs[q]->shrunk, rs[q]->weight, rs[q]->sd};

					a[c][q] = src[c][i];
					null[q] = isnan(a[c][q]);
				}
				pgbin_float8_array(&rows, a[c], null, nr);
			}
			rc = db_copy_flush(db, &rows, DB_COPY_BATCH, e);
		}
		pgbin_trailer(&rows);
		if (rc == 0 && (db_copy_flush(db, &rows, 0, e) < 0 || db_copy_end(db, e) < 0))
			rc = -1;
		for (int c = 0; c < 4; c++)
			free(a[c]);
		free(null);
		free(rs);
		sbuf_free(&rows);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One scenario's outcomes at every level it outputs, computed in a thread of
 * its own while the previous scenario's rows go to the server. */
struct scenario_job {
	const struct score_model *m;
	const struct config_scenario *s;
	struct outcome out[LEVEL_COUNT];
	pthread_t thread;
	bool threaded;
	int rc;
	struct err e;
};

static void *scenario_compute(void *arg)
{
	struct scenario_job *j = arg;
	const struct config_scenario *s = j->s;

	j->rc = compute_own(j->m, s, NULL, true, &j->out[s->level], NULL, &j->e);
	for (int l = 0; l < LEVEL_COUNT && j->rc == 0; l++)
		if (s->outputs[l] && (enum level)l != s->level)
			aggregate(j->m, s, &j->out[s->level], (enum level)l, &j->out[l], NULL);
	return NULL;
}

static void scenario_start(struct scenario_job *j, const struct score_model *m, const struct config_scenario *s)
{
	memset(j, 0, sizeof *j);
	j->m = m;
	j->s = s;
	j->threaded = pthread_create(&j->thread, NULL, scenario_compute, j) == 0;
	if (!j->threaded)
		scenario_compute(j);
}

static int scenario_finish(struct scenario_job *j, struct err *e)
{
	if (j->threaded)
		pthread_join(j->thread, NULL);
	j->threaded = false;
	if (j->rc < 0)
		*e = j->e;
	return j->rc;
}

static void scenario_free(struct scenario_job *j)
{
	for (int l = 0; l < LEVEL_COUNT; l++)
		outcome_free(&j->out[l]);
}

static int by_scenario_name(const void *a, const void *b)
{
	return strcmp((*(const struct config_scenario *const *)a)->name, (*(const struct config_scenario *const *)b)->name);
}

/* Write one scenario's rows, level by level in the order of their names, so
 * that the rows reach the table in primary-key order. */
static int scenario_write(struct db *db, const struct score_model *m, const struct scenario_job *j, struct sbuf *rows,
			  struct score_stats *st, struct err *e)
{
	static const enum level by_name[] = {LEVEL_BUURT, LEVEL_GEMEENTE, LEVEL_PC6, LEVEL_WIJK};
	const struct config_scenario *s = j->s;
	int put = 0;

	if (db_copy_begin(db,
			  "COPY score (scenario, level, code, value, rank, ranked_of, percentile, flags, at_risk,"
			  " too_small, size, volume, reference, reason, domains) FROM STDIN WITH (FORMAT binary)",
			  e) < 0)
		return -1;
	sbuf_reset(rows);
	pgbin_header(rows);
	for (size_t k = 0; k < sizeof by_name / sizeof by_name[0] && put == 0; k++)
		if (s->outputs[by_name[k]])
			put = score_rows(db, m, s, by_name[k], &j->out[by_name[k]], rows, st, e);
	pgbin_trailer(rows);
	if (put < 0) {
		struct err ignored;

		db_copy_end(db, &ignored);
		return -1;
	}
	if (db_copy_flush(db, rows, 0, e) < 0 || db_copy_end(db, e) < 0 || write_parts(db, m, s, e) < 0)
		return -1;
	return 0;
}

/*
 * Score every scenario in one transaction. The keys of score and rate are
 * dropped while their rows go in and built once at the end; the scenarios go
 * in order of their names, so the rows arrive sorted by the key and building
 * it sorts nothing. While one scenario's rows are sent, the next one is
 * computed in a thread (the model is only read), so PostgreSQL storing rows
 * and pc6risk computing them overlap on two cores.
 */
int score_run(struct db *db, const struct config *cfg, struct score_stats *st, struct err *e)
{
	struct score_model *m = NULL;
	struct sbuf rows = {0};
	const struct config_scenario **order = NULL;
	struct scenario_job jobs[2];
	struct scenario_job *pending = NULL; /* started, not yet written */
	size_t ns = cfg->nscenarios;
	static const char *const keyed[] = {"score", "rate"};
	struct db_keys *keys = NULL;
	int rc = -1;

	memset(st, 0, sizeof *st);
	if (db_begin(db, e) < 0)
		return -1;
	/* what compare found belongs to the scores it compared */
	if (db_lock(db, "score", false, e) < 0 ||
	    db_exec(db, "TRUNCATE score, score_part, rate, rate_part, compare_pair, compare_area, compare_run", e) < 0)
		goto out;
	if (!(m = score_model_load(db, cfg, e)))
		goto out;
	if (m->n[LEVEL_BUURT] == 0) {
		err_set(e, ERR_INPUT, NULL, "there are no areas to score");
		err_hint(e, "run `pc6risk load` first");
		goto out;
	}
	if (!(keys = db_keys_drop(db, keyed, sizeof keyed / sizeof *keyed, e)))
		goto out;
	order = xcalloc(ns ? ns : 1, sizeof *order);
	for (size_t i = 0; i < ns; i++)
		order[i] = &cfg->scenarios[i];
	qsort(order, ns, sizeof *order, by_scenario_name);
	if (ns > 0) {
		scenario_start(&jobs[0], m, order[0]);
		pending = &jobs[0];
	}
	for (size_t i = 0; i < ns; i++) {
		struct scenario_job *j = &jobs[i % 2];
		long long before = st->scored;
		int w;

		pending = NULL;
		if (scenario_finish(j, e) < 0) {
			scenario_free(j);
			goto out;
		}
		if (i + 1 < ns) {
			scenario_start(&jobs[(i + 1) % 2], m, order[i + 1]);
			pending = &jobs[(i + 1) % 2];
		}
		w = scenario_write(db, m, j, &rows, st, e);
		scenario_free(j);
		if (w < 0)
			goto out;
		log_msg(LOG_INFO, "scored scenario=%s combine=%s level=%s areas=%lld", j->s->name,
			combine_name(j->s->combine), level_name(j->s->level), st->scored - before);
	}
	if (write_rates(db, m, e) < 0 || db_keys_restore(db, &keys, e) < 0 ||
	    db_exec(db, "ANALYZE score; ANALYZE rate", e) < 0 || db_commit(db, e) < 0)
		goto out;
	rc = 0;
out:
	if (pending) {
		struct err ignored;

		scenario_finish(pending, &ignored);
		scenario_free(pending);
	}
	db_keys_free(keys);
	if (rc < 0)
		db_rollback(db);
	free(order);
	score_model_free(m);
	sbuf_free(&rows);
	return rc;
}
