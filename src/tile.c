/*
 * tile — owns the topology of the input (rings cut into shared arcs, built
 * once in tiler_new), the simplified geometry of the current zoom and its
 * tile index (tiler_zoom), and the clipping of one tile (tile_clip).
 *
 * The tiler keeps no pointer into the caller's tile_polys: after tiler_new
 * the caller may free its input. tile_clip only reads the tiler, so several
 * threads may clip at once; each owns its tile_content.
 *
 * Validity: after simplification each polygon is checked (no crossing or
 * overlapping segments within a ring or between its rings, holes inside the
 * exterior, orientation kept). A polygon that fails gets all its arcs
 * simplified less (levels: tolerance, tolerance / 4, none), which its
 * neighbours see too because they share the arcs; polygons still failing
 * with every arc unsimplified are kept and counted in polys_invalid.
 */
#include "pc6risk/tile.h"
#include "pc6risk/xalloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LEVEL 2
#define CHECK_THREADS 8

struct tiler {
	int src_zoom;
	size_t nfeat, npoly, nring, narc;
	uint32_t *poly_first; /* nfeat + 1 */
	uint32_t *ring_first; /* npoly + 1 */
	uint32_t *ring_poly;
	uint32_t *ring_arc_first; /* nring + 1 */
	uint32_t *ring_arc;       /* arc << 1 | reversed */
	uint32_t *arc_first;      /* narc + 1, into axy */
	int64_t *axy;             /* arcs in their canonical direction */
	uint32_t *use_first;      /* narc + 1: the rings using an arc */
	uint32_t *use_ring;
	long long points_in;

	/* the current zoom */
	int z;
	size_t *zoff; /* simplified arc a: zxy[2 * zoff[a]], zn[a] points */
	uint32_t *zn;
	uint8_t *level;
	int64_t *zxy;
	size_t zlen, zcap;
	struct tile_polys zg; /* zoom-z grid coordinates */
	size_t zg_pcap, zg_rcap, zg_xcap; /* kept from zoom to zoom */
	int64_t *fbox;        /* 4 per feature: min x, min y, max x, max y */
	size_t ntiles;
	uint64_t *tile_key; /* x << 32 | y */
	uint32_t *tile_first, *tile_feat;
};

/* A growable list of points and ring starts, for one polygon at a time. */
struct pbuf {
	int64_t *xy;
	size_t n, cap;
	size_t *rs; /* ring k is xy[2*rs[k]] .. xy[2*rs[k+1]] */
	size_t nr, rcap;
};

static void pb_push(struct pbuf *b, int64_t x, int64_t y)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		b->xy = xrealloc(b->xy, 2 * b->cap * sizeof *b->xy);
	}
	b->xy[2 * b->n] = x;
	b->xy[2 * b->n + 1] = y;
	b->n++;
}

static void pb_ring(struct pbuf *b, size_t start)
{
	if (b->nr + 2 > b->rcap) {
		b->rcap = b->rcap ? 2 * b->rcap : 16;
		b->rs = xrealloc(b->rs, b->rcap * sizeof *b->rs);
	}
	b->rs[b->nr] = start;
	b->rs[++b->nr] = b->n;
}

static void pb_free(struct pbuf *b)
{
	free(b->xy);
	free(b->rs);
}

static uint64_t hash_xy(int64_t x, int64_t y)
{
	uint64_t h = (uint64_t)x * 0x9E3779B97F4A7C15ull ^ (uint64_t)y * 0xC2B2AE3D27D4EB4Full;

	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ull;
	return h ^ h >> 29;
}

static size_t slot_of(uint64_t h, size_t cap)
{
	return (size_t)(((unsigned __int128)h * cap) >> 64);
}

static int pt_cmp(const int64_t *a, const int64_t *b)
{
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	if (a[1] != b[1])
		return a[1] < b[1] ? -1 : 1;
	return 0;
}

static bool pt_eq(const int64_t *a, const int64_t *b)
{
	return a[0] == b[0] && a[1] == b[1];
}

/* Twice the signed area, positive for exteriors as MVT wants them. */
static __int128 ring_area2(const int64_t *xy, size_t n)
{
	__int128 s = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = i + 1 == n ? 0 : i + 1;

		s += (__int128)xy[2 * i] * xy[2 * j + 1] - (__int128)xy[2 * j] * xy[2 * i + 1];
	}
	return s;
}

void tile_polys_free(struct tile_polys *p)
{
	if (!p)
		return;
	free(p->poly_first);
	free(p->ring_first);
	free(p->pt_first);
	free(p->xy);
	memset(p, 0, sizeof *p);
}

/* ---- tiler_new: clean rings, find junctions, cut arcs ---- */

/* The input with repeated points dropped, exteriors positive, holes negative. */
static void clean_input(const struct tile_polys *src, uint32_t *pf, int64_t **out)
{
	size_t npoly = src->poly_first[src->nfeat];
	size_t nring = src->ring_first[npoly];
	int64_t *xy = xmalloc(2 * (src->pt_first[nring] + 1) * sizeof *xy);
	size_t n = 0;

	for (size_t p = 0; p < npoly; p++) {
		for (uint32_t r = src->ring_first[p]; r < src->ring_first[p + 1]; r++) {
			size_t start = n;

			pf[r] = (uint32_t)n;
			for (uint32_t i = src->pt_first[r]; i < src->pt_first[r + 1]; i++) {
				const int64_t *q = &src->xy[2 * i];

				if (n > start && pt_eq(&xy[2 * (n - 1)], q))
					continue;
				xy[2 * n] = q[0];
				xy[2 * n + 1] = q[1];
				n++;
			}
			while (n - start > 1 && pt_eq(&xy[2 * (n - 1)], &xy[2 * start]))
				n--;
			__int128 a = ring_area2(&xy[2 * start], n - start);
			bool hole = r != src->ring_first[p];

			if ((hole && a > 0) || (!hole && a < 0)) {
				for (size_t i = start, j = n - 1; i < j; i++, j--) {
					int64_t tx = xy[2 * i], ty = xy[2 * i + 1];

					xy[2 * i] = xy[2 * j];
					xy[2 * i + 1] = xy[2 * j + 1];
					xy[2 * j] = tx;
					xy[2 * j + 1] = ty;
				}
			}
		}
	}
	pf[nring] = (uint32_t)n;
	*out = xy;
}

struct pt_entry {
	uint32_t occ; /* first occurrence + 1; 0 is empty */
	uint32_t ring0;
	uint32_t ringl; /* last ring seen; top bit: junction */
};

#define JUNCTION 0x80000000u

static void neighbours(const uint32_t *pf, uint32_t r, size_t i, size_t *prev, size_t *next)
{
	*prev = i == pf[r] ? pf[r + 1] - 1 : i - 1;
	*next = i + 1 == pf[r + 1] ? pf[r] : i + 1;
}

/* Mark junctions: points whose unordered neighbour pair differs between the
 * rings through them, or that a ring visits twice. */
static uint8_t *find_junctions(const int64_t *xy, const uint32_t *pf, size_t nring)
{
	size_t npt = pf[nring], cap = npt + npt / 2 + 16;
	struct pt_entry *tab = xcalloc(cap, sizeof *tab);
	uint8_t *junc = xcalloc(npt + 1, 1);
	size_t *slot = xmalloc((npt + 1) * sizeof *slot);

	for (uint32_t r = 0; r < nring; r++) {
		for (size_t i = pf[r]; i < pf[r + 1]; i++) {
			size_t s = slot_of(hash_xy(xy[2 * i], xy[2 * i + 1]), cap);

			while (tab[s].occ && !pt_eq(&xy[2 * (tab[s].occ - 1)], &xy[2 * i]))
				s = s + 1 == cap ? 0 : s + 1;
			slot[i] = s;
			if (!tab[s].occ) {
				tab[s] = (struct pt_entry){(uint32_t)i + 1, r, r};
				continue;
			}
			if ((tab[s].ringl & ~JUNCTION) == r) {
				tab[s].ringl |= JUNCTION;
				continue;
			}
			size_t o = tab[s].occ - 1, ap, an, bp, bn;

			neighbours(pf, tab[s].ring0, o, &ap, &an);
			neighbours(pf, r, i, &bp, &bn);
			bool same = (pt_eq(&xy[2 * ap], &xy[2 * bp]) && pt_eq(&xy[2 * an], &xy[2 * bn])) ||
				    (pt_eq(&xy[2 * ap], &xy[2 * bn]) && pt_eq(&xy[2 * an], &xy[2 * bp]));

			tab[s].ringl = (tab[s].ringl & JUNCTION) | r | (same ? 0 : JUNCTION);
		}
	}
	for (size_t i = 0; i < npt; i++)
		junc[i] = (tab[slot[i]].ringl & JUNCTION) != 0;
	free(slot);
	free(tab);
	return junc;
}

/* Arcs are found by their first two points in canonical direction: past a
 * junction, the points of an arc follow from those two. */
struct arc_map {
	uint32_t *id; /* arc + 1 */
	size_t cap, n;
};

static uint32_t arc_find(struct tiler *t, struct arc_map *m, const int64_t *key, bool *found);

