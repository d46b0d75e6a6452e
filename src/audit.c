/*
 * audit — the five checks of docs/disclosure.md over the published files.
 *
 * Every row of a sum (a buurt unit, a public buurt total, a wijk, a gemeente)
 * is a union of whole buurten, so a buurt is the finest cell the sums can tell
 * apart: per variable and buurt, the published groups add up to one boxed
 * amount B and the suppressed and figure-less groups to one unknown U >= 0.
 * Both the exact check and the LPs work on these cells; a suppressed group
 * with another unknown group beside it in its buurt can always trade value
 * with it, so it is never determined and its smallest value is 0.
 */
#include "pc6risk/audit.h"
#include "pc6risk/csv.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/strmap.h"
#include "pc6risk/xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <glpk.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { LV_GROUP, LV_BUURT, LV_WIJK, LV_GEMEENTE, LV_N, LV_SINGLE = LV_N /* one buurt (public) */ };
static const char *const lv_names[LV_N] = {"group", "buurt", "wijk", "gemeente"};

enum { K_PERSON, K_DWELLING, K_INCOME, K_COUNTS, K_SCORE = K_COUNTS };
static const char *const kind_names[] = {"person", "dwelling", "income", "score"};

enum { R_NONE, R_PRIMARY, R_SECONDARY, R_OTHER };

/* One row of figures.csv. */
struct fig {
	double value; /* NAN when suppressed */
	double base;  /* 0 for scores */
	int region, var, line, col; /* col: where the region field starts */
	unsigned char level, published, reason, decimals;
};

/* One public total. */
struct pub {
	int level, region, var; /* level LV_SINGLE, LV_WIJK or LV_GEMEENTE */
	double value, base;
};

struct kind_rule {
	bool present;
	double base, k;
	char *min_variable; /* NULL when none */
	double min;
	bool has_dominance;
	double dominance;
};

struct size_rule {
	char *variable;
	double min;
};

/* Everything read, with the tree as index arrays. */
struct audit {
	char *dir;
	struct strmap *groups, *buurten, *wijken, *gemeenten, *units, *vars;
	int *group_buurt;
	int *buurt_wijk, *buurt_gem, *buurt_unit;
	int *wijk_gem;
	int *bg_start, *bg;   /* buurt -> its groups */
	int *wb_start, *wb;   /* wijk -> its buurten */
	int *mb_start, *mb;   /* gemeente -> its buurten */
	int *ub_start, *ub;   /* buurt unit -> its buurten */
	size_t nub, capub, capunits;
	int *order;           /* buurten in tree order: gemeente, wijk, unit, code */
	int *var_kind;
	size_t capvars;
	struct fig *figs;
	size_t nfigs, capfigs;
	int **find;           /* [var * LV_N + level][region] -> figure, or -1 */
	struct pub *pubs;
	size_t npubs, cappubs;
	/* policy */
	char *policy;
	struct size_rule *size;
	size_t nsize;
	struct kind_rule kinds[K_COUNTS];
	double range;
	int bands;
	bool exact_scores;
};

static size_t nregions(const struct audit *a, int level)
{
	switch (level) {
	case LV_GROUP: return strmap_size(a->groups);
	case LV_BUURT: return strmap_size(a->units);
	case LV_WIJK: return strmap_size(a->wijken);
	case LV_GEMEENTE: return strmap_size(a->gemeenten);
	default: return strmap_size(a->buurten);
	}
}

static const char *region_name(const struct audit *a, int level, int region)
{
	switch (level) {
	case LV_GROUP: return strmap_key(a->groups, (size_t)region);
	case LV_BUURT: return strmap_key(a->units, (size_t)region);
	case LV_WIJK: return strmap_key(a->wijken, (size_t)region);
	case LV_GEMEENTE: return strmap_key(a->gemeenten, (size_t)region);
	default: return strmap_key(a->buurten, (size_t)region);
	}
}

/* The buurten a region (not a group) covers; *n gets their number. */
static const int *span(const struct audit *a, int level, const int *region, int *n)
{
	int r = *region;

	switch (level) {
	case LV_BUURT: *n = a->ub_start[r + 1] - a->ub_start[r]; return a->ub + a->ub_start[r];
	case LV_WIJK: *n = a->wb_start[r + 1] - a->wb_start[r]; return a->wb + a->wb_start[r];
	case LV_GEMEENTE: *n = a->mb_start[r + 1] - a->mb_start[r]; return a->mb + a->mb_start[r];
	default: *n = 1; return region;
	}
}

/* ---- reading ---------------------------------------------------------- */

/* Fail with where = "file:line:col" of field i of the current row. */
static int bad_field(struct err *e, const struct csv *c, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad_field(struct err *e, const struct csv *c, size_t i, const char *fmt, ...)
{
	char where[sizeof e->where];
	va_list ap;

	snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, i), csv_field_col(c, i));
	err_set(e, ERR_INPUT, where, "%s", "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* A plain decimal number (no hex, inf or nan); *decimals gets the digits after
 * the point (99 with an exponent). */
static bool parse_number(const char *s, double *out, unsigned char *decimals)
{
	const char *dot;
	char *end;

	if (!s[0])
		return false;
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789.-+eE", *p))
			return false;
	errno = 0;
	*out = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(*out))
		return false;
	if (decimals) {
		dot = strchr(s, '.');
		*decimals = strpbrk(s, "eE") ? 99 : dot ? (unsigned char)(strlen(dot + 1) > 98 ? 98 : strlen(dot + 1)) : 0;
	}
	return true;
}

static struct csv *open_csv(const char *path, const char *const *header, size_t n, struct err *e)
{
	struct csv *c = csv_open(path, ',', ENCODING_UTF8, e);
	int rc;

	if (!c)
		return NULL;
	rc = csv_next(c, e);
	if (rc == 0) {
		err_set(e, ERR_INPUT, path, "the file is empty; expected a header row");
		goto bad;
	}
	if (rc < 0)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (i >= csv_nfields(c)) {
			bad_field(e, c, i - 1, "the header ends after \"%s\"; expected column \"%s\" next",
				  csv_field(c, i - 1), header[i]);
			goto bad;
		}
		if (strcmp(csv_field(c, i), header[i]) != 0) {
			bad_field(e, c, i, "expected column \"%s\" in the header, got \"%s\"", header[i], csv_field(c, i));
			goto bad;
		}
	}
	if (csv_nfields(c) != n) {
		bad_field(e, c, n, "unexpected column \"%s\" in the header", csv_field(c, n));
		goto bad;
	}
	return c;
bad:
	csv_close(c);
	return NULL;
}

/* Read the next row with exactly n fields: 1, 0 at the end, -1 on error. */
static int next_row(struct csv *c, size_t n, struct err *e)
{
	int rc = csv_next(c, e);

	if (rc <= 0)
		return rc;
	if (csv_nfields(c) != n) {
		char where[sizeof e->where];

		snprintf(where, sizeof where, "%s:%ld:1", csv_path(c), csv_line(c));
		return err_set(e, ERR_INPUT, where, "expected %zu comma-separated fields, got %zu", n, csv_nfields(c));
	}
	return 1;
}

/* Grow an int array *p of capacity *cap to hold at least n. */
static void grow_ints(int **p, size_t *cap, size_t n)
{
	if (n <= *cap)
		return;
	*cap = *cap ? *cap * 2 : 1024;
	if (*cap < n)
		*cap = n;
	*p = xrealloc(*p, *cap * sizeof **p);
}

/* The index of an area code, adding it with a parent; a code seen with another
 * parent before is an error. */
static int put_area(struct strmap *m, const char *code, int **parent, size_t *cap, int value, const char *what,
		    const char *parent_what, const struct strmap *parents, const struct csv *c, size_t field,
		    struct err *e)
{
	bool added;
	size_t i = strmap_put(m, code, &added);

	if (added) {
		grow_ints(parent, cap, i + 1);
		(*parent)[i] = value;
	} else if ((*parent)[i] != value) {
		return bad_field(e, c, field, "%s %s lies in %s %s here but in %s %s before", what, code, parent_what,
				 strmap_key(parents, (size_t)value), parent_what,
				 strmap_key(parents, (size_t)(*parent)[i]));
	}
	return (int)i;
}

/* Turn per-item parents into a parent -> items index (items in order). */
static void invert(const int *parent, size_t nitems, size_t nparents, int **start, int **items)
{
	int *fill;

	*start = xcalloc(nparents + 1, sizeof **start);
	*items = xmalloc((nitems ? nitems : 1) * sizeof **items);
	for (size_t i = 0; i < nitems; i++)
		(*start)[parent[i] + 1]++;
	for (size_t p = 0; p < nparents; p++)
		(*start)[p + 1] += (*start)[p];
	fill = xmalloc((nparents + 1) * sizeof *fill);
	memcpy(fill, *start, (nparents + 1) * sizeof *fill);
	for (size_t i = 0; i < nitems; i++)
		(*items)[fill[parent[i]]++] = (int)i;
	free(fill);
}

