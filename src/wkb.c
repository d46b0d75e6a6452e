#include "pc6risk/wkb.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const unsigned char *p, *end;
	int (*ring)(void *arg, const double *xy, uint32_t n);
	void *arg;
	double *pts; /* one ring's points */
	size_t cap;
};

static int u32(struct reader *r, int little, uint32_t *out)
{
	if (r->end - r->p < 4)
		return -1;
	*out = little ? (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24
		      : (uint32_t)r->p[3] | (uint32_t)r->p[2] << 8 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[0] << 24;
	r->p += 4;
	return 0;
}

static double f64(const unsigned char *p, int little)
{
	uint64_t u = 0;
	double d;

	for (int i = 0; i < 8; i++)
		u |= (uint64_t)p[little ? i : 7 - i] << (8 * i);
	memcpy(&d, &u, sizeof d);
	return d;
}

/* One Polygon, or a MultiPolygon at depth 0, at r->p. */
static int geometry(struct reader *r, int depth)
{
	uint32_t type, n, dims = 2;
	int little;

	if (r->p >= r->end || r->p[0] > 1)
		return -1;
	little = r->p[0];
	r->p++;
	if (u32(r, little, &type) < 0)
		return -1;
	/* EWKB flags: Z 0x80000000, M 0x40000000, SRID 0x20000000; ISO: +1000 Z, +2000 M, +3000 ZM */
	dims += (type & 0x80000000u) != 0;
	dims += (type & 0x40000000u) != 0;
	if (type & 0x20000000u) {
		uint32_t srid;

		if (u32(r, little, &srid) < 0)
			return -1;
	}
	type &= 0x0fffffffu;
	if (type >= 1000) {
		dims += type / 1000 == 3 ? 2 : 1;
		type %= 1000;
	}
	if (u32(r, little, &n) < 0)
		return -1;
	if (type == 6 && depth == 0) {
		for (uint32_t i = 0; i < n; i++)
			if (geometry(r, 1) < 0)
				return -1;
		return 0;
	}
	if (type != 3)
		return -1;
	for (uint32_t ring = 0; ring < n; ring++) {
		uint32_t npts;

		if (u32(r, little, &npts) < 0 || (size_t)(r->end - r->p) / (8 * dims) < npts)
			return -1;
		if (npts > r->cap) {
			r->cap = npts;
			r->pts = xrealloc(r->pts, 2 * r->cap * sizeof *r->pts);
		}
		for (uint32_t i = 0; i < npts; i++, r->p += 8 * dims) {
			r->pts[2 * i] = f64(r->p, little);
			r->pts[2 * i + 1] = f64(r->p + 8, little);
			if (!isfinite(r->pts[2 * i]) || !isfinite(r->pts[2 * i + 1]))
				return -1;
		}
		if (r->ring(r->arg, r->pts, npts) < 0)
			return -1;
	}
	return 0;
}

int wkb_rings(const unsigned char *wkb, size_t len, int (*ring)(void *arg, const double *xy, uint32_t n),
	      void *arg)
{
	struct reader r = {wkb, wkb + len, ring, arg, NULL, 0};
	int rc = geometry(&r, 0);

	free(r.pts);
	return rc;
}
