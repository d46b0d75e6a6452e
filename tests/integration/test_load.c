/*
 * load against PostGIS on a tiny hand-made area tree: what it accepts, what it
 * refuses (with the place and the reason), and that a refusal changes nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"
#include "support.h"

/* A 1 km square gemeente in RD New, two wijken (west, east), three buurten
 * (west; east split north/south) and four PC6 squares. */
#define X0 80000
#define Y0 450000

struct tiny {
	char *dir;
	char *schema;
	char *config;
};

static char *square(double x0, double y0, double x1, double y1)
{
	return xasprintf("{\"type\":\"Polygon\",\"coordinates\":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}", x0, y0,
			 x1, y0, x1, y1, x0, y1, x0, y0);
}

/* Write a GeoJSON file in EPSG:28992 with one feature per (props, geometry). */
static void write_layer(const char *path, const char *const *features)
{
	struct sbuf b = {0};

	sbuf_puts(&b, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
		      "{\"name\":\"urn:ogc:def:crs:EPSG::28992\"}},\"features\":[\n");
	for (size_t i = 0; features[i]; i++)
		sbuf_printf(&b, "%s%s\n", i ? "," : "", features[i]);
	sbuf_puts(&b, "]}\n");
	t_write(path, b.s);
	sbuf_free(&b);
}

static char *feature(const char *props, char *geometry)
{
	char *f = xasprintf("{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":%s}", props, geometry);

	free(geometry);
	return f;
}

static char *file_in(const struct tiny *t, const char *name)
{
	return xasprintf("%s/%s", t->dir, name);
}

static void write_tiny_layers(const struct tiny *t, const char *extra_buurt)
{
	char *g[2] = {feature("\"GM_CODE\":\"GM9999\",\"GM_NAAM\":\"Testgemeente\"", square(X0, Y0, X0 + 1000, Y0 + 1000)),
		      NULL};
	char *w[3] = {feature("\"WK_CODE\":\"WK999901\",\"WK_NAAM\":\"Wijk 01 West\",\"GM_CODE\":\"GM9999\"",
			      square(X0, Y0, X0 + 500, Y0 + 1000)),
		      feature("\"WK_CODE\":\"WK999902\",\"WK_NAAM\":\"Wijk 02 Oost\",\"GM_CODE\":\"GM9999\"",
			      square(X0 + 500, Y0, X0 + 1000, Y0 + 1000)),
		      NULL};
	char *b[5] = {feature("\"BU_CODE\":\"BU99990101\",\"BU_NAAM\":\"West\",\"WK_CODE\":\"WK999901\"",
			      square(X0, Y0, X0 + 500, Y0 + 1000)),
		      feature("\"BU_CODE\":\"BU99990201\",\"BU_NAAM\":\"Oost-Noord\",\"WK_CODE\":\"WK999902\"",
			      square(X0 + 500, Y0 + 500, X0 + 1000, Y0 + 1000)),
		      feature("\"BU_CODE\":\"BU99990202\",\"BU_NAAM\":\"Oost-Zuid\",\"WK_CODE\":\"WK999902\"",
			      square(X0 + 500, Y0, X0 + 1000, Y0 + 500)),
		      extra_buurt ? xstrdup(extra_buurt) : NULL, NULL};
	/* 9999ZZ straddles west (60 %) and oost-zuid (40 %) */
	char *p[5] = {feature("\"PC6\":\"9999AA\"", square(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)),
		      feature("\"PC6\":\"9999 ab\"", square(X0 + 600, Y0 + 600, X0 + 700, Y0 + 700)),
		      feature("\"PC6\":\"9999AC\"", square(X0 + 600, Y0 + 100, X0 + 700, Y0 + 200)),
		      feature("\"PC6\":\"9999ZZ\"", square(X0 + 440, Y0 + 300, X0 + 540, Y0 + 400)), NULL};
	char *path;

	path = file_in(t, "gemeente.geojson");
	write_layer(path, (const char *const *)g);
	free(path);
	path = file_in(t, "wijk.geojson");
	write_layer(path, (const char *const *)w);
	free(path);
	path = file_in(t, "buurt.geojson");
	write_layer(path, (const char *const *)b);
	free(path);
	path = file_in(t, "pc6.geojson");
	write_layer(path, (const char *const *)p);
	free(path);
	for (int i = 0; g[i]; i++)
		free(g[i]);
	for (int i = 0; w[i]; i++)
		free(w[i]);
	for (int i = 0; b[i]; i++)
		free(b[i]);
	for (int i = 0; p[i]; i++)
		free(p[i]);
}