static int read_groups(struct audit *a, const char *path, struct err *e)
{
	static const char *const header[] = {"group", "buurt", "wijk", "gemeente", "members"};
	struct strmap *pc6 = strmap_new();
	size_t capg = 0, capb = 0, capw = 0, capm = 0;
	int *gem_dummy = NULL;
	struct csv *c = open_csv(path, header, 5, e);
	int rc = -1, r;

	if (!c)
		goto out;
	while ((r = next_row(c, 5, e)) == 1) {
		const char *g = csv_field(c, 0), *members = csv_field(c, 4);
		bool added;
		int m, w, b;
		size_t gi;
		char *copy, *save = NULL, *prev = NULL;

		for (int i = 0; i < 4; i++)
			if (!csv_field(c, (size_t)i)[0]) {
				bad_field(e, c, (size_t)i, "expected a %s code, got an empty field", header[i]);
				goto out;
			}
		if (!members[0]) {
			bad_field(e, c, 4, "expected the group's PC6 codes, got an empty field");
			goto out;
		}
		if ((m = put_area(a->gemeenten, csv_field(c, 3), &gem_dummy, &capm, 0, "gemeente", "", NULL, c, 3, e)) < 0)
			goto out;
		if ((w = put_area(a->wijken, csv_field(c, 2), &a->wijk_gem, &capw, m, "wijk", "gemeente", a->gemeenten, c, 2,
				  e)) < 0)
			goto out;
		if ((b = put_area(a->buurten, csv_field(c, 1), &a->buurt_wijk, &capb, w, "buurt", "wijk", a->wijken, c, 1,
				  e)) < 0)
			goto out;
		gi = strmap_put(a->groups, g, &added);
		if (!added) {
			bad_field(e, c, 0, "group %s is given in two rows", g);
			goto out;
		}
		grow_ints(&a->group_buurt, &capg, gi + 1);
		a->group_buurt[gi] = b;
		copy = xstrdup(members);
		for (char *p = strtok_r(copy, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
			if (prev && strcmp(prev, p) >= 0) {
				bad_field(e, c, 4, "members: expected PC6 codes sorted and separated by single spaces, got \"%s\" after \"%s\"",
					  p, prev);
				free(copy);
				goto out;
			}
			strmap_put(pc6, p, &added);
			if (!added) {
				bad_field(e, c, 4, "PC6 %s belongs to two groups", p);
				free(copy);
				goto out;
			}
			prev = p;
		}
		free(copy);
	}
	if (r < 0)
		goto out;
	if (strmap_size(a->groups) == 0) {
		err_set(e, ERR_INPUT, path, "no groups: expected at least one row after the header");
		goto out;
	}
	{
		size_t nb = strmap_size(a->buurten);

		a->buurt_gem = xmalloc(nb * sizeof *a->buurt_gem);
		a->buurt_unit = xmalloc(nb * sizeof *a->buurt_unit);
		for (size_t i = 0; i < nb; i++) {
			a->buurt_gem[i] = a->wijk_gem[a->buurt_wijk[i]];
			a->buurt_unit[i] = -1;
		}
		invert(a->group_buurt, strmap_size(a->groups), nb, &a->bg_start, &a->bg);
		invert(a->buurt_wijk, nb, strmap_size(a->wijken), &a->wb_start, &a->wb);
		invert(a->buurt_gem, nb, strmap_size(a->gemeenten), &a->mb_start, &a->mb);
	}
	rc = 0;
out:
	free(gem_dummy);
	strmap_free(pc6);
	csv_close(c);
	return rc;
}

/* The index of buurt unit id ("BU1+BU2"), adding it after checking its buurten. */
static int put_unit(struct audit *a, const char *id, const struct csv *c, size_t field, struct err *e)
{
	long u = strmap_get(a->units, id);
	char *copy, *save = NULL, *prev = NULL;
	size_t first = a->nub;
	int rc = -1;

	if (u >= 0)
		return (int)u;
	copy = xstrdup(id);
	if (!id[0] || id[0] == '+' || id[strlen(id) - 1] == '+' || strstr(id, "++")) {
		bad_field(e, c, field, "buurt unit \"%s\": expected buurt codes joined by '+'", id);
		goto out;
	}
	for (char *p = strtok_r(copy, "+", &save); p; p = strtok_r(NULL, "+", &save)) {
		long b = strmap_get(a->buurten, p);

		if (prev && strcmp(prev, p) >= 0) {
			bad_field(e, c, field, "buurt unit %s: expected its buurt codes sorted, got %s after %s", id, p, prev);
			goto out;
		}
		if (b < 0) {
			bad_field(e, c, field, "buurt unit %s: buurt %s has no groups in groups.csv", id, p);
			goto out;
		}
		if (a->buurt_unit[b] >= 0) {
			bad_field(e, c, field, "buurt unit %s: buurt %s is already in buurt unit %s", id, p,
				  strmap_key(a->units, (size_t)a->buurt_unit[b]));
			goto out;
		}
		if (a->nub > first && a->buurt_wijk[b] != a->buurt_wijk[a->ub[first]]) {
			bad_field(e, c, field, "buurt unit %s: expected buurten of one wijk, but %s lies in %s and %s in %s", id,
				  strmap_key(a->buurten, (size_t)a->ub[first]),
				  strmap_key(a->wijken, (size_t)a->buurt_wijk[a->ub[first]]), p,
				  strmap_key(a->wijken, (size_t)a->buurt_wijk[b]));
			goto out;
		}
		grow_ints(&a->ub, &a->capub, a->nub + 1);
		a->ub[a->nub++] = (int)b;
		prev = p;
	}
	u = (long)strmap_put(a->units, id, NULL);
	grow_ints(&a->ub_start, &a->capunits, (size_t)u + 2);
	a->ub_start[u] = (int)first;
	a->ub_start[u + 1] = (int)a->nub;
	for (size_t i = first; i < a->nub; i++)
		a->buurt_unit[a->ub[i]] = (int)u;
	rc = (int)u;
out:
	if (rc < 0)
		a->nub = first;
	free(copy);
	return rc;
}

static int parse_level(const char *s)
{
	for (int l = 0; l < LV_N; l++)
		if (strcmp(s, lv_names[l]) == 0)
			return l;
	return -1;
}

/* The region index of code at level, or -1 when the release has none. */
static long find_area(const struct audit *a, int level, const char *code)
{
	switch (level) {
	case LV_GROUP: return strmap_get(a->groups, code);
	case LV_WIJK: return strmap_get(a->wijken, code);
	case LV_GEMEENTE: return strmap_get(a->gemeenten, code);
	default: return strmap_get(a->buurten, code);
	}
}

static int read_figures(struct audit *a, const char *path, struct err *e)
{
	static const char *const header[] = {"level", "region", "variable", "kind", "status", "value", "base", "reason"};
	struct csv *c = open_csv(path, header, 8, e);
	int r;

	if (!c)
		return -1;
	while ((r = next_row(c, 8, e)) == 1) {
		const char *lvs = csv_field(c, 0), *region = csv_field(c, 1), *var = csv_field(c, 2);
		const char *kind = csv_field(c, 3), *status = csv_field(c, 4), *value = csv_field(c, 5);
		const char *base = csv_field(c, 6), *reason = csv_field(c, 7);
		struct fig f = {.line = (int)csv_line(c), .col = (int)csv_field_col(c, 1)};
		int level = parse_level(lvs), k = -1;
		bool added;
		long reg;
		size_t v;

		if (level < 0) {
			bad_field(e, c, 0, "unknown level \"%s\": expected group, buurt, wijk or gemeente", lvs);
			goto fail;
		}
		if (level == LV_BUURT) {
			reg = put_unit(a, region, c, 1, e);
			if (reg < 0)
				goto fail;
		} else if ((reg = find_area(a, level, region)) < 0) {
			bad_field(e, c, 1, level == LV_GROUP ? "%s \"%s\" is not in groups.csv" : "%s \"%s\" has no groups in groups.csv",
				  lvs, region);
			goto fail;
		}
		if (!var[0]) {
			bad_field(e, c, 2, "expected a variable name, got an empty field");
			goto fail;
		}
		for (int i = 0; i <= K_SCORE; i++)
			if (strcmp(kind, kind_names[i]) == 0)
				k = i;
		if (k < 0) {
			bad_field(e, c, 3, "unknown kind \"%s\": expected person, dwelling, income or score", kind);
			goto fail;
		}
		if (k != K_SCORE && !a->kinds[k].present) {
			bad_field(e, c, 3, "kind %s has no rules in policy.json (kinds.%s)", kind, kind);
			goto fail;
		}
		v = strmap_put(a->vars, var, &added);
		if (added) {
			grow_ints(&a->var_kind, &a->capvars, v + 1);
			a->var_kind[v] = k;
		} else if (a->var_kind[v] != k) {
			bad_field(e, c, 3, "variable %s is of kind %s here but %s before", var, kind,
				  kind_names[a->var_kind[v]]);
			goto fail;
		}
		if (strcmp(status, "published") == 0) {
			f.published = 1;
			if (!parse_number(value, &f.value, &f.decimals)) {
				bad_field(e, c, 5, "expected a number for a published figure, got \"%s\"", value);
				goto fail;
			}
			if (k != K_SCORE && f.value < 0) {
				bad_field(e, c, 5, "expected a count >= 0, got %s", value);
				goto fail;
			}
			if (reason[0]) {
				bad_field(e, c, 7, "expected no reason for a published figure, got \"%s\"", reason);
				goto fail;
			}
		} else if (strcmp(status, "suppressed") == 0) {
			f.value = NAN;
			if (value[0]) {
				bad_field(e, c, 5, "expected an empty value for a suppressed figure, got \"%s\"", value);
				goto fail;
			}
			if (!reason[0]) {
				bad_field(e, c, 7, "expected the reason a figure is suppressed, got an empty field");
				goto fail;
			}
			f.reason = strncmp(reason, "primary:", 8) == 0 ? R_PRIMARY
				   : strncmp(reason, "secondary:", 10) == 0 ? R_SECONDARY
									    : R_OTHER;
		} else {
			bad_field(e, c, 4, "unknown status \"%s\": expected published or suppressed", status);
			goto fail;
		}
		if (k == K_SCORE) {
			if (base[0]) {
				bad_field(e, c, 6, "expected no base for a score, got \"%s\"", base);
				goto fail;
			}
		} else if (!parse_number(base, &f.base, NULL) || f.base <= 0 || f.base != floor(f.base)) {
			bad_field(e, c, 6, "expected a whole base > 0 for a count, got \"%s\"", base);
			goto fail;
		}
		f.level = (unsigned char)level;
		f.region = (int)reg;
		f.var = (int)v;
		if (a->nfigs == a->capfigs) {
			a->capfigs = a->capfigs ? a->capfigs * 2 : 4096;
			a->figs = xrealloc(a->figs, a->capfigs * sizeof *a->figs);
		}
		a->figs[a->nfigs++] = f;
	}
	if (r < 0)
		goto fail;
	csv_close(c);
	/* one lookup per variable and level; a second row for a region and
	 * variable is an error */
	a->find = xcalloc(strmap_size(a->vars) * LV_N, sizeof *a->find);
	for (size_t v = 0; v < strmap_size(a->vars); v++) {
		for (int l = 0; l < LV_N; l++) {
			size_t n = nregions(a, l);
			int *t = xmalloc((n ? n : 1) * sizeof *t);

			for (size_t i = 0; i < n; i++)
				t[i] = -1;
			a->find[v * LV_N + (size_t)l] = t;
		}
	}
	for (size_t i = 0; i < a->nfigs; i++) {
		const struct fig *f = &a->figs[i];
		int *slot = &a->find[(size_t)f->var * LV_N + f->level][f->region];

		if (*slot >= 0) {
			char where[sizeof e->where];

			snprintf(where, sizeof where, "%s:%d:%d", path, f->line, f->col);
			return err_set(e, ERR_INPUT, where, "%s %s %s is given in two rows (line %d before)",
				       lv_names[f->level], region_name(a, f->level, f->region),
				       strmap_key(a->vars, (size_t)f->var), a->figs[*slot].line);
		}
		*slot = (int)i;
	}
	return 0;
fail:
	csv_close(c);
	return -1;
}

static int read_public(struct audit *a, const char *path, struct audit_report *rep, struct err *e)
{
	static const char *const header[] = {"level", "code", "variable", "value", "base"};
	struct csv *c = open_csv(path, header, 5, e);
	struct strmap *seen = strmap_new();
	int r, rc = -1;

	if (!c)
		goto out;
	while ((r = next_row(c, 5, e)) == 1) {
		const char *lvs = csv_field(c, 0), *code = csv_field(c, 1), *var = csv_field(c, 2);
		struct pub p;
		long reg, v;
		char *key;
		bool added;

		p.level = parse_level(lvs);
		if (p.level != LV_BUURT && p.level != LV_WIJK && p.level != LV_GEMEENTE) {
			bad_field(e, c, 0, "unknown level \"%s\": expected buurt, wijk or gemeente", lvs);
			goto out;
		}
		if (p.level == LV_BUURT && strchr(code, '+')) {
			bad_field(e, c, 1, "expected a single CBS buurt code, got \"%s\"", code);
			goto out;
		}
		if (!parse_number(csv_field(c, 3), &p.value, NULL) || p.value < 0) {
			bad_field(e, c, 3, "expected a count >= 0, got \"%s\"", csv_field(c, 3));
			goto out;
		}
		if (!parse_number(csv_field(c, 4), &p.base, NULL) || p.base <= 0) {
			bad_field(e, c, 4, "expected a base > 0 (1 when exact), got \"%s\"", csv_field(c, 4));
			goto out;
		}
		key = xasprintf("%s\t%s\t%s", lvs, code, var);
		strmap_put(seen, key, &added);
		free(key);
		if (!added) {
			bad_field(e, c, 0, "%s %s %s is given in two rows", lvs, code, var);
			goto out;
		}
		if (p.level == LV_BUURT)
			p.level = LV_SINGLE;
		reg = find_area(a, p.level, code);
		v = strmap_get(a->vars, var);
		/* totals of places or variables the release does not cover say
		 * nothing about its groups */
		if (reg < 0 || v < 0 || a->var_kind[v] == K_SCORE) {
			rep->public_ignored++;
			continue;
		}
		p.region = (int)reg;
		p.var = (int)v;
		if (a->npubs == a->cappubs) {
			a->cappubs = a->cappubs ? a->cappubs * 2 : 256;
			a->pubs = xrealloc(a->pubs, a->cappubs * sizeof *a->pubs);
		}
		a->pubs[a->npubs++] = p;
		rep->public_used++;
	}
	rc = r < 0 ? -1 : 0;
out:
	strmap_free(seen);
	csv_close(c);
	return rc;
}

/* ---- policy.json -------------------------------------------------------- */

static int policy_bad(struct err *e, const char *path, const char *key, const cJSON *v, const char *what)
{
	char got[80];

	if (!v)
		snprintf(got, sizeof got, "nothing");
	else if (cJSON_IsNumber(v))
		snprintf(got, sizeof got, "%.15g", v->valuedouble);
	else if (cJSON_IsString(v))
		snprintf(got, sizeof got, "\"%.60s\"", v->valuestring);
	else
		snprintf(got, sizeof got, "%s", cJSON_IsObject(v) ? "an object" : cJSON_IsArray(v) ? "an array" : "another value");
	return err_set(e, ERR_INPUT, path, "%s: %s, got %s", key, what, got);
}

static int check_keys(const cJSON *obj, const char *const *allowed, const char *path, const char *at, struct err *e)
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		bool ok = false;

		for (const char *const *k = allowed; *k; k++)
			ok |= strcmp(c->string, *k) == 0;
		for (const cJSON *d = obj->child; d != c; d = d->next)
			if (strcmp(c->string, d->string) == 0)
				return err_set(e, ERR_INPUT, path, "%s%s: key given twice", at, c->string);
		if (!ok)
			return err_set(e, ERR_INPUT, path, "%s%s: unknown key", at, c->string);
	}
	return 0;
}

