#include "pc6risk/tiles.h"
#include "pc6risk/fsx.h"
#include "pc6risk/hash128.h"
#include "pc6risk/log.h"
#include "pc6risk/mbtiles.h"
#include "pc6risk/mvt.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"
#include "pc6risk/text.h"
#include "pc6risk/tile.h"
#include "pc6risk/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 2
#define BATCH 256
#define GZIP_LEVEL 1 /* level 6: 2-4 % smaller, 35 % slower to compress (national z14-15) */
#define TOLERANCE 1.0          /* tile units (of 4096) at each zoom */
#define MAX_TILE (500 * 1024)  /* gzipped bytes a tile should stay under */
#define MERC_R 20037508.342789244

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- what a feature carries ---- */

/* Properties of every layer, in this order; a level has those level_has_key
 * gives it. K_CODE comes first: it is the feature id. */
enum key {
	K_CODE,
	K_NAME,
	K_LEVEL,
	K_BUURT,
	K_WIJK,
	K_GEMEENTE,
	K_GROUP,
	K_SCORE,
	K_RANK,
	K_RANKED_OF,
	K_BAND,
	K_BANDS,
	K_STATUS,
	K_SHOWN_FROM,
	NKEYS
};

static const char *const key_names[NKEYS] = {
	"code", "name", "level", "buurt_code", "wijk_code", "gemeente_code", "group",
	"score", "rank", "ranked_of", "band", "bands", "status", "shown_from",
};

static const enum mvt_type key_types[NKEYS] = {
	MVT_STRING, MVT_STRING, MVT_STRING, MVT_STRING, MVT_STRING, MVT_STRING, MVT_STRING,
	MVT_DOUBLE, MVT_INT, MVT_INT, MVT_INT, MVT_INT, MVT_STRING, MVT_STRING,
};

static const char *const key_about[NKEYS] = {
	"the area code (PC6, buurt or wijk); also the feature id",
	"the buurt or wijk name (empty for PC6)",
	"wijk, buurt or pc6",
	"the buurt the area lies in",
	"the wijk the area lies in",
	"the gemeente the area lies in",
	"pc6: the protected group the postcode is published with",
	"the scenario's score (wijk and buurt; for pc6 only under an internal policy with exact scores)",
	"the rank within the gemeente, 1 = highest risk (absent: not ranked)",
	"how many areas were ranked",
	"pc6: the risk band of its group, 1 = least risk",
	"pc6: the number of bands",
	"published or suppressed",
	"when the area is below the size rules on its own: the level whose score it shows",
};

/* One scenario's value for one feature. */
struct sval {
	double score;
	int32_t rank, ranked_of, band, bands;
	uint8_t has_score, has_rank, has_band, published;
	uint8_t shown_wijk;
};

struct layer {
	enum level level;
	int zmin, zmax;      /* the zooms it is drawn at (within the request) */
	struct db_result *areas;
	size_t nfeat;
	struct sval *val;    /* [scenario * nfeat + feature] */
	struct tiler *tiler;
};

/* ---- reading ---- */

struct wkb {
	const unsigned char *p;
	size_t len, pos;
	int little;
	int bad;
};

