/* tile: shared borders kept shared, collapse, validity, clipping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/mvt.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/tile.h"

/* ---- building input ---- */

struct pb {
	struct tile_polys p;
	size_t npoly, nring, npt, cap;
};

static void pb_init(struct pb *b)
{
	memset(b, 0, sizeof *b);
	b->cap = 1 << 12;
	b->p.poly_first = calloc(b->cap, sizeof(uint32_t));
	b->p.ring_first = calloc(b->cap, sizeof(uint32_t));
	b->p.pt_first = calloc(b->cap, sizeof(uint32_t));
	b->p.xy = calloc(2 * b->cap, sizeof(int64_t));
}

static void grow(struct pb *b, size_t need)
{
	if (need + 2 <= b->cap)
		return;
	while (need + 2 > b->cap)
		b->cap *= 2;
	b->p.poly_first = realloc(b->p.poly_first, b->cap * sizeof(uint32_t));
	b->p.ring_first = realloc(b->p.ring_first, b->cap * sizeof(uint32_t));
	b->p.pt_first = realloc(b->p.pt_first, b->cap * sizeof(uint32_t));
	b->p.xy = realloc(b->p.xy, 2 * b->cap * sizeof(int64_t));
}

static void pb_feature(struct pb *b)
{
	grow(b, b->p.nfeat + 1);
	b->p.poly_first[b->p.nfeat++] = (uint32_t)b->npoly;
	b->p.poly_first[b->p.nfeat] = (uint32_t)b->npoly;
}

static void pb_poly(struct pb *b)
{
	grow(b, b->npoly + 1);
	b->p.ring_first[b->npoly++] = (uint32_t)b->nring;
	b->p.ring_first[b->npoly] = (uint32_t)b->nring;
	b->p.poly_first[b->p.nfeat] = (uint32_t)b->npoly;
}

static void pb_ring(struct pb *b, const int64_t *xy, size_t n)
{
	grow(b, b->nring + 1);
	grow(b, b->npt + n);
	b->p.pt_first[b->nring++] = (uint32_t)b->npt;
	memcpy(&b->p.xy[2 * b->npt], xy, 2 * n * sizeof *xy);
	b->npt += n;
	b->p.pt_first[b->nring] = (uint32_t)b->npt;
	b->p.ring_first[b->npoly] = (uint32_t)b->nring;
}

static void pb_poly1(struct pb *b, const int64_t *xy, size_t n)
{
	pb_feature(b);
	pb_poly(b);
	pb_ring(b, xy, n);
}

/* ---- geometry helpers ---- */

static long long area2(const int64_t *xy, size_t n)
{
	long long s = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = (i + 1) % n;

		s += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
	}
	return s;
}

