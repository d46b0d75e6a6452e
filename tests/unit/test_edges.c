/* edges: neighbours from shared border segments, on hand-made WKB. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/edges.h"

/* WKB of a Polygon with one ring (closed by the caller), little endian, or
 * big endian, or PostGIS EWKB with an SRID. */
static size_t polygon(unsigned char *out, const double *xy, uint32_t npts, int big, int srid)
{
	size_t n = 0;
	uint32_t type = 3 | (srid ? 0x20000000u : 0);

#define PUT32(v)                                                                                          \
	do {                                                                                              \
		uint32_t u_ = (v);                                                                        \
		for (int i_ = 0; i_ < 4; i_++)                                                            \
			out[n + (size_t)(big ? 3 - i_ : i_)] = (unsigned char)(u_ >> (8 * i_));           \
		n += 4;                                                                                   \
	} while (0)

	out[n++] = big ? 0 : 1;
	PUT32(type);
	if (srid)
		PUT32((uint32_t)srid);
	PUT32(1);
	PUT32(npts);
	for (uint32_t i = 0; i < 2 * npts; i++) {
		uint64_t u;

		memcpy(&u, &xy[i], 8);
		for (int b = 0; b < 8; b++)
			out[n + (size_t)(big ? 7 - b : b)] = (unsigned char)(u >> (8 * b));
		n += 8;
	}
#undef PUT32
	return n;
}

static void square(struct edges *e, int item, int block, double x, double y, int big, int srid)
{
	double xy[10] = {x, y, x + 10, y, x + 10, y + 10, x, y + 10, x, y};
	unsigned char buf[256];
	size_t n = polygon(buf, xy, 5, big, srid);

	cr_assert_eq(edges_add_wkb(e, item, block, buf, n), 0);
}

Test(edges, shared_sides_make_neighbours_corners_do_not)
{
	struct edges e = {0};
	int *pairs;
	size_t n;

	square(&e, 0, 0, 0, 0, 0, 0);
	square(&e, 1, 0, 10, 0, 1, 0);     /* shares the side x = 10; big endian */
	square(&e, 2, 0, 10, 10, 0, 28992); /* touches 0 at a corner only; EWKB with SRID */
	square(&e, 3, 1, 0, 10, 0, 0);     /* shares a side with 0 but lies in another block */
	edges_pairs(&e, &pairs, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(pairs[0], 0);
	cr_assert_eq(pairs[1], 1);
	cr_assert_eq(pairs[2], 1);
	cr_assert_eq(pairs[3], 2);
	free(pairs);
}

Test(edges, coordinates_match_to_the_centimetre_and_hex_is_read)
{
	struct edges e = {0};
	int *pairs;
	size_t n;
	double a[10] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
	double b[10] = {10.001, 0.0004, 20, 0, 20, 10, 9.9996, 10.003, 10.001, 0.0004};
	unsigned char buf[256];
	char hex[600];
	size_t len = polygon(buf, b, 5, 0, 0);

	cr_assert_eq(edges_add_wkb(&e, 0, 0, buf, polygon(buf, a, 5, 0, 0)), 0);
	len = polygon(buf, b, 5, 0, 0);
	hex[0] = '\\';
	hex[1] = 'x';
	for (size_t i = 0; i < len; i++)
		sprintf(hex + 2 + 2 * i, "%02x", buf[i]);
	cr_assert_eq(edges_add_hex(&e, 1, 0, hex), 0);
	cr_assert_eq(edges_add_hex(&e, 2, 0, "0103zz"), -1);
	cr_assert_eq(edges_add_hex(&e, 2, 0, "010200000000000000"), -1, "a LineString is not a polygon");
	edges_pairs(&e, &pairs, &n);
	cr_assert_eq(n, 1);
	free(pairs);
}

Test(edges, a_cut_short_wkb_is_refused)
{
	struct edges e = {0};
	double a[10] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
	unsigned char buf[256];
	size_t len = polygon(buf, a, 5, 0, 0);

	cr_assert_eq(edges_add_wkb(&e, 0, 0, buf, len - 1), -1);
	edges_free(&e);
}

/* A grid of squares in random blocks, numbered in a random order, every
 * seventh square added twice to its item (its sides then meet themselves and
 * each neighbour twice): each pair once, in order, and those of comparing
 * every two squares' positions. */
Test(edges, a_random_grid_gives_the_pairs_of_comparing_every_two)
{
	enum { W = 40, H = 30, N = W * H };
	static int block[N], cell[N];
	struct edges e = {0};
	int *pairs;
	size_t n, want = 0, got = 0;
	static unsigned char adj[N][N];
	unsigned seed = 7;

	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		block[i] = (int)(seed >> 16) % 3;
		cell[i] = i;
	}
	for (int i = N - 1; i > 0; i--) { /* items are numbered in a shuffled order */
		int j, t;

		seed = seed * 1103515245u + 12345u;
		j = (int)((seed >> 16) % (unsigned)(i + 1));
		t = cell[i];
		cell[i] = cell[j];
		cell[j] = t;
	}
	for (int i = 0; i < N; i++) {
		square(&e, i, block[i], 10.0 * (cell[i] % W), 10.0 * (cell[i] / W), i % 2, 0);
		if (i % 7 == 0)
			square(&e, i, block[i], 10.0 * (cell[i] % W), 10.0 * (cell[i] / W), 0, 28992);
	}
	/* naive: squares at grid distance 1 share a side */
	for (int a = 0; a < N; a++)
		for (int b = a + 1; b < N; b++) {
			int dx = abs(cell[a] % W - cell[b] % W), dy = abs(cell[a] / W - cell[b] / W);

			if (dx + dy == 1 && block[a] == block[b]) {
				adj[a][b] = 1;
				want++;
			}
		}
	edges_pairs(&e, &pairs, &n);
	cr_assert_eq(n, want);
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt(pairs[2 * i], pairs[2 * i + 1]);
		if (i > 0)
			cr_assert(pairs[2 * i - 2] < pairs[2 * i] ||
				  (pairs[2 * i - 2] == pairs[2 * i] && pairs[2 * i - 1] < pairs[2 * i + 1]),
				  "pair %zu out of order", i);
		got += adj[pairs[2 * i]][pairs[2 * i + 1]];
	}
	cr_assert_eq(got, want);
	free(pairs);
}