static uint64_t wkb_uint(struct wkb *w, int n)
{
	uint64_t v = 0;

	if (w->pos + (size_t)n > w->len) {
		w->bad = 1;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (uint64_t)w->p[w->pos + (size_t)i] << (w->little ? 8 * i : 8 * (n - 1 - i));
	w->pos += (size_t)n;
	return v;
}

static uint32_t wkb_u32(struct wkb *w)
{
	return (uint32_t)wkb_uint(w, 4);
}

static double wkb_f64(struct wkb *w)
{
	uint64_t v = wkb_uint(w, 8);
	double d;

	memcpy(&d, &v, 8);
	return d;
}

struct polys_builder {
	struct tile_polys p;
	size_t npoly, nring, npt, cap_poly, cap_ring, cap_pt;
};

static void grow(void **a, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	*cap = *cap ? *cap * 2 : 1024;
	if (*cap < need)
		*cap = need;
	*a = xrealloc(*a, *cap * size);
}

/* One polygon of the WKB onto the grid of zoom z: repeats and the closing
 * point dropped; rings left with fewer than 3 points skipped. */
static void wkb_polygon(struct wkb *w, struct polys_builder *b, int z)
{
	double world = ldexp(TILE_EXTENT, z);
	uint32_t nrings;
	size_t kept = 0;

	w->little = w->pos < w->len && w->p[w->pos] == 1;
	w->pos++;
	if ((wkb_u32(w) & 0xffff) != 3) {
		w->bad = 1;
		return;
	}
	nrings = wkb_u32(w);
	grow((void **)&b->p.ring_first, &b->cap_ring, b->nring + nrings + 2, sizeof *b->p.ring_first);
	for (uint32_t r = 0; r < nrings && !w->bad; r++) {
		uint32_t npts = wkb_u32(w);
		size_t start = b->npt;

		if (w->bad || (size_t)npts * 16 > w->len - w->pos) {
			w->bad = 1;
			return;
		}
		grow((void **)&b->p.xy, &b->cap_pt, 2 * (b->npt + npts) + 2, sizeof *b->p.xy);
		for (uint32_t i = 0; i < npts; i++) {
			double x = wkb_f64(w), y = wkb_f64(w);
			int64_t px = llround((x + MERC_R) / (2 * MERC_R) * world);
			int64_t py = llround((MERC_R - y) / (2 * MERC_R) * world);

			if (b->npt > start && b->p.xy[2 * b->npt - 2] == px && b->p.xy[2 * b->npt - 1] == py)
				continue;
			b->p.xy[2 * b->npt] = px;
			b->p.xy[2 * b->npt + 1] = py;
			b->npt++;
		}
		while (b->npt - start > 1 && b->p.xy[2 * start] == b->p.xy[2 * b->npt - 2] &&
		       b->p.xy[2 * start + 1] == b->p.xy[2 * b->npt - 1])
			b->npt--;
		if (b->npt - start < 3 || (r > 0 && kept == 0)) {
			b->npt = start; /* too small, or a hole of a dropped exterior */
			continue;
		}
		b->p.ring_first[b->nring] = (uint32_t)start; /* pt_first is filled at the end */
		b->nring++;
		kept++;
	}
	if (kept) {
		grow((void **)&b->p.poly_first, &b->cap_poly, b->npoly + 2, sizeof *b->p.poly_first);
		b->p.poly_first[b->npoly++] = (uint32_t)(b->nring - kept); /* ring index; turned into CSR below */
	}
}

/* One (Multi)Polygon in WKB. */
static int wkb_feature(struct polys_builder *b, const unsigned char *wkb, size_t len, int z)
{
	struct wkb w = {wkb, len, 0, 0, 0};
	uint32_t type;

	if (len < 5)
		return -1;
	w.little = wkb[0] == 1;
	w.pos = 1;
	type = wkb_u32(&w) & 0xffff;
	w.pos = 0;
	if (type == 3) {
		wkb_polygon(&w, b, z);
	} else if (type == 6) {
		uint32_t n_poly;

		w.pos = 5;
		n_poly = wkb_u32(&w);
		for (uint32_t i = 0; i < n_poly && !w.bad; i++)
			wkb_polygon(&w, b, z);
	} else {
		return -1;
	}
	return w.bad ? -1 : 0;
}

/* The features of a layer onto the grid of zoom z, as tile_polys. The
 * builder keeps ring starts as point indexes and polygon starts as ring
 * indexes while filling; CSR ends are added per feature. */
static int read_geometry(struct layer *l, int z, struct tile_polys *out, struct err *e)
{
	struct polys_builder b = {0};
	uint32_t *feat_poly = xcalloc(l->nfeat + 1, sizeof *feat_poly);

	for (size_t f = 0; f < l->nfeat; f++) {
		const unsigned char *wkb = (const unsigned char *)db_value(l->areas, (int)f, 7);

		feat_poly[f] = (uint32_t)b.npoly;
		if (!wkb || wkb_feature(&b, wkb, db_length(l->areas, (int)f, 7), z) < 0) {
			free(feat_poly);
			free(b.p.poly_first);
			free(b.p.ring_first);
			free(b.p.xy);
			return err_set(e, ERR_INTERNAL, NULL, "%s %s: the geometry from PostGIS is not a polygon",
				       level_name(l->level), db_value(l->areas, (int)f, 0));
		}
	}
	feat_poly[l->nfeat] = (uint32_t)b.npoly;
	out->nfeat = l->nfeat;
	out->poly_first = feat_poly;
	out->ring_first = xrealloc(b.p.poly_first, (b.npoly + 1) * sizeof *out->ring_first);
	out->ring_first[b.npoly] = (uint32_t)b.nring;
	out->pt_first = xrealloc(b.p.ring_first, (b.nring + 1) * sizeof *out->pt_first);
	out->pt_first[b.nring] = (uint32_t)b.npt;
	out->xy = b.p.xy;
	return 0;
}

/* A polygon valid in RD New can cross itself once in web mercator (a near
 * touch that the transformation closes): such a one is repaired there. */
static const char areas_sql[] =
	"SELECT a.code, a.name, a.buurt_code, a.wijk_code, a.gemeente_code, a.group_code, a.unit_code,"
	" ST_AsBinary(CASE WHEN ST_IsValid(m.g) THEN m.g ELSE ST_CollectionExtract(ST_MakeValid(m.g), 3) END)"
	" FROM protected_area a, LATERAL (SELECT ST_Transform(a.geom, 3857) AS g) m"
	" WHERE a.level = $1 ORDER BY a.code COLLATE \"C\"";

/* Per feature of the level, in areas_sql's order: its value in scenario $2. */
static const char values_sql[] =
	"SELECT v.status, v.score, v.rank, v.ranked, v.shown_from"
	" FROM protected_area a LEFT JOIN protected_value v"
	"  ON v.level = a.level AND v.code = a.code AND v.scenario = $2"
	" WHERE a.level = $1 ORDER BY a.code COLLATE \"C\"";

static const char bands_sql[] =
	"SELECT g.band, g.bands, g.score"
	" FROM protected_area a LEFT JOIN protected_group_value g ON g.group_code = a.group_code AND g.scenario = $2"
	" WHERE a.level = $1 ORDER BY a.code COLLATE \"C\"";

static int read_layer(struct db *db, const struct config *cfg, struct layer *l, struct err *e)
{
	const char *params[2] = {level_name(l->level), NULL};
	struct tile_polys src = {0};
	double t0 = now(), t1, t2, t3;

	/* binary: the WKB comes as bytes, not as hex the server writes and we read back */
	l->areas = db_query_binary(db, areas_sql, 1, params, e);
	if (!l->areas)
		return -1;
	l->nfeat = (size_t)db_nrows(l->areas);
	l->val = xcalloc(cfg->nscenarios * l->nfeat + 1, sizeof *l->val);
	for (size_t s = 0; s < cfg->nscenarios; s++) {
		struct db_result *r;

		params[1] = cfg->scenarios[s].name;
		r = db_query(db, l->level == LEVEL_PC6 ? bands_sql : values_sql, 2, params, e);
		if (!r)
			return -1;
		if ((size_t)db_nrows(r) != l->nfeat) {
			db_result_free(r);
			return err_set(e, ERR_DATABASE, NULL, "the protected tables changed while publishing");
		}
		for (size_t f = 0; f < l->nfeat; f++) {
			struct sval *v = &l->val[s * l->nfeat + f];
			int row = (int)f;

			if (l->level == LEVEL_PC6) {
				v->has_band = db_value(r, row, 0) != NULL;
				v->published = v->has_band;
				v->band = v->has_band ? atoi(db_value(r, row, 0)) : 0;
				v->bands = db_value(r, row, 1) ? atoi(db_value(r, row, 1)) : 0;
				v->has_score = db_value(r, row, 2) != NULL;
				v->score = v->has_score ? strtod(db_value(r, row, 2), NULL) : 0;
				continue;
			}
			v->published = db_value(r, row, 0) && strcmp(db_value(r, row, 0), "published") == 0;
			v->has_score = db_value(r, row, 1) != NULL;
			v->score = v->has_score ? strtod(db_value(r, row, 1), NULL) : 0;
			v->has_rank = db_value(r, row, 2) != NULL;
			v->rank = v->has_rank ? atoi(db_value(r, row, 2)) : 0;
			v->ranked_of = db_value(r, row, 3) ? atoi(db_value(r, row, 3)) : 0;
			v->shown_wijk = db_value(r, row, 4) != NULL;
		}
		db_result_free(r);
	}
	t1 = now();
	if (read_geometry(l, l->zmax, &src, e) < 0)
		return -1;
	t2 = now();
	l->tiler = tiler_new(&src, l->zmax);
	tile_polys_free(&src);
	t3 = now();
	log_msg(LOG_DEBUG, "tiles: %s query %.3f s, geometry %.3f s, topology %.3f s", level_plural(l->level), t1 - t0,
		t2 - t1, t3 - t2);
	return 0;
}

/* ---- one tile ---- */

static bool level_has_key(enum level level, enum key k)
{
	if (level == LEVEL_PC6)
		return k != K_NAME && k != K_RANK && k != K_RANKED_OF && k != K_SHOWN_FROM;
	if (k == K_GROUP || k == K_BAND || k == K_BANDS)
		return false;
	return level != LEVEL_WIJK || k != K_BUURT;
}

struct schema {
	struct mvt_schema s;
	const char *keys[NKEYS];
	enum mvt_type types[NKEYS];
	enum key which[NKEYS];
};

static void make_schema(struct schema *sc, enum level level)
{
	size_t n = 0;

	for (int k = 0; k < NKEYS; k++) {
		if (!level_has_key(level, (enum key)k))
			continue;
		sc->keys[n] = key_names[k];
		sc->types[n] = key_types[k];
		sc->which[n] = (enum key)k;
		n++;
	}
	sc->s = (struct mvt_schema){level_name(level), n, sc->keys, sc->types};
}

static struct mvt_value str_value(const char *s)
{
	struct mvt_value v = {.present = s != NULL};

	v.v.s = s;
	return v;
}

static struct mvt_value int_value(bool present, int64_t i)
{
	struct mvt_value v = {.present = present};

	v.v.i = i;
	return v;
}

static struct mvt_value dbl_value(bool present, double d)
{
	struct mvt_value v = {.present = present};

	v.v.d = d;
	return v;
}

/* The properties of feature f in scenario s, in the schema's order. */
static void fill_props(const struct layer *l, const struct schema *sc, size_t s, uint32_t f, struct mvt_value *out)
{
	const struct sval *v = &l->val[s * l->nfeat + f];
	int row = (int)f;

	for (size_t j = 0; j < sc->s.nkeys; j++) {
		switch (sc->which[j]) {
		case K_CODE: out[j] = str_value(db_value(l->areas, row, 0)); break;
		case K_NAME: out[j] = str_value(db_value(l->areas, row, 1)); break;
		case K_LEVEL: out[j] = str_value(level_name(l->level)); break;
		case K_BUURT: out[j] = str_value(db_value(l->areas, row, 2)); break;
		case K_WIJK: out[j] = str_value(db_value(l->areas, row, 3)); break;
		case K_GEMEENTE: out[j] = str_value(db_value(l->areas, row, 4)); break;
		case K_GROUP: out[j] = str_value(db_value(l->areas, row, 5)); break;
		case K_SCORE: out[j] = dbl_value(v->has_score, v->score); break;
		case K_RANK: out[j] = int_value(v->has_rank, v->rank); break;
		case K_RANKED_OF: out[j] = int_value(v->has_rank, v->ranked_of); break;
		case K_BAND: out[j] = int_value(v->has_band, v->band); break;
		case K_BANDS: out[j] = int_value(v->has_band, v->bands); break;
		case K_STATUS: out[j] = str_value(v->published ? "published" : "suppressed"); break;
		case K_SHOWN_FROM: out[j] = str_value(v->shown_wijk ? "wijk" : NULL); break;
		default: out[j] = str_value(NULL); break;
		}
	}
}

/* A hash of what goes into a tile of one scenario: its geometry and properties. */
static void input_hash(const struct tile_content *c, const struct schema *sc, const struct mvt_value *props,
		       unsigned char out[16])
{
	struct sbuf b = {0};
	const struct tile_polys *g = &c->geom;
	size_t npoly = g->poly_first[g->nfeat], nring = g->ring_first[npoly], npt = g->pt_first[nring];

	sbuf_append(&b, (const char *)g->poly_first, (g->nfeat + 1) * sizeof *g->poly_first);
	sbuf_append(&b, (const char *)g->ring_first, (npoly + 1) * sizeof *g->ring_first);
	sbuf_append(&b, (const char *)g->pt_first, (nring + 1) * sizeof *g->pt_first);
	sbuf_append(&b, (const char *)g->xy, 2 * npt * sizeof *g->xy);
	for (size_t k = 0; k < c->nfeat * sc->s.nkeys; k++) {
		const struct mvt_value *v = &props[k];

		sbuf_putc(&b, v->present ? 1 : 0);
		if (!v->present)
			continue;
		if (sc->types[k % sc->s.nkeys] == MVT_STRING)
			sbuf_append(&b, v->v.s, strlen(v->v.s) + 1);
		else
			sbuf_append(&b, (const char *)&v->v, 8);
	}
	hash128(b.s ? b.s : "", b.len, 0x7469, out);
	sbuf_free(&b);
}

/* ---- the previous release: tiles whose inputs did not change ---- */

struct prev_index {
	size_t n;
	struct prev_entry {
		int z;
		uint32_t x, y;
		unsigned char hash[16];
	} *e;
};

static int prev_cmp(const void *a, const void *b)
{
	const struct prev_entry *p = a, *q = b;

	if (p->z != q->z)
		return p->z < q->z ? -1 : 1;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return p->y < q->y ? -1 : p->y > q->y;
}

static void prev_load(struct prev_index *pi, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[128];

	memset(pi, 0, sizeof *pi);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		struct prev_entry en;
		char hex[33];
		unsigned x, y;

		if (sscanf(line, "%d/%u/%u\t%32s", &en.z, &x, &y, hex) != 4 || strlen(hex) != 32)
			continue;
		en.x = x;
		en.y = y;
		for (int i = 0; i < 16; i++)
			en.hash[i] = (unsigned char)(text_hexval(hex[2 * i]) << 4 | text_hexval(hex[2 * i + 1]));
		if (pi->n % 4096 == 0)
			pi->e = xrealloc(pi->e, (pi->n + 4096) * sizeof *pi->e);
		pi->e[pi->n++] = en;
	}
	fclose(f);
	if (pi->n)
		qsort(pi->e, pi->n, sizeof *pi->e, prev_cmp);
}