static int64_t orient(const int64_t *a, const int64_t *b, const int64_t *c)
{
	return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

static bool between(const int64_t *a, const int64_t *b, const int64_t *p)
{
	return p[0] >= (a[0] < b[0] ? a[0] : b[0]) && p[0] <= (a[0] > b[0] ? a[0] : b[0]) &&
	       p[1] >= (a[1] < b[1] ? a[1] : b[1]) && p[1] <= (a[1] > b[1] ? a[1] : b[1]);
}

static int sgn(int64_t v)
{
	return (v > 0) - (v < 0);
}

/* 0 apart, 1 touching in one point, 2 crossing or overlapping. */
static int meet(const int64_t *a, const int64_t *b, const int64_t *c, const int64_t *d)
{
	int o1 = sgn(orient(a, b, c)), o2 = sgn(orient(a, b, d)), o3 = sgn(orient(c, d, a)), o4 = sgn(orient(c, d, b));

	if (o1 * o2 < 0 && o3 * o4 < 0)
		return 2;
	if (!o1 && !o2) {
		int ax = a[0] != b[0] ? 0 : 1;
		int64_t lo1 = a[ax] < b[ax] ? a[ax] : b[ax], hi1 = a[ax] ^ b[ax] ^ lo1;
		int64_t lo2 = c[ax] < d[ax] ? c[ax] : d[ax], hi2 = c[ax] ^ d[ax] ^ lo2;
		int64_t lo = lo1 > lo2 ? lo1 : lo2, hi = hi1 < hi2 ? hi1 : hi2;

		return lo < hi ? 2 : lo == hi;
	}
	return (!o1 && between(a, b, c)) || (!o2 && between(a, b, d)) || (!o3 && between(c, d, a)) ||
	       (!o4 && between(c, d, b));
}

/* Polygon p of g is valid: rings of >= 3 distinct points without repeats,
 * simple, meeting other rings at most in points, exterior positive, holes
 * negative. Quadratic; for tests only. */
static bool poly_ok(const struct tile_polys *g, uint32_t p)
{
	for (uint32_t r = g->ring_first[p]; r < g->ring_first[p + 1]; r++) {
		const int64_t *a = &g->xy[2 * g->pt_first[r]];
		size_t n = g->pt_first[r + 1] - g->pt_first[r];
		long long ar = area2(a, n);

		if (n < 3 || (r == g->ring_first[p] ? ar <= 0 : ar >= 0))
			return false;
		for (size_t i = 0; i < n; i++) {
			const int64_t *a0 = &a[2 * i], *a1 = &a[2 * ((i + 1) % n)];

			if (a0[0] == a1[0] && a0[1] == a1[1])
				return false;
			for (uint32_t s = r; s < g->ring_first[p + 1]; s++) {
				const int64_t *b = &g->xy[2 * g->pt_first[s]];
				size_t m = g->pt_first[s + 1] - g->pt_first[s];

				for (size_t j = s == r ? i + 1 : 0; j < m; j++) {
					const int64_t *b0 = &b[2 * j], *b1 = &b[2 * ((j + 1) % m)];
					int k = meet(a0, a1, b0, b1);
					bool adj = s == r && (j == i + 1 || (i == 0 && j == n - 1));

					if (k == 2 || (k == 1 && s == r && !adj))
						return false;
				}
			}
		}
	}
	return true;
}

static long long poly_area2(const struct tile_polys *g, uint32_t p)
{
	long long s = 0;

	for (uint32_t r = g->ring_first[p]; r < g->ring_first[p + 1]; r++)
		s += area2(&g->xy[2 * g->pt_first[r]], g->pt_first[r + 1] - g->pt_first[r]);
	return s;
}

static size_t npolys(const struct tile_polys *g)
{
	return g->poly_first[g->nfeat];
}

/* Directed edges of all rings, sorted, to pair them with their reverses. */
struct dedge {
	int64_t v[4];
};

static int dedge_cmp(const void *a, const void *b)
{
	const struct dedge *x = a, *y = b;

	for (int i = 0; i < 4; i++)
		if (x->v[i] != y->v[i])
			return x->v[i] < y->v[i] ? -1 : 1;
	return 0;
}

static bool has_edge(const struct dedge *e, size_t n, int64_t ax, int64_t ay, int64_t bx, int64_t by)
{
	struct dedge k = {{ax, ay, bx, by}};

	return bsearch(&k, e, n, sizeof *e, dedge_cmp) != NULL;
}

static struct dedge *edges_of(const struct tile_polys *g, size_t *n)
{
	size_t np = g->pt_first[g->ring_first[npolys(g)]], k = 0;
	struct dedge *e = malloc((np + 1) * sizeof *e);

	for (uint32_t r = 0; r < g->ring_first[npolys(g)]; r++) {
		const int64_t *a = &g->xy[2 * g->pt_first[r]];
		size_t m = g->pt_first[r + 1] - g->pt_first[r];

		for (size_t i = 0; i < m; i++)
			e[k++] = (struct dedge){{a[2 * i], a[2 * i + 1], a[2 * ((i + 1) % m)], a[2 * ((i + 1) % m) + 1]}};
	}
	qsort(e, k, sizeof *e, dedge_cmp);
	*n = k;
	return e;
}

/* Every directed edge occurs once, and every edge not on the outer box has
 * its reverse: neighbours share borders exactly, no gap, no overlap. */
static void check_tessellation(const struct tile_polys *g, const int64_t *box)
{
	size_t n;
	struct dedge *e = edges_of(g, &n);

	for (size_t i = 0; i < n; i++) {
		const int64_t *v = e[i].v;
		bool outer = (v[0] == v[2] && (v[0] == box[0] || v[0] == box[2])) ||
			     (v[1] == v[3] && (v[1] == box[1] || v[1] == box[3]));

		cr_assert(i == 0 || dedge_cmp(&e[i - 1], &e[i]), "edge used twice");
		if (!outer)
			cr_assert(has_edge(e, n, v[2], v[3], v[0], v[1]), "edge (%lld,%lld)-(%lld,%lld) has no twin",
				  (long long)v[0], (long long)v[1], (long long)v[2], (long long)v[3]);
	}
	free(e);
}

static int64_t snapz(int64_t v, int sh)
{
	return sh ? (v + ((int64_t)1 << (sh - 1))) >> sh : v;
}

/* ---- a tessellation with wiggly shared borders ---- */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ h >> 33;
}

/* Node (i, j) of an n x n grid of cells of side s at (x0, y0); the outer
 * nodes stay on the box. */
static void node(int i, int j, int nx, int ny, int64_t s, int64_t x0, int64_t y0, int64_t *p)
{
	uint64_t h = mix((uint64_t)i * 1000003u + (uint64_t)j);

	p[0] = x0 + i * s + (i > 0 && i < nx ? (int64_t)(h % (uint64_t)(s / 4)) - s / 8 : 0);
	p[1] = y0 + j * s + (j > 0 && j < ny ? (int64_t)((h >> 20) % (uint64_t)(s / 4)) - s / 8 : 0);
}

