#include "pc6risk/gpkg.h"
#include "pc6risk/fsx.h"
#include "pc6risk/log.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"
#include "pc6risk/style.h"
#include "pc6risk/xalloc.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <errno.h>
#include <fcntl.h>
#include <gdal.h>
#include <limits.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Where a GeoPackage records a time (gpkg_contents.last_change, layer_styles):
 * a fixed value, so the bytes depend only on the data. */
#define FIXED_DATE "2000-01-01T00:00:00.000Z"

/* Areas fetched from the cursor at a time. */
#define BATCH 2000

/* The levels with layers and CSV files, fine last. */
static const struct {
	enum level level;
	const char *csv;
} levels[] = {{LEVEL_WIJK, "wijken.csv"}, {LEVEL_BUURT, "buurten.csv"}, {LEVEL_PC6, "pc6.csv"}};

/* One row per area and scenario ($2, in its order), areas in code order; the
 * geometry (as WKB) on the first scenario's row only, and only when $3.
 * Columns 0-8 are the same for both queries. */
#define AREA_COLUMNS                                                                                     \
	"SELECT a.code, a.name, a.buurt_code, a.wijk_code, a.gemeente_code, a.group_code, a.unit_code,"  \
	" CASE WHEN $3::bool AND s.ord = 1 THEN ST_AsBinary(a.geom) END, s.name"
#define AREA_FROM " FROM protected_area a CROSS JOIN unnest($2::text[]) WITH ORDINALITY s(name, ord)"
#define AREA_ORDER " WHERE a.level = $1 ORDER BY a.code COLLATE \"C\", s.ord"

/* wijk and buurt: 9 status, 10 note, 11 score, 12 rank, 13 ranked (as build_geojson).
 * Fetched in binary (the WKB as bytes, not hex), so every other column is text:
 * the numbers as PostgreSQL writes them in text. */
static const char values_cursor[] =
	"DECLARE gpkg_areas NO SCROLL CURSOR FOR " AREA_COLUMNS ", v.status,"
	" coalesce(v.reason, 'below the size rules on its own: shows its ' || v.shown_from || '''s score'),"
	" v.score::text, v.rank::text, v.ranked::text" AREA_FROM
	" LEFT JOIN protected_value v ON v.level = a.level AND v.code = a.code AND v.scenario = s.name" AREA_ORDER;

/* pc6: 9 band, 10 bands, 11 score of its group (as build_geojson). */
static const char bands_cursor[] =
	"DECLARE gpkg_areas NO SCROLL CURSOR FOR " AREA_COLUMNS ", g.band::text, g.bands::text, g.score::text" AREA_FROM
	" LEFT JOIN protected_group_value g ON g.group_code = a.group_code AND g.scenario = s.name" AREA_ORDER;

static const char *const area_fields[] = {"code", "name", "buurt_code", "wijk_code", "gemeente_code", "group", "unit"};
#define NAREA_FIELDS 7

/* What an area shows for one scenario: the properties of build_geojson. */
struct value {
	const char *status;
	char score[32]; /* "" for null; one decimal, as published */
	const char *rank, *ranked, *band, *bands;
	struct sbuf note;
	bool has_note;
};

/* A layer being written: one level, one scenario. */
struct layer {
	const struct config_scenario *s;
	enum level level;
	char *name;
	OGRLayerH h;
	double *values; /* the published values, for the style's classes */
	size_t nvalues, cap;
	int bands;
	long long features;
	struct style style;
	char *qml, *sld;
};

struct writer {
	struct db *db;
	const struct config *cfg;
	const char *dir;
	char *path;
	GDALDatasetH ds;
	OGRSpatialReferenceH srs;
	bool in_transaction;
	struct layer *layers;
	size_t nlayers;
};

static void CPL_STDCALL gdal_log(CPLErr cls, CPLErrorNum no, const char *msg)
{
	(void)no;
	if (cls == CE_Warning)
		log_msg(LOG_DEBUG, "gdal: %s", msg);
}