/* obj.key as a number in [min, max] (exclusive of min when open). */
static int get_num(const cJSON *obj, const char *key, const char *at, bool required, double min, bool open, double max,
		   double *out, bool *present, const char *path, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char name[128], what[96];

	if (present)
		*present = v != NULL;
	if (!v && !required)
		return 0;
	snprintf(name, sizeof name, "%s%s", at, key);
	if (isfinite(max))
		snprintf(what, sizeof what, "expected a number %s %g and at most %g", open ? ">" : ">=", min, max);
	else
		snprintf(what, sizeof what, "expected a number %s %g", open ? ">" : ">=", min);
	if (!cJSON_IsNumber(v) || v->valuedouble < min || (open && v->valuedouble == min) || v->valuedouble > max)
		return policy_bad(e, path, name, v, what);
	*out = v->valuedouble;
	return 0;
}

static int read_policy(struct audit *a, const char *path, struct err *e)
{
	static const char *const top[] = {"policy", "size", "kinds", "range", "bands", "exact_scores", NULL};
	static const char *const kind_keys[] = {"base", "k", "min_variable", "min", "dominance", NULL};
	static const char *const size_keys[] = {"variable", "min", NULL};
	FILE *f = fopen(path, "rb");
	struct sbuf text = {0};
	const char *end = NULL;
	char chunk[4096];
	cJSON *root = NULL;
	const cJSON *v, *kinds, *size;
	double d;
	int rc = -1;
	size_t n;

	if (!f)
		return err_set(e, ERR_INPUT, path, "cannot open: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_append(&text, chunk, n);
	fclose(f);
	sbuf_putc(&text, '\0');
	root = cJSON_ParseWithLengthOpts(text.s, text.len, &end, true);
	if (!root) {
		long line = 1, col = 1;
		char where[sizeof e->where];

		for (const char *p = text.s; end && p < end; p++)
			if (*p == '\n')
				line++, col = 1;
			else
				col++;
		snprintf(where, sizeof where, "%s:%ld:%ld", path, line, col);
		err_set(e, ERR_INPUT, where, "not valid JSON here: expected a value, ',' or a closing bracket");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		policy_bad(e, path, "(top level)", root, "expected an object");
		goto out;
	}
	if (check_keys(root, top, path, "", e) < 0)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(root, "policy");
	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		policy_bad(e, path, "policy", v, "expected the policy's name, such as \"public\"");
		goto out;
	}
	a->policy = xstrdup(v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(root, "exact_scores");
	if (v && !cJSON_IsBool(v)) {
		policy_bad(e, path, "exact_scores", v, "expected true or false");
		goto out;
	}
	a->exact_scores = cJSON_IsTrue(v);
	if (get_num(root, "range", "", true, 0, false, 1, &a->range, NULL, path, e) < 0 ||
	    get_num(root, "bands", "", true, 2, false, 1000, &d, NULL, path, e) < 0)
		goto out;
	if (d != floor(d)) {
		policy_bad(e, path, "bands", cJSON_GetObjectItemCaseSensitive(root, "bands"), "expected a whole number");
		goto out;
	}
	a->bands = (int)d;
	size = cJSON_GetObjectItemCaseSensitive(root, "size");
	if (!cJSON_IsArray(size)) {
		policy_bad(e, path, "size", size, "expected an array of {\"variable\", \"min\"}");
		goto out;
	}
	a->size = xcalloc((size_t)cJSON_GetArraySize(size) + 1, sizeof *a->size);
	for (const cJSON *s = size->child; s; s = s->next) {
		char at[64];
		const cJSON *var = cJSON_GetObjectItemCaseSensitive(s, "variable");

		snprintf(at, sizeof at, "size[%zu].", a->nsize);
		if (!cJSON_IsObject(s)) {
			policy_bad(e, path, at, s, "expected an object {\"variable\", \"min\"}");
			goto out;
		}
		if (check_keys(s, size_keys, path, at, e) < 0)
			goto out;
		if (!cJSON_IsString(var) || !var->valuestring[0]) {
			char name[80];

			snprintf(name, sizeof name, "%svariable", at);
			policy_bad(e, path, name, var, "expected a variable name");
			goto out;
		}
		if (get_num(s, "min", at, true, 0, false, INFINITY, &a->size[a->nsize].min, NULL, path, e) < 0)
			goto out;
		a->size[a->nsize++].variable = xstrdup(var->valuestring);
	}
	kinds = cJSON_GetObjectItemCaseSensitive(root, "kinds");
	if (!cJSON_IsObject(kinds)) {
		policy_bad(e, path, "kinds", kinds, "expected an object with person, dwelling and/or income");
		goto out;
	}
	{
		static const char *const names[] = {"person", "dwelling", "income", NULL};

		if (check_keys(kinds, names, path, "kinds.", e) < 0)
			goto out;
	}
	for (int k = 0; k < K_COUNTS; k++) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(kinds, kind_names[k]);
		struct kind_rule *kr = &a->kinds[k];
		char at[32];
		bool has_min;

		if (!o)
			continue;
		snprintf(at, sizeof at, "kinds.%s.", kind_names[k]);
		if (!cJSON_IsObject(o)) {
			policy_bad(e, path, at, o, "expected an object");
			goto out;
		}
		if (check_keys(o, kind_keys, path, at, e) < 0 ||
		    get_num(o, "base", at, true, 0, true, INFINITY, &kr->base, NULL, path, e) < 0 ||
		    get_num(o, "k", at, true, 0, false, INFINITY, &kr->k, NULL, path, e) < 0 ||
		    get_num(o, "min", at, false, 0, false, INFINITY, &kr->min, &has_min, path, e) < 0 ||
		    get_num(o, "dominance", at, false, 0, true, 1, &kr->dominance, &kr->has_dominance, path, e) < 0)
			goto out;
		v = cJSON_GetObjectItemCaseSensitive(o, "min_variable");
		if (v && (!cJSON_IsString(v) || !v->valuestring[0])) {
			char name[64];

			snprintf(name, sizeof name, "%smin_variable", at);
			policy_bad(e, path, name, v, "expected a variable name");
			goto out;
		}
		if ((v != NULL) != has_min) {
			err_set(e, ERR_INPUT, path, "%s: min_variable and min go together; give both or neither", at);
			goto out;
		}
		kr->min_variable = v ? xstrdup(v->valuestring) : NULL;
		kr->present = true;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	sbuf_free(&text);
	return rc;
}

/* ---- failures ------------------------------------------------------------ */

struct fails {
	struct audit_failure *v;
	size_t n, cap;
};

static void add_fail(struct fails *fs, enum audit_check check, const char *level, const char *region,
		     const char *variable, char *message)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 16;
		fs->v = xrealloc(fs->v, fs->cap * sizeof *fs->v);
	}
	fs->v[fs->n++] = (struct audit_failure){check, xstrdup(level), xstrdup(region), xstrdup(variable), message};
}

