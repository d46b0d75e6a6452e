#include "pc6risk/edges.h"
#include "pc6risk/text.h"
#include "pc6risk/wkb.h"
#include "pc6risk/xalloc.h"

#include <math.h>
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

static int cmp_seg(const void *pa, const void *pb)
{
	const struct edge_seg *a = pa, *b = pb;

	if (a->ax != b->ax)
		return a->ax < b->ax ? -1 : 1;
	if (a->ay != b->ay)
		return a->ay < b->ay ? -1 : 1;
	if (a->bx != b->bx)
		return a->bx < b->bx ? -1 : 1;
	if (a->by != b->by)
		return a->by < b->by ? -1 : 1;
	return a->item - b->item;
}

static int cmp_pair(const void *pa, const void *pb)
{
	const int *a = pa, *b = pb;

	return a[0] != b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] != b[1] ? (a[1] < b[1] ? -1 : 1) : 0;
}

void edges_pairs(struct edges *e, int **pairs, size_t *npairs)
{
	size_t n = 0, cap = 1024, out = 0;
	int *p = xmalloc(2 * cap * sizeof *p);

	qsort(e->seg, e->n, sizeof *e->seg, cmp_seg);
	for (size_t i = 0; i < e->n;) {
		size_t j = i + 1;

		while (j < e->n && e->seg[j].ax == e->seg[i].ax && e->seg[j].ay == e->seg[i].ay &&
		       e->seg[j].bx == e->seg[i].bx && e->seg[j].by == e->seg[i].by)
			j++;
		for (size_t a = i; a < j; a++)
			for (size_t b = a + 1; b < j; b++) {
				const struct edge_seg *x = &e->seg[a], *y = &e->seg[b];

				if (x->item == y->item || x->block != y->block)
					continue;
				if (n == cap) {
					cap *= 2;
					p = xrealloc(p, 2 * cap * sizeof *p);
				}
				p[2 * n] = x->item < y->item ? x->item : y->item;
				p[2 * n + 1] = x->item < y->item ? y->item : x->item;
				n++;
			}
		i = j;
	}
	qsort(p, n, 2 * sizeof *p, cmp_pair);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || p[2 * i] != p[2 * (out - 1)] || p[2 * i + 1] != p[2 * (out - 1) + 1]) {
			p[2 * out] = p[2 * i];
			p[2 * out + 1] = p[2 * i + 1];
			out++;
		}
	*pairs = p;
	*npairs = out;
	edges_free(e);
}

void edges_free(struct edges *e)
{
	free(e->seg);
	memset(e, 0, sizeof *e);
}