static int gdal_fail(const struct writer *w, const char *what, struct err *e)
{
	const char *m = CPLGetLastErrorMsg();

	return err_set(e, ERR_SYSTEM, w->path, "%s%s%s", what, m[0] ? ": " : "", m);
}

static void fill_value(struct value *v, enum level level, const struct config_scenario *s,
		       struct db_result *r, int row)
{
	const char *score;

	sbuf_reset(&v->note);
	v->has_note = false;
	v->score[0] = '\0';
	v->rank = v->ranked = v->band = v->bands = NULL;
	if (level == LEVEL_PC6) {
		v->band = db_value(r, row, 9);
		v->bands = db_value(r, row, 10);
		score = db_value(r, row, 11);
		if (v->band) {
			v->status = "published";
			sbuf_printf(&v->note, "band %s of %s (1 = least risk) of group %s", v->band,
				    v->bands ? v->bands : "?", db_value(r, row, 5) ? db_value(r, row, 5) : "?");
			v->has_note = true;
		} else {
			v->status = s->outputs[LEVEL_PC6] ? "suppressed" : "not_scored";
			if (s->outputs[LEVEL_PC6]) {
				sbuf_puts(&v->note, "its buurt is below the size rules: see the buurt");
				v->has_note = true;
			}
			score = NULL;
		}
	} else {
		v->status = db_value(r, row, 9) ? db_value(r, row, 9) : "not_scored";
		if (db_value(r, row, 10)) {
			sbuf_puts(&v->note, db_value(r, row, 10));
			v->has_note = true;
		}
		score = db_value(r, row, 11);
		v->rank = db_value(r, row, 12);
		v->ranked = db_value(r, row, 13);
	}
	if (score) {
		struct sbuf b = {0};

		sbuf_json_number(&b, strtod(score, NULL), 1);
		snprintf(v->score, sizeof v->score, "%s", b.s);
		sbuf_free(&b);
	}
}

/* A Postgres array literal of the scenario names. */
static char *name_array(const struct config_scenario *const *s, size_t n)
{
	struct sbuf b = {0};
	const char **names = xcalloc(n + 1, sizeof *names);

	for (size_t i = 0; i < n; i++)
		names[i] = s[i]->name;
	db_text_array(&b, names, n);
	free(names);
	return sbuf_take(&b);
}

/* Call fn for each area of the level: rows first..first+n-1 of r are its
 * rows, one per scenario in the order given. Runs a cursor in the caller's
 * transaction. */
typedef int (*area_fn)(void *arg, struct db_result *r, int first, struct err *e);

static int walk_level(struct db *db, enum level level, const struct config_scenario *const *s, size_t n,
		      bool with_geom, area_fn fn, void *arg, struct err *e)
{
	char *names = name_array(s, n);
	char fetch[64];
	const char *params[3] = {level_name(level), names, with_geom ? "true" : "false"};
	int rc = -1;

	if (db_execp(db, level == LEVEL_PC6 ? bands_cursor : values_cursor, 3, params, e) < 0)
		goto out;
	snprintf(fetch, sizeof fetch, "FETCH %zu FROM gpkg_areas", (size_t)BATCH * n);
	for (;;) {
		struct db_result *r = db_query_binary(db, fetch, 0, NULL, e);
		int rows, w = 0;

		if (!r)
			goto out;
		rows = db_nrows(r);
		for (int i = 0; i + (int)n <= rows && w == 0; i += (int)n)
			w = fn(arg, r, i, e);
		db_result_free(r);
		if (w < 0)
			goto out;
		if (rows < BATCH * (int)n)
			break;
		if (signals_pending()) {
			err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d", signals_pending());
			goto out;
		}
	}
	rc = db_exec(db, "CLOSE gpkg_areas", e);
out:
	free(names);
	return rc;
}

struct csv_pass {
	struct fsx_out out;
	enum level level;
	const struct config_scenario *const *s;
	size_t n;
	struct value v;
	long long rows;
};