static void fig_fail(const struct audit *a, struct fails *fs, enum audit_check check, const struct fig *f, char *message)
{
	add_fail(fs, check, lv_names[f->level], region_name(a, f->level, f->region), strmap_key(a->vars, (size_t)f->var),
		 message);
}

/* ---- checks 1 to 3 --------------------------------------------------------- */

static const struct fig *lookup(const struct audit *a, const char *var, int level, int region)
{
	long v = var ? strmap_get(a->vars, var) : -1;
	int i;

	if (v < 0)
		return NULL;
	i = a->find[(size_t)v * LV_N + (size_t)level][region];
	return i < 0 ? NULL : &a->figs[i];
}

static void check_rules(const struct audit *a, struct audit_report *rep, struct fails *fs)
{
	bool *has_pub[LV_N], *has_fig[LV_N];

	for (int l = 0; l < LV_N; l++) {
		has_pub[l] = xcalloc(nregions(a, l) + 1, sizeof **has_pub);
		has_fig[l] = xcalloc(nregions(a, l) + 1, sizeof **has_fig);
	}
	rep->smallest = xcalloc(a->nsize + 1, sizeof *rep->smallest);
	rep->nsmallest = a->nsize;
	for (size_t s = 0; s < a->nsize; s++) {
		rep->smallest[s].variable = xstrdup(a->size[s].variable);
		rep->smallest[s].min = a->size[s].min;
	}
	for (size_t i = 0; i < a->nfigs; i++) {
		const struct fig *f = &a->figs[i];
		int kind = a->var_kind[f->var];
		const char *var = strmap_key(a->vars, (size_t)f->var);
		const char *name = region_name(a, f->level, f->region);

		has_fig[f->level][f->region] = true;
		rep->figures++;
		if (!f->published) {
			rep->suppressed++;
			rep->primary += f->reason == R_PRIMARY;
			rep->secondary += f->reason == R_SECONDARY;
			rep->suppressed_counts += kind != K_SCORE;
			continue;
		}
		rep->published++;
		has_pub[f->level][f->region] = true;
		if (kind == K_SCORE) {
			if (f->level == LV_GROUP && !a->exact_scores &&
			    (f->value != floor(f->value) || f->value < 1 || f->value > a->bands))
				fig_fail(a, fs, AUDIT_ROUNDING, f,
					 xasprintf("group %s %s: score %g is not a band 1..%d, and the policy does not "
						   "allow exact group scores",
						   name, var, f->value, a->bands));
			else if (f->level != LV_GROUP && f->decimals > 1)
				fig_fail(a, fs, AUDIT_ROUNDING, f,
					 xasprintf("%s %s %s: score %g has more than one decimal", lv_names[f->level], name,
						   var, f->value));
			continue;
		}
		if (f->base < a->kinds[kind].base)
			fig_fail(a, fs, AUDIT_ROUNDING, f,
				 xasprintf("%s %s %s: base %g is smaller than the policy's base %g for %s counts",
					   lv_names[f->level], name, var, f->base, a->kinds[kind].base, kind_names[kind]));
		else if (f->value != floor(f->value) || fmod(f->value, f->base) != 0)
			fig_fail(a, fs, AUDIT_ROUNDING, f,
				 xasprintf("%s %s %s: %g is not a multiple of its base %g", lv_names[f->level], name, var,
					   f->value, f->base));
		if (a->kinds[kind].min_variable) {
			const struct fig *m = lookup(a, a->kinds[kind].min_variable, f->level, f->region);

			if (m && !m->published && m->reason == R_SECONDARY)
				continue; /* hidden to shield another figure: protect checked the rule */
			if (!m || !m->published || m->value < a->kinds[kind].min)
				fig_fail(a, fs, AUDIT_KIND, f,
					 m && m->published
						 ? xasprintf("%s %s %s: an %s figure is published where %s is %g, below %g",
							     lv_names[f->level], name, var, kind_names[kind],
							     a->kinds[kind].min_variable, m->value, a->kinds[kind].min)
						 : xasprintf("%s %s %s: an %s figure is published where %s is not",
							     lv_names[f->level], name, var, kind_names[kind],
							     a->kinds[kind].min_variable));
		}
	}
	for (int l = 0; l < LV_N; l++) {
		for (size_t r = 0; r < nregions(a, l); r++) {
			rep->regions[l] += has_fig[l][r];
			if (!has_pub[l][r])
				continue;
			for (size_t s = 0; s < a->nsize; s++) {
				const struct fig *m = lookup(a, a->size[s].variable, l, (int)r);
				const char *name = region_name(a, l, (int)r);

				if (m && !m->published && m->reason == R_SECONDARY)
					continue; /* hidden to shield another figure: protect checked its rule */
				if (!m || !m->published)
					add_fail(fs, AUDIT_SIZE, lv_names[l], name, a->size[s].variable,
						 xasprintf("%s %s: has published figures but %s is %s", lv_names[l], name,
							   a->size[s].variable, m ? "suppressed" : "not published"));
				else if (m->value < a->size[s].min)
					add_fail(fs, AUDIT_SIZE, lv_names[l], name, a->size[s].variable,
						 xasprintf("%s %s: %s is %g, below the minimum %g", lv_names[l], name,
							   a->size[s].variable, m->value, a->size[s].min));
				else if (l == LV_GROUP &&
					 (!rep->smallest[s].group || m->value < rep->smallest[s].value)) {
					free(rep->smallest[s].group);
					rep->smallest[s].group = xstrdup(name);
					rep->smallest[s].value = m->value;
				}
			}
		}
	}
	if (strcmp(a->policy, "public") == 0 && a->exact_scores)
		add_fail(fs, AUDIT_POLICY, "", "", "",
			 xstrdup("policy public: exact_scores is true, but public group scores must be bands"));
	if (strcmp(a->policy, "public") == 0 && a->kinds[K_INCOME].present) {
		const struct kind_rule *kr = &a->kinds[K_INCOME];

		if (!kr->has_dominance || kr->dominance > 0.30)
			add_fail(fs, AUDIT_POLICY, "", "", "",
				 kr->has_dominance
					 ? xasprintf("policy public: kinds.income.dominance is %g, above 0.30", kr->dominance)
					 : xstrdup("policy public: kinds.income.dominance is missing; it must be at most 0.30"));
	}
	rep->has_dominance = a->kinds[K_INCOME].has_dominance;
	rep->dominance = a->kinds[K_INCOME].dominance;
	for (int l = 0; l < LV_N; l++) {
		free(has_pub[l]);
		free(has_fig[l]);
	}
}

/* ---- checks 4 and 5: per count variable, per component ------------------- */

/* A region of a sum: a figure's or a public total's. */
struct row {
	int level, region, comp;
	double lo, hi;
	bool pub;  /* a public total, not a published figure */
};

/* A suppressed count: its figure and the buurt (groups) or region it covers. */
struct target {
	int fig, comp;
	bool public_known; /* already determined by the public totals alone */
};

/* What one count variable's components share (read-only while threads run,
 * except for the per-buurt column slots, which components own disjointly). */
struct vjob {
	const struct audit *a;
	int var;
	double k, range;
	bool public_used;
	int *nunk, *nsup, *has_b; /* per buurt */
	double *blo, *bhi;
	int *col, *lpb, *lpu;     /* per buurt: exact column, LP columns of B and U */
	struct row *rows;
	size_t nrows;
	struct target *targets;
	size_t ntargets;
	int ncomp;
	int *cb_start, *cb;       /* component -> its buurten in tree order */
	int *cr_start, *cr;       /* component -> its rows */
	int *ct_start, *ct;       /* component -> its targets */
};