static void arc_map_grow(struct tiler *t, struct arc_map *m)
{
	struct arc_map old = *m;

	m->cap = old.cap ? 2 * old.cap : 1024;
	m->id = xcalloc(m->cap, sizeof *m->id);
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.id[i])
			continue;
		const int64_t *k = &t->axy[2 * t->arc_first[old.id[i] - 1]];
		uint64_t h = hash_xy(k[0], k[1]) ^ hash_xy(k[2], k[3]) * 3;
		size_t s = slot_of(h, m->cap);

		while (m->id[s])
			s = s + 1 == m->cap ? 0 : s + 1;
		m->id[s] = old.id[i];
		m->n++;
	}
	free(old.id);
}

/* The slot for key (4 values); *found says whether an arc is there. */
static uint32_t arc_find(struct tiler *t, struct arc_map *m, const int64_t *key, bool *found)
{
	uint64_t h = hash_xy(key[0], key[1]) ^ hash_xy(key[2], key[3]) * 3;
	size_t s = slot_of(h, m->cap);

	while (m->id[s]) {
		const int64_t *k = &t->axy[2 * t->arc_first[m->id[s] - 1]];

		if (k[0] == key[0] && k[1] == key[1] && k[2] == key[2] && k[3] == key[3]) {
			*found = true;
			return (uint32_t)s;
		}
		s = s + 1 == m->cap ? 0 : s + 1;
	}
	*found = false;
	return (uint32_t)s;
}

struct builder {
	size_t arc_cap, axy_cap, axy_n, ra_cap, ra_n;
	struct arc_map map;
};

/* Add the arc of pts[idx[0..n-1]] (ring positions, already in canonical
 * order) unless it exists; returns its id. */
static uint32_t add_arc(struct tiler *t, struct builder *b, const int64_t *xy, const size_t *idx, size_t n)
{
	int64_t key[4] = {xy[2 * idx[0]], xy[2 * idx[0] + 1], xy[2 * idx[1]], xy[2 * idx[1] + 1]};
	bool found;
	uint32_t s;

	if (2 * (b->map.n + 1) > b->map.cap)
		arc_map_grow(t, &b->map);
	s = arc_find(t, &b->map, key, &found);
	if (found)
		return b->map.id[s] - 1;
	if (t->narc + 2 > b->arc_cap) {
		b->arc_cap = b->arc_cap ? 2 * b->arc_cap : 1024;
		t->arc_first = xrealloc(t->arc_first, b->arc_cap * sizeof *t->arc_first);
	}
	if (b->axy_n + n > b->axy_cap) {
		b->axy_cap = 2 * (b->axy_n + n);
		t->axy = xrealloc(t->axy, 2 * b->axy_cap * sizeof *t->axy);
	}
	t->arc_first[t->narc] = (uint32_t)b->axy_n;
	for (size_t i = 0; i < n; i++) {
		t->axy[2 * b->axy_n] = xy[2 * idx[i]];
		t->axy[2 * b->axy_n + 1] = xy[2 * idx[i] + 1];
		b->axy_n++;
	}
	t->arc_first[t->narc + 1] = (uint32_t)b->axy_n;
	b->map.id[s] = (uint32_t)++t->narc;
	b->map.n++;
	return (uint32_t)(t->narc - 1);
}

static void push_ring_arc(struct tiler *t, struct builder *b, uint32_t v)
{
	if (b->ra_n == b->ra_cap) {
		b->ra_cap = b->ra_cap ? 2 * b->ra_cap : 1024;
		t->ring_arc = xrealloc(t->ring_arc, b->ra_cap * sizeof *t->ring_arc);
	}
	t->ring_arc[b->ra_n++] = v;
}

/* Cut one ring into arcs; idx is scratch of ring length + 1. */
static void cut_ring(struct tiler *t, struct builder *b, const int64_t *xy, size_t first, size_t n,
		     const uint8_t *junc, size_t *idx)
{
	size_t j0 = n, m = 0;

	for (size_t i = 0; i < n; i++)
		if (junc[first + i]) {
			j0 = i;
			break;
		}
	if (n < 2)
		return;
	if (j0 == n) {
		/* Closed ring: start at its smallest point, towards the smaller neighbour. */
		for (size_t i = 1; i < n; i++)
			if (pt_cmp(&xy[2 * (first + i)], &xy[2 * (first + m)]) < 0)
				m = i;
		size_t nx = first + (m + 1) % n, pv = first + (m + n - 1) % n;
		bool fwd = pt_cmp(&xy[2 * nx], &xy[2 * pv]) <= 0;

		for (size_t k = 0; k <= n; k++)
			idx[k] = first + (fwd ? (m + k) % n : (m + n - k % n) % n);
		push_ring_arc(t, b, add_arc(t, b, xy, idx, n + 1) << 1 | (fwd ? 0 : 1));
		return;
	}
	size_t a = j0;

	while (a < j0 + n) {
		size_t e = a + 1, len;
		int c = 0;

		while (!junc[first + e % n])
			e++;
		len = e - a + 1;
		for (size_t k = 0; k < len && !c; k++)
			c = pt_cmp(&xy[2 * (first + (a + k) % n)], &xy[2 * (first + (e - k) % n)]);
		for (size_t k = 0; k < len; k++)
			idx[k] = first + (c <= 0 ? a + k : e - k) % n;
		push_ring_arc(t, b, add_arc(t, b, xy, idx, len) << 1 | (c <= 0 ? 0 : 1));
		a = e;
	}
}

static void build_uses(struct tiler *t)
{
	t->use_first = xcalloc(t->narc + 1, sizeof *t->use_first);
	t->use_ring = xmalloc((t->ring_arc_first[t->nring] + 1) * sizeof *t->use_ring);
	for (size_t k = 0; k < t->ring_arc_first[t->nring]; k++)
		t->use_first[(t->ring_arc[k] >> 1) + 1]++;
	for (size_t a = 0; a < t->narc; a++)
		t->use_first[a + 1] += t->use_first[a];
	uint32_t *fill = xmalloc((t->narc + 1) * sizeof *fill);

	memcpy(fill, t->use_first, (t->narc + 1) * sizeof *fill);
	for (uint32_t r = 0; r < t->nring; r++)
		for (uint32_t k = t->ring_arc_first[r]; k < t->ring_arc_first[r + 1]; k++)
			t->use_ring[fill[t->ring_arc[k] >> 1]++] = r;
	free(fill);
}

struct tiler *tiler_new(const struct tile_polys *src, int src_zoom)
{
	struct tiler *t = xcalloc(1, sizeof *t);
	struct builder b = {0};
	uint32_t *pf;
	int64_t *xy;
	uint8_t *junc;
	size_t *idx, maxlen = 0;

	t->src_zoom = src_zoom;
	t->z = -1;
	t->nfeat = src->nfeat;
	t->npoly = src->poly_first[src->nfeat];
	t->nring = src->ring_first[t->npoly];
	t->poly_first = xmalloc((t->nfeat + 1) * sizeof *t->poly_first);
	memcpy(t->poly_first, src->poly_first, (t->nfeat + 1) * sizeof *t->poly_first);
	t->ring_first = xmalloc((t->npoly + 1) * sizeof *t->ring_first);
	memcpy(t->ring_first, src->ring_first, (t->npoly + 1) * sizeof *t->ring_first);
	t->ring_poly = xmalloc((t->nring + 1) * sizeof *t->ring_poly);
	for (uint32_t p = 0; p < t->npoly; p++)
		for (uint32_t r = t->ring_first[p]; r < t->ring_first[p + 1]; r++)
			t->ring_poly[r] = p;

	pf = xmalloc((t->nring + 1) * sizeof *pf);
	clean_input(src, pf, &xy);
	t->points_in = pf[t->nring];
	junc = find_junctions(xy, pf, t->nring);
	for (size_t r = 0; r < t->nring; r++)
		if (pf[r + 1] - pf[r] > maxlen)
			maxlen = pf[r + 1] - pf[r];
	idx = xmalloc((maxlen + 2) * sizeof *idx);
	t->ring_arc_first = xmalloc((t->nring + 1) * sizeof *t->ring_arc_first);
	arc_map_grow(t, &b.map);
	for (size_t r = 0; r < t->nring; r++) {
		t->ring_arc_first[r] = (uint32_t)b.ra_n;
		cut_ring(t, &b, xy, pf[r], pf[r + 1] - pf[r], junc, idx);
	}
	t->ring_arc_first[t->nring] = (uint32_t)b.ra_n;
	if (!t->arc_first)
		t->arc_first = xcalloc(1, sizeof *t->arc_first);
	free(b.map.id);
	free(idx);
	free(junc);
	free(xy);
	free(pf);
	build_uses(t);
	return t;
}

/* The simplified arcs of the zoom (tile_clip needs only zg and the index). */
static void arcs_free(struct tiler *t)
{
	free(t->zoff);
	free(t->zn);
	free(t->level);
	free(t->zxy);
	t->zoff = NULL;
	t->zn = NULL;
	t->level = NULL;
	t->zxy = NULL;
	t->zlen = t->zcap = 0;
}

