#include "pc6risk/edges.h"
#include "pc6risk/radix.h"
#include "pc6risk/text.h"
#include "pc6risk/wkb.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One segment, endpoints in centimetres, the smaller endpoint first. */
struct edge_seg {
	int64_t ax, ay, bx, by;
	int item, block;
};

static void push(struct edges *e, int item, int block, double x1, double y1, double x2, double y2)
{
	int64_t ax = llround(x1 * 100), ay = llround(y1 * 100), bx = llround(x2 * 100), by = llround(y2 * 100);
	struct edge_seg *s;

	if (ax == bx && ay == by)
		return;
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 1024;
		e->seg = xrealloc(e->seg, e->cap * sizeof *e->seg);
	}
	s = &e->seg[e->n++];
	if (ax < bx || (ax == bx && ay < by))
		*s = (struct edge_seg){ax, ay, bx, by, item, block};
	else
		*s = (struct edge_seg){bx, by, ax, ay, item, block};
}

struct ring_arg {
	struct edges *e;
	int item, block;
};

static int ring_edges(void *arg, const double *xy, uint32_t n)
{
	struct ring_arg *a = arg;

	for (uint32_t i = 1; i < n; i++)
		push(a->e, a->item, a->block, xy[2 * i - 2], xy[2 * i - 1], xy[2 * i], xy[2 * i + 1]);
	return 0;
}

int edges_add_wkb(struct edges *e, int item, int block, const unsigned char *wkb, size_t len)
{
	struct ring_arg a = {e, item, block};

	return wkb_rings(wkb, len, ring_edges, &a);
}

int edges_add_hex(struct edges *e, int item, int block, const char *hex)
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	long len = text_unhex(hex, &buf, &cap);
	int rc = len < 0 ? -1 : edges_add_wkb(e, item, block, buf, (size_t)len);

	free(buf);
	return rc;
}

static bool same_seg(const struct edge_seg *a, const struct edge_seg *b)
{
	return a->ax == b->ax && a->ay == b->ay && a->bx == b->bx && a->by == b->by;
}

/* A segment's endpoints mixed into 64 bits (splitmix64's finaliser per
 * coordinate): equal segments get equal hashes, and a sort by hash brings
 * them together; unequal ones that share a hash are told apart after. */
static uint64_t seg_hash(const struct edge_seg *s)
{
	const int64_t v[4] = {s->ax, s->ay, s->bx, s->by};
	uint64_t h = 0x9e3779b97f4a7c15u;

	for (int i = 0; i < 4; i++) {
		uint64_t z = h ^ (uint64_t)v[i];

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		h = (z ^ (z >> 31)) + 0x9e3779b97f4a7c15u;
	}
	return h;
}

static void add_pair(struct radix_item **p, size_t *n, size_t *cap, int a, int b)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*p = xrealloc(*p, *cap * sizeof **p);
	}
	(*p)[(*n)++] = (struct radix_item){(uint64_t)(uint32_t)(a < b ? a : b) << 32 | (uint32_t)(a < b ? b : a), 0};
}

void edges_pairs(struct edges *e, int **pairs, size_t *npairs)
{
	struct radix_item *s = xmalloc((e->n + 1) * sizeof *s), *t = xmalloc((e->n + 1) * sizeof *t);
	struct radix_item *p = NULL;
	size_t n = 0, cap = 0, out = 0;
	int *res;

	/* segments by hash (radix, not qsort: millions of them nationally) */
	for (size_t i = 0; i < e->n; i++)
		s[i] = (struct radix_item){seg_hash(&e->seg[i]), i};
	radix_sort(&s, &t, e->n);
	for (size_t i = 0; i < e->n;) {
		size_t j = i + 1;

		while (j < e->n && s[j].key == s[i].key)
			j++;
		for (size_t a = i; a < j; a++)
			for (size_t b = a + 1; b < j; b++) {
				const struct edge_seg *x = &e->seg[s[a].val], *y = &e->seg[s[b].val];

				if (x->item != y->item && x->block == y->block && same_seg(x, y))
					add_pair(&p, &n, &cap, x->item, y->item);
			}
		i = j;
	}
	free(s);
	free(t);
	edges_free(e);
	/* pairs sorted, each once */
	t = xmalloc((n + 1) * sizeof *t);
	radix_sort(&p, &t, n);
	free(t);
	res = xmalloc((2 * n + 1) * sizeof *res);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || p[i].key != p[i - 1].key) {
			res[2 * out] = (int)(p[i].key >> 32);
			res[2 * out + 1] = (int)(p[i].key & 0xffffffffu);
			out++;
		}
	free(p);
	*pairs = res;
	*npairs = out;
}

void edges_free(struct edges *e)
{
	free(e->seg);
	memset(e, 0, sizeof *e);
}