/* What one component found. */
struct cresult {
	struct fails fails;
	bool has_narrow;
	int narrow_fig;
	double lo, hi, req;
	long lp;
	bool failed;
	struct err e;
};

/* A sparse row of integer coefficients, columns ascending. */
struct srow {
	int n;
	int *c;
	int64_t *v;
};

static int64_t gcd64(int64_t x, int64_t y)
{
	if (x < 0)
		x = -x;
	if (y < 0)
		y = -y;
	while (y) {
		int64_t t = x % y;

		x = y;
		y = t;
	}
	return x;
}

/* r := p[0] * r - r[0] * p, which clears r's leading column (p's pivot), then
 * divide by the gcd and make the leading coefficient positive. -1 on overflow. */
static int eliminate(struct srow *r, const struct srow *p, struct srow *tmp)
{
	int64_t fr = p->v[0], fp = r->v[0], g = 0;
	int i = 0, j = 0, n = 0;

	tmp->c = xrealloc(tmp->c, (size_t)(r->n + p->n) * sizeof *tmp->c);
	tmp->v = xrealloc(tmp->v, (size_t)(r->n + p->n) * sizeof *tmp->v);
	while (i < r->n || j < p->n) {
		int c;
		int64_t x = 0, y = 0, z;

		if (j >= p->n || (i < r->n && r->c[i] < p->c[j]))
			c = r->c[i], x = r->v[i++];
		else if (i >= r->n || p->c[j] < r->c[i])
			c = p->c[j], y = p->v[j++];
		else
			c = r->c[i], x = r->v[i++], y = p->v[j++];
		if (__builtin_mul_overflow(x, fr, &x) || __builtin_mul_overflow(y, fp, &y) ||
		    __builtin_sub_overflow(x, y, &z))
			return -1;
		if (z == 0)
			continue;
		tmp->c[n] = c;
		tmp->v[n++] = z;
		g = gcd64(g, z);
	}
	if (n > 0) {
		int64_t sign = tmp->v[0] < 0 ? -1 : 1;

		for (int k = 0; k < n; k++)
			tmp->v[k] = sign * (tmp->v[k] / g);
	}
	/* swap buffers */
	{
		struct srow s = *r;

		*r = *tmp;
		r->n = n;
		*tmp = s;
	}
	return 0;
}

/* Reduce r by the basis (piv: column -> basis row, or -1). -1 on overflow. */
static int reduce(struct srow *r, const struct srow *basis, const int *piv, struct srow *tmp)
{
	while (r->n > 0 && piv[r->c[0]] >= 0) {
		int lead = r->c[0];

		/* each step clears the leading column; anything else would loop */
		if (eliminate(r, &basis[piv[lead]], tmp) < 0 || (r->n > 0 && r->c[0] <= lead))
			return -1;
	}
	return 0;
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

/* The exact columns of the buurten a row or region covers, sorted, into r. */
static void exact_row(const struct vjob *j, int level, int region, struct srow *r)
{
	int n;
	const int *b = span(j->a, level, &region, &n);

	r->n = 0;
	r->c = xrealloc(r->c, (size_t)(n ? n : 1) * sizeof *r->c);
	r->v = xrealloc(r->v, (size_t)(n ? n : 1) * sizeof *r->v);
	for (int i = 0; i < n; i++)
		if (j->col[b[i]] >= 0)
			r->c[r->n++] = j->col[b[i]];
	qsort(r->c, (size_t)r->n, sizeof *r->c, cmp_int);
	for (int i = 0; i < r->n; i++)
		r->v[i] = 1;
}

static int cmp_len(const void *x, const void *y)
{
	const struct srow *a = x, *b = y;

	return (a->n > b->n) - (a->n < b->n);
}

/* Is the sum over region (level -1: the buurt of that index) a combination of
 * the public totals alone (none of the published figures), with every buurt
 * of the component as a column? 1 yes, 0 no, -1 when a coefficient outgrows
 * 64 bits. Borrows the component's column slots and gives them back. */
static int public_alone(const struct vjob *j, int comp, int level, int region)
{
	int nb = j->cb_start[comp + 1] - j->cb_start[comp], nrows = 0, rc = 0;
	int *saved = xmalloc((size_t)(nb ? nb : 1) * sizeof *saved), *piv = xmalloc((size_t)(nb ? nb : 1) * sizeof *piv);
	struct srow *basis = xcalloc((size_t)(j->cr_start[comp + 1] - j->cr_start[comp]) + 1, sizeof *basis);
	struct srow t = {0}, tmp = {0};

	for (int i = 0; i < nb; i++) {
		saved[i] = j->col[j->cb[j->cb_start[comp] + i]];
		j->col[j->cb[j->cb_start[comp] + i]] = i;
		piv[i] = -1;
	}
	for (int i = j->cr_start[comp]; i < j->cr_start[comp + 1]; i++) {
		const struct row *r = &j->rows[j->cr[i]];

		if (r->pub)
			exact_row(j, r->level, r->region, &basis[nrows++]);
	}
	qsort(basis, (size_t)nrows, sizeof *basis, cmp_len);
	for (int i = 0; i < nrows && rc == 0; i++) {
		struct srow r = basis[i];

		if (reduce(&r, basis, piv, &tmp) < 0)
			rc = -1;
		basis[i] = r;
		if (rc == 0 && r.n > 0)
			piv[r.c[0]] = i;
	}
	if (rc == 0) {
		if (level < 0) { /* one buurt */
			t.c = xmalloc(sizeof *t.c);
			t.v = xmalloc(sizeof *t.v);
			t.n = 1;
			t.c[0] = j->col[region];
			t.v[0] = 1;
		} else {
			exact_row(j, level, region, &t);
		}
		rc = reduce(&t, basis, piv, &tmp) < 0 ? -1 : t.n == 0;
	}
	for (int i = 0; i < nb; i++)
		j->col[j->cb[j->cb_start[comp] + i]] = saved[i];
	for (int i = 0; i < nrows; i++) {
		free(basis[i].c);
		free(basis[i].v);
	}
	free(basis);
	free(saved);
	free(piv);
	free(t.c);
	free(t.v);
	free(tmp.c);
	free(tmp.v);
	return rc;
}

/* Check 4 for one component: is any suppressed count a rational combination of
 * the known sums? Columns are the buurten with unknown groups; a group target
 * is its buurt's column when it is the buurt's only unknown group. */
static int exact_component(const struct vjob *j, int comp, struct cresult *res)
{
	const struct audit *a = j->a;
	int ncols = 0, rc = -1;
	struct srow *basis, t = {0}, tmp = {0};
	int nrows = j->cr_start[comp + 1] - j->cr_start[comp];
	int *piv;

	for (int i = j->cb_start[comp]; i < j->cb_start[comp + 1]; i++)
		j->col[j->cb[i]] = j->nunk[j->cb[i]] > 0 ? ncols++ : -1;
	basis = xcalloc((size_t)nrows + 1, sizeof *basis);
	piv = xmalloc((size_t)(ncols ? ncols : 1) * sizeof *piv);
	for (int i = 0; i < ncols; i++)
		piv[i] = -1;
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &j->rows[j->cr[j->cr_start[comp] + i]];

		exact_row(j, r->level, r->region, &basis[i]);
	}
	/* small sums first keep the rows short (every sum is an interval of the
	 * tree order, and so is every difference of nested ones) */
	qsort(basis, (size_t)nrows, sizeof *basis, cmp_len);
	for (int i = 0; i < nrows; i++) {
		struct srow r = basis[i];
		int bad = reduce(&r, basis, piv, &tmp);

		basis[i] = r;
		if (bad < 0)
			goto overflow;
		if (r.n > 0) {
			piv[r.c[0]] = i;
		}
	}
	for (int i = j->ct_start[comp]; i < j->ct_start[comp + 1]; i++) {
		const struct fig *f = &a->figs[j->targets[j->ct[i]].fig];

		/* a count hidden only to shield another passes every rule on its
		 * own: what matters is that the primary ones stay hidden */
		if (f->reason == R_SECONDARY)
			continue;
		if (f->level == LV_GROUP) {
			int b = a->group_buurt[f->region];

			if (j->nunk[b] > 1)
				continue;
			t.c = xrealloc(t.c, sizeof *t.c);
			t.v = xrealloc(t.v, sizeof *t.v);
			t.n = 1;
			t.c[0] = j->col[b];
			t.v[0] = 1;
		} else {
			exact_row(j, f->level, f->region, &t);
		}
		if (reduce(&t, basis, piv, &tmp) < 0)
			goto overflow;
		if (t.n == 0 && j->public_used && (f->level != LV_GROUP || !j->has_b[a->group_buurt[f->region]])) {
			/* a group is public on its own when it is its buurt's only one */
			int known = f->level == LV_GROUP ? public_alone(j, comp, -1, a->group_buurt[f->region])
							 : public_alone(j, comp, f->level, f->region);

			if (known < 0)
				goto overflow;
			if (known) {
				/* CBS publishes it (or what gives it): nothing of ours discloses it */
				j->targets[j->ct[i]].public_known = true;
				continue;
			}
		}
		if (t.n == 0)
			fig_fail(a, &res->fails, AUDIT_DIFFERENCING, f,
				 xasprintf("%s %s %s: the suppressed value is a linear combination of the published%s "
					   "figures",
					   lv_names[f->level], region_name(a, f->level, f->region),
					   strmap_key(a->vars, (size_t)f->var), j->public_used ? " and public" : ""));
	}
	rc = 0;
	goto out;
overflow:
	err_set(&res->e, ERR_INTERNAL, NULL, "exact check of %s: a coefficient outgrew 64 bits, or elimination went wrong",
		strmap_key(a->vars, (size_t)j->var));
out:
	for (int i = 0; i < nrows; i++) {
		free(basis[i].c);
		free(basis[i].v);
	}
	free(basis);
	free(piv);
	free(t.c);
	free(t.v);
	free(tmp.c);
	free(tmp.v);
	return rc;
}