static void zoom_free(struct tiler *t)
{
	arcs_free(t);
	t->zg.nfeat = 0;
	free(t->fbox);
	free(t->tile_key);
	free(t->tile_first);
	free(t->tile_feat);
	t->fbox = NULL;
	t->tile_key = NULL;
	t->tile_first = t->tile_feat = NULL;
	t->ntiles = 0;
}

void tiler_free(struct tiler *t)
{
	if (!t)
		return;
	zoom_free(t);
	tile_polys_free(&t->zg);
	free(t->poly_first);
	free(t->ring_first);
	free(t->ring_poly);
	free(t->ring_arc_first);
	free(t->ring_arc);
	free(t->arc_first);
	free(t->axy);
	free(t->use_first);
	free(t->use_ring);
	free(t);
}

/* ---- tiler_zoom: simplify arcs, assemble and check polygons ---- */

struct simp {
	uint8_t *keep;
	size_t *stack;
	size_t cap;
};

static double seg_dist2(const int64_t *a, const int64_t *b, const int64_t *p)
{
	double dx = (double)(b[0] - a[0]), dy = (double)(b[1] - a[1]);
	double px = (double)(p[0] - a[0]), py = (double)(p[1] - a[1]);
	double l2 = dx * dx + dy * dy, u;

	if (l2 == 0)
		return px * px + py * py;
	u = (px * dx + py * dy) / l2;
	if (u < 0)
		u = 0;
	else if (u > 1)
		u = 1;
	px -= u * dx;
	py -= u * dy;
	return px * px + py * py;
}

/* Douglas–Peucker over pts[0..n-1] with both ends kept; marks s->keep. */
static void douglas_peucker(struct simp *s, const int64_t *pts, size_t n, double tol2)
{
	size_t sp = 0;

	memset(s->keep, tol2 > 0 ? 0 : 1, n);
	s->keep[0] = s->keep[n - 1] = 1;
	if (tol2 <= 0 || n < 3)
		return;
	s->stack[sp++] = 0;
	s->stack[sp++] = n - 1;
	while (sp) {
		size_t j = s->stack[--sp], i = s->stack[--sp], best = 0;
		double dmax = -1;

		for (size_t k = i + 1; k < j; k++) {
			double d = seg_dist2(&pts[2 * i], &pts[2 * j], &pts[2 * k]);

			if (d > dmax) {
				dmax = d;
				best = k;
			}
		}
		if (j - i < 2 || dmax <= tol2)
			continue;
		s->keep[best] = 1;
		s->stack[sp++] = i;
		s->stack[sp++] = best;
		s->stack[sp++] = best;
		s->stack[sp++] = j;
	}
}

static int64_t snap(int64_t v, int sh)
{
	return sh ? (v + ((int64_t)1 << (sh - 1))) >> sh : v;
}

static void simplify_arc(struct tiler *t, struct simp *s, uint32_t a, double tol)
{
	const int64_t *pts = &t->axy[2 * t->arc_first[a]];
	size_t n = t->arc_first[a + 1] - t->arc_first[a], out = 0;
	int sh = t->src_zoom - t->z;
	double lt = t->level[a] == 0 ? tol : t->level[a] == 1 ? tol / 4 : 0;

	if (n > s->cap) {
		s->cap = 2 * n;
		s->keep = xrealloc(s->keep, s->cap);
		s->stack = xrealloc(s->stack, 4 * s->cap * sizeof *s->stack);
	}
	douglas_peucker(s, pts, n, lt * lt);
	if (t->zlen + n > t->zcap) {
		t->zcap = 2 * (t->zlen + n);
		t->zxy = xrealloc(t->zxy, 2 * t->zcap * sizeof *t->zxy);
	}
	int64_t *o = &t->zxy[2 * t->zlen];

	for (size_t i = 0; i < n; i++) {
		if (!s->keep[i])
			continue;
		int64_t x = snap(pts[2 * i], sh), y = snap(pts[2 * i + 1], sh);

		if (out && o[2 * (out - 1)] == x && o[2 * (out - 1) + 1] == y)
			continue;
		o[2 * out] = x;
		o[2 * out + 1] = y;
		out++;
	}
	t->zoff[a] = t->zlen;
	t->zn[a] = (uint32_t)out;
	t->zlen += out;
}

static int64_t cross3(const int64_t *a, const int64_t *b, const int64_t *c)
{
	return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
}

/* b turns straight back towards a on the way to c: a zero-width spike. */
static bool spike(const int64_t *a, const int64_t *b, const int64_t *c)
{
	return cross3(a, b, c) == 0 && (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1]) < 0;
}

/* Append a point, dropping repeats and zero-width spikes. */
static void push_clean(struct pbuf *b, size_t start, int64_t x, int64_t y)
{
	int64_t p[2] = {x, y};

	for (;;) {
		size_t k = b->n - start;

		if (k >= 1 && pt_eq(&b->xy[2 * (b->n - 1)], p))
			return;
		if (k >= 2 && spike(&b->xy[2 * (b->n - 2)], &b->xy[2 * (b->n - 1)], p)) {
			b->n--;
			continue;
		}
		break;
	}
	pb_push(b, x, y);
}

/* The same where the ring closes. */
static void close_clean(struct pbuf *b, size_t start)
{
	while (b->n - start >= 3) {
		int64_t *f = &b->xy[2 * start], *l = &b->xy[2 * (b->n - 1)];

		if (pt_eq(f, l) || spike(l - 2, l, f)) {
			b->n--;
		} else if (spike(l, f, f + 2)) {
			memmove(f, f + 2, 2 * (b->n - start - 1) * sizeof *f);
			b->n--;
		} else {
			break;
		}
	}
}

/* Assemble ring r of the current zoom onto b; false when it collapses. *flip
 * is set when it survives with the wrong orientation. */
static bool assemble_ring(const struct tiler *t, uint32_t r, struct pbuf *b, bool hole, bool *flip)
{
	size_t start = b->n;

	*flip = false;
	for (uint32_t k = t->ring_arc_first[r]; k < t->ring_arc_first[r + 1]; k++) {
		uint32_t a = t->ring_arc[k] >> 1, n = t->zn[a];
		const int64_t *p = &t->zxy[2 * t->zoff[a]];

		for (uint32_t i = 0; i < n; i++) {
			uint32_t j = t->ring_arc[k] & 1 ? n - 1 - i : i;

			push_clean(b, start, p[2 * j], p[2 * j + 1]);
		}
	}
	close_clean(b, start);
	__int128 ar = b->n - start >= 3 ? ring_area2(&b->xy[2 * start], b->n - start) : 0;

	if (ar == 0) {
		b->n = start;
		return false;
	}
	*flip = hole ? ar > 0 : ar < 0;
	return true;
}

/* ---- validity ---- */

struct seg {
	int64_t minx, maxx;
	uint32_t ring, i; /* segment from point i of the ring to the next */
};

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *s = a, *u = b;

	if (s->minx != u->minx)
		return s->minx < u->minx ? -1 : 1;
	if (s->ring != u->ring)
		return s->ring < u->ring ? -1 : 1;
	return s->i < u->i ? -1 : s->i > u->i;
}

static int sgn(int64_t v)
{
	return (v > 0) - (v < 0);
}

