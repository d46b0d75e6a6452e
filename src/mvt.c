#include "pc6risk/mvt.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- protobuf ---- */

static void put_varint(struct sbuf *b, uint64_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	sbuf_append(b, tmp, n);
}

static uint32_t zigzag(int64_t v)
{
	return (uint32_t)(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* A length-delimited field: key, length, bytes. */
static void put_bytes(struct sbuf *b, int field, const void *data, size_t n)
{
	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, n);
	sbuf_append(b, data, n);
}

/* ---- the values table of a layer: each distinct value once ---- */

struct value_table {
	uint32_t *slot; /* index + 1, 0 = empty */
	size_t cap;
	const struct mvt_value **val;
	enum mvt_type *type;
	size_t n;
};

static uint64_t value_hash(enum mvt_type t, const struct mvt_value *v)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)t;
	const unsigned char *p;
	size_t n;

	if (t == MVT_STRING) {
		p = (const unsigned char *)v->v.s;
		n = strlen(v->v.s);
	} else {
		p = (const unsigned char *)&v->v;
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static bool value_equal(enum mvt_type t, const struct mvt_value *a, const struct mvt_value *b)
{
	if (t == MVT_STRING)
		return strcmp(a->v.s, b->v.s) == 0;
	if (t == MVT_INT)
		return a->v.i == b->v.i;
	return memcmp(&a->v.d, &b->v.d, sizeof a->v.d) == 0;
}

static uint32_t value_index(struct value_table *vt, size_t max, enum mvt_type t, const struct mvt_value *v)
{
	size_t i;

	if (!vt->slot) {
		vt->cap = 16;
		while (vt->cap < 2 * max)
			vt->cap *= 2;
		vt->slot = xcalloc(vt->cap, sizeof *vt->slot);
		vt->val = xcalloc(max, sizeof *vt->val);
		vt->type = xcalloc(max, sizeof *vt->type);
	}
	for (i = value_hash(t, v) & (vt->cap - 1); vt->slot[i]; i = (i + 1) & (vt->cap - 1)) {
		uint32_t k = vt->slot[i] - 1;

		if (vt->type[k] == t && value_equal(t, vt->val[k], v))
			return k;
	}
	vt->val[vt->n] = v;
	vt->type[vt->n] = t;
	vt->slot[i] = (uint32_t)++vt->n;
	return (uint32_t)(vt->n - 1);
}

static void put_value(struct sbuf *b, enum mvt_type t, const struct mvt_value *v)
{
	struct sbuf m = {0};

	if (t == MVT_STRING) {
		put_bytes(&m, 1, v->v.s, strlen(v->v.s));
	} else if (t == MVT_DOUBLE) {
		uint64_t u;
		char le[8];

		memcpy(&u, &v->v.d, 8);
		for (int i = 0; i < 8; i++)
			le[i] = (char)(u >> (8 * i));
		put_varint(&m, 3 << 3 | 1);
		sbuf_append(&m, le, 8);
	} else {
		put_varint(&m, 6 << 3 | 0);
		put_varint(&m, (uint64_t)(((uint64_t)v->v.i << 1) ^ (uint64_t)(v->v.i >> 63)));
	}
	put_bytes(b, 4, m.s, m.len);
	sbuf_free(&m);
}

/* The geometry commands of one feature (MVT 2.1 section 4.3). */
static void put_geometry(struct sbuf *g, const struct tile_polys *p, size_t f)
{
	int64_t cx = 0, cy = 0;

	for (uint32_t poly = p->poly_first[f]; poly < p->poly_first[f + 1]; poly++) {
		for (uint32_t r = p->ring_first[poly]; r < p->ring_first[poly + 1]; r++) {
			uint32_t a = p->pt_first[r], n = p->pt_first[r + 1] - a;

			if (n < 3)
				continue;
			put_varint(g, 1 | 1 << 3);
			put_varint(g, zigzag(p->xy[2 * a] - cx));
			put_varint(g, zigzag(p->xy[2 * a + 1] - cy));
			cx = p->xy[2 * a];
			cy = p->xy[2 * a + 1];
			put_varint(g, 2 | (uint64_t)(n - 1) << 3);
			for (uint32_t i = a + 1; i < a + n; i++) {
				put_varint(g, zigzag(p->xy[2 * i] - cx));
				put_varint(g, zigzag(p->xy[2 * i + 1] - cy));
				cx = p->xy[2 * i];
				cy = p->xy[2 * i + 1];
			}
			put_varint(g, 7 | 1 << 3);
		}
	}
}

void mvt_encode(struct sbuf *out, const struct mvt_schema *s, const struct mvt_tile *t)
{
	struct sbuf layer = {0}, feat = {0}, tags = {0}, geom = {0};
	struct value_table vt = {0};

	put_varint(&layer, 15 << 3 | 0);
	put_varint(&layer, 2);
	put_bytes(&layer, 1, s->layer, strlen(s->layer));
	for (size_t k = 0; k < t->nfeat; k++) {
		const struct mvt_value *props = &t->props[k * s->nkeys];

		sbuf_reset(&feat);
		sbuf_reset(&tags);
		sbuf_reset(&geom);
		for (size_t j = 0; j < s->nkeys; j++) {
			if (!props[j].present)
				continue;
			put_varint(&tags, j);
			put_varint(&tags, value_index(&vt, t->nfeat * s->nkeys, s->types[j], &props[j]));
		}
		put_geometry(&geom, t->geom, k);
		if (geom.len == 0)
			continue;
		if (tags.len)
			put_bytes(&feat, 2, tags.s, tags.len);
		put_varint(&feat, 3 << 3 | 0);
		put_varint(&feat, 3); /* POLYGON */
		put_bytes(&feat, 4, geom.s, geom.len);
		put_bytes(&layer, 2, feat.s, feat.len);
	}
	for (size_t j = 0; j < s->nkeys; j++)
		put_bytes(&layer, 3, s->keys[j], strlen(s->keys[j]));
	for (size_t i = 0; i < vt.n; i++)
		put_value(&layer, vt.type[i], vt.val[i]);
	put_varint(&layer, 5 << 3 | 0);
	put_varint(&layer, TILE_EXTENT);
	put_bytes(out, 3, layer.s, layer.len);
	free(vt.slot);
	free(vt.val);
	free(vt.type);
	sbuf_free(&layer);
	sbuf_free(&feat);
	sbuf_free(&tags);
	sbuf_free(&geom);
}

/* ---- GeoJSON ---- */

void mvt_lonlat(int z, uint32_t x, uint32_t y, int64_t tx, int64_t ty, double *lon, double *lat)
{
	double world = ldexp(TILE_EXTENT, z);
	double px = (double)x * TILE_EXTENT + (double)tx, py = (double)y * TILE_EXTENT + (double)ty;

	*lon = px / world * 360.0 - 180.0;
	*lat = atan(sinh(M_PI * (1.0 - 2.0 * py / world))) * (180.0 / M_PI);
}

/* Degrees as millionths, rounded half away from zero. */
static int64_t micro(double deg)
{
	return llround(deg * 1e6);
}

/* Append millionths as a decimal number without trailing zeros. */
static void put_micro(struct sbuf *b, int64_t m)
{
	char tmp[32], *p = tmp + sizeof tmp;
	uint64_t u = m < 0 ? (uint64_t)-m : (uint64_t)m, whole = u / 1000000;
	unsigned frac = (unsigned)(u % 1000000);
	int digits = 6;

	while (digits > 0 && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	while (digits-- > 0) {
		*--p = (char)('0' + frac % 10);
		frac /= 10;
	}
	if (p != tmp + sizeof tmp)
		*--p = '.';
	do {
		*--p = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole);
	if (m < 0)
		*--p = '-';
	sbuf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* Latitudes of the rows of one tile, computed once per row. */
struct lat_cache {
	int z;
	uint32_t y;
	int64_t lat[TILE_EXTENT + 2 * TILE_BUFFER + 1];
	unsigned char have[TILE_EXTENT + 2 * TILE_BUFFER + 1];
	struct tile_scratch scratch;
};

static int64_t cached_lat(struct lat_cache *c, int64_t ty)
{
	double lon, lat;
	int64_t i = ty + TILE_BUFFER;

	if (i >= 0 && i < (int64_t)sizeof c->have && c->have[i])
		return c->lat[i];
	mvt_lonlat(c->z, 0, c->y, 0, ty, &lon, &lat);
	if (i >= 0 && i < (int64_t)sizeof c->have) {
		c->have[i] = 1;
		c->lat[i] = micro(lat);
	}
	return micro(lat);
}

/* b lies on the line a-c and the path a-b-c turns back at b. */
static bool spike(const int64_t *a, const int64_t *b, int64_t cx, int64_t cy)
{
	__int128 cross = (__int128)(b[0] - a[0]) * (cy - b[1]) - (__int128)(b[1] - a[1]) * (cx - b[0]);
	__int128 dot = (__int128)(b[0] - a[0]) * (cx - b[0]) + (__int128)(b[1] - a[1]) * (cy - b[1]);

	return cross == 0 && dot <= 0;
}

/* The ring as rounded positions without repeats or spikes; the number kept. */
static size_t ring_positions(const struct mvt_tile *t, struct lat_cache *lc, uint32_t a, uint32_t n, int64_t *pos)
{
	double world = ldexp(TILE_EXTENT, t->z);
	size_t m = 0;

	/* backwards: clockwise on a y-down screen is clockwise on a north-up map
	 * too, and RFC 7946 wants exteriors counter-clockwise */
	for (uint32_t i = a + n; i-- > a;) {
		double px = (double)t->x * TILE_EXTENT + (double)t->geom->xy[2 * i];
		int64_t lon = micro(px / world * 360.0 - 180.0), lat = cached_lat(lc, t->geom->xy[2 * i + 1]);

		if (m && pos[2 * m - 2] == lon && pos[2 * m - 1] == lat)
			continue;
		/* the rounding can fold a point back onto the line it came along:
		 * a zero-width spike, which makes the ring invalid */
		while (m >= 2 && spike(&pos[2 * m - 4], &pos[2 * m - 2], lon, lat))
			m--;
		if (m && pos[2 * m - 2] == lon && pos[2 * m - 1] == lat)
			continue;
		pos[2 * m] = lon;
		pos[2 * m + 1] = lat;
		m++;
	}
	while (m > 1 && pos[0] == pos[2 * m - 2] && pos[1] == pos[2 * m - 1])
		m--;
	/* the same where the ring closes */
	while (m >= 3 && spike(&pos[2 * m - 4], &pos[2 * m - 2], pos[0], pos[1]))
		m--;
	while (m >= 3 && spike(&pos[2 * m - 2], &pos[0], pos[2], pos[3])) {
		memmove(pos, pos + 2, 2 * (m - 1) * sizeof *pos);
		m--;
	}
	/* and two edges the rounding made cross: only where the tile grid is
	 * finer than the decimals, from zoom 16 on */
	if (t->z >= 16)
		m = tile_ring_uncross(pos, m, &lc->scratch);
	return m;
}

static void put_props(struct sbuf *b, const struct mvt_schema *s, const struct mvt_value *props, int decimals)
{
	bool first = true;

	sbuf_putc(b, '{');
	for (size_t j = 0; j < s->nkeys; j++) {
		if (!props[j].present)
			continue;
		if (!first)
			sbuf_putc(b, ',');
		first = false;
		sbuf_json_string(b, s->keys[j]);
		sbuf_putc(b, ':');
		if (s->types[j] == MVT_STRING)
			sbuf_json_string(b, props[j].v.s);
		else if (s->types[j] == MVT_INT)
			sbuf_printf(b, "%lld", (long long)props[j].v.i);
		else
			sbuf_json_number(b, props[j].v.d, decimals);
	}
	sbuf_putc(b, '}');
}

/* The polygons of feature f as GeoJSON coordinates (without the outer
 * brackets of a MultiPolygon); the number of polygons written. */
static size_t put_polygons(struct sbuf *b, const struct mvt_tile *t, struct lat_cache *lc, size_t f,
			   int64_t **pos, size_t *cap, long long *dropped)
{
	const struct tile_polys *p = t->geom;
	size_t npoly = 0;

	for (uint32_t poly = p->poly_first[f]; poly < p->poly_first[f + 1]; poly++) {
		size_t nring = 0;

		for (uint32_t r = p->ring_first[poly]; r < p->ring_first[poly + 1]; r++) {
			uint32_t a = p->pt_first[r], n = p->pt_first[r + 1] - a;
			size_t m;

			if (n > *cap) {
				*cap = n;
				*pos = xrealloc(*pos, 2 * n * sizeof **pos);
			}
			m = ring_positions(t, lc, a, n, *pos);
			if (m < 3) {
				if (dropped)
					(*dropped)++;
				if (r == p->ring_first[poly])
					break; /* no exterior: no polygon */
				continue;
			}
			sbuf_puts(b, nring ? ",[" : npoly ? ",[[" : "[[");
			for (size_t i = 0; i <= m; i++) {
				size_t k = i % m;

				sbuf_puts(b, i ? ",[" : "[");
				put_micro(b, (*pos)[2 * k]);
				sbuf_putc(b, ',');
				put_micro(b, (*pos)[2 * k + 1]);
				sbuf_putc(b, ']');
			}
			sbuf_putc(b, ']');
			nring++;
		}
		if (nring) {
			sbuf_putc(b, ']');
			npoly++;
		}
	}
	return npoly;
}

void mvt_geojson(struct sbuf *out, const struct mvt_schema *s, const struct mvt_tile *t, int decimals,
		 long long *dropped_rings)
{
	struct lat_cache *lc = xcalloc(1, sizeof *lc);
	struct sbuf coords = {0};
	int64_t *pos = NULL;
	size_t cap = 0, written = 0;

	lc->z = t->z;
	lc->y = t->y;
	sbuf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[\n");
	for (size_t k = 0; k < t->nfeat; k++) {
		const struct mvt_value *props = &t->props[k * s->nkeys];
		size_t npoly;

		sbuf_reset(&coords);
		npoly = put_polygons(&coords, t, lc, k, &pos, &cap, dropped_rings);
		if (npoly == 0)
			continue;
		sbuf_puts(out, written ? ",\n{\"type\":\"Feature\",\"id\":" : "{\"type\":\"Feature\",\"id\":");
		sbuf_json_string(out, props[0].present ? props[0].v.s : "");
		sbuf_puts(out, ",\"properties\":");
		put_props(out, s, props, decimals);
		if (npoly == 1) {
			sbuf_puts(out, ",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":");
			sbuf_append(out, coords.s, coords.len);
		} else {
			sbuf_puts(out, ",\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[");
			sbuf_append(out, coords.s, coords.len);
			sbuf_putc(out, ']');
		}
		sbuf_puts(out, "}}");
		written++;
	}
	sbuf_puts(out, "\n]}\n");
	sbuf_free(&coords);
	free(pos);
	tile_scratch_free(&lc->scratch);
	free(lc);
}