static int csv_area(void *arg, struct db_result *r, int first, struct err *e)
{
	struct csv_pass *p = arg;
	struct sbuf *b = &p->out.b;

	for (int f = 0; f < NAREA_FIELDS; f++) {
		if (f == 2)
			sbuf_printf(b, ",%s", level_name(p->level));
		if (f)
			sbuf_putc(b, ',');
		sbuf_csv_field(b, db_value(r, first, f), ',');
	}
	for (size_t i = 0; i < p->n; i++) {
		struct value *v = &p->v;

		fill_value(v, p->level, p->s[i], r, first + (int)i);
		sbuf_printf(b, ",%s,%s,%s,%s,", v->score, v->rank ? v->rank : "", v->ranked ? v->ranked : "",
			    v->band ? v->band : "");
		sbuf_csv_field(b, v->status, ',');
		sbuf_putc(b, ',');
		sbuf_csv_field(b, v->has_note ? v->note.s : NULL, ',');
	}
	sbuf_puts(b, "\r\n");
	p->rows++;
	return fsx_out_flush(&p->out, FSX_OUT_BATCH, e);
}

/* <level>.csv: every area of the level with every scenario's properties. */
static int write_csv(struct writer *w, size_t li, struct publish_stats *st, struct err *e)
{
	const struct config *cfg = w->cfg;
	const struct config_scenario **s = xcalloc(cfg->nscenarios, sizeof *s);
	struct csv_pass p = {.level = levels[li].level, .s = s, .n = cfg->nscenarios};
	int rc = -1;

	for (size_t i = 0; i < cfg->nscenarios; i++)
		s[i] = &cfg->scenarios[i];
	if (fsx_out_open(&p.out, w->dir, levels[li].csv, e) < 0)
		goto out;
	sbuf_puts(&p.out.b, "code,name,level,buurt_code,wijk_code,gemeente_code,group,unit");
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		static const char *const props[] = {"score", "rank", "ranked_of", "band", "status", "note"};

		for (size_t k = 0; k < 6; k++) {
			char *col = xasprintf("%s_%s", s[i]->name, props[k]);

			sbuf_putc(&p.out.b, ',');
			sbuf_csv_field(&p.out.b, col, ',');
			free(col);
		}
	}
	sbuf_puts(&p.out.b, "\r\n");
	rc = walk_level(w->db, p.level, s, p.n, false, csv_area, &p, e);
out:
	if (fsx_out_close(&p.out, rc == 0, e) < 0)
		rc = -1;
	if (rc == 0) {
		st->files++;
		log_msg(LOG_DEBUG, "wrote %s rows=%lld", levels[li].csv, p.rows);
	}
	sbuf_free(&p.v.note);
	free(s);
	return rc;
}

struct layer_pass {
	struct writer *w;
	struct layer *l;
	struct value v;
};

static int layer_area(void *arg, struct db_result *r, int first, struct err *e)
{
	struct layer_pass *p = arg;
	struct writer *w = p->w;
	struct layer *l = p->l;
	struct value *v = &p->v;
	OGRGeometryH g = NULL;
	OGRFeatureH f;
	const unsigned char *wkb = (const unsigned char *)db_value(r, first, 7);
	size_t n = wkb ? db_length(r, first, 7) : 0;
	int fi = 0, rc = 0;

	if (!wkb || n > INT_MAX || OGR_G_CreateFromWkb(wkb, w->srs, &g, (int)n) != OGRERR_NONE || !g)
		return err_set(e, ERR_INTERNAL, w->path, "%s %s: a geometry GDAL cannot read",
			       level_name(l->level), db_value(r, first, 0));
	g = OGR_G_ForceToMultiPolygon(g);
	fill_value(v, l->level, l->s, r, first);
	f = OGR_F_Create(OGR_L_GetLayerDefn(l->h));
	for (; fi < NAREA_FIELDS; fi++)
		if (db_value(r, first, fi))
			OGR_F_SetFieldString(f, fi, db_value(r, first, fi));
	if (v->score[0]) {
		double x = strtod(v->score, NULL);

		OGR_F_SetFieldDouble(f, fi, x);
		if (l->level != LEVEL_PC6) {
			if (l->nvalues == l->cap) {
				l->cap = l->cap ? 2 * l->cap : 256;
				l->values = xrealloc(l->values, l->cap * sizeof *l->values);
			}
			l->values[l->nvalues++] = x;
		}
	}
	fi++;
	if (v->rank)
		OGR_F_SetFieldInteger(f, fi, atoi(v->rank));
	fi++;
	if (v->ranked)
		OGR_F_SetFieldInteger(f, fi, atoi(v->ranked));
	fi++;
	if (v->band)
		OGR_F_SetFieldInteger(f, fi, atoi(v->band));
	if (v->bands && atoi(v->bands) > l->bands)
		l->bands = atoi(v->bands);
	fi++;
	OGR_F_SetFieldString(f, fi++, v->status);
	if (v->has_note)
		OGR_F_SetFieldString(f, fi, v->note.s);
	OGR_F_SetGeometryDirectly(f, g);
	CPLErrorReset();
	if (OGR_L_CreateFeature(l->h, f) != OGRERR_NONE)
		rc = gdal_fail(w, "cannot write a feature", e);
	OGR_F_Destroy(f);
	l->features++;
	return rc;
}