static bool prev_has(const struct prev_index *pi, int z, uint32_t x, uint32_t y, const unsigned char hash[16])
{
	struct prev_entry key = {.z = z, .x = x, .y = y};
	const struct prev_entry *hit = pi->n ? bsearch(&key, pi->e, pi->n, sizeof *pi->e, prev_cmp) : NULL;

	return hit && memcmp(hit->hash, hash, 16) == 0;
}

/* ---- the pass ---- */

struct scen_out {
	char *dir;            /* tiles/<scenario> */
	char *prev_dir;       /* the previous release's, or NULL */
	struct mbtiles *mb;
	struct mbtiles *prev_mb; /* read side of the previous MBTiles, or NULL */
	struct prev_index prev;
	struct sbuf inputs;   /* inputs.tsv */
	long long tiles, bytes_mvt, bytes_geojson, reused;
};

struct slot {
	bool empty;
	struct sbuf *mvt;     /* [scenario] gzipped MVT */
	unsigned char (*hash)[16];
	bool *reuse;          /* [scenario] */
	long long dropped;
	int err;
	struct err e;
};

struct pass {
	const struct config *cfg;
	const struct layer *l;
	struct schema sc;
	struct scen_out *out;
	bool pbf;
	int z;
	const bool *stop;     /* the caller gave up */
	/* the threads work on one batch while the tiles of the one before are
	 * stored (the MBTiles take them in order, from one thread) */
	struct batch {
		size_t first, count;
		struct slot *slots; /* [BATCH] */
	} batch[2];
	/* thread-seconds of the zoom: clipping, MVT (encoding and gzip), GeoJSON
	 * (encoding and writing the file), and storing MVT in the MBTiles */
	double t_clip, t_mvt, t_json, t_store;
};