/* The points of the edge from node a to node b (a excluded, b included),
 * the same points whichever cell asks, wiggling unless on the outer box. */
static size_t edge_pts(int64_t *out, const int64_t *a, const int64_t *b, bool straight, int64_t s, int k)
{
	const int64_t *p = a, *q = b;
	bool rev = a[0] > b[0] || (a[0] == b[0] && a[1] > b[1]);
	int64_t tmp[64];

	if (rev) {
		p = b;
		q = a;
	}
	uint64_t h = mix((uint64_t)p[0] * 31 + (uint64_t)p[1] * 1000033 + (uint64_t)q[0]);

	for (int i = 1; i < k; i++) {
		int64_t off = straight ? 0 : (int64_t)(mix(h + (uint64_t)i) % (uint64_t)(s / 6)) - s / 12;
		int64_t dx = q[0] - p[0], dy = q[1] - p[1];
		bool vertical = llabs(dy) > llabs(dx);

		tmp[2 * (i - 1)] = p[0] + dx * i / k + (vertical ? off : 0);
		tmp[2 * (i - 1) + 1] = p[1] + dy * i / k + (vertical ? 0 : off);
	}
	size_t m = 0;

	for (int i = 0; i < k - 1; i++) {
		int j = rev ? k - 2 - i : i;

		out[2 * m] = tmp[2 * j];
		out[2 * m + 1] = tmp[2 * j + 1];
		m++;
	}
	out[2 * m] = b[0];
	out[2 * m + 1] = b[1];
	return m + 1;
}

/* nx x ny cells; rev adds them in reverse order. */
static void grid2(struct pb *b, int nx, int ny, int64_t s, int64_t x0, int64_t y0, int k, bool rev)
{
	for (int c = 0; c < nx * ny; c++) {
		int cc = rev ? nx * ny - 1 - c : c, i = cc % nx, j = cc / nx;
		int64_t q[4][2], xy[2 * 4 * 32];
		size_t m = 0;

		node(i, j, nx, ny, s, x0, y0, q[0]);
		node(i + 1, j, nx, ny, s, x0, y0, q[1]);
		node(i + 1, j + 1, nx, ny, s, x0, y0, q[2]);
		node(i, j + 1, nx, ny, s, x0, y0, q[3]);
		m += edge_pts(&xy[2 * m], q[0], q[1], j == 0, s, k);
		m += edge_pts(&xy[2 * m], q[1], q[2], i + 1 == nx, s, k);
		m += edge_pts(&xy[2 * m], q[2], q[3], j + 1 == ny, s, k);
		m += edge_pts(&xy[2 * m], q[3], q[0], i == 0, s, k);
		pb_poly1(b, xy, m);
	}
}

static void grid(struct pb *b, int n, int64_t s, int64_t x0, int64_t y0, int k)
{
	grid2(b, n, n, s, x0, y0, k, false);
}

/* ---- tests ---- */

/* Two cells sharing a wiggly border, in both orders: at every zoom each
 * edge of one off the outer box is the reverse of an edge of the other. */
Test(tile, shared_border_identical)
{
	int64_t x0 = 1 << 20, y0 = 1 << 20, s = 40000;
	struct tile_polys *out[2] = {0};

	for (int order = 0; order < 2; order++) {
		struct pb b;

		pb_init(&b);
		grid2(&b, 2, 1, s, x0, y0, 24, order);
		struct tiler *t = tiler_new(&b.p, 14);

		for (int z = 2; z <= 14; z++) {
			struct tile_zoom_stats st;
			int sh = 14 - z;
			int64_t box[4] = {snapz(x0, sh), snapz(y0, sh), snapz(x0 + 2 * s, sh), snapz(y0 + s, sh)};
			size_t n, twins = 0;

			cr_assert_eq(tiler_zoom(t, z, 1.0, &st), 0);
			const struct tile_polys *g = tiler_geometry(t);

			cr_assert_eq(g->nfeat, 2);
			if (npolys(g) < 2)
				continue;
			check_tessellation(g, box);
			struct dedge *e = edges_of(g, &n);

			for (size_t i = 0; i < n; i++)
				twins += has_edge(e, n, e[i].v[2], e[i].v[3], e[i].v[0], e[i].v[1]);
			free(e);
			cr_assert_gt(twins, 0, "zoom %d", z);
			for (uint32_t p = 0; p < 2; p++)
				cr_assert(poly_ok(g, p), "zoom %d polygon %u invalid", z, p);
			if (z == 10) {
				/* the same rings whichever order the features came in */
				out[order] = calloc(1, sizeof **out);
				size_t np = g->pt_first[g->ring_first[2]];

				out[order]->xy = malloc(2 * np * sizeof(int64_t));
				memcpy(out[order]->xy, g->xy, 2 * np * sizeof(int64_t));
				out[order]->nfeat = np;
				out[order]->pt_first = malloc(3 * sizeof(uint32_t));
				memcpy(out[order]->pt_first, g->pt_first, 3 * sizeof(uint32_t));
			}
		}
		tiler_free(t);
		tile_polys_free(&b.p);
	}
	cr_assert_eq(out[0]->nfeat, out[1]->nfeat);
	/* feature 0 of one run is feature 1 of the other */
	uint32_t *a = out[0]->pt_first, *c = out[1]->pt_first;

	cr_assert_eq(a[1] - a[0], c[2] - c[1]);
	cr_assert_eq(memcmp(&out[0]->xy[2 * a[0]], &out[1]->xy[2 * c[1]], 2 * (a[1] - a[0]) * sizeof(int64_t)), 0);
	for (int k = 0; k < 2; k++) {
		tile_polys_free(out[k]);
		free(out[k]);
	}
}