static int64_t orient(const int64_t *a, const int64_t *b, const int64_t *c)
{
	return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

static bool on_seg(const int64_t *a, const int64_t *b, const int64_t *p)
{
	return p[0] >= (a[0] < b[0] ? a[0] : b[0]) && p[0] <= (a[0] > b[0] ? a[0] : b[0]) &&
	       p[1] >= (a[1] < b[1] ? a[1] : b[1]) && p[1] <= (a[1] > b[1] ? a[1] : b[1]);
}

/* 0: disjoint, 1: touch at one point, 2: proper crossing or overlap. */
static int seg_meet(const int64_t *a, const int64_t *b, const int64_t *c, const int64_t *d)
{
	int o1 = sgn(orient(a, b, c)), o2 = sgn(orient(a, b, d));
	int o3 = sgn(orient(c, d, a)), o4 = sgn(orient(c, d, b));

	if (o1 * o2 < 0 && o3 * o4 < 0)
		return 2;
	if (o1 == 0 && o2 == 0) {
		/* collinear: overlap of positive length or a shared end */
		int ax = a[0] != b[0] ? 0 : 1;
		int64_t lo1 = a[ax] < b[ax] ? a[ax] : b[ax], hi1 = a[ax] < b[ax] ? b[ax] : a[ax];
		int64_t lo2 = c[ax] < d[ax] ? c[ax] : d[ax], hi2 = c[ax] < d[ax] ? d[ax] : c[ax];
		int64_t lo = lo1 > lo2 ? lo1 : lo2, hi = hi1 < hi2 ? hi1 : hi2;

		return lo < hi ? 2 : lo == hi ? 1 : 0;
	}
	if ((o1 == 0 && on_seg(a, b, c)) || (o2 == 0 && on_seg(a, b, d)) || (o3 == 0 && on_seg(c, d, a)) ||
	    (o4 == 0 && on_seg(c, d, b)))
		return 1;
	return 0;
}

static bool point_in_ring(const int64_t *xy, size_t n, const int64_t *p, bool *on)
{
	bool in = false;

	*on = false;
	for (size_t i = 0, j = n - 1; i < n; j = i++) {
		const int64_t *a = &xy[2 * j], *b = &xy[2 * i];

		if (orient(a, b, p) == 0 && on_seg(a, b, p)) {
			*on = true;
			return false;
		}
		if ((a[1] > p[1]) != (b[1] > p[1])) {
			__int128 lhs = (__int128)(p[0] - a[0]) * (b[1] - a[1]);
			__int128 rhs = (__int128)(b[0] - a[0]) * (p[1] - a[1]);

			if (b[1] > a[1] ? lhs < rhs : lhs > rhs)
				in = !in;
		}
	}
	return in;
}

struct checker {
	struct seg *seg;
	size_t cap;
};

static bool pair_ok(const struct pbuf *b, const struct seg *s, const struct seg *u)
{
	size_t n = b->rs[s->ring + 1] - b->rs[s->ring];
	const int64_t *r1 = &b->xy[2 * b->rs[s->ring]], *r2 = &b->xy[2 * b->rs[u->ring]];
	const int64_t *a = &r1[2 * s->i], *bb = &r1[2 * ((s->i + 1) % n)];
	size_t m = b->rs[u->ring + 1] - b->rs[u->ring];
	const int64_t *c = &r2[2 * u->i], *d = &r2[2 * ((u->i + 1) % m)];
	int k = seg_meet(a, bb, c, d);

	if (k == 0)
		return true;
	if (s->ring != u->ring)
		return k == 1;
	if ((s->i + 1) % n == u->i || (u->i + 1) % n == s->i)
		return k == 1 || n == 3;
	return false;
}

/* The rings in b (exterior first) make a valid polygon, as far as checked. */
static bool poly_valid(struct checker *c, const struct pbuf *b)
{
	size_t ns = 0;

	if (b->n > c->cap) {
		c->cap = 2 * b->n;
		c->seg = xrealloc(c->seg, c->cap * sizeof *c->seg);
	}
	for (uint32_t r = 0; r < b->nr; r++) {
		size_t n = b->rs[r + 1] - b->rs[r];
		const int64_t *p = &b->xy[2 * b->rs[r]];

		for (uint32_t i = 0; i < n; i++) {
			int64_t x0 = p[2 * i], x1 = p[2 * ((i + 1) % n)];

			c->seg[ns++] = (struct seg){x0 < x1 ? x0 : x1, x0 < x1 ? x1 : x0, r, i};
		}
	}
	if (ns > 48) {
		qsort(c->seg, ns, sizeof *c->seg, seg_cmp);
	} else {
		for (size_t i = 1; i < ns; i++) {
			struct seg v = c->seg[i];
			size_t j = i;

			for (; j > 0 && seg_cmp(&c->seg[j - 1], &v) > 0; j--)
				c->seg[j] = c->seg[j - 1];
			c->seg[j] = v;
		}
	}
	for (size_t i = 0; i < ns; i++)
		for (size_t j = i + 1; j < ns && c->seg[j].minx <= c->seg[i].maxx; j++)
			if (!pair_ok(b, &c->seg[i], &c->seg[j]))
				return false;
	for (uint32_t r = 1; r < b->nr; r++) {
		const int64_t *p = &b->xy[2 * b->rs[r]];
		size_t n = b->rs[r + 1] - b->rs[r];

		for (size_t i = 0; i < n; i++) {
			bool on, in = point_in_ring(b->xy, b->rs[1], &p[2 * i], &on);

			if (on)
				continue;
			if (!in)
				return false;
			break;
		}
	}
	return true;
}

/* The exterior (area > 0) that holds ring h, or nr. */
static size_t hole_owner(const struct pbuf *b, const int64_t *area, size_t h)
{
	for (size_t i = b->rs[h]; i < b->rs[h + 1]; i++)
		for (size_t k = 0; k < b->nr; k++) {
			bool on;

			if (area[k] > 0 &&
			    point_in_ring(&b->xy[2 * b->rs[k]], b->rs[k + 1] - b->rs[k], &b->xy[2 * i], &on))
				return k;
		}
	return b->nr;
}

/* ---- repairing rings that touch themselves ---- */

struct fixer {
	struct pbuf tmp, stack, out, cut;
	int64_t *area; /* sign of each ring of out */
	size_t acap;
};

static int64_t manhattan(const int64_t *a, const int64_t *b)
{
	return llabs(a[0] - b[0]) + llabs(a[1] - b[1]);
}

/* Ring xy[0..n-1] with every vertex that lies inside one of its edges
 * inserted into that edge, onto f->tmp (emptied first). Quadratic: only for
 * the few polygons that fail the check. */
static void insert_touches(struct fixer *f, const int64_t *xy, size_t n)
{
	f->tmp.n = 0;
	for (size_t i = 0; i < n; i++) {
		const int64_t *a = &xy[2 * i], *b = &xy[2 * ((i + 1) % n)];
		size_t from = f->tmp.n;

		pb_push(&f->tmp, a[0], a[1]);
		for (size_t k = 0; k < n; k++) {
			const int64_t *p = &xy[2 * k];
			size_t j = f->tmp.n;

			if (orient(a, b, p) || !on_seg(a, b, p) || pt_eq(p, a) || pt_eq(p, b))
				continue;
			pb_push(&f->tmp, p[0], p[1]);
			/* keep the inserted points ordered from a */
			for (; j > from + 1 && manhattan(&f->tmp.xy[2 * (j - 1)], a) > manhattan(p, a); j--) {
				f->tmp.xy[2 * j] = f->tmp.xy[2 * (j - 1)];
				f->tmp.xy[2 * j + 1] = f->tmp.xy[2 * (j - 1) + 1];
			}
			f->tmp.xy[2 * j] = p[0];
			f->tmp.xy[2 * j + 1] = p[1];
		}
	}
}

/* Move stack points from .. top to f->out as a ring, if it has an area. */
static void emit_loop(struct fixer *f, size_t from, bool hole)
{
	size_t start = f->out.n;
	__int128 a;

	for (size_t k = from; k < f->stack.n; k++)
		push_clean(&f->out, start, f->stack.xy[2 * k], f->stack.xy[2 * k + 1]);
	close_clean(&f->out, start);
	a = f->out.n - start >= 3 ? ring_area2(&f->out.xy[2 * start], f->out.n - start) : 0;
	/* an exterior's loops turning the other way are holes; a hole's are dropped */
	if (a == 0 || (hole && a > 0)) {
		f->out.n = start;
		return;
	}
	if (f->out.nr + 1 >= f->acap) {
		f->acap = 2 * (f->out.nr + 1);
		f->area = xrealloc(f->area, f->acap * sizeof *f->area);
	}
	f->area[f->out.nr] = a > 0 ? 1 : -1;
	pb_ring(&f->out, start);
}

/* Split f->tmp (one ring) into loops at the points it passes twice. */
static void split_loops(struct fixer *f, bool hole)
{
	f->stack.n = 0;
	for (size_t i = 0; i < f->tmp.n; i++) {
		const int64_t *p = &f->tmp.xy[2 * i];
		size_t j = 0;

		while (j < f->stack.n && !pt_eq(&f->stack.xy[2 * j], p))
			j++;
		if (j < f->stack.n) {
			emit_loop(f, j, hole);
			f->stack.n = j + 1;
		} else {
			pb_push(&f->stack, p[0], p[1]);
		}
	}
	emit_loop(f, 0, hole);
}

/* Ring xy[0..n-1] into f->cut without its proper self-crossings: where two
 * edges cross (snapping to the grid can make a tiny bow tie), the smaller of
 * the two loops is cut off, joining the vertex before the crossing to the
 * one after it. The join moves the border by less than the loop is wide;
 * quadratic, only for the few polygons that still fail the check. */
static bool crossing(const int64_t *a, const int64_t *b, const int64_t *c, const int64_t *d)
{
	return sgn(orient(a, b, c)) * sgn(orient(a, b, d)) < 0 && sgn(orient(c, d, a)) * sgn(orient(c, d, b)) < 0;
}

/* Edges i and j of a ring of n meet in a way a valid ring may not: they
 * cross, or (touches) they are not neighbours and touch at all. */
static bool bad_pair(const int64_t *xy, size_t n, size_t i, size_t j, bool touches)
{
	const int64_t *a = &xy[2 * i], *b = &xy[2 * ((i + 1) % n)], *c = &xy[2 * j], *d = &xy[2 * ((j + 1) % n)];

	if (!touches)
		return crossing(a, b, c, d);
	if ((i + 1) % n == j || (j + 1) % n == i)
		return seg_meet(a, b, c, d) == 2;
	return seg_meet(a, b, c, d) != 0;
}

/* In place: cut loops off ring xy[0..n) until no two edges cross (nor,
 * with touches, touch); the number of points left. */
static size_t uncross_ring(int64_t *xy, size_t n, bool touches)
{
	bool again = true;

	while (again && n > 3) {
		again = false;
		for (size_t i = 0; i < n && !again; i++) {
			for (size_t j = i + 2; j < n && !again; j++) {
				__int128 inner, whole;

				if ((j + 1) % n == i || !bad_pair(xy, n, i, j, touches))
					continue;
				/* the loop i+1 .. j against the rest */
				inner = ring_area2(&xy[2 * (i + 1)], j - i);
				whole = ring_area2(xy, n);
				if ((inner < 0 ? -inner : inner) * 2 < (whole < 0 ? -whole : whole)) {
					memmove(&xy[2 * (i + 1)], &xy[2 * (j + 1)], 2 * (n - j - 1) * sizeof *xy);
					n -= j - i;
				} else {
					memmove(xy, &xy[2 * (i + 1)], 2 * (j - i) * sizeof *xy);
					n = j - i;
				}
				again = true;
			}
		}
	}
	return n;
}

static void uncross(struct fixer *f, const int64_t *xy, size_t n)
{
	struct pbuf *c = &f->cut;

	c->n = 0;
	for (size_t i = 0; i < n; i++)
		pb_push(c, xy[2 * i], xy[2 * i + 1]);
	c->n = uncross_ring(c->xy, c->n, false);
}

size_t tile_ring_uncross(int64_t *xy, size_t n, struct tile_scratch *s)
{
	size_t ns = 0;
	bool crosses = false;

	if (n < 4)
		return n;
	if (n > s->cap) {
		s->cap = 2 * n;
		s->seg = xrealloc(s->seg, s->cap * sizeof(struct seg));
	}
	for (uint32_t i = 0; i < n; i++) {
		int64_t x0 = xy[2 * i], x1 = xy[2 * ((i + 1) % n)];

		((struct seg *)s->seg)[ns++] = (struct seg){x0 < x1 ? x0 : x1, x0 < x1 ? x1 : x0, 0, i};
	}
	qsort(s->seg, ns, sizeof(struct seg), seg_cmp);
	for (size_t a = 0; a < ns && !crosses; a++) {
		const struct seg *u = &((struct seg *)s->seg)[a];

		for (size_t b = a + 1; b < ns && !crosses; b++) {
			const struct seg *v = &((struct seg *)s->seg)[b];

			if (v->minx > u->maxx)
				break;
			crosses = bad_pair(xy, n, u->i, v->i, true);
		}
	}
	return crosses ? uncross_ring(xy, n, true) : n;
}

void tile_scratch_free(struct tile_scratch *s)
{
	free(s->seg);
	s->seg = NULL;
	s->cap = 0;
}

/* Polygon b (exterior first) as rings that neither cross nor touch
 * themselves, in f->out with their signs in f->area. */
static void split_touching(struct fixer *f, const struct pbuf *b)
{
	f->out.n = f->out.nr = 0;
	for (size_t r = 0; r < b->nr; r++) {
		uncross(f, &b->xy[2 * b->rs[r]], b->rs[r + 1] - b->rs[r]);
		insert_touches(f, f->cut.xy, f->cut.n);
		split_loops(f, r > 0);
	}
}

static void fixer_free(struct fixer *f)
{
	pb_free(&f->tmp);
	pb_free(&f->stack);
	pb_free(&f->out);
	pb_free(&f->cut);
	free(f->area);
}

/* Assemble polygon p into b (emptied first). Returns false when it fails
 * the checks (only run when c is not NULL); *dropped counts its rings that
 * collapsed. */
static bool assemble_poly(const struct tiler *t, uint32_t p, struct pbuf *b, struct checker *c, long long *dropped)
{
	bool flip, ok = true;

	b->n = b->nr = 0;
	*dropped = 0;
	for (uint32_t r = t->ring_first[p]; r < t->ring_first[p + 1]; r++) {
		size_t start = b->n;
		bool hole = r != t->ring_first[p];

		if (!assemble_ring(t, r, b, hole, &flip) || flip) {
			b->n = start;
			if (flip)
				ok = false;
			if (!hole) {
				*dropped = t->ring_first[p + 1] - t->ring_first[p];
				return ok;
			}
			(*dropped)++;
			continue;
		}
		pb_ring(b, start);
	}
	return ok && (!c || b->nr == 0 || poly_valid(c, b));
}

/* Simplify less every arc of the polygons that failed, then check the
 * polygons those arcs touch again, until all pass or nothing is left to do. */
static void fallback(struct tiler *t, double tol, uint8_t *bad, long long *narc_fb)
{
	struct simp s = {0};
	struct pbuf b = {0};
	struct checker c = {0};
	uint8_t *dirty = xcalloc(t->npoly + 1, 1);
	uint32_t *bumped = NULL;
	size_t nb = 0, cap = 0;
	long long dropped;

	for (;;) {
		nb = 0;
		for (uint32_t p = 0; p < t->npoly; p++) {
			if (!bad[p])
				continue;
			for (uint32_t r = t->ring_first[p]; r < t->ring_first[p + 1]; r++)
				for (uint32_t k = t->ring_arc_first[r]; k < t->ring_arc_first[r + 1]; k++) {
					uint32_t a = t->ring_arc[k] >> 1;

					if (t->level[a] >= MAX_LEVEL || t->level[a] & 0x80)
						continue;
					t->level[a] |= 0x80;
					if (nb == cap) {
						cap = cap ? 2 * cap : 256;
						bumped = xrealloc(bumped, cap * sizeof *bumped);
					}
					bumped[nb++] = a;
				}
		}
		if (!nb)
			break;
		for (size_t i = 0; i < nb; i++) {
			uint32_t a = bumped[i];

			t->level[a] = (uint8_t)((t->level[a] & 0x7f) + 1);
			simplify_arc(t, &s, a, tol);
			for (uint32_t u = t->use_first[a]; u < t->use_first[a + 1]; u++)
				dirty[t->ring_poly[t->use_ring[u]]] = 1;
		}
		for (uint32_t p = 0; p < t->npoly; p++) {
			if (!dirty[p])
				continue;
			dirty[p] = 0;
			bad[p] = !assemble_poly(t, p, &b, &c, &dropped);
		}
	}
	for (size_t a = 0; a < t->narc; a++)
		*narc_fb += t->level[a] > 0;
	free(bumped);
	free(dirty);
	free(s.keep);
	free(s.stack);
	pb_free(&b);
	free(c.seg);
}

/* Appending polygons to t->zg and growing the feature's box. */
struct zw {
	struct tile_polys *g;
	size_t npoly, nring, npt, pcap, rcap, xcap;
	int64_t *bx;
};

static void zw_poly(struct zw *w)
{
	if (w->npoly + 2 > w->pcap) {
		w->pcap = 2 * (w->npoly + 2);
		w->g->ring_first = xrealloc(w->g->ring_first, w->pcap * sizeof *w->g->ring_first);
	}
	w->g->ring_first[w->npoly++] = (uint32_t)w->nring;
}

static void zw_ring(struct zw *w, const struct pbuf *b, size_t r)
{
	size_t n = b->rs[r + 1] - b->rs[r];
	const int64_t *xy = &b->xy[2 * b->rs[r]];
	int64_t *bx = w->bx;

	if (w->nring + 2 > w->rcap) {
		w->rcap = 2 * (w->nring + 2);
		w->g->pt_first = xrealloc(w->g->pt_first, w->rcap * sizeof *w->g->pt_first);
	}
	if (w->npt + n > w->xcap) {
		w->xcap = 2 * (w->npt + n);
		w->g->xy = xrealloc(w->g->xy, 2 * w->xcap * sizeof *w->g->xy);
	}
	w->g->pt_first[w->nring++] = (uint32_t)w->npt;
	memcpy(&w->g->xy[2 * w->npt], xy, 2 * n * sizeof *xy);
	w->npt += n;
	for (size_t i = 0; i < n; i++) {
		bx[0] = xy[2 * i] < bx[0] ? xy[2 * i] : bx[0];
		bx[1] = xy[2 * i + 1] < bx[1] ? xy[2 * i + 1] : bx[1];
		bx[2] = xy[2 * i] > bx[2] ? xy[2 * i] : bx[2];
		bx[3] = xy[2 * i + 1] > bx[3] ? xy[2 * i + 1] : bx[3];
	}
}

static void piece_ring(struct pbuf *piece, const struct pbuf *from, size_t r)
{
	size_t start = piece->n;

	for (size_t i = from->rs[r]; i < from->rs[r + 1]; i++)
		pb_push(piece, from->xy[2 * i], from->xy[2 * i + 1]);
	pb_ring(piece, start);
}

/* A polygon that failed the check: split its rings where they touch
 * themselves, write the pieces, and count those still failing. */
static void zw_repaired(struct zw *w, struct fixer *f, struct checker *c, const struct pbuf *b, long long *invalid)
{
	struct pbuf piece = {0};
	bool ok = true;

	split_touching(f, b);
	for (size_t r = 0; r < f->out.nr; r++) {
		if (f->area[r] < 0)
			continue;
		piece.n = piece.nr = 0;
		piece_ring(&piece, &f->out, r);
		for (size_t h = 0; h < f->out.nr; h++)
			if (f->area[h] < 0 && hole_owner(&f->out, f->area, h) == r)
				piece_ring(&piece, &f->out, h);
		if (piece.nr > 1 && !poly_valid(c, &piece)) {
			/* a hole that crosses its exterior: the exterior alone */
			piece.n = piece.nr = 0;
			piece_ring(&piece, &f->out, r);
		}
		ok = ok && poly_valid(c, &piece);
		zw_poly(w);
		for (size_t k = 0; k < piece.nr; k++)
			zw_ring(w, &piece, k);
	}
	*invalid += !ok;
	pb_free(&piece);
}

/* Write the polygons of the zoom into t->zg and each feature's box. */
static void build_output(struct tiler *t, const uint8_t *bad, struct tile_zoom_stats *st)
{
	struct tile_polys *g = &t->zg;
	struct pbuf b = {0};
	struct fixer fx = {0};
	struct checker c = {0};
	struct zw w = {g, 0, 0, 0, t->zg_pcap, t->zg_rcap, t->zg_xcap, NULL};
	long long dropped;

	g->nfeat = t->nfeat;
	if (!g->poly_first) {
		/* room for every input point; zw_* grow it when repairs add some */
		w.pcap = t->npoly + 2;
		w.rcap = t->nring + 2;
		w.xcap = (size_t)t->points_in + 16;
		g->poly_first = xmalloc((t->nfeat + 1) * sizeof *g->poly_first);
		g->ring_first = xmalloc(w.pcap * sizeof *g->ring_first);
		g->pt_first = xmalloc(w.rcap * sizeof *g->pt_first);
		g->xy = xmalloc(2 * w.xcap * sizeof *g->xy);
	}
	t->fbox = xmalloc(4 * (t->nfeat + 1) * sizeof *t->fbox);
	for (size_t f = 0; f < t->nfeat; f++) {
		w.bx = &t->fbox[4 * f];
		g->poly_first[f] = (uint32_t)w.npoly;
		w.bx[0] = w.bx[1] = INT64_MAX;
		w.bx[2] = w.bx[3] = INT64_MIN;
		for (uint32_t p = t->poly_first[f]; p < t->poly_first[f + 1]; p++) {
			assemble_poly(t, p, &b, NULL, &dropped);
			st->rings_dropped += dropped;
			if (!b.nr)
				continue;
			if (bad[p]) {
				zw_repaired(&w, &fx, &c, &b, &st->polys_invalid);
				continue;
			}
			zw_poly(&w);
			for (size_t r = 0; r < b.nr; r++)
				zw_ring(&w, &b, r);
		}
		if (g->poly_first[f] == w.npoly && t->poly_first[f + 1] > t->poly_first[f])
			st->features_dropped++;
	}
	g->poly_first[t->nfeat] = (uint32_t)w.npoly;
	zw_poly(&w);
	w.npoly--;
	g->ring_first[w.npoly] = (uint32_t)w.nring;
	if (w.nring + 1 > w.rcap)
		g->pt_first = xrealloc(g->pt_first, (w.nring + 1) * sizeof *g->pt_first);
	g->pt_first[w.nring] = (uint32_t)w.npt;
	st->points_out = (long long)w.npt;
	t->zg_pcap = w.pcap;
	t->zg_rcap = w.rcap > w.nring + 1 ? w.rcap : w.nring + 1;
	t->zg_xcap = w.xcap;
	pb_free(&b);
	fixer_free(&fx);
	free(c.seg);
}

struct tf {
	uint64_t key;
	uint32_t feat;
};

static int tf_cmp(const void *a, const void *b)
{
	const struct tf *s = a, *u = b;

	if (s->key != u->key)
		return s->key < u->key ? -1 : 1;
	return s->feat < u->feat ? -1 : s->feat > u->feat;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The tiles each feature's box (plus the buffer) touches, and their features. */
static void build_index(struct tiler *t)
{
	struct tf *v = NULL;
	size_t n = 0, cap = 0;
	int64_t last = ((int64_t)1 << t->z) - 1;

	for (size_t f = 0; f < t->nfeat; f++) {
		const int64_t *bx = &t->fbox[4 * f];

		if (t->zg.poly_first[f] == t->zg.poly_first[f + 1])
			continue;
		int64_t x0 = floor_div(bx[0] - TILE_BUFFER, TILE_EXTENT), x1 = floor_div(bx[2] + TILE_BUFFER, TILE_EXTENT);
		int64_t y0 = floor_div(bx[1] - TILE_BUFFER, TILE_EXTENT), y1 = floor_div(bx[3] + TILE_BUFFER, TILE_EXTENT);

		x0 = x0 < 0 ? 0 : x0;
		y0 = y0 < 0 ? 0 : y0;
		x1 = x1 > last ? last : x1;
		y1 = y1 > last ? last : y1;
		for (int64_t x = x0; x <= x1; x++)
			for (int64_t y = y0; y <= y1; y++) {
				if (n == cap) {
					cap = cap ? 2 * cap : 4096;
					v = xrealloc(v, cap * sizeof *v);
				}
				v[n++] = (struct tf){(uint64_t)x << 32 | (uint64_t)y, (uint32_t)f};
			}
	}
	if (n)
		qsort(v, n, sizeof *v, tf_cmp);
	t->tile_key = xmalloc((n + 1) * sizeof *t->tile_key);
	t->tile_first = xmalloc((n + 1) * sizeof *t->tile_first);
	t->tile_feat = xmalloc((n + 1) * sizeof *t->tile_feat);
	t->ntiles = 0;
	for (size_t i = 0; i < n; i++) {
		if (!i || v[i].key != v[i - 1].key) {
			t->tile_key[t->ntiles] = v[i].key;
			t->tile_first[t->ntiles++] = (uint32_t)i;
		}
		t->tile_feat[i] = v[i].feat;
	}
	t->tile_first[t->ntiles] = (uint32_t)n;
	free(v);
}

struct check_job {
	const struct tiler *t;
	uint8_t *bad;
	uint32_t from, to;
};

static void *check_range(void *arg)
{
	struct check_job *j = arg;
	struct pbuf b = {0};
	struct checker c = {0};
	long long dropped;

	for (uint32_t p = j->from; p < j->to; p++)
		j->bad[p] = !assemble_poly(j->t, p, &b, &c, &dropped);
	pb_free(&b);
	free(c.seg);
	return NULL;
}

/* Check every polygon, on up to CHECK_THREADS threads (each writes its own
 * range of bad, so the result does not depend on their number). */
static void check_all(const struct tiler *t, uint8_t *bad)
{
	struct check_job job[CHECK_THREADS];
	pthread_t th[CHECK_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = ncpu < 1 ? 1 : ncpu > CHECK_THREADS ? CHECK_THREADS : (size_t)ncpu, started = 0;

	if (t->npoly < 10000)
		n = 1;
	for (size_t k = 0; k < n; k++)
		job[k] = (struct check_job){t, bad, (uint32_t)(t->npoly * k / n), (uint32_t)(t->npoly * (k + 1) / n)};
	for (size_t k = 1; k < n; k++) {
		if (pthread_create(&th[k], NULL, check_range, &job[k]))
			break;
		started = k;
	}
	for (size_t k = started + 1; k < n; k++)
		check_range(&job[k]);
	check_range(&job[0]);
	for (size_t k = 1; k <= started; k++)
		pthread_join(th[k], NULL);
}

int tiler_zoom(struct tiler *t, int z, double tolerance, struct tile_zoom_stats *st)
{
	struct tile_zoom_stats dummy;
	struct simp s = {0};
	uint8_t *bad;
	double tol;

	if (z < 0 || z > t->src_zoom || z > 30)
		return -1;
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof *st);
	zoom_free(t);
	t->z = z;
	tol = tolerance * (double)((int64_t)1 << (t->src_zoom - z));
	t->zoff = xmalloc((t->narc + 1) * sizeof *t->zoff);
	t->zn = xmalloc((t->narc + 1) * sizeof *t->zn);
	t->level = xcalloc(t->narc + 1, 1);
	t->zcap = t->arc_first[t->narc] + 16;
	t->zxy = xmalloc(2 * t->zcap * sizeof *t->zxy);
	for (uint32_t a = 0; a < t->narc; a++)
		simplify_arc(t, &s, a, tol);
	bad = xcalloc(t->npoly + 1, 1);
	check_all(t, bad);
	fallback(t, tol, bad, &st->arcs_fallback);
	build_output(t, bad, st);
	free(bad);
	arcs_free(t);
	build_index(t);
	st->points_in = t->points_in;
	st->tiles = (long long)t->ntiles;
	free(s.keep);
	free(s.stack);
	return 0;
}

const struct tile_polys *tiler_geometry(const struct tiler *t)
{
	return &t->zg;
}

size_t tiler_ntiles(const struct tiler *t)
{
	return t->ntiles;
}

void tiler_tile_xy(const struct tiler *t, size_t i, uint32_t *x, uint32_t *y)
{
	*x = (uint32_t)(t->tile_key[i] >> 32);
	*y = (uint32_t)t->tile_key[i];
}

/* ---- tile_clip ---- */

#define LO (-TILE_BUFFER)
#define HI (TILE_EXTENT + TILE_BUFFER)

/* round(num / den) for den > 0, halves up */
static int64_t div_round(int64_t num, int64_t den)
{
	return floor_div(2 * num + den, 2 * den);
}

/* Where edge s-e crosses the line coordinate ax == v; computed from the
 * smaller end so that both polygons of a shared edge get the same point. */
static void cut(const int64_t *s, const int64_t *e, int ax, int64_t v, int64_t *out)
{
	const int64_t *p = s, *q = e;
	int o = 1 - ax;

	if (p[ax] > q[ax] || (p[ax] == q[ax] && p[o] > q[o])) {
		p = e;
		q = s;
	}
	out[ax] = v;
	out[o] = p[o] + div_round((q[o] - p[o]) * (v - p[ax]), q[ax] - p[ax]);
}

/* Sutherland–Hodgman of in[0..n-1] against one side of the window. */
static size_t sh_side(const int64_t *in, size_t n, int64_t *out, int ax, int64_t v, bool keep_ge)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		const int64_t *s = &in[2 * (i ? i - 1 : n - 1)], *e = &in[2 * i];
		bool si = keep_ge ? s[ax] >= v : s[ax] <= v, ei = keep_ge ? e[ax] >= v : e[ax] <= v;
		int64_t c[2];

		if (si != ei) {
			cut(s, e, ax, v, c);
			if (!m || !pt_eq(&out[2 * (m - 1)], c)) {
				out[2 * m] = c[0];
				out[2 * m + 1] = c[1];
				m++;
			}
		}
		if (ei && (!m || !pt_eq(&out[2 * (m - 1)], e))) {
			out[2 * m] = e[0];
			out[2 * m + 1] = e[1];
			m++;
		}
	}
	while (m > 1 && pt_eq(&out[0], &out[2 * (m - 1)]))
		m--;
	return m;
}