/* A worker's {z}/{x} directory of one scenario, this release's and the
 * previous one's, kept open while its tiles come (they come column by
 * column), so that writing or linking a tile resolves one name, not the
 * whole path again. The directories are made before the tiles (make_columns). */
struct column {
	int z;
	uint32_t x;
	int fd, prev_fd; /* -1: not open */
	char path[1200];  /* this release's {z}/{x}, for messages */
};

static void column_close(struct column *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->prev_fd >= 0)
		close(c->prev_fd);
	c->fd = c->prev_fd = -1;
	c->z = -1;
}

static int column_fd(struct column *c, const char *dir, int z, uint32_t x, bool prev, struct err *e)
{
	char path[sizeof c->path];
	int *fd;

	if (c->z != z || c->x != x) {
		column_close(c);
		c->z = z;
		c->x = x;
	}
	fd = prev ? &c->prev_fd : &c->fd;
	if (*fd >= 0)
		return *fd;
	snprintf(path, sizeof path, "%s/%d/%u", dir, z, x);
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return err_set(e, ERR_SYSTEM, path, "cannot open the tiles directory: %s", strerror(errno));
	if (!prev)
		memcpy(c->path, path, sizeof path);
	return *fd;
}

static int write_tile_file(struct column *c, const char *dir, int z, uint32_t x, uint32_t y, const char *ext,
			   const char *data, size_t n, struct err *e)
{
	char name[64];
	int fd = column_fd(c, dir, z, x, false, e);

	if (fd < 0)
		return -1;
	snprintf(name, sizeof name, "%u.%s", y, ext);
	return fsx_write_file_at(fd, c->path, name, data, n, e);
}

/* Hard-link the previous release's file of a tile (releases never change). */
static int link_tile_file(struct column *c, const struct scen_out *o, int z, uint32_t x, uint32_t y,
			  const char *ext, struct err *e)
{
	char name[64];
	int fd = column_fd(c, o->dir, z, x, false, e), prev_fd;

	if (fd < 0)
		return -1;
	prev_fd = column_fd(c, o->prev_dir, z, x, true, e);
	if (prev_fd < 0)
		return -1;
	snprintf(name, sizeof name, "%u.%s", y, ext);
	if (linkat(prev_fd, name, fd, name, 0) < 0)
		return err_set(e, ERR_SYSTEM, o->dir, "cannot link the unchanged tile %d/%u/%s from %s: %s", z, x,
			       name, o->prev_dir, strerror(errno));
	return 0;
}

struct worker {
	struct pass *p;
	struct batch *b;
	size_t which; /* takes tiles first + which, + NTHREADS, ... */
	double t_clip, t_mvt, t_json;
};