/* A 40 x 40 tessellation: at every zoom every border edge has its twin. */
Test(tile, tessellation_no_gaps)
{
	struct pb b;
	int64_t s = 3000, x0 = 5 << 20, y0 = 6 << 20;

	pb_init(&b);
	grid(&b, 40, s, x0, y0, 8);
	struct tiler *t = tiler_new(&b.p, 16);

	for (int z = 6; z <= 16; z++) {
		struct tile_zoom_stats st;
		int sh = 16 - z;
		int64_t box[4] = {snapz(x0, sh), snapz(y0, sh), snapz(x0 + 40 * s, sh), snapz(y0 + 40 * s, sh)};
		long long sum = 0;

		cr_assert_eq(tiler_zoom(t, z, 1.0, &st), 0);
		const struct tile_polys *g = tiler_geometry(t);

		check_tessellation(g, box);
		for (uint32_t p = 0; p < npolys(g); p++) {
			cr_assert(poly_ok(g, p), "zoom %d polygon %u invalid", z, p);
			sum += poly_area2(g, p);
		}
		cr_assert_eq(sum, 2 * (box[2] - box[0]) * (box[3] - box[1]), "zoom %d", z);
		cr_assert_eq(st.points_in, (long long)b.npt);
		cr_assert_leq(st.points_out, st.points_in);
		cr_assert_eq(st.rings_dropped + (long long)g->ring_first[npolys(g)], 1600);
	}
	tiler_free(t);
	tile_polys_free(&b.p);
}

/* The big grid: 300 x 300 cells, every polygon valid, no gap. */
Test(tile, big_grid, .timeout = 120)
{
	struct pb b;
	int n = 300;
	int64_t s = 2000, x0 = 33 << 20, y0 = 21 << 20;

	pb_init(&b);
	grid(&b, n, s, x0, y0, 8);
	struct tiler *t = tiler_new(&b.p, 16);

	for (int z = 8; z <= 16; z += 4) {
		struct tile_zoom_stats st;
		int sh = 16 - z;
		int64_t box[4] = {snapz(x0, sh), snapz(y0, sh), snapz(x0 + n * s, sh), snapz(y0 + n * s, sh)};

		cr_assert_eq(tiler_zoom(t, z, 1.0, &st), 0);
		const struct tile_polys *g = tiler_geometry(t);

		check_tessellation(g, box);
		for (uint32_t p = 0; p < npolys(g); p++)
			cr_assert(poly_ok(g, p), "zoom %d polygon %u invalid", z, p);
		cr_assert_eq(st.polys_invalid, 0);
		cr_assert_gt(st.tiles, 0);
	}
	tiler_free(t);
	tile_polys_free(&b.p);
}

/* A polygon filling another's hole keeps the hole's border. */
Test(tile, hole_filled_by_neighbour)
{
	struct pb b, g2;
	int64_t x0 = 1 << 22, y0 = 1 << 22, s = 30000;

	pb_init(&b);
	pb_init(&g2);
	grid(&g2, 3, s, x0, y0, 16);
	/* A: the 3 x 3 box with the middle cell as a hole; B: the middle cell */
	int64_t outer[8] = {x0, y0, x0 + 3 * s, y0, x0 + 3 * s, y0 + 3 * s, x0, y0 + 3 * s};
	const struct tile_polys *q = &g2.p;
	const int64_t *mid = &q->xy[2 * q->pt_first[4]];
	size_t nm = q->pt_first[5] - q->pt_first[4];

	pb_feature(&b);
	pb_poly(&b);
	pb_ring(&b, outer, 4);
	pb_ring(&b, mid, nm);
	pb_poly1(&b, mid, nm);

	struct tiler *t = tiler_new(&b.p, 14);

	for (int z = 3; z <= 14; z++) {
		struct tile_zoom_stats st;

		cr_assert_eq(tiler_zoom(t, z, 1.0, &st), 0);
		const struct tile_polys *g = tiler_geometry(t);
		int sh = 14 - z;
		int64_t box[4] = {snapz(x0, sh), snapz(y0, sh), snapz(x0 + 3 * s, sh), snapz(y0 + 3 * s, sh)};

		if (st.rings_dropped) {
			cr_assert_eq(st.rings_dropped, 2, "hole and its filling go together");
			cr_assert_eq(st.features_dropped, 1);
			continue;
		}
		cr_assert_eq(g->ring_first[npolys(g)], 3);
		check_tessellation(g, box);
		for (uint32_t p = 0; p < npolys(g); p++)
			cr_assert(poly_ok(g, p));
	}
	tiler_free(t);
	tile_polys_free(&b.p);
	tile_polys_free(&g2.p);
}

