#include "pc6risk/stats.h"
#include "pc6risk/radix.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What the sorts move around (struct radix_item): an unsigned key to order by
 * and a payload (a unit's index, or a second key) that travels with it. The
 * sort is stable: that lets a second sort by a coarser key keep the first
 * order within each key (Kendall's tau). */

/* An unsigned integer that sorts like the double: a positive value gets its
 * sign bit set, a negative one all its bits flipped. -0 becomes +0 first so
 * the two zeros tie, as they do under ==. v is not NaN. */
static uint64_t order_key(double v)
{
	uint64_t b;

	if (v == 0)
		v = 0;
	memcpy(&b, &v, sizeof b);
	return b >> 63 ? ~b : b | (uint64_t)1 << 63;
}

/* Write the rank of each of the m items, sorted by x[item.val], divided by div
 * to out[item.val]: 1 for the first, ties the mean of the ranks they span. */
static void put_ranks(const struct radix_item *s, size_t m, const double *x, double div, double *out)
{
	for (size_t k = 0, end; k < m; k = end) {
		double r;

		for (end = k + 1; end < m && x[s[end].val] == x[s[k].val]; end++)
			;
		r = (double)(k + 1 + end) / 2 / div; /* positions k..end-1 have ranks k+1..end */
		for (size_t j = k; j < end; j++)
			out[s[j].val] = r;
	}
}

static double clamp(double v, double lo, double hi)
{
	return fmin(fmax(v, lo), hi);
}

/* The type-7 quantile q in [0, 1] of the m >= 1 values x[s[k].val], sorted
 * ascending and each first clamped to [lo, hi], computed the way R does it so
 * the last bit agrees: interpolate only between two different values. */
static double quantile_sorted(const struct radix_item *s, size_t m, const double *x, double q, double lo, double hi)
{
	double index = 1 + (double)(m - 1) * q, below = floor(index), h = index - below, a, b;
	size_t k = (size_t)below;

	a = clamp(x[s[k - 1].val], lo, hi);
	if (h == 0)
		return a;
	b = clamp(x[s[k].val], lo, hi);
	return b == a ? a : (1 - h) * a + h * b;
}

void stats_rank(const double *x, size_t n, double *rank)
{
	struct radix_item *it = xmalloc(2 * n * sizeof *it), *s = it, *t;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		rank[i] = NAN;
		if (!isnan(x[i]))
			it[m++] = (struct radix_item){order_key(x[i]), i};
	}
	t = it + m;
	radix_sort(&s, &t, m);
	put_ranks(s, m, x, 1, rank);
	free(it);
}

/* Normalise one group's m >= 1 units, given sorted by x[item.val]. A scale of
 * 0 (all values equal, or an IQR of 0 for ROBUST_Z) gives 0: the group says
 * nothing about how far a unit stands out. */
static void normalise_group(enum stats_norm method, const struct radix_item *s, size_t m, const double *x, double lo,
			    double hi, double *out)
{
	double wlo = -INFINITY, whi = INFINITY, centre = 0, scale = 0;

	switch (method) {
	case STATS_RANK:
		put_ranks(s, m, x, (double)m, out);
		return;
	case STATS_MINMAX:
		centre = x[s[0].val];
		scale = x[s[m - 1].val] - centre;
		break;
	case STATS_Z:
	case STATS_ROBUST_Z:
		wlo = quantile_sorted(s, m, x, lo, -INFINITY, INFINITY);
		whi = quantile_sorted(s, m, x, hi, -INFINITY, INFINITY);
		/* Compared, not computed: the mean of equal values need not equal
		 * them, and a tiny sd would blow rounding up into scores. */
		if (clamp(x[s[0].val], wlo, whi) == clamp(x[s[m - 1].val], wlo, whi))
			break;
		if (method == STATS_ROBUST_Z) {
			centre = quantile_sorted(s, m, x, 0.5, wlo, whi);
			scale = (quantile_sorted(s, m, x, 0.75, wlo, whi) - quantile_sorted(s, m, x, 0.25, wlo, whi)) /
				1.349;
		} else {
			double sum = 0, ss = 0;

			for (size_t k = 0; k < m; k++)
				sum += clamp(x[s[k].val], wlo, whi);
			centre = sum / (double)m;
			for (size_t k = 0; k < m; k++) {
				double d = clamp(x[s[k].val], wlo, whi) - centre;

				ss += d * d;
			}
			scale = sqrt(ss / (double)(m - 1)); /* the sample sd, as R's sd() and scale() */
		}
		break;
	}
	for (size_t k = 0; k < m; k++) {
		size_t i = s[k].val;

		out[i] = scale > 0 ? (clamp(x[i], wlo, whi) - centre) / scale : 0;
	}
}

void stats_normalise(enum stats_norm method, const double *x, const int *group, size_t n, double lo, double hi,
		     double *out)
{
	struct stats_room room = {0};

	stats_normalise_in(&room, method, x, group, n, lo, hi, out);
	free(room.p);
}

/* Sort the units with a group and a value by value within each group, in
 * room: afterwards (*it)[(*start)[g] .. (*start)[g + 1]) are group g's, and
 * the number of groups is returned. The units of each group are first put
 * together in index order (a counting sort), then each group is sorted on its
 * own: a group's few thousand items stay in cache, where one sort of all of
 * them by value and another by group went through memory twice per byte. */
static size_t group_order(struct stats_room *room, const double *x, const int *group, size_t n, struct radix_item **it,
			  size_t **start)
{
	size_t m, ngroups = 0, *next, need;
	struct radix_item *items;
	size_t *st;

	for (size_t i = 0; i < n; i++)
		if (group[i] >= 0 && !isnan(x[i]) && (size_t)group[i] >= ngroups)
			ngroups = (size_t)group[i] + 1;
	/* the items twice (sorted and room to sort), then where each group starts */
	need = 2 * n * sizeof *items + 2 * (ngroups + 1) * sizeof *st;
	if (room->size < need) {
		free(room->p);
		room->p = xmalloc(need);
		room->size = need;
	}
	items = room->p;
	st = (size_t *)(items + 2 * n);
	memset(st, 0, (ngroups + 1) * sizeof *st);
	next = st + ngroups + 1;
	for (size_t i = 0; i < n; i++)
		if (group[i] >= 0 && !isnan(x[i]))
			st[group[i] + 1]++;
	for (size_t g = 0; g < ngroups; g++)
		st[g + 1] += st[g];
	m = st[ngroups];
	memcpy(next, st, (ngroups + 1) * sizeof *next);
	for (size_t i = 0; i < n; i++)
		if (group[i] >= 0 && !isnan(x[i]))
			items[next[group[i]]++] = (struct radix_item){order_key(x[i]), i};
	for (size_t g = 0; g < ngroups; g++) {
		size_t b = st[g], len = st[g + 1] - b;
		struct radix_item *s = items + b, *t = items + m + b;

		radix_sort(&s, &t, len);
		if (s != items + b)
			memcpy(items + b, s, len * sizeof *s);
	}
	*it = items;
	*start = st;
	return ngroups;
}

/* stats_normalise over units already in group order. */
static void normalise_ordered(enum stats_norm method, const struct radix_item *it, const size_t *start, size_t ngroups,
			      const double *x, size_t n, double lo, double hi, double *out)
{
	/* a level outside [0, 1] means no winsorising at that end */
	if (!(lo >= 0 && lo <= 1))
		lo = 0;
	if (!(hi >= 0 && hi <= 1))
		hi = 1;
	for (size_t i = 0; i < n; i++)
		out[i] = NAN;
	for (size_t g = 0; g < ngroups; g++)
		if (start[g + 1] > start[g])
			normalise_group(method, it + start[g], start[g + 1] - start[g], x, lo, hi, out);
}

void stats_normalise_in(struct stats_room *room, enum stats_norm method, const double *x, const int *group, size_t n,
			double lo, double hi, double *out)
{
	struct radix_item *it;
	size_t *start, ngroups = group_order(room, x, group, n, &it, &start);

	normalise_ordered(method, it, start, ngroups, x, n, lo, hi, out);
}

struct stats_order {
	struct radix_item *it;
	size_t *start;
	size_t ngroups, n;
};

struct stats_order *stats_order_new(const double *x, const int *group, size_t n)
{
	struct stats_room room = {0};
	struct stats_order *o = xcalloc(1, sizeof *o);
	struct radix_item *it;
	size_t *start;

	o->n = n;
	o->ngroups = group_order(&room, x, group, n, &it, &start);
	o->start = xmalloc((o->ngroups + 1) * sizeof *o->start);
	memcpy(o->start, start, (o->ngroups + 1) * sizeof *o->start);
	o->it = xmalloc((start[o->ngroups] ? start[o->ngroups] : 1) * sizeof *o->it);
	memcpy(o->it, it, start[o->ngroups] * sizeof *o->it);
	free(room.p);
	return o;
}

void stats_order_free(struct stats_order *o)
{
	if (!o)
		return;
	free(o->it);
	free(o->start);
	free(o);
}

void stats_normalise_ordered(const struct stats_order *o, enum stats_norm method, const double *x, double lo,
			     double hi, double *out)
{
	normalise_ordered(method, o->it, o->start, o->ngroups, x, o->n, lo, hi, out);
}

/* Marshall's sums over the units of one group (or fallback group) and the
 * estimates made from them. */
struct eb_group {
	size_t units;
	double num, den; /* sums of num and den */
	double dev;      /* sum of den * (num/den - m)^2 */
	double m, a;     /* the mean rate and the between-unit variance A */
};

/* Does unit i take part: a rate and a group? */
static bool eb_takes_part(const double *num, const double *den, const int *group, size_t ngroups, size_t i)
{
	return group[i] >= 0 && (size_t)group[i] < ngroups && !isnan(num[i]) && den[i] > 0;
}

/* Unit i's fallback group, or NULL. */
static struct eb_group *eb_fallback(struct eb_group *f, const int *fallback, size_t nfallback, size_t i)
{
	return fallback && fallback[i] >= 0 && (size_t)fallback[i] < nfallback ? &f[fallback[i]] : NULL;
}

void stats_eb_shrink(const double *num, const double *den, const int *group, size_t ngroups, const int *fallback,
		     size_t nfallback, size_t n, size_t min_units, double *shrunk, double *weight, double *sd)
{
	struct eb_group *g = xcalloc(ngroups + nfallback, sizeof *g), *f = g + ngroups;

	/* Sums over each group and fallback group. Units left out of their
	 * group (-1) are left out of the fallback estimates as well. */
	for (size_t i = 0; i < n; i++) {
		struct eb_group *e[2];

		shrunk[i] = weight[i] = sd[i] = NAN;
		if (!eb_takes_part(num, den, group, ngroups, i))
			continue;
		e[0] = &g[group[i]];
		e[1] = eb_fallback(f, fallback, nfallback, i);
		for (int k = 0; k < 2 && e[k]; k++) {
			e[k]->units++;
			e[k]->num += num[i];
			e[k]->den += den[i];
		}
	}
	for (size_t k = 0; k < ngroups + nfallback; k++)
		if (g[k].units > 0)
			g[k].m = g[k].num / g[k].den;
	for (size_t i = 0; i < n; i++) {
		struct eb_group *e[2];

		if (!eb_takes_part(num, den, group, ngroups, i))
			continue;
		e[0] = &g[group[i]];
		e[1] = eb_fallback(f, fallback, nfallback, i);
		for (int k = 0; k < 2 && e[k]; k++) {
			double d = num[i] / den[i] - e[k]->m;

			e[k]->dev += den[i] * d * d;
		}
	}
	/* A = s2 - m / nbar, with nbar = den / units */
	for (size_t k = 0; k < ngroups + nfallback; k++)
		if (g[k].units > 0)
			g[k].a = fmax(0, g[k].dev / g[k].den - g[k].m * (double)g[k].units / g[k].den);
	for (size_t i = 0; i < n; i++) {
		const struct eb_group *own, *e;
		double rate, m, w;

		if (!eb_takes_part(num, den, group, ngroups, i))
			continue;
		own = e = &g[group[i]];
		if (e->units < min_units) {
			e = eb_fallback(f, fallback, nfallback, i);
			if (e && e->units < min_units)
				e = NULL;
		}
		rate = num[i] / den[i];
		/* Without estimates the unit keeps its own rate, and its sd is the
		 * sampling sd around its own group's mean rate. A = 0 means no
		 * variation between units: all shrink to m. */
		m = e ? e->m : own->m;
		w = !e ? 1 : e->a > 0 ? e->a / (e->a + e->m / den[i]) : 0;
		shrunk[i] = w * rate + (1 - w) * m;
		weight[i] = w;
		sd[i] = sqrt(w * m / den[i]);
	}
	free(g);
}

double stats_imd_transform(double r)
{
	/* log1p and expm1 keep the low end, where most units are, accurate;
	 * adding 0 turns the -0 at r = 0 into 0 */
	return 23 * -log1p(r * expm1(-100.0 / 23)) + 0.0;
}

/* Column j of row i of X, standardised; NaN and constant columns give 0. */
static double pca_z(const double *X, size_t p, size_t i, size_t j, const double *mean, const double *sdev)
{
	double v = X[i * p + j];

	return isnan(v) || sdev[j] == 0 ? 0 : (v - mean[j]) / sdev[j];
}

int stats_pca1(const double *X, size_t n, size_t p, size_t sign_col, double *loadings, double *scores,
	       double *explained)
{
	double *buf, *mean, *sdev, *c, *v, *w, trace = 0, lambda = 0, vnorm = 0;

	if (p == 0 || n < 2 || sign_col >= p)
		return -1;
	buf = xcalloc(p * p + 4 * p, sizeof *buf);
	mean = buf;
	sdev = mean + p;
	c = sdev + p;
	v = c + p * p;
	w = v + p;
	for (size_t j = 0; j < p; j++) {
		double sum = 0, ss = 0, lo = INFINITY, hi = -INFINITY;
		size_t cnt = 0;

		for (size_t i = 0; i < n; i++) {
			double x = X[i * p + j];

			if (isnan(x))
				continue;
			cnt++;
			sum += x;
			lo = fmin(lo, x);
			hi = fmax(hi, x);
		}
		if (cnt < 2 || lo == hi)
			continue; /* sd 0: the column is all 0 */
		mean[j] = sum / (double)cnt;
		for (size_t i = 0; i < n; i++) {
			double x = X[i * p + j];

			if (!isnan(x))
				ss += (x - mean[j]) * (x - mean[j]);
		}
		sdev[j] = sqrt(ss / (double)(cnt - 1));
	}
	/* the correlation matrix, upper triangle first; the scale (n - 1) is the
	 * one that makes a column without NaN have variance 1 */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < p; j++)
			w[j] = pca_z(X, p, i, j, mean, sdev);
		for (size_t j = 0; j < p; j++)
			for (size_t k = j; k < p; k++)
				c[j * p + k] += w[j] * w[k];
	}
	for (size_t j = 0; j < p; j++) {
		for (size_t k = j; k < p; k++) {
			c[j * p + k] /= (double)(n - 1);
			c[k * p + j] = c[j * p + k];
		}
		trace += c[j * p + j];
	}
	/* The start leans towards all loadings positive, as deprivation
	 * indicators mostly are, with unequal parts so that no pattern of signs
	 * such as (1, -1) or (1, -2, 1) is orthogonal to it. */
	for (size_t j = 0; j < p; j++) {
		v[j] = 1 + 1.0 / (double)(j + 2);
		vnorm += v[j] * v[j];
	}
	for (size_t j = 0; j < p; j++)
		v[j] /= sqrt(vnorm);
	for (int step = 0; step < 10000 && trace > 0; step++) {
		double norm = 0, change = 0;

		for (size_t j = 0; j < p; j++) {
			w[j] = 0;
			for (size_t k = 0; k < p; k++)
				w[j] += c[j * p + k] * v[k];
			norm += w[j] * w[j];
		}
		if (norm == 0)
			break; /* the start lies in the null space; nothing to follow */
		norm = sqrt(norm);
		for (size_t j = 0; j < p; j++) {
			double next = w[j] / norm;

			change = fmax(change, fabs(next - v[j]));
			v[j] = next;
		}
		if (change < 1e-12)
			break;
	}
	if (trace > 0) {
		for (size_t j = 0; j < p; j++)
			for (size_t k = 0; k < p; k++)
				lambda += v[j] * c[j * p + k] * v[k];
	} else {
		memset(v, 0, p * sizeof *v); /* no variance: no component */
	}
	for (size_t j = 0; j < p; j++)
		loadings[j] = v[sign_col] < 0 ? -v[j] : v[j];
	for (size_t i = 0; i < n; i++) {
		scores[i] = 0;
		for (size_t j = 0; j < p; j++)
			scores[i] += loadings[j] * pca_z(X, p, i, j, mean, sdev);
	}
	*explained = trace > 0 ? lambda / trace : NAN;
	free(buf);
	return 0;
}