static void *pass_worker(void *arg)
{
	struct worker *w = arg;
	struct pass *p = w->p;
	struct batch *b = w->b;
	size_t which = w->which;
	struct libdeflate_compressor *gz = libdeflate_alloc_compressor(GZIP_LEVEL);
	struct tile_content c = {0};
	struct sbuf mvt = {0}, json = {0};
	struct mvt_value *props = NULL;
	size_t props_cap = 0;
	size_t nscen = p->cfg->nscenarios;
	struct column *cols = xcalloc(nscen, sizeof *cols);

	for (size_t s = 0; s < nscen; s++)
		cols[s] = (struct column){.z = -1, .fd = -1, .prev_fd = -1};
	for (size_t i = b->first + which; i < b->first + b->count; i += NTHREADS) {
		struct slot *sl = &b->slots[i - b->first];
		uint32_t x, y;

		double t0 = now(), t1;

		tiler_tile_xy(p->l->tiler, i, &x, &y);
		if (tile_clip(p->l->tiler, i, &c) < 0) {
			sl->err = err_set(&sl->e, ERR_INTERNAL, NULL, "cannot clip tile %d/%u/%u", p->z, x, y);
			break;
		}
		t1 = now();
		w->t_clip += t1 - t0;
		if (c.nfeat == 0) {
			sl->empty = true;
			continue;
		}
		if (c.nfeat * p->sc.s.nkeys > props_cap) {
			props_cap = c.nfeat * p->sc.s.nkeys;
			props = xrealloc(props, props_cap * sizeof *props);
		}
		for (size_t s = 0; s < nscen && !sl->err; s++) {
			struct scen_out *o = &p->out[s];
			struct mvt_tile t = {p->z, x, y, &c.geom, c.nfeat, props};
			size_t bound;

			for (size_t k = 0; k < c.nfeat; k++)
				fill_props(p->l, &p->sc, s, c.feature[k], &props[k * p->sc.s.nkeys]);
			input_hash(&c, &p->sc, props, sl->hash[s]);
			if (o->prev_mb && prev_has(&o->prev, p->z, x, y, sl->hash[s])) {
				sl->reuse[s] = true;
				if (link_tile_file(&cols[s], o, p->z, x, y, "geojson", &sl->e) < 0 ||
				    (p->pbf && link_tile_file(&cols[s], o, p->z, x, y, "pbf", &sl->e) < 0))
					sl->err = -1;
				continue;
			}
			t0 = now();
			sbuf_reset(&mvt);
			mvt_encode(&mvt, &p->sc.s, &t);
			bound = libdeflate_gzip_compress_bound(gz, mvt.len);
			sbuf_reset(&sl->mvt[s]);
			if (sl->mvt[s].cap < bound + 1) {
				sl->mvt[s].s = xrealloc(sl->mvt[s].s, bound + 1);
				sl->mvt[s].cap = bound + 1;
			}
			sl->mvt[s].len = libdeflate_gzip_compress(gz, mvt.s, mvt.len, sl->mvt[s].s, bound);
			t1 = now();
			w->t_mvt += t1 - t0;
			sbuf_reset(&json);
			mvt_geojson(&json, &p->sc.s, &t, 3, s == 0 ? &sl->dropped : NULL);
			if (write_tile_file(&cols[s], o->dir, p->z, x, y, "geojson", json.s, json.len, &sl->e) < 0 ||
			    (p->pbf && write_tile_file(&cols[s], o->dir, p->z, x, y, "pbf", mvt.s, mvt.len, &sl->e) < 0)) {
				sl->err = -1;
				break;
			}
			__atomic_add_fetch(&o->bytes_geojson, (long long)json.len, __ATOMIC_RELAXED);
			w->t_json += now() - t1;
		}
		if (sl->err)
			break;
	}
	for (size_t s = 0; s < nscen; s++)
		column_close(&cols[s]);
	free(cols);
	libdeflate_free_compressor(gz);
	tile_content_free(&c);
	sbuf_free(&mvt);
	sbuf_free(&json);
	free(props);
	return NULL;
}

static void hex16(char out[33], const unsigned char h[16])
{
	static const char digit[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = digit[h[i] >> 4];
		out[2 * i + 1] = digit[h[i] & 15];
	}
	out[32] = '\0';
}

/* The threads of one batch. */
struct crew {
	pthread_t th[NTHREADS];
	struct worker w[NTHREADS];
	bool started[NTHREADS];
};

/* Start the batch's tiles on NTHREADS threads (in this one if a thread cannot start). */
static void crew_start(struct crew *c, struct pass *p, struct batch *b)
{
	for (size_t t = 0; t < NTHREADS; t++) {
		c->w[t] = (struct worker){p, b, t, 0, 0, 0};
		c->started[t] = pthread_create(&c->th[t], NULL, pass_worker, &c->w[t]) == 0;
		if (!c->started[t])
			pass_worker(&c->w[t]);
	}
}

static void crew_join(struct crew *c, struct pass *p)
{
	for (size_t t = 0; t < NTHREADS; t++) {
		if (c->started[t])
			pthread_join(c->th[t], NULL);
		p->t_clip += c->w[t].t_clip;
		p->t_mvt += c->w[t].t_mvt;
		p->t_json += c->w[t].t_json;
	}
}