/* A ring that passes one point twice (a pocket closed at a pinch) and the
 * polygon filling the pocket: shared borders stay shared. */
Test(tile, ring_through_junction_twice)
{
	struct pb b;
	int64_t o = 1 << 22;
	/* C-shape whose mouth closes at P = (o+5000, o+6000); pocket inside */
	int64_t c[] = {o, o, o + 10000, o, o + 10000, o + 10000, o + 5000, o + 10000, o + 5000, o + 6000,
		       o + 7000, o + 5000, o + 7300, o + 3000, o + 5000, o + 2500, o + 3000, o + 3100, o + 2800, o + 5100,
		       o + 5000, o + 6000, o + 5000, o + 10000, o, o + 10000};
	int64_t k[] = {o + 5000, o + 6000, o + 2800, o + 5100, o + 3000, o + 3100, o + 5000, o + 2500,
		       o + 7300, o + 3000, o + 7000, o + 5000};

	pb_init(&b);
	pb_poly1(&b, c, 13);
	pb_poly1(&b, k, 6);
	struct tiler *t = tiler_new(&b.p, 12);

	for (int z = 6; z <= 12; z++) {
		struct tile_zoom_stats st;
		size_t n;

		cr_assert_eq(tiler_zoom(t, z, 1.0, &st), 0);
		const struct tile_polys *g = tiler_geometry(t);

		/* the C passes P twice: it comes out split into a ring and a hole touching it at P */
		for (uint32_t p = 0; p < npolys(g); p++)
			cr_assert(poly_ok(g, p), "zoom %d polygon %u invalid", z, p);
		if (z == 12)
			cr_assert_eq(g->ring_first[g->poly_first[1]] - g->ring_first[g->poly_first[0]], 2);
		if (g->poly_first[2] - g->poly_first[1] < 1)
			continue;
		/* every edge of the pocket filler has its twin in the C */
		struct dedge *e = edges_of(g, &n);
		uint32_t r = g->ring_first[g->poly_first[1]];
		const int64_t *a = &g->xy[2 * g->pt_first[r]];
		size_t m = g->pt_first[r + 1] - g->pt_first[r];

		for (size_t i = 0; i < m; i++) {
			const int64_t *u = &a[2 * i], *v = &a[2 * ((i + 1) % m)];

			cr_assert(has_edge(e, n, v[0], v[1], u[0], u[1]), "zoom %d", z);
		}
		free(e);
	}
	tiler_free(t);
	tile_polys_free(&b.p);
}

Test(tile, collapse_counted)
{
	struct pb b;
	int64_t o = 1 << 24;
	int64_t tiny[] = {o, o, o + 3, o, o + 3, o + 3, o, o + 3};
	int64_t big[] = {o + 100000, o, o + 200000, o, o + 200000, o + 100000, o + 100000, o + 100000};
	int64_t hole[] = {o + 150000, o + 50000, o + 150002, o + 50000, o + 150002, o + 50002};
	struct tile_zoom_stats st;

	pb_init(&b);
	pb_poly1(&b, tiny, 4);
	pb_poly1(&b, big, 4);
	pb_ring(&b, hole, 3);
	struct tiler *t = tiler_new(&b.p, 16);

	cr_assert_eq(tiler_zoom(t, 16, 1.0, &st), 0);
	cr_assert_eq(st.rings_dropped, 0);
	cr_assert_eq(st.features_dropped, 0);
	cr_assert_eq(tiler_zoom(t, 8, 1.0, &st), 0);
	cr_assert_eq(st.rings_dropped, 2);
	cr_assert_eq(st.features_dropped, 1);
	const struct tile_polys *g = tiler_geometry(t);

	cr_assert_eq(g->poly_first[1] - g->poly_first[0], 0);
	cr_assert_eq(g->poly_first[2] - g->poly_first[1], 1);
	cr_assert_eq(g->ring_first[1] - g->ring_first[0], 1);
	cr_assert_eq(tiler_zoom(t, 17, 1.0, &st), -1);
	tiler_free(t);
	tile_polys_free(&b.p);
}