static int add_field(struct writer *w, OGRLayerH h, const char *name, OGRFieldType type, struct err *e)
{
	OGRFieldDefnH fd = OGR_Fld_Create(name, type);
	OGRErr rc = OGR_L_CreateField(h, fd, TRUE);

	OGR_Fld_Destroy(fd);
	return rc == OGRERR_NONE ? 0 : gdal_fail(w, "cannot create a field", e);
}

static int write_layer(struct writer *w, struct layer *l, struct err *e)
{
	static const char *const props[] = {"score", "rank", "ranked_of", "band", "status", "note"};
	static const OGRFieldType types[] = {OFTReal, OFTInteger, OFTInteger, OFTInteger, OFTString, OFTString};
	char *desc = xasprintf("DESCRIPTION=%s: %s", level_plural(l->level), l->s->title ? l->s->title : l->s->name);
	char *options[] = {desc, "FID=fid", "GEOMETRY_NAME=geom", "SPATIAL_INDEX=YES", NULL};
	struct layer_pass p = {.w = w, .l = l};
	int rc = -1;

	CPLErrorReset();
	l->h = GDALDatasetCreateLayer(w->ds, l->name, w->srs, wkbMultiPolygon, options);
	free(desc);
	if (!l->h)
		return gdal_fail(w, "cannot create a layer", e);
	for (size_t i = 0; i < NAREA_FIELDS; i++)
		if (add_field(w, l->h, area_fields[i], OFTString, e) < 0)
			return -1;
	for (size_t i = 0; i < 6; i++) {
		char *name = xasprintf("%s_%s", l->s->name, props[i]);
		int a = add_field(w, l->h, name, types[i], e);

		free(name);
		if (a < 0)
			return -1;
	}
	rc = walk_level(w->db, l->level, &l->s, 1, true, layer_area, &p, e);
	sbuf_free(&p.v.note);
	return rc;
}

double gpkg_published(double score)
{
	struct sbuf b = {0};
	double v;

	sbuf_json_number(&b, score, 1);
	v = strtod(b.s, NULL);
	sbuf_free(&b);
	return v;
}

void gpkg_style(const struct config *cfg, const struct config_scenario *s, enum level level, const double *values,
		size_t n, int bands, struct style *st)
{
	char *attr, *title = xasprintf("%s: %s", s->title ? s->title : s->name,
				       level == LEVEL_PC6 ? "band of the PC6 group" : "score");

	if (level == LEVEL_PC6) {
		attr = xasprintf("%s_band", s->name);
		style_bands(st, attr, title, bands ? bands : cfg->privacy.bands);
	} else {
		attr = xasprintf("%s_score", s->name);
		style_quantiles(st, attr, title, values, n, STYLE_QUANTILES);
	}
	free(attr);
	free(title);
}

/* The layer's style, from what was written: quantiles of the scores, or the
 * bands. */
static void make_style(const struct config *cfg, struct layer *l)
{
	struct sbuf q = {0}, s = {0};

	gpkg_style(cfg, l->s, l->level, l->values, l->nvalues, l->bands, &l->style);
	style_qml(&l->style, &q);
	style_sld(&l->style, l->name, &s);
	l->qml = sbuf_take(&q);
	l->sld = sbuf_take(&s);
}