struct edge {
	int64_t a[2], b[2];
	int dir; /* for cancelling: +1 when a < b */
	bool used;
};

struct clipper {
	int64_t *w0, *w1;
	size_t wcap;
	struct edge *e, *e2;
	size_t ne, ecap, ne2, e2cap;
	int64_t *on[4];
	size_t non[4], oncap[4];
	struct pbuf ring; /* traced rings */
};

static void add_edge(struct edge **v, size_t *n, size_t *cap, const int64_t *a, const int64_t *b)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = (struct edge){{a[0], a[1]}, {b[0], b[1]}, pt_cmp(a, b) < 0 ? 1 : -1, false};
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int edge_undirected_cmp(const void *x, const void *y)
{
	const struct edge *e = x, *f = y;
	const int64_t *e0 = e->dir > 0 ? e->a : e->b, *e1 = e->dir > 0 ? e->b : e->a;
	const int64_t *f0 = f->dir > 0 ? f->a : f->b, *f1 = f->dir > 0 ? f->b : f->a;
	int c = pt_cmp(e0, f0);

	if (!c)
		c = pt_cmp(e1, f1);
	return c ? c : e->dir - f->dir;
}

static int edge_start_cmp(const void *x, const void *y)
{
	const struct edge *e = x, *f = y;
	int c = pt_cmp(e->a, f->a);

	return c ? c : pt_cmp(e->b, f->b);
}