static const char tiny_csv[] = "\xEF\xBB\xBF"
			       "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\r\n"
			       "BU99990101;120;12;12,5\r\n"
			       "BU99990201;5;-99997;-99997\r\n"
			       "BU99990202;Onbekend;3;40\r\n";

static const char tiny_config[] =
	"{\"inputs\": {\"areas\": [\n"
	" {\"level\": \"gemeente\", \"path\": \"gemeente.geojson\", \"code\": \"GM_CODE\", \"name\": \"GM_NAAM\"},\n"
	" {\"level\": \"wijk\", \"path\": \"wijk.geojson\", \"code\": \"WK_CODE\", \"name\": \"WK_NAAM\", \"parent\": \"GM_CODE\"},\n"
	" {\"level\": \"buurt\", \"path\": \"buurt.geojson\", \"code\": \"BU_CODE\", \"name\": \"BU_NAAM\", \"parent\": \"WK_CODE\"},\n"
	" {\"level\": \"pc6\", \"path\": \"pc6.geojson\", \"code\": \"PC6\"}],\n"
	" \"indicators\": [{\"path\": \"kwb.csv\", \"level\": \"buurt\", \"key\": \"BU_CODE\",\n"
	"   \"columns\": {\"households\": \"AANTAL_HH\", \"benefit_recipients\": \"WWB_UITTOT\",\n"
	"    \"low_income\": {\"column\": \"P_LINK_HH\", \"kind\": \"share\", \"unit\": \"% of households\"}}}]},\n"
	" \"scenarios\": [{\"name\": \"bijstand\", \"level\": \"buurt\", \"numerator\": \"benefit_recipients\","
	" \"denominator\": \"households\"}]}\n";