/* QGIS's layer_styles table (the schema QGIS creates, so QGIS finds the
 * styles): one default style per layer. */
static int write_styles(struct writer *w, struct err *e)
{
	static const struct {
		const char *name;
		OGRFieldType type;
		int width;
	} fields[] = {
		{"f_table_catalog", OFTString, 256}, {"f_table_schema", OFTString, 256},
		{"f_table_name", OFTString, 256},    {"f_geometry_column", OFTString, 256},
		{"styleName", OFTString, 30},        {"styleQML", OFTString, 0},
		{"styleSLD", OFTString, 0},          {"useAsDefault", OFTInteger, 0},
		{"description", OFTString, 0},       {"owner", OFTString, 30},
		{"ui", OFTString, 30},               {"update_time", OFTDateTime, 0},
	};
	char *options[] = {"FID=id", "DESCRIPTION=QGIS styles of the layers", NULL};
	OGRLayerH h;

	CPLErrorReset();
	h = GDALDatasetCreateLayer(w->ds, "layer_styles", NULL, wkbNone, options);
	if (!h)
		return gdal_fail(w, "cannot create layer_styles", e);
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		OGRFieldDefnH fd = OGR_Fld_Create(fields[i].name, fields[i].type);
		OGRErr rc;

		if (fields[i].width)
			OGR_Fld_SetWidth(fd, fields[i].width);
		if (strcmp(fields[i].name, "useAsDefault") == 0)
			OGR_Fld_SetSubType(fd, OFSTBoolean);
		rc = OGR_L_CreateField(h, fd, TRUE);
		OGR_Fld_Destroy(fd);
		if (rc != OGRERR_NONE)
			return gdal_fail(w, "cannot create a field of layer_styles", e);
	}
	for (size_t i = 0; i < w->nlayers; i++) {
		const struct layer *l = &w->layers[i];
		OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(h));
		OGRErr rc;

		OGR_F_SetFieldString(f, 0, "");
		OGR_F_SetFieldString(f, 1, "");
		OGR_F_SetFieldString(f, 2, l->name);
		OGR_F_SetFieldString(f, 3, "geom");
		OGR_F_SetFieldString(f, 4, l->name);
		OGR_F_SetFieldString(f, 5, l->qml);
		OGR_F_SetFieldString(f, 6, l->sld);
		OGR_F_SetFieldInteger(f, 7, 1);
		OGR_F_SetFieldString(f, 8, l->style.title);
		OGR_F_SetFieldString(f, 9, "pc6risk");
		OGR_F_SetFieldString(f, 10, "");
		OGR_F_SetFieldDateTimeEx(f, 11, 2000, 1, 1, 0, 0, 0, 100); /* fixed: same bytes each run */
		CPLErrorReset();
		rc = OGR_L_CreateFeature(h, f);
		OGR_F_Destroy(f);
		if (rc != OGRERR_NONE)
			return gdal_fail(w, "cannot write a style", e);
	}
	return 0;
}

/* buurten.qml and buurten.<scenario>.qml beside buurten.geojson. */
static int write_qml_files(struct writer *w, struct publish_stats *st, struct err *e)
{
	bool first = true;

	for (size_t i = 0; i < w->nlayers; i++) {
		const struct layer *l = &w->layers[i];
		char *name;
		struct fsx_out o;
		int rc;

		if (l->level != LEVEL_BUURT)
			continue;
		for (int k = first ? 0 : 1; k < 2; k++) {
			name = k == 0 ? xstrdup("buurten.qml") : xasprintf("buurten.%s.qml", l->s->name);
			rc = fsx_out_open(&o, w->dir, name, e);
			free(name);
			if (rc == 0)
				sbuf_puts(&o.b, l->qml);
			if (fsx_out_close(&o, rc == 0, e) < 0 || rc < 0)
				return -1;
			st->files++;
		}
		first = false;
	}
	return 0;
}