/* Store a finished batch's tiles in order. */
static int store_batch(struct pass *p, const struct batch *b, struct tiles_stats *st, struct err *e)
{
	size_t nscen = p->cfg->nscenarios;
	double t0 = now();

	for (size_t i = 0; i < b->count; i++) {
		struct slot *sl = &b->slots[i];
		uint32_t x, y;

		if (sl->err) {
			*e = sl->e;
			return -1;
		}
		st->dropped_rings += sl->dropped;
		if (sl->empty)
			continue;
		tiler_tile_xy(p->l->tiler, b->first + i, &x, &y);
		for (size_t s = 0; s < nscen; s++) {
			struct scen_out *o = &p->out[s];
			char hex[33];
			const void *data = sl->mvt[s].s;
			size_t n = sl->mvt[s].len;
			void *blob = NULL;

			if (sl->reuse[s]) {
				if (mbtiles_get(o->prev_mb, p->z, x, y, &blob, &n, e) < 0)
					return -1;
				data = blob;
				o->reused++;
			}
			if (mbtiles_put(o->mb, p->z, x, y, data, n, e) < 0) {
				free(blob);
				return -1;
			}
			free(blob);
			hex16(hex, sl->hash[s]);
			sbuf_printf(&o->inputs, "%d/%u/%u\t%s\n", p->z, x, y, hex);
			o->tiles++;
			o->bytes_mvt += (long long)n;
			if ((long long)n > st->heaviest) {
				st->heaviest = (long long)n;
				snprintf(st->heaviest_at, sizeof st->heaviest_at, "%s %d/%u/%u", p->cfg->scenarios[s].name,
					 p->z, x, y);
			}
			if (n > MAX_TILE) {
				st->oversize++;
				log_msg(LOG_WARN, "tile %s %d/%u/%u is %zu bytes gzipped, over 500 KB",
					p->cfg->scenarios[s].name, p->z, x, y, n);
			}
		}
	}
	p->t_store += now() - t0;
	return 0;
}

/* Every scenario's {z}/{x} directory of the zoom's tiles. */
static int make_columns(struct pass *p, struct err *e)
{
	size_t ntiles = tiler_ntiles(p->l->tiler);

	for (size_t s = 0; s < p->cfg->nscenarios; s++) {
		uint32_t last = UINT32_MAX;

		for (size_t i = 0; i < ntiles; i++) {
			uint32_t x, y;
			char path[1200];

			tiler_tile_xy(p->l->tiler, i, &x, &y);
			if (x == last)
				continue;
			last = x;
			snprintf(path, sizeof path, "%s/%d/%u", p->out[s].dir, p->z, x);
			if (fsx_mkdirs(path, e) < 0)
				return -1;
		}
	}
	return 0;
}

/* Make ready a batch of tiles from first on. */
static void batch_prepare(struct batch *b, size_t first, size_t ntiles, size_t nscen)
{
	b->first = first;
	b->count = ntiles - first < BATCH ? ntiles - first : BATCH;
	for (size_t i = 0; i < b->count; i++) {
		struct slot *sl = &b->slots[i];

		sl->empty = false;
		sl->err = 0;
		sl->dropped = 0;
		memset(sl->reuse, 0, nscen * sizeof *sl->reuse);
	}
}

static int run_zoom(struct pass *p, struct tiles_stats *st, struct err *e)
{
	size_t nscen = p->cfg->nscenarios, ntiles = tiler_ntiles(p->l->tiler);
	struct crew crew;
	int rc = make_columns(p, e);

	if (rc < 0)
		return -1;

	for (int k = 0; k < 2; k++) {
		struct slot *slots = p->batch[k].slots = xcalloc(BATCH, sizeof *slots);

		for (size_t i = 0; i < BATCH; i++) {
			slots[i].mvt = xcalloc(nscen, sizeof *slots[i].mvt);
			slots[i].hash = xcalloc(nscen, sizeof *slots[i].hash);
			slots[i].reuse = xcalloc(nscen, sizeof *slots[i].reuse);
		}
	}
	if (ntiles > 0) {
		batch_prepare(&p->batch[0], 0, ntiles, nscen);
		crew_start(&crew, p, &p->batch[0]);
		crew_join(&crew, p);
	}
	for (size_t first = 0, k = 0; first < ntiles; first += BATCH, k = !k) {
		struct batch *b = &p->batch[k], *next = &p->batch[!k];
		bool more = rc == 0 && first + BATCH < ntiles;

		if (more) {
			batch_prepare(next, first + BATCH, ntiles, nscen);
			crew_start(&crew, p, next);
		}
		if (rc == 0)
			rc = store_batch(p, b, st, e);
		if (more)
			crew_join(&crew, p);
		if (rc < 0)
			break;
		log_progress("tiles", first + b->count, ntiles);
		if (signals_pending())
			rc = err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d", signals_pending());
		else if (p->stop && __atomic_load_n(p->stop, __ATOMIC_RELAXED))
			rc = err_set(e, ERR_SYSTEM, NULL, "stopped: the rest of the publication failed");
	}
	log_progress_end();
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < BATCH; i++) {
			for (size_t s = 0; s < nscen; s++)
				sbuf_free(&p->batch[k].slots[i].mvt[s]);
			free(p->batch[k].slots[i].mvt);
			free(p->batch[k].slots[i].hash);
			free(p->batch[k].slots[i].reuse);
		}
		free(p->batch[k].slots);
	}
	return rc;
}

/* ---- metadata ---- */

static void put_fields(struct sbuf *b, const struct schema *sc, bool tilejson)
{
	sbuf_puts(b, "{");
	for (size_t j = 0; j < sc->s.nkeys; j++) {
		sbuf_printf(b, "%s\"%s\": ", j ? ", " : "", sc->keys[j]);
		if (tilejson)
			sbuf_json_string(b, key_about[sc->which[j]]);
		else
			sbuf_puts(b, sc->types[j] == MVT_STRING ? "\"String\"" : "\"Number\"");
	}
	sbuf_puts(b, "}");
}

static void put_vector_layers(struct sbuf *b, const struct layer *layers, size_t nl, bool tilejson)
{
	sbuf_puts(b, "[");
	for (size_t i = 0; i < nl; i++) {
		struct schema sc;

		make_schema(&sc, layers[i].level);
		sbuf_printf(b, "%s{\"id\": \"%s\", \"minzoom\": %d, \"maxzoom\": %d, \"fields\": ", i ? ", " : "",
			    level_name(layers[i].level), layers[i].zmin, layers[i].zmax);
		put_fields(b, &sc, tilejson);
		sbuf_puts(b, "}");
	}
	sbuf_puts(b, "]");
}