static void tiny_start(struct tiny *t)
{
	struct t_run r;
	char *csv;

	t->dir = t_tmpdir();
	t->schema = t_schema("t_load");
	t->config = file_in(t, "pc6risk.json");
	write_tiny_layers(t, NULL);
	csv = file_in(t, "kwb.csv");
	t_write(csv, tiny_csv);
	free(csv);
	t_write(t->config, tiny_config);
	r = t_pc6risk((const char *[]){"init", "-c", t->config, "--schema", t->schema, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
}

static void tiny_end(struct tiny *t)
{
	t_drop_schema(t->schema);
	t_rmtree(t->dir);
	free(t->dir);
	free(t->schema);
	free(t->config);
}

static struct t_run load(const struct tiny *t)
{
	return t_pc6risk((const char *[]){"load", "-c", t->config, "--schema", t->schema, NULL});
}

static char *q(struct db *db, const char *sql)
{
	return t_query1(db, sql);
}

static void assert_q(struct db *db, const char *sql, const char *want)
{
	char *got = q(db, sql);

	cr_assert_str_eq(got, want, "%s", sql);
	free(got);
}

Test(load, a_tiny_tree_with_cbs_conventions_loads)
{
	struct tiny t;
	struct t_run r;
	struct db *db;

	tiny_start(&t);
	r = load(&t);
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	db = t_db(t.schema);
	assert_q(db, "SELECT count(*) FROM gemeente", "1");
	assert_q(db, "SELECT string_agg(code || '>' || gemeente_code, ',' ORDER BY code) FROM wijk",
		 "WK999901>GM9999,WK999902>GM9999");
	assert_q(db, "SELECT string_agg(code || '>' || buurt_code, ',' ORDER BY code) FROM pc6",
		 "9999AA>BU99990101,9999AB>BU99990201,9999AC>BU99990202,9999ZZ>BU99990101");
	assert_q(db, "SELECT round(buurt_share::numeric, 2) FROM pc6 WHERE code = '9999ZZ'", "0.60");
	assert_q(db, "SELECT ST_SRID(geom) FROM buurt LIMIT 1", "28992");
	assert_q(db, "SELECT value FROM indicator WHERE code = 'BU99990101' AND name = 'benefit_recipients'", "12");
	assert_q(db, "SELECT value FROM indicator WHERE code = 'BU99990101' AND name = 'low_income'", "12.5");
	assert_q(db, "SELECT kind || ' ' || unit || ' ' || source_column FROM indicator_def WHERE name = 'low_income'",
		 "share % of households P_LINK_HH");
	assert_q(db, "SELECT missing FROM indicator WHERE code = 'BU99990201' AND name = 'benefit_recipients'", "secret");
	assert_q(db, "SELECT missing FROM indicator WHERE code = 'BU99990202' AND name = 'households'", "unknown");
	{
		/* the source of every figure is its file:line:col */
		char *want = xasprintf("%s/kwb.csv:3:14", t.dir);
		char *got = q(db, "SELECT source FROM indicator WHERE code = 'BU99990201' AND name = 'benefit_recipients'");

		cr_assert_str_eq(got, want);
		free(got);
		free(want);
	}
	db_close(db);
	tiny_end(&t);
}

/* Load must fail with exit 4, an error at `where` (NULL: any) containing `what`,
 * and leave the previous load (the valid tiny tree) untouched. */
static void assert_refused(struct tiny *t, const char *where, const char *what)
{
	struct t_run r = load(t);
	struct db *db = t_db(t->schema);

	cr_assert_eq(r.status, 4, "expected an input error, got %d: %s", r.status, r.err);
	if (where) {
		char *w = xasprintf("error %s: ", where);

		cr_assert(strstr(r.err, w), "expected the error at %s: %s", where, r.err);
		free(w);
	}
	cr_assert(strstr(r.err, what), "expected \"%s\" in: %s", what, r.err);
	t_run_free(&r);
	assert_q(db, "SELECT count(*) FROM buurt", "3");
	assert_q(db, "SELECT count(*) FROM pc6", "4");
	assert_q(db, "SELECT count(*) FROM indicator", "9");
	db_close(db);
}

static void load_ok(struct tiny *t)
{
	struct t_run r = load(t);

	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
}

Test(load, a_duplicate_code_is_refused_at_its_second_feature)
{
	struct tiny t;
	char *dup = feature("\"BU_CODE\":\"BU99990202\",\"BU_NAAM\":\"Again\",\"WK_CODE\":\"WK999902\"",
			    square(X0 + 900, Y0, X0 + 1000, Y0 + 100));
	char *where, *what;

	tiny_start(&t);
	load_ok(&t);
	write_tiny_layers(&t, dup);
	where = xasprintf("%s/buurt.geojson#fid=3", t.dir);
	what = xasprintf("duplicate buurt code BU99990202 (first at %s/buurt.geojson#fid=2)", t.dir);
	assert_refused(&t, where, what);
	free(where);
	free(what);
	free(dup);
	tiny_end(&t);
}

Test(load, a_buurt_in_an_unknown_wijk_is_refused)
{
	struct tiny t;
	char *extra = feature("\"BU_CODE\":\"BU99990301\",\"BU_NAAM\":\"Nergens\",\"WK_CODE\":\"WK999903\"",
			      square(X0 + 900, Y0, X0 + 1000, Y0 + 100));
	char *where;

	tiny_start(&t);
	load_ok(&t);
	write_tiny_layers(&t, extra);
	where = xasprintf("%s/buurt.geojson#fid=3", t.dir);
	assert_refused(&t, where, "buurt BU99990301 lies in wijk WK999903, which is not among the wijk polygons of");
	free(where);
	free(extra);
	tiny_end(&t);
}

Test(load, a_bad_code_is_refused_with_the_reason)
{
	struct tiny t;
	char *extra = feature("\"BU_CODE\":\"B99990301\",\"BU_NAAM\":\"Typo\",\"WK_CODE\":\"WK999902\"",
			      square(X0 + 900, Y0, X0 + 1000, Y0 + 100));

	tiny_start(&t);
	load_ok(&t);
	write_tiny_layers(&t, extra);
	assert_refused(&t, NULL, "buurt.geojson#fid=3: expected a buurt code like BU05182915, got \"B99990301\"");
	free(extra);
	tiny_end(&t);
}

Test(load, csv_problems_name_file_line_and_column)
{
	struct tiny t;
	char *csv, *where;

	tiny_start(&t);
	load_ok(&t);
	csv = file_in(&t, "kwb.csv");

	t_write(csv, "BU_CODE;HH;WWB_UITTOT;P_LINK_HH\n");
	where = xasprintf("%s:1", csv);
	assert_refused(&t, where, "the header has no column \"AANTAL_HH\"");
	free(where);

	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;120;3;1\nBU99990999;10;1;1\n");
	where = xasprintf("%s:3:1", csv);
	assert_refused(&t, where, "buurt BU99990999 has figures but is not among the loaded buurt polygons");
	free(where);

	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;120;3;1\nBU99990101;120;4;1\n");
	where = xasprintf("%s:3:1", csv);
	assert_refused(&t, where, "buurt BU99990101 appears twice in the file (first at ");
	free(where);

	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;120;3;1\nBU99990201;5\n");
	where = xasprintf("%s:3", csv);
	assert_refused(&t, where, "the row has 2 fields, the header has 4 (is the file cut short?)");
	free(where);

	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;1.5.0;3;1\n");
	where = xasprintf("%s:2:12", csv);
	assert_refused(&t, where, "column AANTAL_HH: expected a number or a CBS missing-value code, got \"1.5.0\"");
	free(where);

	free(csv);
	tiny_end(&t);
}

Test(load, an_invalid_polygon_is_repaired_and_reported)
{
	struct tiny t;
	/* a bow-tie: the ring crosses itself */
	char *bowtie = xasprintf("{\"type\":\"Feature\",\"properties\":{\"BU_CODE\":\"BU99990203\",\"BU_NAAM\":\"Strik\","
				 "\"WK_CODE\":\"WK999902\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
				 "[[[%d,%d],[%d,%d],[%d,%d],[%d,%d],[%d,%d]]]}}",
				 X0 + 900, Y0, X0 + 1000, Y0 + 100, X0 + 1000, Y0, X0 + 900, Y0 + 100, X0 + 900, Y0);
	struct t_run r;
	struct db *db;

	tiny_start(&t);
	write_tiny_layers(&t, bowtie);
	r = load(&t);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "buurt.geojson#fid=3: buurt BU99990203: invalid polygon repaired with ST_MakeValid"),
		  "%s", r.err);
	t_run_free(&r);
	db = t_db(t.schema);
	assert_q(db, "SELECT ST_IsValid(geom) AND NOT ST_IsEmpty(geom) FROM buurt WHERE code = 'BU99990203'", "t");
	db_close(db);
	free(bowtie);
	tiny_end(&t);
}