static void writer_free(struct writer *w)
{
	if (w->ds) {
		if (w->in_transaction)
			GDALDatasetRollbackTransaction(w->ds);
		GDALClose(w->ds);
		unlink(w->path);
	}
	if (w->srs)
		OSRDestroySpatialReference(w->srs);
	for (size_t i = 0; i < w->nlayers; i++) {
		free(w->layers[i].name);
		free(w->layers[i].values);
		free(w->layers[i].qml);
		free(w->layers[i].sld);
		style_free(&w->layers[i].style);
	}
	free(w->layers);
	free(w->path);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int gpkg_write(struct db *db, const struct config *cfg, const char *dir, struct publish_stats *st, struct err *e)
{
	struct writer w = {.db = db, .cfg = cfg, .dir = dir};
	struct timespec t0;
	GDALDriverH drv;
	long long features = 0;
	int rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++)
		if (write_csv(&w, li, st, e) < 0)
			return -1;

	GDALAllRegister();
	CPLPushErrorHandler(gdal_log);
	CPLSetConfigOption("OGR_CURRENT_DATE", FIXED_DATE);
	w.path = xasprintf("%s/pc6risk.gpkg", dir);
	drv = GDALGetDriverByName("GPKG");
	if (!drv) {
		err_set(e, ERR_INTERNAL, w.path, "this GDAL has no GeoPackage driver");
		goto out;
	}
	CPLErrorReset();
	w.ds = GDALCreate(drv, w.path, 0, 0, 0, GDT_Unknown, NULL);
	if (!w.ds) {
		gdal_fail(&w, "cannot create the GeoPackage", e);
		goto out;
	}
	w.srs = OSRNewSpatialReference(NULL);
	OSRImportFromEPSG(w.srs, 28992);
	OSRSetAxisMappingStrategy(w.srs, OAMS_TRADITIONAL_GIS_ORDER);
	w.layers = xcalloc(3 * cfg->nscenarios + 1, sizeof *w.layers);
	for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
		for (size_t i = 0; i < cfg->nscenarios; i++) {
			struct layer *l = &w.layers[w.nlayers];

			if (!cfg->scenarios[i].outputs[levels[li].level])
				continue;
			l->s = &cfg->scenarios[i];
			l->level = levels[li].level;
			l->name = xasprintf("%s_%s", level_name(l->level), l->s->name);
			w.nlayers++;
		}
	}
	if (GDALDatasetStartTransaction(w.ds, FALSE) != OGRERR_NONE) {
		gdal_fail(&w, "cannot start writing", e);
		goto out;
	}
	w.in_transaction = true;
	for (size_t i = 0; i < w.nlayers; i++) {
		if (write_layer(&w, &w.layers[i], e) < 0)
			goto out;
		make_style(cfg, &w.layers[i]);
		features += w.layers[i].features;
		log_msg(LOG_DEBUG, "wrote layer %s features=%lld classes=%zu", w.layers[i].name, w.layers[i].features,
			w.layers[i].style.nclasses);
	}
	if (write_styles(&w, e) < 0)
		goto out;
	w.in_transaction = false;
	if (GDALDatasetCommitTransaction(w.ds) != OGRERR_NONE) {
		gdal_fail(&w, "cannot write the GeoPackage", e);
		goto out;
	}
	CPLErrorReset();
	GDALClose(w.ds);
	w.ds = NULL;
	if (CPLGetLastErrorType() >= CE_Failure) {
		gdal_fail(&w, "cannot finish the GeoPackage", e);
		unlink(w.path);
		goto out;
	}
	{
		int fd = open(w.path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) != 0) {
			err_set(e, ERR_SYSTEM, w.path, "cannot write: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	st->files++;
	if (write_qml_files(&w, st, e) < 0)
		goto out;
	log_msg(LOG_INFO, "wrote pc6risk.gpkg layers=%zu features=%lld seconds=%.2f", w.nlayers, features,
		seconds_since(&t0));
	rc = 0;
out:
	writer_free(&w);
	CPLSetConfigOption("OGR_CURRENT_DATE", NULL);
	CPLPopErrorHandler();
	return rc;
}