double stats_spearman(const double *a, const double *b, size_t n)
{
	struct radix_item *it, *s, *t;
	double *ra, *rb, centre, sab = 0, saa = 0, sbb = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		m += !isnan(a[i]) && !isnan(b[i]);
	if (m < 2)
		return NAN;
	/* one block: the items and their room, then the ranks of a and of b */
	it = xmalloc(2 * m * sizeof *it + 2 * n * sizeof *ra);
	ra = (double *)(it + 2 * m);
	rb = ra + n;
	for (int pass = 0; pass < 2; pass++) {
		const double *x = pass ? b : a;

		m = 0;
		for (size_t i = 0; i < n; i++)
			if (!isnan(a[i]) && !isnan(b[i]))
				it[m++] = (struct radix_item){order_key(x[i]), i};
		s = it;
		t = it + m;
		radix_sort(&s, &t, m);
		put_ranks(s, m, x, 1, pass ? rb : ra);
	}
	centre = (double)(m + 1) / 2; /* the mean of any m tie-averaged ranks */
	for (size_t i = 0; i < n; i++) {
		if (isnan(a[i]) || isnan(b[i]))
			continue;
		sab += (ra[i] - centre) * (rb[i] - centre);
		saa += (ra[i] - centre) * (ra[i] - centre);
		sbb += (rb[i] - centre) * (rb[i] - centre);
	}
	free(it);
	return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

/* Pairs among m sorted items with equal keys (when by_val, equal vals). */
static uint64_t tied_pairs(const struct radix_item *s, size_t m, bool by_val)
{
	uint64_t pairs = 0;

	for (size_t k = 0, end; k < m; k = end) {
		for (end = k + 1; end < m && (by_val ? s[end].val == s[k].val : s[end].key == s[k].key); end++)
			;
		pairs += (uint64_t)(end - k) * (end - k - 1) / 2;
	}
	return pairs;
}

/* Merge sort (*a)[0..m) by val, stably, with (*tmp)[0..m) as room (afterwards
 * *a holds the result); returns the number of swaps a bubble sort would make:
 * the pairs whose vals are in strictly the wrong order. */
static uint64_t sort_counting_swaps(struct radix_item **a, struct radix_item **tmp, size_t m)
{
	uint64_t swaps = 0;

	for (size_t width = 1; width < m; width *= 2) {
		struct radix_item *src = *a, *dst = *tmp;

		for (size_t lo = 0; lo < m; lo += 2 * width) {
			size_t mid = lo + width < m ? lo + width : m, hi = lo + 2 * width < m ? lo + 2 * width : m;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi) {
				if (src[j].val < src[i].val) {
					swaps += mid - i; /* it jumps over all left ones still waiting */
					dst[k++] = src[j++];
				} else {
					dst[k++] = src[i++];
				}
			}
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		*a = dst;
		*tmp = src;
	}
	return swaps;
}

double stats_kendall(const double *a, const double *b, size_t n)
{
	struct radix_item *it = xmalloc(2 * n * sizeof *it), *s = it, *t;
	uint64_t pairs, a_ties, b_ties, both_ties, swaps;
	size_t m = 0;
	double tau;

	for (size_t i = 0; i < n; i++)
		if (!isnan(a[i]) && !isnan(b[i]))
			it[m++] = (struct radix_item){order_key(b[i]), order_key(a[i])};
	/* Knight (1966): order by (a, b), count the ties, then count the swaps a
	 * sort by b makes; those are the discordant pairs. Sorting by b and then
	 * stably by a gives the (a, b) order. */
	t = it + m;
	radix_sort(&s, &t, m);
	for (size_t k = 0; k < m; k++) {
		uint64_t key = s[k].key;

		s[k].key = s[k].val;
		s[k].val = key;
	}
	radix_sort(&s, &t, m);
	a_ties = tied_pairs(s, m, false);
	both_ties = 0;
	for (size_t k = 0, end; k < m; k = end) {
		for (end = k + 1; end < m && s[end].key == s[k].key; end++)
			;
		both_ties += tied_pairs(s + k, end - k, true);
	}
	swaps = sort_counting_swaps(&s, &t, m);
	b_ties = tied_pairs(s, m, true);
	free(it);
	pairs = (uint64_t)m * (m > 0 ? m - 1 : 0) / 2;
	if (pairs == a_ties || pairs == b_ties)
		return NAN; /* fewer than 2 pairs, or a or b has no spread */
	/* concordant - discordant, exactly, in integers */
	tau = (double)((int64_t)pairs - (int64_t)a_ties - (int64_t)b_ties + (int64_t)both_ties - 2 * (int64_t)swaps);
	return tau / sqrt((double)(pairs - a_ties) * (double)(pairs - b_ties));
}

size_t stats_top(const double *x, size_t n, size_t top, size_t *out)
{
	struct radix_item *it = xmalloc(2 * n * sizeof *it), *s = it, *t;
	size_t m = 0;

	/* the inverted key sorts highest first; the stable sort keeps equal
	 * values in index order */
	for (size_t i = 0; i < n; i++)
		if (!isnan(x[i]))
			it[m++] = (struct radix_item){~order_key(x[i]), i};
	t = it + m;
	radix_sort(&s, &t, m);
	if (top > m)
		top = m;
	for (size_t k = 0; k < top; k++)
		out[k] = s[k].val;
	free(it);
	return top;
}

static int cmp_size(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return (a > b) - (a < b);
}

double stats_jaccard_top(const double *a, const double *b, size_t n, size_t top)
{
	size_t *ia, *ib, na, nb, both = 0;

	if (top > n)
		top = n;
	ia = xmalloc(2 * top * sizeof *ia);
	ib = ia + top;
	na = stats_top(a, n, top, ia);
	nb = stats_top(b, n, top, ib);
	qsort(ia, na, sizeof *ia, cmp_size);
	qsort(ib, nb, sizeof *ib, cmp_size);
	for (size_t i = 0, j = 0; i < na && j < nb;) {
		if (ia[i] == ib[j]) {
			both++;
			i++;
			j++;
		} else if (ia[i] < ib[j]) {
			i++;
		} else {
			j++;
		}
	}
	free(ia);
	return na + nb == 0 ? 1 : (double)both / (double)(na + nb - both);
}

/* The log of a Gamma(alpha, 1) draw, by Marsaglia and Tsang (2000). For
 * alpha < 1 it is a draw for alpha + 1 times u^(1/alpha); in logs, because
 * for small alpha that product underflows to 0. */
static double log_gamma_draw(struct gen_rng *r, double alpha)
{
	double boost = 0, d, c;

	if (alpha < 1) {
		boost = log(1 - gen_uniform(r)) / alpha; /* u in (0, 1] */
		alpha += 1;
	}
	d = alpha - 1.0 / 3;
	c = 1 / sqrt(9 * d);
	for (;;) {
		double x = gen_normal(r), v = 1 + c * x, u;

		if (v <= 0)
			continue;
		v = v * v * v;
		u = 1 - gen_uniform(r);
		if (u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)))
			return log(d * v) + boost;
	}
}