Test(load, a_source_without_a_crs_is_refused_unless_the_config_names_one)
{
	struct tiny t;
	char *shp_dir, *prj, *src, *cfg;
	struct t_run r;

	tiny_start(&t);
	load_ok(&t);
	/* the PC6 as a Shapefile without its .prj */
	shp_dir = file_in(&t, "pc6shp");
	src = file_in(&t, "pc6.geojson");
	r = t_run((const char *[]){"ogr2ogr", "-f", "ESRI Shapefile", shp_dir, src, "-nln", "pc6", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	prj = xasprintf("%s/pc6.prj", shp_dir);
	cr_assert_eq(remove(prj), 0);
	cfg = t_slurp(t.config, NULL);
	{
		char *at = strstr(cfg, "\"pc6.geojson\"");
		char *patched = xasprintf("%.*s\"pc6shp/pc6.shp\"%s", (int)(at - cfg), cfg, at + strlen("\"pc6.geojson\""));

		t_write(t.config, patched);
		free(patched);
	}
	assert_refused(&t, NULL, "has no coordinate reference system");
	{
		char *text = t_slurp(t.config, NULL);
		char *at = strstr(text, "\"code\": \"PC6\"");
		char *patched = xasprintf("%.*s\"srs\": \"EPSG:28992\", %s", (int)(at - text), text, at);

		t_write(t.config, patched);
		free(patched);
		free(text);
	}
	load_ok(&t);
	free(cfg);
	free(prj);
	free(src);
	free(shp_dir);
	tiny_end(&t);
}

Test(load, a_second_load_at_the_same_time_is_refused)
{
	struct tiny t;
	struct db *db;
	struct err e;
	char *lock;
	struct t_run r;

	tiny_start(&t);
	db = t_db(t.schema);
	lock = xasprintf("SELECT pg_advisory_xact_lock(hashtext('pc6risk:%s:load'))", t.schema);
	cr_assert_eq(db_exec(db, "BEGIN", &e), 0);
	cr_assert_eq(db_exec(db, lock, &e), 0, "%s", e.message);
	r = load(&t);
	cr_assert_eq(r.status, 5, "%s", r.err);
	cr_assert(strstr(r.err, "another pc6risk load is running on schema"), "%s", r.err);
	t_run_free(&r);
	db_rollback(db);
	load_ok(&t);
	free(lock);
	db_close(db);
	tiny_end(&t);
}