/* Orientation is normalised whatever the input's. */
Test(tile, orientation)
{
	struct pb b;
	int64_t ccw[] = {1000, 1000, 1000, 3000, 3000, 3000, 3000, 1000}; /* negative */
	int64_t h[] = {1500, 1500, 2500, 1500, 2500, 2500, 1500, 2500};   /* positive */
	struct tile_zoom_stats st;
	struct tile_content c = {0};

	pb_init(&b);
	cr_assert_lt(area2(ccw, 4), 0);
	pb_poly1(&b, ccw, 4);
	pb_ring(&b, h, 4);
	struct tiler *t = tiler_new(&b.p, 4);

	cr_assert_eq(tiler_zoom(t, 4, 0, &st), 0);
	cr_assert_eq(tiler_ntiles(t), 1);
	cr_assert_eq(tile_clip(t, 0, &c), 0);
	cr_assert_eq(c.nfeat, 1);
	cr_assert_gt(area2(&c.geom.xy[0], 4), 0);
	cr_assert_lt(area2(&c.geom.xy[8], 4), 0);
	cr_assert(poly_ok(&c.geom, 0));
	tile_content_free(&c);
	tiler_free(t);
	tile_polys_free(&b.p);
}

static size_t find_tile(const struct tiler *t, uint32_t x, uint32_t y)
{
	for (size_t i = 0; i < tiler_ntiles(t); i++) {
		uint32_t tx, ty;

		tiler_tile_xy(t, i, &tx, &ty);
		if (tx == x && ty == y)
			return i;
	}
	return (size_t)-1;
}

static void check_in_window(const struct tile_content *c)
{
	size_t np = c->geom.pt_first[c->geom.ring_first[npolys(&c->geom)]];

	for (size_t i = 0; i < 2 * np; i++) {
		cr_assert_geq(c->geom.xy[i], -TILE_BUFFER);
		cr_assert_leq(c->geom.xy[i], TILE_EXTENT + TILE_BUFFER);
	}
	for (uint32_t p = 0; p < npolys(&c->geom); p++)
		cr_assert(poly_ok(&c->geom, p), "clipped polygon %u invalid", p);
}

Test(tile, clip_inside_and_across)
{
	struct pb b;
	int64_t in[] = {5000, 5000, 6000, 5100, 5900, 6000, 5200, 5800};
	int64_t across[] = {3000, 1000, 5000, 1000, 5000, 2000, 3000, 2000};
	struct tile_zoom_stats st;
	struct tile_content c = {0};

	pb_init(&b);
	pb_poly1(&b, in, 4);
	pb_poly1(&b, across, 4);
	struct tiler *t = tiler_new(&b.p, 2);

	cr_assert_eq(tiler_zoom(t, 2, 0, &st), 0);
	cr_assert_eq(tiler_ntiles(t), 3);
	size_t i10 = find_tile(t, 1, 0), i11 = find_tile(t, 1, 1), i00 = find_tile(t, 0, 0);

	cr_assert_neq(i10, (size_t)-1);
	cr_assert_neq(i11, (size_t)-1);
	cr_assert_eq(i00, 0);
	/* tile (1, 1) holds the inside polygon unchanged */
	cr_assert_eq(tile_clip(t, i11, &c), 0);
	cr_assert_eq(c.nfeat, 1);
	cr_assert_eq(c.feature[0], 0);
	for (int k = 0; k < 8; k++)
		cr_assert_eq(c.geom.xy[k], in[k] - 4096);
	/* tile (0, 0): the rectangle cut at x = 4096 + 64 */
	cr_assert_eq(tile_clip(t, i00, &c), 0);
	cr_assert_eq(c.nfeat, 1);
	cr_assert_eq(c.feature[0], 1);
	check_in_window(&c);
	cr_assert_eq(poly_area2(&c.geom, 0), 2 * (4160 - 3000) * 1000);
	cr_assert_eq(tile_clip(t, i10, &c), 0);
	cr_assert_eq(c.nfeat, 1);
	check_in_window(&c);
	cr_assert_eq(poly_area2(&c.geom, 0), 2 * (5000 - 4096 + 64) * 1000);
	tile_content_free(&c);
	tiler_free(t);
	tile_polys_free(&b.p);
}

/* An upside-down U whose bend lies outside the tile: two legs, no bridge. */
Test(tile, clip_concave_splits)
{
	struct pb b;
	/* world: tile (1, 1) spans 4096 .. 8192; the bend lies above y = 4096 - 64 */
	int64_t u[] = {5000, 3000, 7000, 3000, 7000, 6000, 6500, 6000, 6500, 3500, 5500, 3500, 5500, 6000, 5000, 6000};
	struct tile_zoom_stats st;
	struct tile_content c = {0};

	pb_init(&b);
	pb_poly1(&b, u, 8);
	struct tiler *t = tiler_new(&b.p, 2);

	cr_assert_eq(tiler_zoom(t, 2, 0, &st), 0);
	size_t i = find_tile(t, 1, 1);

	cr_assert_eq(tile_clip(t, i, &c), 0);
	cr_assert_eq(c.nfeat, 1);
	cr_assert_eq(npolys(&c.geom), 2, "two legs");
	check_in_window(&c);
	for (uint32_t p = 0; p < 2; p++)
		cr_assert_eq(poly_area2(&c.geom, p), 2 * 500 * (6000 - 4032));
	tile_content_free(&c);
	tiler_free(t);
	tile_polys_free(&b.p);
}