/* Split edges lying on a window side at every vertex on that side, so that
 * the back-and-forth runs Sutherland–Hodgman leaves there cancel out. */
static void node_sides(struct clipper *c)
{
	static const int ax[4] = {0, 0, 1, 1};
	static const int64_t val[4] = {LO, HI, LO, HI};

	for (int k = 0; k < 4; k++) {
		c->non[k] = 0;
		for (size_t i = 0; i < c->ne; i++) {
			if (c->e[i].a[ax[k]] != val[k])
				continue;
			if (c->non[k] == c->oncap[k]) {
				c->oncap[k] = c->oncap[k] ? 2 * c->oncap[k] : 64;
				c->on[k] = xrealloc(c->on[k], c->oncap[k] * sizeof *c->on[k]);
			}
			c->on[k][c->non[k]++] = c->e[i].a[1 - ax[k]];
		}
		if (c->non[k])
			qsort(c->on[k], c->non[k], sizeof *c->on[k], i64_cmp);
	}
	c->ne2 = 0;
	for (size_t i = 0; i < c->ne; i++) {
		struct edge e = c->e[i];
		int k = -1;

		for (int s = 0; s < 4 && k < 0; s++)
			if (e.a[ax[s]] == val[s] && e.b[ax[s]] == val[s])
				k = s;
		if (k < 0) {
			add_edge(&c->e2, &c->ne2, &c->e2cap, e.a, e.b);
			continue;
		}
		int o = 1 - ax[k];
		int64_t from = e.a[o], to = e.b[o], prev[2] = {e.a[0], e.a[1]};
		size_t n = c->non[k];

		if (from < to) {
			for (size_t j = 0; j < n; j++)
				if (c->on[k][j] > from && c->on[k][j] < to && (!j || c->on[k][j] != c->on[k][j - 1])) {
					int64_t p[2];

					p[ax[k]] = val[k];
					p[o] = c->on[k][j];
					add_edge(&c->e2, &c->ne2, &c->e2cap, prev, p);
					prev[0] = p[0];
					prev[1] = p[1];
				}
		} else {
			for (size_t j = n; j-- > 0;)
				if (c->on[k][j] < from && c->on[k][j] > to && (j + 1 == n || c->on[k][j] != c->on[k][j + 1])) {
					int64_t p[2];

					p[ax[k]] = val[k];
					p[o] = c->on[k][j];
					add_edge(&c->e2, &c->ne2, &c->e2cap, prev, p);
					prev[0] = p[0];
					prev[1] = p[1];
				}
		}
		add_edge(&c->e2, &c->ne2, &c->e2cap, prev, e.b);
	}
}