/* Optimise the LP's current objective: 0 with *val (HUGE_VAL when unbounded
 * above), 1 when no values fit the constraints, -1 when GLPK fails. */
static int lp_solve(glp_prob *P, const glp_smcp *parm, int dir, double *val)
{
	int st;

	glp_set_obj_dir(P, dir);
	if (glp_simplex(P, parm) != 0) {
		glp_std_basis(P);
		if (glp_simplex(P, parm) != 0)
			return -1;
	}
	st = glp_get_status(P);
	if (st == GLP_OPT) {
		*val = glp_get_obj_val(P);
		return 0;
	}
	if (st == GLP_UNBND && dir == GLP_MAX) {
		*val = HUGE_VAL;
		return 0;
	}
	if (st == GLP_NOFEAS || st == GLP_INFEAS)
		return 1;
	return -1;
}

/* Set the objective to the sum of the LP columns of the buurten of a region
 * (or of buurt b's U alone when level < 0); clear = set zero. */
static void lp_objective(glp_prob *P, const struct vjob *j, int level, int region, double coef)
{
	int n;
	const int *b;

	if (level < 0) {
		glp_set_obj_coef(P, j->lpu[region], coef);
		return;
	}
	b = span(j->a, level, &region, &n);
	for (int i = 0; i < n; i++) {
		if (j->lpb[b[i]] > 0)
			glp_set_obj_coef(P, j->lpb[b[i]], coef);
		if (j->lpu[b[i]] > 0)
			glp_set_obj_coef(P, j->lpu[b[i]], coef);
	}
}

/* The interval of a suppressed count given the public totals alone: one
 * column per buurt of the component (its total, >= 0), a row per public
 * total. A group is its buurt's total when it is the buurt's only group,
 * else anything from 0 to it. 0, or -1 when GLPK fails. */
static int public_interval(const struct vjob *j, int comp, const struct fig *f, const glp_smcp *parm, double *lo,
			   double *hi)
{
	const struct audit *a = j->a;
	int nb = j->cb_start[comp + 1] - j->cb_start[comp], nrows = 0, rc = 0, n, region = f->region;
	int *saved = xmalloc((size_t)(nb ? nb : 1) * sizeof *saved);
	int *ind = xmalloc((size_t)(nb + 1) * sizeof *ind);
	double *val = xmalloc((size_t)(nb + 1) * sizeof *val);
	glp_prob *P = glp_create_prob();
	const int *b;
	bool sole_group = false;

	for (int i = 0; i < nb; i++) {
		saved[i] = j->col[j->cb[j->cb_start[comp] + i]];
		j->col[j->cb[j->cb_start[comp] + i]] = i + 1;
	}
	glp_add_cols(P, nb ? nb : 1);
	for (int i = 1; i <= (nb ? nb : 1); i++)
		glp_set_col_bnds(P, i, GLP_LO, 0, 0);
	for (int i = j->cr_start[comp]; i < j->cr_start[comp + 1]; i++) {
		const struct row *r = &j->rows[j->cr[i]];
		int reg = r->region, len = 0;

		if (!r->pub)
			continue;
		b = span(a, r->level, &reg, &n);
		for (int q = 0; q < n; q++)
			ind[++len] = j->col[b[q]], val[len] = 1;
		glp_add_rows(P, 1);
		nrows++;
		glp_set_mat_row(P, nrows, len, ind, val);
		glp_set_row_bnds(P, nrows, GLP_DB, r->lo, r->hi);
	}
	if (f->level == LV_GROUP) {
		int gb = a->group_buurt[f->region];

		sole_group = j->nunk[gb] == 1 && !j->has_b[gb];
		glp_set_obj_coef(P, j->col[gb], 1);
	} else {
		b = span(a, f->level, &region, &n);
		for (int q = 0; q < n; q++)
			glp_set_obj_coef(P, j->col[b[q]], 1);
	}
	if (lp_solve(P, parm, GLP_MAX, hi) != 0 || lp_solve(P, parm, GLP_MIN, lo) != 0)
		rc = -1;
	if (f->level == LV_GROUP && !sole_group)
		*lo = 0;
	for (int i = 0; i < nb; i++)
		j->col[j->cb[j->cb_start[comp] + i]] = saved[i];
	glp_delete_prob(P);
	free(saved);
	free(ind);
	free(val);
	return rc;
}

/* Check 5 for one component. */
static int lp_component(const struct vjob *j, int comp, struct cresult *res)
{
	const struct audit *a = j->a;
	int nb = j->cb_start[comp + 1] - j->cb_start[comp], ncols = 0, nrows;
	const int *cb = j->cb + j->cb_start[comp];
	double *cache_lo = xmalloc((size_t)nb * sizeof *cache_lo), *cache_hi = xmalloc((size_t)nb * sizeof *cache_hi);
	int *ind = NULL;
	double *val = NULL;
	glp_prob *P = glp_create_prob();
	glp_smcp parm;
	int rc = -1;

	glp_init_smcp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	parm.presolve = GLP_OFF;
	for (int i = 0; i < nb; i++) {
		int b = cb[i];

		cache_lo[i] = NAN;
		j->lpb[b] = j->has_b[b] ? ++ncols : 0;
		j->lpu[b] = j->nunk[b] > 0 ? ++ncols : 0;
	}
	glp_add_cols(P, ncols);
	for (int i = 0; i < nb; i++) {
		int b = cb[i];

		if (j->lpb[b])
			glp_set_col_bnds(P, j->lpb[b], j->blo[b] < j->bhi[b] ? GLP_DB : GLP_FX, j->blo[b], j->bhi[b]);
		if (j->lpu[b])
			glp_set_col_bnds(P, j->lpu[b], GLP_LO, 0, 0);
	}
	nrows = j->cr_start[comp + 1] - j->cr_start[comp];
	glp_add_rows(P, nrows ? nrows : 1);
	if (!nrows)
		glp_set_row_bnds(P, 1, GLP_FR, 0, 0);
	ind = xmalloc((size_t)(2 * nb + 1) * sizeof *ind);
	val = xmalloc((size_t)(2 * nb + 1) * sizeof *val);
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &j->rows[j->cr[j->cr_start[comp] + i]];
		int n, len = 0, region = r->region;
		const int *b = span(a, r->level, &region, &n);

		for (int q = 0; q < n; q++) {
			if (j->lpb[b[q]])
				ind[++len] = j->lpb[b[q]], val[len] = 1;
			if (j->lpu[b[q]])
				ind[++len] = j->lpu[b[q]], val[len] = 1;
		}
		glp_set_mat_row(P, i + 1, len, ind, val);
		glp_set_row_bnds(P, i + 1, GLP_DB, r->lo, r->hi);
	}
	for (int i = j->ct_start[comp]; i < j->ct_start[comp + 1]; i++) {
		const struct fig *f = &a->figs[j->targets[j->ct[i]].fig];
		double lo = 0, hi = 0, req;
		int s;

		/* a count hidden only to shield another (secondary) need not be
		 * protected itself: the sensitive ones are primary */
		if (f->reason == R_SECONDARY || j->targets[j->ct[i]].public_known)
			continue;

		if (f->level == LV_GROUP) {
			int b = a->group_buurt[f->region], pos = 0;

			while (cb[pos] != b)
				pos++;
			if (isnan(cache_lo[pos])) {
				/* the group can take all of its buurt's unknown amount,
				 * and none of it when another unknown group is there */
				lp_objective(P, j, -1, b, 1);
				s = lp_solve(P, &parm, GLP_MAX, &cache_hi[pos]);
				res->lp++;
				if (s == 0 && j->nunk[b] == 1) {
					s = lp_solve(P, &parm, GLP_MIN, &cache_lo[pos]);
					res->lp++;
				} else {
					cache_lo[pos] = 0;
				}
				lp_objective(P, j, -1, b, 0);
				if (s != 0)
					goto solved;
			}
			lo = cache_lo[pos];
			hi = cache_hi[pos];
			s = 0;
		} else {
			lp_objective(P, j, f->level, f->region, 1);
			s = lp_solve(P, &parm, GLP_MAX, &hi);
			res->lp++;
			if (s == 0) {
				s = lp_solve(P, &parm, GLP_MIN, &lo);
				res->lp++;
			}
			lp_objective(P, j, f->level, f->region, 0);
		}
	solved:
		if (s < 0) {
			err_set(&res->e, ERR_INTERNAL, NULL, "interval check of %s %s %s: GLPK failed to solve the LP",
				lv_names[f->level], region_name(a, f->level, f->region), strmap_key(a->vars, (size_t)j->var));
			goto out;
		}
		if (s > 0) {
			fig_fail(a, &res->fails, AUDIT_INTERVAL, f,
				 xasprintf("%s %s %s: the published%s figures around it contradict each other (no "
					   "non-negative values fit them all)",
					   lv_names[f->level], region_name(a, f->level, f->region),
					   strmap_key(a->vars, (size_t)f->var), j->public_used ? " and public" : ""));
			break;
		}
		if (isinf(hi))
			continue;
		if (lo < 0)
			lo = 0;
		/* not narrower than the protection range on both sides of the
		 * attacker's best guess, the middle (lo + hi) / 2: ±range of it and ±2k */
		req = fmax(j->range * (lo + hi), 4 * j->k);
		if (hi - lo < req - 1e-6 && j->public_used) {
			/* no narrower than the public totals alone make it: CBS's, not ours */
			double plo, phi;

			if (public_interval(j, comp, f, &parm, &plo, &phi) == 0 && hi - lo >= phi - plo - 1e-6)
				continue;
		}
		if (hi - lo < req - 1e-6) {
			fig_fail(a, &res->fails, AUDIT_INTERVAL, f,
				 xasprintf("%s %s %s: the suppressed value lies in [%.6g, %.6g] given the published%s "
					   "figures, a width of %.6g, less than the required %.6g = max(2 x %g x %.6g, 4 x %g)",
					   lv_names[f->level], region_name(a, f->level, f->region),
					   strmap_key(a->vars, (size_t)f->var), lo, hi, j->public_used ? " and public" : "",
					   hi - lo, req, j->range, (lo + hi) / 2, j->k));
		}
		if (req > 0 && (!res->has_narrow || (hi - lo) / req < (res->hi - res->lo) / res->req)) {
			res->has_narrow = true;
			res->narrow_fig = j->targets[j->ct[i]].fig;
			res->lo = lo;
			res->hi = hi;
			res->req = req;
		}
	}
	rc = 0;