/* A hole crossing the window side becomes a notch in the exterior. */
Test(tile, clip_hole_across_side)
{
	struct pb b;
	int64_t sq[] = {3000, 1000, 5000, 1000, 5000, 3000, 3000, 3000};
	int64_t h[] = {4000, 1500, 4000, 2500, 4500, 2500, 4500, 1500};
	struct tile_zoom_stats st;
	struct tile_content c = {0};

	pb_init(&b);
	pb_poly1(&b, sq, 4);
	pb_ring(&b, h, 4);
	struct tiler *t = tiler_new(&b.p, 2);

	cr_assert_eq(tiler_zoom(t, 2, 0, &st), 0);
	cr_assert_eq(tile_clip(t, find_tile(t, 0, 0), &c), 0);
	cr_assert_eq(npolys(&c.geom), 1);
	cr_assert_eq(c.geom.ring_first[1], 1, "one ring, notched");
	check_in_window(&c);
	cr_assert_eq(poly_area2(&c.geom, 0), 2 * ((4160 - 3000) * 2000 - (4160 - 4000) * 1000));
	tile_content_free(&c);
	tiler_free(t);
	tile_polys_free(&b.p);
}

/* A square with a hole around a tile corner: the pieces in the four tiles
 * have the areas of the square cut at the buffered window. */
Test(tile, clip_four_tiles)
{
	struct pb b;
	int64_t o = 8192, r = 1000, hr = 300;
	int64_t sq[] = {o - r, o - r, o + r, o - r, o + r, o + r, o - r, o + r};
	int64_t h[] = {o - hr, o - hr, o - hr, o + hr, o + hr, o + hr, o + hr, o - hr};
	struct tile_zoom_stats st;
	struct tile_content c = {0};

	pb_init(&b);
	pb_poly1(&b, sq, 4);
	pb_ring(&b, h, 4);
	struct tiler *t = tiler_new(&b.p, 3);

	cr_assert_eq(tiler_zoom(t, 3, 0, &st), 0);
	cr_assert_eq(tiler_ntiles(t), 4);
	for (size_t i = 0; i < 4; i++) {
		long long side = r + TILE_BUFFER, hside = hr + TILE_BUFFER;

		cr_assert_eq(tile_clip(t, i, &c), 0);
		cr_assert_eq(c.nfeat, 1);
		check_in_window(&c);
		long long a = 0;

		for (uint32_t p = 0; p < npolys(&c.geom); p++)
			a += poly_area2(&c.geom, p);
		cr_assert_eq(a, 2 * (side * side - hside * hside), "tile %zu", i);
	}
	tile_content_free(&c);
	tiler_free(t);
	tile_polys_free(&b.p);
}

static void tile_bytes(struct tiler *t, size_t i, struct tile_content *c, uint64_t *h)
{
	cr_assert_eq(tile_clip(t, i, c), 0);
	size_t np = c->geom.pt_first[c->geom.ring_first[npolys(&c->geom)]];

	for (size_t k = 0; k < c->nfeat; k++)
		*h = mix(*h ^ c->feature[k]);
	for (size_t k = 0; k < 2 * np; k++)
		*h = mix(*h ^ (uint64_t)c->geom.xy[k]);
}

struct job {
	struct tiler *t;
	size_t from, step;
	uint64_t *h;
};

static void *clip_job(void *arg)
{
	struct job *j = arg;
	struct tile_content c = {0};

	for (size_t i = j->from; i < tiler_ntiles(j->t); i += j->step) {
		j->h[i] = 0;
		tile_bytes(j->t, i, &c, &j->h[i]);
	}
	tile_content_free(&c);
	return NULL;
}

/* Two runs, one and two threads: the same bytes. */
Test(tile, deterministic)
{
	struct pb b;
	uint64_t *h[2] = {0};
	size_t nt[2];

	pb_init(&b);
	grid(&b, 60, 1500, 3 << 18, 5 << 18, 6);
	for (int run = 0; run < 2; run++) {
		struct tiler *t = tiler_new(&b.p, 14);
		struct tile_zoom_stats st;

		cr_assert_eq(tiler_zoom(t, 9, 2.0, &st), 0);
		nt[run] = tiler_ntiles(t);
		h[run] = calloc(nt[run], sizeof *h[run]);
		if (run == 0) {
			struct job j = {t, 0, 1, h[run]};

			clip_job(&j);
		} else {
			struct job j0 = {t, 0, 2, h[run]}, j1 = {t, 1, 2, h[run]};
			pthread_t th;

			pthread_create(&th, NULL, clip_job, &j1);
			clip_job(&j0);
			pthread_join(th, NULL);
		}
		tiler_free(t);
	}
	cr_assert_eq(nt[0], nt[1]);
	cr_assert_gt(nt[0], 1);
	cr_assert_eq(memcmp(h[0], h[1], nt[0] * sizeof *h[0]), 0);
	free(h[0]);
	free(h[1]);
	tile_polys_free(&b.p);
}