static bool same_undirected(const struct edge *e, const struct edge *f)
{
	const int64_t *e0 = e->dir > 0 ? e->a : e->b, *e1 = e->dir > 0 ? e->b : e->a;
	const int64_t *f0 = f->dir > 0 ? f->a : f->b, *f1 = f->dir > 0 ? f->b : f->a;

	return pt_eq(e0, f0) && pt_eq(e1, f1);
}

/* Cancel pairs of opposite edges; what is left goes back into c->e (room
 * for c->ne2 edges) sorted by start point. */
static void cancel_pairs(struct clipper *c)
{
	if (c->ne2)
		qsort(c->e2, c->ne2, sizeof *c->e2, edge_undirected_cmp);
	c->ne = 0;
	for (size_t i = 0, j; i < c->ne2; i = j) {
		size_t npos = 0, nneg = 0;

		for (j = i; j < c->ne2 && same_undirected(&c->e2[i], &c->e2[j]); j++) {
			if (c->e2[j].dir > 0)
				npos++;
			else
				nneg++;
		}
		/* within a group the backward edges sort first */
		if (nneg > npos)
			for (size_t k = i; k < i + nneg - npos; k++)
				c->e[c->ne++] = c->e2[k];
		else
			for (size_t k = j - (npos - nneg); k < j; k++)
				c->e[c->ne++] = c->e2[k];
	}
	if (c->ne)
		qsort(c->e, c->ne, sizeof *c->e, edge_start_cmp);
}

