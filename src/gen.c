#include "pc6risk/gen.h"
#include "pc6risk/xalloc.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void gen_seed(struct gen_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t t = stream, x = seed ^ splitmix64(&t);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1; /* the one state xoshiro cannot leave */
}

uint64_t gen_stream(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t gen_next(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double gen_uniform(struct gen_rng *r)
{
	return (double)(gen_next(r) >> 11) * 0x1.0p-53;
}

uint64_t gen_below(struct gen_rng *r, uint64_t n)
{
	uint64_t threshold = (0 - n) % n, x;

	do
		x = gen_next(r);
	while (x < threshold);
	return x % n;
}

double gen_normal(struct gen_rng *r)
{
	double u1 = 1.0 - gen_uniform(r), u2 = gen_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

long gen_poisson(struct gen_rng *r, double mean)
{
	if (!(mean > 0))
		return 0;
	if (mean < 10) {
		double limit = exp(-mean), prod = gen_uniform(r);
		long k = 0;

		while (prod > limit) {
			prod *= gen_uniform(r);
			k++;
		}
		return k;
	}
	/* Hoermann's transformed rejection (PTRS), as numpy does it. */
	{
		double slam = sqrt(mean), loglam = log(mean);
		double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
		double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);

		for (;;) {
			double u = gen_uniform(r) - 0.5, v = gen_uniform(r), us = 0.5 - fabs(u);
			long k = (long)floor((2 * a / us + b) * u + mean + 0.43);

			if (us >= 0.07 && v <= vr)
				return k;
			if (k < 0 || (us < 0.013 && v > us))
				continue;
			if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -mean + (double)k * loglam - lgamma((double)k + 1))
				return k;
		}
	}
}

long gen_binomial(struct gen_rng *r, long n, double p)
{
	long k = 0;

	if (n <= 0 || !(p > 0))
		return 0;
	if (p >= 1)
		return n;
	if (p > 0.5)
		return n - gen_binomial(r, n, 1 - p);
	if (n <= 64) {
		for (long i = 0; i < n; i++)
			k += gen_uniform(r) < p;
		return k;
	}
	if ((double)n * p * (1 - p) < 25) {
		/* count successes by geometric waiting times */
		double lq = log1p(-p);
		long pos = 0;

		for (;;) {
			pos += (long)floor(log(1.0 - gen_uniform(r)) / lq) + 1;
			if (pos > n)
				return k;
			k++;
		}
	}
	/* large n: the normal approximation is well within what synthetic data needs */
	k = lround((double)n * p + sqrt((double)n * p * (1 - p)) * gen_normal(r));
	return k < 0 ? 0 : k > n ? n : k;
}

double gen_logistic(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

double gen_logit(double p)
{
	if (!(p > 1e-6))
		p = 1e-6;
	if (p > 1 - 1e-6)
		p = 1 - 1e-6;
	return log(p / (1 - p));
}

/* Exact shares of `amount` for the items in idx (those with room), in
 * proportion to w, none above its cap; returns what was placed (less than
 * amount only when every item is full). */
static double water_fill(double amount, size_t *idx, size_t n, const double *w, const double *cap, double *share)
{
	double fixed = 0;

	while (n > 0) {
		double sum = 0, lambda;
		size_t keep = 0;

		for (size_t k = 0; k < n; k++)
			sum += w[idx[k]];
		if (!(sum > 0))
			break;
		lambda = (amount - fixed) / sum;
		for (size_t k = 0; k < n; k++) {
			size_t i = idx[k];

			if (lambda * w[i] >= cap[i]) {
				share[i] = cap[i];
				fixed += cap[i];
			} else {
				idx[keep++] = i;
			}
		}
		if (keep == n) {
			for (size_t k = 0; k < n; k++)
				share[idx[k]] = lambda * w[idx[k]];
			return amount;
		}
		n = keep;
	}
	return fixed;
}

/* Add or take single units until f adds up to want, where it matters least:
 * units go to the items furthest below their share, come from those furthest
 * above it. Only floating-point leftovers of a few units ever get here. */
static void settle(size_t n, const double *share, const double *cap, long *f, long have, long want)
{
	while (have != want) {
		size_t best = n;
		double bestgap = 0;

		for (size_t i = 0; i < n; i++) {
			double gap = share[i] - (double)f[i];
			bool can = have < want ? (double)f[i] + 1 <= cap[i] + 1e-9 : f[i] > 0;

			if (can && (best == n || (have < want ? gap > bestgap : gap < bestgap))) {
				best = i;
				bestgap = gap;
			}
		}
		if (best == n)
			return; /* cannot happen: feasibility was checked */
		f[best] += have < want ? 1 : -1;
		have += have < want ? 1 : -1;
	}
}

int gen_allocate(struct gen_rng *r, long total, size_t n, const double *weight, const long *lo, const long *hi,
		 long *out)
{
	double sumhi = 0, amount, placed, fsum = 0, u, acc = 0, prev = 0;
	double *w, *cap, *share;
	long *f, sumlo = 0, want, have = 0;
	size_t *idx, nidx = 0;

	for (size_t i = 0; i < n; i++) {
		long l = lo ? lo[i] : 0;

		if (l < 0 || (hi && hi[i] < l))
			return -1;
		sumlo += l;
		sumhi += hi ? (double)hi[i] : 0;
	}
	if (total < sumlo || (hi && (double)total > sumhi) || (n == 0 && total != 0))
		return -1;
	if (n == 0)
		return 0;
	want = total - sumlo;
	amount = (double)want;
	w = xcalloc(n, sizeof *w);
	cap = xcalloc(n, sizeof *cap);
	share = xcalloc(n, sizeof *share);
	f = xcalloc(n, sizeof *f);
	idx = xcalloc(n, sizeof *idx);
	for (size_t i = 0; i < n; i++) {
		cap[i] = hi ? (double)(hi[i] - (lo ? lo[i] : 0)) : HUGE_VAL;
		w[i] = weight && weight[i] > 0 && isfinite(weight[i]) ? weight[i] : 0;
		if (w[i] > 0 && cap[i] > 0)
			idx[nidx++] = i;
	}
	placed = water_fill(amount, idx, nidx, w, cap, share);
	if (placed < amount - 1e-9 * (amount + 1)) {
		/* the weighted items are full (or there are none): the rest goes
		 * equally to the items that still have room */
		double *more = xcalloc(n, sizeof *more), *room = xcalloc(n, sizeof *room);

		nidx = 0;
		for (size_t i = 0; i < n; i++) {
			room[i] = cap[i] - share[i];
			if (room[i] > 0) {
				w[i] = 1;
				idx[nidx++] = i;
			}
		}
		water_fill(amount - placed, idx, nidx, w, room, more);
		for (size_t i = 0; i < n; i++)
			share[i] += more[i];
		free(more);
		free(room);
	}

	/* the floor of each share, then the remainder by systematic sampling on
	 * the fractions: one uniform number picks exactly `rem` items, each with
	 * probability equal to its fraction */
	for (size_t i = 0; i < n; i++) {
		f[i] = (long)floor(share[i]);
		have += f[i];
		fsum += share[i] - (double)f[i];
	}
	u = gen_uniform(r);
	if (want > have && fsum > 0) {
		double scale = (double)(want - have) / fsum;
		long rem = want - have;
		size_t last = n;

		for (size_t i = 0; i < n; i++)
			if (share[i] - (double)f[i] > 0)
				last = i;
		for (size_t i = 0; i < n; i++) {
			double frac = share[i] - (double)f[i];

			if (!(frac > 0))
				continue;
			acc = i == last ? (double)rem : acc + frac * scale;
			if (floor(u + acc) > floor(u + prev) && (double)f[i] + 1 <= cap[i] + 1e-9) {
				f[i]++;
				have++;
			}
			prev = acc;
		}
	}
	settle(n, share, cap, f, have, want);
	for (size_t i = 0; i < n; i++)
		out[i] = (lo ? lo[i] : 0) + f[i];
	free(w);
	free(cap);
	free(share);
	free(f);
	free(idx);
	return 0;
}

int gen_allocate_table(struct gen_rng *r, size_t nrows, size_t ncols, const long *rows, const long *cols,
		       const double *weight, long *out)
{
	long rsum = 0, csum = 0, *left, *col;
	double *w;
	int rc = 0;

	for (size_t i = 0; i < nrows; i++) {
		if (rows[i] < 0)
			return -1;
		rsum += rows[i];
	}
	for (size_t j = 0; j < ncols; j++) {
		if (cols[j] < 0)
			return -1;
		csum += cols[j];
	}
	if (rsum != csum || (ncols == 0 && rsum != 0))
		return -1;
	if (ncols == 0 || nrows == 0)
		return 0;
	left = xcalloc(nrows, sizeof *left);
	col = xcalloc(nrows, sizeof *col);
	w = xcalloc(nrows, sizeof *w);
	memcpy(left, rows, nrows * sizeof *left);
	for (size_t j = 0; j < ncols; j++) {
		for (size_t i = 0; i < nrows; i++) {
			double here = weight ? weight[i * ncols + j] : 1, later = 0;

			if (j + 1 == ncols) {
				out[i * ncols + j] = left[i];
				continue;
			}
			for (size_t k = j; k < ncols; k++)
				later += weight ? fmax(weight[i * ncols + k], 0) : 1;
			w[i] = later > 0 ? (double)left[i] * fmax(here, 0) / later : (double)left[i] / (double)(ncols - j);
		}
		if (j + 1 == ncols)
			break;
		if (gen_allocate(r, cols[j], nrows, w, NULL, left, col) < 0) {
			rc = -1; /* cannot happen: the rows have at least cols[j] left */
			break;
		}
		for (size_t i = 0; i < nrows; i++) {
			out[i * ncols + j] = col[i];
			left[i] -= col[i];
		}
	}
	free(left);
	free(col);
	free(w);
	return rc;
}

long gen_cbs_round5(long v)
{
	if (v < 0)
		return -gen_cbs_round5(-v);
	return (v + 2) / 5 * 5;
}

void gen_pc6_letters(int index, char out[3])
{
	int k = 0;

	for (int a = 0; a < 26; a++) {
		for (int b = 0; b < 26; b++) {
			if (a == 'S' - 'A' && (b == 0 || b == 'D' - 'A' || b == 'S' - 'A'))
				continue;
			if (k++ == index) {
				out[0] = (char)('A' + a);
				out[1] = (char)('A' + b);
				out[2] = '\0';
				return;
			}
		}
	}
	out[0] = '\0';
}

int gen_pc6_letter_index(const char *letters)
{
	int a, b, k;

	if (!letters || letters[0] < 'A' || letters[0] > 'Z' || letters[1] < 'A' || letters[1] > 'Z' || letters[2])
		return -1;
	a = letters[0] - 'A';
	b = letters[1] - 'A';
	if (a == 'S' - 'A' && (b == 0 || b == 'D' - 'A' || b == 'S' - 'A'))
		return -1;
	k = a * 26 + b;
	if (a > 'S' - 'A' || (a == 'S' - 'A' && b > 'S' - 'A'))
		k -= 3;
	else if (a == 'S' - 'A' && b > 'D' - 'A')
		k -= 2;
	else if (a == 'S' - 'A' && b > 0)
		k -= 1;
	return k;
}

void gen_choose(struct gen_rng *r, size_t k, size_t n, size_t *out)
{
	size_t m = 0;

	for (size_t t = 0; t < n && m < k; t++)
		if ((double)(n - t) * gen_uniform(r) < (double)(k - m))
			out[m++] = t;
}

uint64_t gen_hilbert(double x, double y, double x0, double y0, double size)
{
	const uint32_t side = 1u << 16;
	double fx = (x - x0) / size * side, fy = (y - y0) / size * side;
	uint32_t hx, hy;
	uint64_t d = 0;

	hx = fx < 0 ? 0 : fx >= side ? side - 1 : (uint32_t)fx;
	hy = fy < 0 ? 0 : fy >= side ? side - 1 : (uint32_t)fy;
	for (uint32_t s = side / 2; s > 0; s /= 2) {
		uint32_t rx = (hx & s) > 0, ry = (hy & s) > 0;

		d += (uint64_t)s * s * ((3 * rx) ^ ry);
		if (ry == 0) {
			if (rx == 1) {
				hx = side - 1 - hx;
				hy = side - 1 - hy;
			}
			uint32_t t = hx;

			hx = hy;
			hy = t;
		}
	}
	return d;
}

void gen_smooth_field(struct gen_rng *r, size_t n, const double *x, const double *y, double bandwidth, double *out)
{
	double xmin = HUGE_VAL, ymin = HUGE_VAL, xmax = -HUGE_VAL, ymax = -HUGE_VAL, cell, cut2;
	double *noise;
	size_t nx, ny, *start, *order, *fill;

	if (n == 0)
		return;
	noise = xcalloc(n, sizeof *noise);
	for (size_t i = 0; i < n; i++) {
		noise[i] = gen_normal(r);
		xmin = fmin(xmin, x[i]);
		xmax = fmax(xmax, x[i]);
		ymin = fmin(ymin, y[i]);
		ymax = fmax(ymax, y[i]);
	}
	if (!(bandwidth > 0)) {
		memcpy(out, noise, n * sizeof *out);
		free(noise);
		return;
	}
	cell = 3 * bandwidth;
	cut2 = cell * cell;
	/* a grid of cells 3 bandwidths wide: every neighbour within the cut-off
	 * lies in the 3 x 3 block around a point's cell */
	while ((xmax - xmin) / cell * ((ymax - ymin) / cell) > 4e7)
		cell *= 2;
	nx = (size_t)((xmax - xmin) / cell) + 1;
	ny = (size_t)((ymax - ymin) / cell) + 1;
	start = xcalloc(nx * ny + 1, sizeof *start);
	fill = xcalloc(nx * ny, sizeof *fill);
	order = xcalloc(n, sizeof *order);
	for (size_t i = 0; i < n; i++) {
		size_t cx = (size_t)((x[i] - xmin) / cell), cy = (size_t)((y[i] - ymin) / cell);

		start[cy * nx + cx + 1]++;
	}
	for (size_t c = 0; c < nx * ny; c++)
		start[c + 1] += start[c];
	for (size_t i = 0; i < n; i++) {
		size_t c = (size_t)((y[i] - ymin) / cell) * nx + (size_t)((x[i] - xmin) / cell);

		order[start[c] + fill[c]++] = i;
	}
	for (size_t i = 0; i < n; i++) {
		size_t cx = (size_t)((x[i] - xmin) / cell), cy = (size_t)((y[i] - ymin) / cell);
		double sum = 0, sum2 = 0;

		for (size_t gy = cy > 0 ? cy - 1 : 0; gy <= cy + 1 && gy < ny; gy++) {
			for (size_t gx = cx > 0 ? cx - 1 : 0; gx <= cx + 1 && gx < nx; gx++) {
				size_t c = gy * nx + gx;

				for (size_t k = start[c]; k < start[c + 1]; k++) {
					size_t j = order[k];
					double dx = x[j] - x[i], dy = y[j] - y[i], d2 = dx * dx + dy * dy, kw;

					if (d2 > cut2)
						continue;
					kw = exp(-d2 / (2 * bandwidth * bandwidth));
					sum += kw * noise[j];
					sum2 += kw * kw;
				}
			}
		}
		out[i] = sum2 > 0 ? sum / sqrt(sum2) : noise[i];
	}
	free(noise);
	free(start);
	free(fill);
	free(order);
}

bool gen_point_in_ring(double x, double y, const double *xy, size_t n)
{
	bool in = false;

	for (size_t i = 0, j = n - 1; i < n; j = i++) {
		double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];

		if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
			in = !in;
	}
	return n >= 3 && in;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double gen_ks2(double *a, size_t na, double *b, size_t nb)
{
	size_t i = 0, j = 0;
	double d = 0;

	if (na == 0 || nb == 0)
		return 1;
	qsort(a, na, sizeof *a, cmp_double);
	qsort(b, nb, sizeof *b, cmp_double);
	while (i < na && j < nb) {
		double v = a[i] < b[j] ? a[i] : b[j], gap;

		while (i < na && a[i] == v)
			i++;
		while (j < nb && b[j] == v)
			j++;
		gap = fabs((double)i / (double)na - (double)j / (double)nb);
		if (gap > d)
			d = gap;
	}
	return d;
}