struct extent {
	double w, s, e, n;
	int zmin, zmax;
};

static int write_metadata(const struct config *cfg, size_t s, struct scen_out *o, const struct layer *layers,
			  size_t nl, const struct extent *x, const struct sbuf *zoomstats, struct err *e)
{
	const struct config_scenario *sc = &cfg->scenarios[s];
	struct sbuf json = {0}, v = {0}, tj = {0};
	char *path;
	int rc = 0;

	put_vector_layers(&json, layers, nl, false);
	sbuf_printf(&v, "{\"vector_layers\": %s}", json.s);
	sbuf_reset(&json);
	sbuf_printf(&json, "%.6f,%.6f,%.6f,%.6f", x->w, x->s, x->e, x->n);
	{
		char zmin[8], zmax[8], center[96];

		snprintf(zmin, sizeof zmin, "%d", x->zmin);
		snprintf(zmax, sizeof zmax, "%d", x->zmax);
		snprintf(center, sizeof center, "%.6f,%.6f,%d", (x->w + x->e) / 2, (x->s + x->n) / 2, x->zmin);
		rc = mbtiles_meta(o->mb, "name", sc->name, e) < 0 || mbtiles_meta(o->mb, "description", sc->title, e) < 0 ||
		     mbtiles_meta(o->mb, "format", "pbf", e) < 0 || mbtiles_meta(o->mb, "type", "overlay", e) < 0 ||
		     mbtiles_meta(o->mb, "version", "1", e) < 0 || mbtiles_meta(o->mb, "bounds", json.s, e) < 0 ||
		     mbtiles_meta(o->mb, "center", center, e) < 0 || mbtiles_meta(o->mb, "minzoom", zmin, e) < 0 ||
		     mbtiles_meta(o->mb, "maxzoom", zmax, e) < 0 || mbtiles_meta(o->mb, "json", v.s, e) < 0 ||
		     (cfg->attribution && mbtiles_meta(o->mb, "attribution", cfg->attribution, e) < 0)
			     ? -1
			     : 0;
	}
	if (rc < 0)
		goto out;
	sbuf_puts(&tj, "{\n  \"tilejson\": \"3.0.0\",\n  \"name\": ");
	sbuf_json_string(&tj, sc->name);
	sbuf_puts(&tj, ",\n  \"description\": ");
	sbuf_json_string(&tj, sc->title);
	sbuf_puts(&tj, ",\n  \"scheme\": \"xyz\",\n  \"tiles\": [\"{z}/{x}/{y}.geojson\"],\n  \"format\": \"geojson\"");
	sbuf_printf(&tj, ",\n  \"minzoom\": %d,\n  \"maxzoom\": %d", x->zmin, x->zmax);
	sbuf_printf(&tj, ",\n  \"bounds\": [%.6f, %.6f, %.6f, %.6f]", x->w, x->s, x->e, x->n);
	sbuf_printf(&tj, ",\n  \"center\": [%.6f, %.6f, %d]", (x->w + x->e) / 2, (x->s + x->n) / 2, x->zmin);
	if (cfg->attribution) {
		sbuf_puts(&tj, ",\n  \"attribution\": ");
		sbuf_json_string(&tj, cfg->attribution);
	}
	sbuf_puts(&tj, ",\n  \"vector_layers\": ");
	sbuf_reset(&json);
	put_vector_layers(&json, layers, nl, true);
	sbuf_append(&tj, json.s, json.len);
	sbuf_printf(&tj, ",\n  \"mbtiles\": \"../%s.mbtiles\",\n  \"zooms\": [%s\n  ]\n}\n", sc->name, zoomstats->s ? zoomstats->s : "");
	path = xasprintf("%s/tiles.json", o->dir);
	rc = fsx_write_file(path, tj.s, tj.len, e);
	free(path);
	if (rc == 0) {
		path = xasprintf("%s/inputs.tsv", o->dir);
		rc = fsx_write_file(path, o->inputs.s ? o->inputs.s : "", o->inputs.len, e);
		free(path);
	}
out:
	sbuf_free(&json);
	sbuf_free(&v);
	sbuf_free(&tj);
	return rc;
}


int tiles_bounds(struct db *db, double b[4], struct err *e)
{
	struct db_result *r = db_query(
		db,
		"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM"
		" (SELECT ST_Extent(ST_Transform(geom, 4326)) AS b FROM protected_area WHERE level = 'gemeente') q",
		0, NULL, e);
	int got;

	if (!r)
		return -1;
	got = db_value(r, 0, 0) != NULL;
	for (int i = 0; got && i < 4; i++)
		b[i] = strtod(db_value(r, 0, i), NULL);
	db_result_free(r);
	return got;
}