/* Index of the first edge starting at p, or c->ne. */
static size_t first_from(const struct clipper *c, const int64_t *p)
{
	size_t lo = 0, hi = c->ne;

	while (lo < hi) {
		size_t m = (lo + hi) / 2;

		if (pt_cmp(c->e[m].a, p) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* Angle order of direction v turning from d: larger is further left. */
static bool more_left(const int64_t *d, const int64_t *v, const int64_t *w)
{
	int64_t cv = d[0] * v[1] - d[1] * v[0], cw = d[0] * w[1] - d[1] * w[0];
	int64_t dv = d[0] * v[0] + d[1] * v[1], dw = d[0] * w[0] + d[1] * w[1];
	int hv = cv > 0 || (cv == 0 && dv < 0), hw = cw > 0 || (cw == 0 && dw < 0);

	if (hv != hw)
		return hv > hw;
	return w[0] * v[1] - w[1] * v[0] > 0;
}

/* Follow the edges into closed rings, turning as far left (into the
 * interior) as possible where several leave one point. */
static void trace_rings(struct clipper *c)
{
	struct pbuf *b = &c->ring;

	b->n = b->nr = 0;
	for (size_t s = 0; s < c->ne; s++) {
		size_t start = b->n, cur = s;

		if (c->e[s].used)
			continue;
		c->e[s].used = true;
		for (;;) {
			const struct edge *e = &c->e[cur];
			int64_t d[2] = {e->b[0] - e->a[0], e->b[1] - e->a[1]};
			size_t best = c->ne;

			push_clean(b, start, e->a[0], e->a[1]);
			for (size_t k = first_from(c, e->b); k < c->ne && pt_eq(c->e[k].a, e->b); k++) {
				int64_t v[2] = {c->e[k].b[0] - e->b[0], c->e[k].b[1] - e->b[1]};

				if (c->e[k].used && k != s)
					continue;
				if (best == c->ne) {
					best = k;
					continue;
				}
				int64_t w[2] = {c->e[best].b[0] - e->b[0], c->e[best].b[1] - e->b[1]};

				if (more_left(d, v, w))
					best = k;
			}
			if (best == c->ne || best == s)
				break;
			c->e[best].used = true;
			cur = best;
		}
		close_clean(b, start);
		if (b->n - start >= 3)
			pb_ring(b, start);
		else
			b->n = start;
	}
}

/* Appending to a tile_content: counts so far, capacities in the content. */
struct out {
	struct tile_content *o;
	size_t npoly, nring, npt;
};

static void out_begin_poly(struct out *w)
{
	struct tile_content *o = w->o;

	if (w->npoly + 2 > o->cap_poly) {
		o->cap_poly = 2 * (w->npoly + 2);
		o->geom.ring_first = xrealloc(o->geom.ring_first, o->cap_poly * sizeof *o->geom.ring_first);
	}
	o->geom.ring_first[w->npoly++] = (uint32_t)w->nring;
}

static void out_add_ring(struct out *w, const int64_t *xy, size_t n, int64_t dx, int64_t dy)
{
	struct tile_content *o = w->o;

	if (w->nring + 2 > o->cap_ring) {
		o->cap_ring = 2 * (w->nring + 2);
		o->geom.pt_first = xrealloc(o->geom.pt_first, o->cap_ring * sizeof *o->geom.pt_first);
	}
	if (w->npt + n > o->cap_pt) {
		o->cap_pt = 2 * (w->npt + n);
		o->geom.xy = xrealloc(o->geom.xy, 2 * o->cap_pt * sizeof *o->geom.xy);
	}
	o->geom.pt_first[w->nring++] = (uint32_t)w->npt;
	for (size_t i = 0; i < n; i++) {
		o->geom.xy[2 * (w->npt + i)] = xy[2 * i] - dx;
		o->geom.xy[2 * (w->npt + i) + 1] = xy[2 * i + 1] - dy;
	}
	w->npt += n;
}

static void sh_ring(struct clipper *c, const int64_t *src, size_t n, int64_t ox, int64_t oy)
{
	if (n + 16 > c->wcap) {
		c->wcap = 4 * n + 16;
		c->w0 = xrealloc(c->w0, 2 * c->wcap * sizeof *c->w0);
		c->w1 = xrealloc(c->w1, 2 * c->wcap * sizeof *c->w1);
	}
	for (size_t i = 0; i < n; i++) {
		c->w0[2 * i] = src[2 * i] - ox;
		c->w0[2 * i + 1] = src[2 * i + 1] - oy;
	}
	n = sh_side(c->w0, n, c->w1, 0, LO, true);
	n = sh_side(c->w1, n, c->w0, 0, HI, false);
	n = sh_side(c->w0, n, c->w1, 1, LO, true);
	n = sh_side(c->w1, n, c->w0, 1, HI, false);
	for (size_t i = 0; n >= 2 && i < n; i++)
		add_edge(&c->e, &c->ne, &c->ecap, &c->w0[2 * i], &c->w0[2 * ((i + 1) % n)]);
}

/* Clip polygon p of g to the window around (ox, oy): Sutherland–Hodgman per
 * ring, then the runs it leaves along the window sides are cancelled and the
 * edges traced again into rings, so pieces come out as separate polygons. */
static void clip_poly(struct clipper *c, const struct tile_polys *g, uint32_t p, int64_t ox, int64_t oy,
		      struct out *w)
{
	struct pbuf *b = &c->ring;
	int64_t *area;

	c->ne = 0;
	for (uint32_t r = g->ring_first[p]; r < g->ring_first[p + 1]; r++)
		sh_ring(c, &g->xy[2 * g->pt_first[r]], g->pt_first[r + 1] - g->pt_first[r], ox, oy);
	node_sides(c);
	if (c->ne2 > c->ecap) {
		c->ecap = c->ne2;
		c->e = xrealloc(c->e, c->ecap * sizeof *c->e);
	}
	cancel_pairs(c);
	trace_rings(c);
	area = xmalloc((b->nr + 1) * sizeof *area);
	for (size_t r = 0; r < b->nr; r++)
		area[r] = (int64_t)ring_area2(&b->xy[2 * b->rs[r]], b->rs[r + 1] - b->rs[r]);
	for (size_t r = 0; r < b->nr; r++) {
		if (area[r] <= 0)
			continue;
		out_begin_poly(w);
		out_add_ring(w, &b->xy[2 * b->rs[r]], b->rs[r + 1] - b->rs[r], 0, 0);
		for (size_t h = 0; h < b->nr; h++)
			if (area[h] < 0 && hole_owner(b, area, h) == r)
				out_add_ring(w, &b->xy[2 * b->rs[h]], b->rs[h + 1] - b->rs[h], 0, 0);
	}
	free(area);
}

static void clipper_free(struct clipper *c)
{
	free(c->w0);
	free(c->w1);
	free(c->e);
	free(c->e2);
	for (int k = 0; k < 4; k++)
		free(c->on[k]);
	pb_free(&c->ring);
}

/* Box of ring points xy[0..n-1]. */
static void ring_box(const int64_t *xy, size_t n, int64_t *bx)
{
	bx[0] = bx[1] = INT64_MAX;
	bx[2] = bx[3] = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		bx[0] = xy[2 * i] < bx[0] ? xy[2 * i] : bx[0];
		bx[1] = xy[2 * i + 1] < bx[1] ? xy[2 * i + 1] : bx[1];
		bx[2] = xy[2 * i] > bx[2] ? xy[2 * i] : bx[2];
		bx[3] = xy[2 * i + 1] > bx[3] ? xy[2 * i + 1] : bx[3];
	}
}

static bool box_inside(const int64_t *bx, int64_t ox, int64_t oy)
{
	return bx[0] >= ox + LO && bx[2] <= ox + HI && bx[1] >= oy + LO && bx[3] <= oy + HI;
}

static bool box_apart(const int64_t *bx, int64_t ox, int64_t oy)
{
	return bx[2] <= ox + LO || bx[0] >= ox + HI || bx[3] <= oy + LO || bx[1] >= oy + HI;
}

static void copy_poly(const struct tile_polys *g, uint32_t p, int64_t ox, int64_t oy, struct out *w)
{
	out_begin_poly(w);
	for (uint32_t r = g->ring_first[p]; r < g->ring_first[p + 1]; r++)
		out_add_ring(w, &g->xy[2 * g->pt_first[r]], g->pt_first[r + 1] - g->pt_first[r], ox, oy);
}

static void clip_feature(struct clipper *c, const struct tiler *t, uint32_t f, int64_t ox, int64_t oy,
			 struct out *w)
{
	const struct tile_polys *g = &t->zg;
	bool inside = box_inside(&t->fbox[4 * f], ox, oy);

	for (uint32_t p = g->poly_first[f]; p < g->poly_first[f + 1]; p++) {
		uint32_t r = g->ring_first[p];
		int64_t bx[4];

		if (inside) {
			copy_poly(g, p, ox, oy, w);
			continue;
		}
		ring_box(&g->xy[2 * g->pt_first[r]], g->pt_first[r + 1] - g->pt_first[r], bx);
		if (box_inside(bx, ox, oy))
			copy_poly(g, p, ox, oy, w);
		else if (!box_apart(bx, ox, oy))
			clip_poly(c, g, p, ox, oy, w);
	}
}

int tile_clip(const struct tiler *t, size_t i, struct tile_content *out)
{
	struct clipper c = {0};
	struct out w = {out, 0, 0, 0};
	uint32_t x, y;
	size_t nf;

	if (i >= t->ntiles)
		return -1;
	tiler_tile_xy(t, i, &x, &y);
	nf = t->tile_first[i + 1] - t->tile_first[i];
	if (nf + 1 > out->cap_feat) {
		out->cap_feat = nf + 1;
		out->feature = xrealloc(out->feature, out->cap_feat * sizeof *out->feature);
		out->geom.poly_first = xrealloc(out->geom.poly_first, out->cap_feat * sizeof *out->geom.poly_first);
	}
	out->nfeat = 0;
	out->geom.poly_first[0] = 0;
	for (uint32_t k = t->tile_first[i]; k < t->tile_first[i + 1]; k++) {
		uint32_t f = t->tile_feat[k];

		clip_feature(&c, t, f, (int64_t)x * TILE_EXTENT, (int64_t)y * TILE_EXTENT, &w);
		if (w.npoly == out->geom.poly_first[out->nfeat])
			continue;
		out->feature[out->nfeat++] = f;
		out->geom.poly_first[out->nfeat] = (uint32_t)w.npoly;
	}
	out->geom.nfeat = out->nfeat;
	/* the closing entries of ring_first and pt_first */
	out_begin_poly(&w);
	w.npoly--;
	out_add_ring(&w, NULL, 0, 0, 0);
	clipper_free(&c);
	return 0;
}

void tile_content_free(struct tile_content *c)
{
	if (!c)
		return;
	free(c->feature);
	tile_polys_free(&c->geom);
	memset(c, 0, sizeof *c);
}