/* The tiles are sorted by x then y and clip what the grid puts there. */
Test(tile, tiles_cover_grid)
{
	struct pb b;
	int64_t x0 = 3 << 18, y0 = 5 << 18, s = 1500;
	struct tile_content c = {0};
	struct tile_zoom_stats st;

	pb_init(&b);
	grid(&b, 60, s, x0, y0, 6);
	struct tiler *t = tiler_new(&b.p, 14);

	cr_assert_eq(tiler_zoom(t, 10, 1.0, &st), 0);
	cr_assert_eq(st.tiles, (long long)tiler_ntiles(t));
	for (size_t i = 0; i < tiler_ntiles(t); i++) {
		uint32_t x, y, px, py;

		tiler_tile_xy(t, i, &x, &y);
		if (i) {
			tiler_tile_xy(t, i - 1, &px, &py);
			cr_assert(px < x || (px == x && py < y));
		}
		cr_assert_eq(tile_clip(t, i, &c), 0);
		check_in_window(&c);
		for (size_t k = 1; k < c.nfeat; k++)
			cr_assert_lt(c.feature[k - 1], c.feature[k]);
	}
	tile_content_free(&c);
	tiler_free(t);
	tile_polys_free(&b.p);
}

/* ---- golden tiles ---- */

/* A 3 x 2 wiggly grid in Den Haag (source grid zoom 16), tiled at zoom 14
 * and 16 and encoded both ways: the bytes of every tile against
 * tests/golden/tiles-fixture.txt (PC6RISK_UPDATE_GOLDEN=1 rewrites it). */
Test(tile, golden_tiles_of_a_small_fixture)
{
	static const char *const keys[] = {"code", "score", "rank"};
	static const enum mvt_type types[] = {MVT_STRING, MVT_DOUBLE, MVT_INT};
	static const char *const codes[] = {"2525AA", "2525AB", "2525AC", "2525AD", "2525AE", "2525AF"};
	const struct mvt_schema schema = {"pc6", 3, keys, types};
	struct sbuf out = {0}, json = {0}, pbf = {0};
	struct tile_content c = {0};
	struct pb b;
	struct tiler *t;
	const char *path = "tests/golden/tiles-fixture.txt";
	char *want;
	FILE *f;

	pb_init(&b);
	/* 33546 * 4096, 21634 * 4096: tile 16/33546/21634, cells of 1500 units (~140 m) */
	grid2(&b, 3, 2, 1500, 137404416 + 1000, 88612864 + 1000, 8, false);
	t = tiler_new(&b.p, 16);
	for (int z = 14; z <= 16; z += 2) {
		struct tile_zoom_stats st;

		cr_assert_eq(tiler_zoom(t, z, 1.0, &st), 0);
		for (size_t i = 0; i < tiler_ntiles(t); i++) {
			struct mvt_value props[6 * 3];
			struct mvt_tile mt;
			uint32_t x, y;

			tiler_tile_xy(t, i, &x, &y);
			cr_assert_eq(tile_clip(t, i, &c), 0);
			if (c.nfeat == 0)
				continue;
			for (size_t k = 0; k < c.nfeat; k++) {
				uint32_t fi = c.feature[k];

				props[3 * k] = (struct mvt_value){true, {.s = codes[fi]}};
				props[3 * k + 1] = (struct mvt_value){fi != 2, {.d = 1.5 * fi}};
				props[3 * k + 2] = (struct mvt_value){true, {.i = (int64_t)fi + 1}};
			}
			mt = (struct mvt_tile){z, x, y, &c.geom, c.nfeat, props};
			sbuf_reset(&json);
			sbuf_reset(&pbf);
			mvt_geojson(&json, &schema, &mt, 3, NULL);
			mvt_encode(&pbf, &schema, &mt);
			sbuf_printf(&out, "== %d/%u/%u\n%s", z, x, y, json.s);
			sbuf_hex(&out, (const unsigned char *)pbf.s, pbf.len);
			sbuf_putc(&out, '\n');
		}
	}
	if (getenv("PC6RISK_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		cr_assert_not_null(f, "cannot write %s", path);
		fputs(out.s, f);
		fclose(f);
	}
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s is missing (run from the repository root)", path);
	want = calloc(1, out.len + 2);
	cr_assert_eq(fread(want, 1, out.len + 1, f), out.len, "%s has another length", path);
	fclose(f);
	cr_assert_str_eq(out.s, want, "the tiles differ from %s", path);
	free(want);
	tile_content_free(&c);
	tiler_free(t);
	sbuf_free(&out);
	sbuf_free(&json);
	sbuf_free(&pbf);
	free(b.p.poly_first);
	free(b.p.ring_first);
	free(b.p.pt_first);
	free(b.p.xy);
}