int tiles_write(struct db *db, const struct config *cfg, const char *dir, const char *prev, int minzoom,
		int maxzoom, const bool *stop, struct tiles_stats *st, struct err *e)
{
	static const enum level order[] = {LEVEL_WIJK, LEVEL_BUURT, LEVEL_PC6};
	size_t nscen = cfg->nscenarios, nl = 0;
	struct layer layers[3] = {0};
	struct scen_out *out = xcalloc(nscen, sizeof *out);
	struct sbuf zoomstats = {0};
	struct extent x = {.zmin = 99, .zmax = -1};
	int rc = -1;

	memset(st, 0, sizeof *st);
	for (size_t i = 0; i < 3; i++) {
		const int *zr = cfg->tiles.zoom[order[i]];
		int a = zr[0], b = zr[1];

		if (a < 0)
			continue;
		if (minzoom >= 0 && a < minzoom)
			a = minzoom;
		if (maxzoom >= 0 && b > maxzoom)
			b = maxzoom;
		if (a > b)
			continue;
		layers[nl++] = (struct layer){.level = order[i], .zmin = a, .zmax = b};
		if (a < x.zmin)
			x.zmin = a;
		if (b > x.zmax)
			x.zmax = b;
	}
	if (nl == 0) {
		rc = 0;
		log_msg(LOG_INFO, "no tiles: no level is tiled at the zooms asked for");
		goto done;
	}
	{
		double b[4];
		int got = tiles_bounds(db, b, e);

		if (got < 0)
			goto done;
		if (got) {
			x.w = b[0];
			x.s = b[1];
			x.e = b[2];
			x.n = b[3];
		}
	}
	for (size_t s = 0; s < nscen; s++) {
		char *path;

		out[s].dir = xasprintf("%s/tiles/%s", dir, cfg->scenarios[s].name);
		if (fsx_mkdirs(out[s].dir, e) < 0)
			goto done;
		path = xasprintf("%s/tiles/%s.mbtiles", dir, cfg->scenarios[s].name);
		out[s].mb = mbtiles_create(path, e);
		free(path);
		if (!out[s].mb)
			goto done;
		if (prev) {
			struct err ignored;

			out[s].prev_dir = xasprintf("%s/tiles/%s", prev, cfg->scenarios[s].name);
			path = xasprintf("%s/inputs.tsv", out[s].prev_dir);
			prev_load(&out[s].prev, path);
			free(path);
			path = xasprintf("%s/tiles/%s.mbtiles", prev, cfg->scenarios[s].name);
			if (out[s].prev.n && !(out[s].prev_mb = mbtiles_open_immutable(path, &ignored)))
				log_msg(LOG_INFO, "previous tiles of %s not readable, encoding all: %s",
					cfg->scenarios[s].name, ignored.message);
			free(path);
		}
	}
	for (size_t i = 0; i < nl; i++) {
		struct layer *l = &layers[i];
		double t0 = now();

		if (read_layer(db, cfg, l, e) < 0)
			goto done;
		log_msg(LOG_DEBUG, "tiles: read %zu %s areas in %.3f s", l->nfeat, level_plural(l->level), now() - t0);
		for (int z = l->zmin; z <= l->zmax; z++) {
			struct tile_zoom_stats zs;
			struct pass p = {.cfg = cfg, .l = l, .out = out, .pbf = cfg->tiles.pbf, .z = z, .stop = stop};
			long long before_tiles = 0, before_mvt = 0, before_json = 0, before_reused = 0;
			double tz = now(), tsimp;

			make_schema(&p.sc, l->level);
			for (size_t s = 0; s < nscen; s++) {
				before_tiles += out[s].tiles;
				before_mvt += out[s].bytes_mvt;
				before_json += out[s].bytes_geojson;
				before_reused += out[s].reused;
			}
			if (tiler_zoom(l->tiler, z, TOLERANCE, &zs) < 0) {
				err_set(e, ERR_INTERNAL, NULL, "cannot simplify for zoom %d", z);
				goto done;
			}
			tsimp = now() - tz;
			if (run_zoom(&p, st, e) < 0)
				goto done;
			{
				long long t = 0, bm = 0, bj = 0, ru = 0;

				for (size_t s = 0; s < nscen; s++) {
					t += out[s].tiles;
					bm += out[s].bytes_mvt;
					bj += out[s].bytes_geojson;
					ru += out[s].reused;
				}
				t -= before_tiles;
				bm -= before_mvt;
				bj -= before_json;
				ru -= before_reused;
				log_msg(LOG_INFO,
					"tiles level=%s zoom=%d tiles=%lld reused=%lld bytes_mvt=%lld bytes_geojson=%lld"
					" points=%lld/%lld rings_dropped=%lld features_dropped=%lld polys_invalid=%lld"
					" seconds=%.3f simplify_s=%.3f clip_s=%.3f mvt_s=%.3f geojson_s=%.3f store_s=%.3f",
					level_name(l->level), z, t, ru, bm, bj, zs.points_out, zs.points_in,
					zs.rings_dropped, zs.features_dropped, zs.polys_invalid, now() - tz, tsimp,
					p.t_clip / NTHREADS, p.t_mvt / NTHREADS, p.t_json / NTHREADS, p.t_store);
				sbuf_printf(&zoomstats,
					    "%s\n    {\"zoom\": %d, \"layer\": \"%s\", \"tiles\": %lld, \"points\": %lld,"
					    " \"points_before_simplifying\": %lld, \"rings_dropped\": %lld,"
					    " \"features_dropped\": %lld, \"arcs_simplified_less\": %lld, \"polygons_invalid\": %lld}",
					    zoomstats.len ? "," : "", z, level_name(l->level), t / (long long)nscen,
					    zs.points_out, zs.points_in, zs.rings_dropped, zs.features_dropped, zs.arcs_fallback,
					    zs.polys_invalid);
			}
		}
		tiler_free(l->tiler);
		l->tiler = NULL;
		db_result_free(l->areas);
		l->areas = NULL;
	}
	for (size_t s = 0; s < nscen; s++) {
		if (write_metadata(cfg, s, &out[s], layers, nl, &x, &zoomstats, e) < 0)
			goto done;
		if (mbtiles_close(out[s].mb, e) < 0) {
			out[s].mb = NULL;
			goto done;
		}
		out[s].mb = NULL;
		st->tiles += out[s].tiles;
		st->reused += out[s].reused;
		st->bytes_mvt += out[s].bytes_mvt;
		st->bytes_geojson += out[s].bytes_geojson;
	}
	if (fsx_syncfs(dir, e) < 0)
		goto done;
	rc = 0;
done:
	for (size_t i = 0; i < 3; i++) {
		tiler_free(layers[i].tiler);
		db_result_free(layers[i].areas);
		free(layers[i].val);
	}
	for (size_t s = 0; s < nscen; s++) {
		mbtiles_abort(out[s].mb);
		mbtiles_abort(out[s].prev_mb);
		free(out[s].dir);
		free(out[s].prev_dir);
		free(out[s].prev.e);
		sbuf_free(&out[s].inputs);
	}
	free(out);
	sbuf_free(&zoomstats);
	return rc;
}