void stats_dirichlet(struct gen_rng *r, const double *alpha, size_t k, double *out)
{
	double top = -INFINITY, sum = 0;

	for (size_t j = 0; j < k; j++) {
		if (!(alpha[j] > 0)) {
			/* the gamma loop would never end; there is no distribution */
			for (j = 0; j < k; j++)
				out[j] = NAN;
			return;
		}
	}
	for (size_t j = 0; j < k; j++) {
		out[j] = log_gamma_draw(r, alpha[j]);
		top = fmax(top, out[j]);
	}
	for (size_t j = 0; j < k; j++) {
		out[j] = exp(out[j] - top);
		sum += out[j];
	}
	for (size_t j = 0; j < k; j++)
		out[j] /= sum;
}

double stats_quantile(const double *x, size_t n, double q)
{
	struct radix_item *it, *s, *t;
	size_t m = 0;
	double v = NAN;

	if (!(q >= 0 && q <= 1))
		return NAN;
	it = xmalloc(2 * n * sizeof *it);
	for (size_t i = 0; i < n; i++)
		if (!isnan(x[i]))
			it[m++] = (struct radix_item){order_key(x[i]), i};
	s = it;
	t = it + m;
	radix_sort(&s, &t, m);
	if (m > 0)
		v = quantile_sorted(s, m, x, q, -INFINITY, INFINITY);
	free(it);
	return v;
}

double stats_weighted_mean(const double *x, const double *w, size_t n)
{
	double sw = 0, swx = 0;

	for (size_t i = 0; i < n; i++) {
		if (isnan(x[i]) || !(w[i] > 0))
			continue;
		sw += w[i];
		swx += w[i] * x[i];
	}
	return sw > 0 ? swx / sw : NAN;
}