out:
	glp_delete_prob(P);
	free(ind);
	free(val);
	free(cache_lo);
	free(cache_hi);
	return rc;
}

struct pool {
	const struct vjob *j;
	struct cresult *res;
	const int *todo; /* components, largest first */
	int ntodo, next;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	glp_term_out(GLP_OFF);
	for (;;) {
		int i, c;

		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->ntodo)
			break;
		c = p->todo[i];
		if (exact_component(p->j, c, &p->res[c]) < 0 || lp_component(p->j, c, &p->res[c]) < 0)
			p->res[c].failed = true;
	}
	glp_free_env();
	return NULL;
}

static int find_root(int *uf, int x)
{
	while (uf[x] != x) {
		uf[x] = uf[uf[x]];
		x = uf[x];
	}
	return x;
}

static void unite(int *uf, int x, int y)
{
	x = find_root(uf, x);
	y = find_root(uf, y);
	if (x != y)
		uf[x > y ? x : y] = x > y ? y : x;
}

/* Count per-key items into a start index and fill items (in order). */
static void bucket(const int *key, size_t n, int nkeys, int **start, int **items)
{
	int *fill;

	*start = xcalloc((size_t)nkeys + 1, sizeof **start);
	*items = xmalloc((n ? n : 1) * sizeof **items);
	for (size_t i = 0; i < n; i++)
		if (key[i] >= 0)
			(*start)[key[i] + 1]++;
	for (int c = 0; c < nkeys; c++)
		(*start)[c + 1] += (*start)[c];
	fill = xmalloc(((size_t)nkeys + 1) * sizeof *fill);
	memcpy(fill, *start, ((size_t)nkeys + 1) * sizeof *fill);
	for (size_t i = 0; i < n; i++)
		if (key[i] >= 0)
			(*items)[fill[key[i]]++] = (int)i;
	free(fill);
}

struct sizeidx {
	int size, comp;
};

static int cmp_size_desc(const void *x, const void *y)
{
	const struct sizeidx *a = x, *b = y;

	if (a->size != b->size)
		return a->size < b->size ? 1 : -1;
	return (a->comp > b->comp) - (a->comp < b->comp);
}

/* Checks 4 and 5 for one count variable. */
static int check_variable(const struct audit *a, int var, int threads, struct audit_report *rep, struct fails *fs,
			  struct err *e)
{
	size_t nb = strmap_size(a->buurten);
	struct vjob j = {.a = a, .var = var, .k = a->kinds[a->var_kind[var]].k, .range = a->range};
	int *uf = xmalloc(nb * sizeof *uf), *rootcomp = xmalloc(nb * sizeof *rootcomp);
	int *key = NULL, *bcomp = NULL;
	struct cresult *res = NULL;
	struct sizeidx *si = NULL;
	int *todo = NULL, ntodo = 0, rc = 0;
	const struct fig *f;
	const int *gfind = a->find[(size_t)var * LV_N + LV_GROUP];

	j.public_used = false;
	j.nunk = xcalloc(nb, sizeof *j.nunk);
	j.nsup = xcalloc(nb, sizeof *j.nsup);
	j.has_b = xcalloc(nb, sizeof *j.has_b);
	j.blo = xcalloc(nb, sizeof *j.blo);
	j.bhi = xcalloc(nb, sizeof *j.bhi);
	j.col = xmalloc(nb * sizeof *j.col);
	j.lpb = xcalloc(nb, sizeof *j.lpb);
	j.lpu = xcalloc(nb, sizeof *j.lpu);
	for (size_t g = 0; g < strmap_size(a->groups); g++) {
		int b = a->group_buurt[g];

		f = gfind[g] >= 0 ? &a->figs[gfind[g]] : NULL;
		if (f && f->published) {
			j.has_b[b] = 1;
			j.blo[b] += fmax(0, f->value - f->base / 2);
			j.bhi[b] += f->value + f->base / 2;
		} else {
			j.nunk[b]++;
			j.nsup[b] += f != NULL;
		}
	}
	/* the sums: published figures of buurt units and up, and public totals */
	for (size_t i = 0; i < a->nfigs; i++) {
		f = &a->figs[i];
		if (f->var != var || f->level == LV_GROUP)
			continue;
		if (f->published) {
			j.rows = xrealloc(j.rows, (j.nrows + 1) * sizeof *j.rows);
			j.rows[j.nrows++] = (struct row){f->level, f->region, -1, f->value - f->base / 2,
							 f->value + f->base / 2, false};
		}
	}
	for (size_t i = 0; i < a->npubs; i++) {
		const struct pub *p = &a->pubs[i];

		if (p->var != var)
			continue;
		j.public_used = true;
		j.rows = xrealloc(j.rows, (j.nrows + 1) * sizeof *j.rows);
		j.rows[j.nrows++] =
			(struct row){p->level, p->region, -1, p->value - p->base / 2, p->value + p->base / 2, true};
	}
	for (size_t i = 0; i < a->nfigs; i++) {
		f = &a->figs[i];
		if (f->var == var && !f->published) {
			j.targets = xrealloc(j.targets, (j.ntargets + 1) * sizeof *j.targets);
			j.targets[j.ntargets++] = (struct target){(int)i, -1, false};
		}
	}
	if (j.ntargets == 0)
		goto out;
	/* components: buurten joined by every sum and every suppressed region */
	for (size_t b = 0; b < nb; b++)
		uf[b] = (int)b;
	for (size_t i = 0; i < j.nrows + j.ntargets; i++) {
		int level, region, n;
		const int *b;

		if (i < j.nrows) {
			level = j.rows[i].level, region = j.rows[i].region;
		} else {
			f = &a->figs[j.targets[i - j.nrows].fig];
			if (f->level == LV_GROUP)
				continue;
			level = f->level, region = f->region;
		}
		b = span(a, level, &region, &n);
		for (int q = 1; q < n; q++)
			unite(uf, b[0], b[q]);
	}
	for (size_t b = 0; b < nb; b++)
		rootcomp[b] = -1;
	bcomp = xmalloc(nb * sizeof *bcomp);
	for (size_t i = 0; i < nb; i++) {
		int b = a->order[i], r = find_root(uf, b);

		if (rootcomp[r] < 0)
			rootcomp[r] = j.ncomp++;
		bcomp[b] = rootcomp[r];
	}
	{
		/* buurten of a component in tree order */
		int *ob = xmalloc(nb * sizeof *ob);

		for (size_t i = 0; i < nb; i++)
			ob[i] = bcomp[a->order[i]];
		bucket(ob, nb, j.ncomp, &j.cb_start, &j.cb);
		for (int i = 0; i < j.cb_start[j.ncomp]; i++)
			j.cb[i] = a->order[j.cb[i]];
		free(ob);
	}
	key = xmalloc((j.nrows + j.ntargets + 1) * sizeof *key);
	for (size_t i = 0; i < j.nrows; i++) {
		int n, region = j.rows[i].region;

		key[i] = bcomp[span(a, j.rows[i].level, &region, &n)[0]];
	}
	bucket(key, j.nrows, j.ncomp, &j.cr_start, &j.cr);
	for (size_t i = 0; i < j.ntargets; i++) {
		int n, region;

		f = &a->figs[j.targets[i].fig];
		region = f->region;
		key[i] = f->level == LV_GROUP ? bcomp[a->group_buurt[f->region]]
					      : bcomp[span(a, f->level, &region, &n)[0]];
	}
	bucket(key, j.ntargets, j.ncomp, &j.ct_start, &j.ct);
	res = xcalloc((size_t)j.ncomp, sizeof *res);
	si = xmalloc((size_t)(j.ncomp ? j.ncomp : 1) * sizeof *si);
	for (int c = 0; c < j.ncomp; c++) {
		if (j.ct_start[c + 1] == j.ct_start[c])
			continue;
		si[ntodo++] = (struct sizeidx){j.cb_start[c + 1] - j.cb_start[c] + j.ct_start[c + 1] - j.ct_start[c], c};
	}
	qsort(si, (size_t)ntodo, sizeof *si, cmp_size_desc);
	todo = xmalloc((size_t)(ntodo ? ntodo : 1) * sizeof *todo);
	for (int i = 0; i < ntodo; i++)
		todo[i] = si[i].comp;
	rep->components += ntodo;
	{
		struct pool p = {.j = &j, .res = res, .todo = todo, .ntodo = ntodo};
		pthread_t tid[8];
		int nt = threads < ntodo ? threads : ntodo, started = 0;

		pthread_mutex_init(&p.lock, NULL);
		for (int t = 1; t < nt; t++)
			if (pthread_create(&tid[started], NULL, worker, &p) == 0)
				started++;
		worker(&p);
		for (int t = 0; t < started; t++)
			pthread_join(tid[t], NULL);
		pthread_mutex_destroy(&p.lock);
	}
	/* merge in component order: the same output for any number of threads */
	for (int c = 0; c < j.ncomp; c++) {
		struct cresult *r = &res[c];

		if (r->failed && rc == 0) {
			*e = r->e;
			rc = -1;
		}
		for (size_t i = 0; i < r->fails.n; i++) {
			if (fs->n == fs->cap) {
				fs->cap = fs->cap ? fs->cap * 2 : 16;
				fs->v = xrealloc(fs->v, fs->cap * sizeof *fs->v);
			}
			fs->v[fs->n++] = r->fails.v[i];
		}
		free(r->fails.v);
		rep->lp_solves += r->lp;
		if (r->has_narrow &&
		    (!rep->has_narrowest || (r->hi - r->lo) / r->req < (rep->narrowest.hi - rep->narrowest.lo) /
									  rep->narrowest.required)) {
			const struct fig *nf = &a->figs[r->narrow_fig];

			free(rep->narrowest.level);
			free(rep->narrowest.region);
			free(rep->narrowest.variable);
			rep->has_narrowest = true;
			rep->narrowest = (struct audit_interval){xstrdup(lv_names[nf->level]),
								 xstrdup(region_name(a, nf->level, nf->region)),
								 xstrdup(strmap_key(a->vars, (size_t)var)), r->lo, r->hi, r->req};
		}
	}
out:
	free(uf);
	free(rootcomp);
	free(bcomp);
	free(key);
	free(res);
	free(si);
	free(todo);
	free(j.nunk);
	free(j.nsup);
	free(j.has_b);
	free(j.blo);
	free(j.bhi);
	free(j.col);
	free(j.lpb);
	free(j.lpu);
	free(j.rows);
	free(j.targets);
	free(j.cb_start);
	free(j.cb);
	free(j.cr_start);
	free(j.cr);
	free(j.ct_start);
	free(j.ct);
	return rc;
}

/* ---- the whole audit --------------------------------------------------------- */

struct okey {
	int gem, wijk, unit, buurt;
};

static int cmp_okey(const void *x, const void *y)
{
	const struct okey *a = x, *b = y;

	if (a->gem != b->gem)
		return a->gem < b->gem ? -1 : 1;
	if (a->wijk != b->wijk)
		return a->wijk < b->wijk ? -1 : 1;
	if (a->unit != b->unit)
		return a->unit < b->unit ? -1 : 1;
	return (a->buurt > b->buurt) - (a->buurt < b->buurt);
}

/* Buurten in tree order, so every sum covers a run of them. */
static void tree_order(struct audit *a)
{
	size_t nb = strmap_size(a->buurten), nu = strmap_size(a->units);
	struct okey *k = xmalloc(nb * sizeof *k);

	for (size_t b = 0; b < nb; b++)
		k[b] = (struct okey){a->buurt_gem[b], a->buurt_wijk[b],
				     a->buurt_unit[b] >= 0 ? a->buurt_unit[b] : (int)(nu + b), (int)b};
	qsort(k, nb, sizeof *k, cmp_okey);
	a->order = xmalloc(nb * sizeof *a->order);
	for (size_t i = 0; i < nb; i++)
		a->order[i] = k[i].buurt;
	free(k);
}

static void audit_free(struct audit *a)
{
	strmap_free(a->groups);
	strmap_free(a->buurten);
	strmap_free(a->wijken);
	strmap_free(a->gemeenten);
	if (a->find)
		for (size_t i = 0; i < strmap_size(a->vars) * LV_N; i++)
			free(a->find[i]);
	free(a->find);
	strmap_free(a->units);
	strmap_free(a->vars);
	free(a->group_buurt);
	free(a->buurt_wijk);
	free(a->buurt_gem);
	free(a->buurt_unit);
	free(a->wijk_gem);
	free(a->bg_start);
	free(a->bg);
	free(a->wb_start);
	free(a->wb);
	free(a->mb_start);
	free(a->mb);
	free(a->ub_start);
	free(a->ub);
	free(a->order);
	free(a->var_kind);
	free(a->figs);
	free(a->pubs);
	free(a->policy);
	for (size_t i = 0; i < a->nsize; i++)
		free(a->size[i].variable);
	free(a->size);
	for (int k = 0; k < K_COUNTS; k++)
		free(a->kinds[k].min_variable);
}

int audit_dir(const char *dir, const struct audit_opts *opts, struct audit_report *out, struct err *e)
{
	struct audit a = {0};
	struct fails fs = {0};
	struct timespec t0, t1;
	char *path = NULL;
	int threads = opts && opts->threads > 0 ? opts->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (threads < 1)
		threads = 1;
	if (threads > 8)
		threads = 8;
	out->threads = threads;
	a.groups = strmap_new();
	a.buurten = strmap_new();
	a.wijken = strmap_new();
	a.gemeenten = strmap_new();
	a.units = strmap_new();
	a.vars = strmap_new();
	path = xasprintf("%s/disclosure/policy.json", dir);
	if (read_policy(&a, path, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/disclosure/groups.csv", dir);
	if (read_groups(&a, path, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/disclosure/figures.csv", dir);
	if (read_figures(&a, path, e) < 0)
		goto out;
	if (!a.ub_start)
		a.ub_start = xcalloc(1, sizeof *a.ub_start);
	if (opts && opts->public_csv && read_public(&a, opts->public_csv, out, e) < 0)
		goto out;
	out->policy = xstrdup(a.policy);
	tree_order(&a);
	check_rules(&a, out, &fs);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t v = 0; v < strmap_size(a.vars); v++)
		if (a.var_kind[v] != K_SCORE && check_variable(&a, (int)v, threads, out, &fs, e) < 0)
			goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->lp_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* a stable sort: by check, file order within one */
	if (fs.n > 1) {
		struct audit_failure *sorted = xmalloc(fs.n * sizeof *sorted);
		size_t n = 0;

		for (int c = AUDIT_SIZE; c <= AUDIT_INTERVAL; c++)
			for (size_t i = 0; i < fs.n; i++)
				if ((int)fs.v[i].check == c)
					sorted[n++] = fs.v[i];
		free(fs.v);
		fs.v = sorted;
	}
	rc = fs.n > 0 ? 1 : 0;
out:
	out->failures = fs.v;
	out->nfailures = fs.n;
	free(path);
	audit_free(&a);
	return rc;
}

void audit_report_free(struct audit_report *r)
{
	free(r->policy);
	for (size_t i = 0; i < r->nsmallest; i++) {
		free(r->smallest[i].variable);
		free(r->smallest[i].group);
	}
	free(r->smallest);
	free(r->narrowest.level);
	free(r->narrowest.region);
	free(r->narrowest.variable);
	for (size_t i = 0; i < r->nfailures; i++) {
		free(r->failures[i].level);
		free(r->failures[i].region);
		free(r->failures[i].variable);
		free(r->failures[i].message);
	}
	free(r->failures);
	memset(r, 0, sizeof *r);
}

const char *audit_check_name(enum audit_check c)
{
	static const char *const names[] = {"size", "rounding", "kind", "policy", "differencing", "interval"};

	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

void audit_print(const struct audit_report *r, const char *dir, size_t max_failures, FILE *f)
{
	if (r->nfailures > 0) {
		fprintf(f, "audit of %s FAILED: %zu failure%s\n", dir, r->nfailures, r->nfailures == 1 ? "" : "s");
		for (size_t i = 0; i < r->nfailures && i < max_failures; i++)
			fprintf(f, "  %-12s  %s\n", audit_check_name(r->failures[i].check), r->failures[i].message);
		if (r->nfailures > max_failures)
			fprintf(f, "  ... and %zu more\n", r->nfailures - max_failures);
		fprintf(f, "checked %ld figures (%ld suppressed counts); %ld linear programs over %ld components in %.2f s "
			   "(%d thread%s)\n",
			r->figures, r->suppressed_counts, r->lp_solves, r->components, r->lp_seconds, r->threads,
			r->threads == 1 ? "" : "s");
		return;
	}
	fprintf(f, "audit of %s passed: nothing in it is disclosive under policy %s\n", dir, r->policy);
	fprintf(f, "  regions checked    %ld groups, %ld buurt units, %ld wijken, %ld gemeenten\n", r->regions[LV_GROUP],
		r->regions[LV_BUURT], r->regions[LV_WIJK], r->regions[LV_GEMEENTE]);
	fprintf(f, "  figures checked    %ld: %ld published, %ld suppressed (%ld primary, %ld secondary)\n", r->figures,
		r->published, r->suppressed, r->primary, r->secondary);
	fprintf(f, "  public totals      %ld taken as known, %ld about other places or variables\n", r->public_used,
		r->public_ignored);
	for (size_t i = 0; i < r->nsmallest; i++) {
		if (r->smallest[i].group)
			fprintf(f, "  smallest group     %s with %s %g (minimum %g)\n", r->smallest[i].group,
				r->smallest[i].variable, r->smallest[i].value, r->smallest[i].min);
		else
			fprintf(f, "  smallest group     no group publishes %s\n", r->smallest[i].variable);
	}
	fprintf(f, "  differencing       %ld suppressed counts, none a linear combination of the known figures\n",
		r->suppressed_counts);
	if (r->has_narrowest)
		fprintf(f, "  narrowest interval %s %s %s in [%.6g, %.6g]: width %.6g, %.2f x the required %.6g\n",
			r->narrowest.level, r->narrowest.region, r->narrowest.variable, r->narrowest.lo, r->narrowest.hi,
			r->narrowest.hi - r->narrowest.lo, (r->narrowest.hi - r->narrowest.lo) / r->narrowest.required,
			r->narrowest.required);
	else
		fprintf(f, "  narrowest interval none bounded: every suppressed count can be arbitrarily large\n");
	fprintf(f, "  linear programs    %ld solved over %ld components in %.2f s (%d thread%s)\n", r->lp_solves,
		r->components, r->lp_seconds, r->threads, r->threads == 1 ? "" : "s");
	if (r->has_dominance)
		fprintf(f, "  dominance          income share at most %g: applied by protect, not re-checked (no "
			   "contributor values are published)\n",
			r->dominance);
	else
		fprintf(f, "  dominance          not re-checked (no contributor values are published)\n");
}
