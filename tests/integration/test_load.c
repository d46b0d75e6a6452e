/*
 * load against PostGIS on a tiny hand-made area tree: what it accepts, what it
 * refuses (with the place and the reason), and that a refusal changes nothing.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pc6risk/csv.h"
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

static char *file_in(const struct tiny *t, const char *name)
{
	return xasprintf("%s/%s", t->dir, name);
}

static void write_tiny_layers(const struct tiny *t, const char *extra_buurt)
{
	char *g[2] = {t_feature("\"GM_CODE\":\"GM9999\",\"GM_NAAM\":\"Testgemeente\"", t_square(X0, Y0, X0 + 1000, Y0 + 1000)),
		      NULL};
	char *w[3] = {t_feature("\"WK_CODE\":\"WK999901\",\"WK_NAAM\":\"Wijk 01 West\",\"GM_CODE\":\"GM9999\"",
			      t_square(X0, Y0, X0 + 500, Y0 + 1000)),
		      t_feature("\"WK_CODE\":\"WK999902\",\"WK_NAAM\":\"Wijk 02 Oost\",\"GM_CODE\":\"GM9999\"",
			      t_square(X0 + 500, Y0, X0 + 1000, Y0 + 1000)),
		      NULL};
	char *b[5] = {t_feature("\"BU_CODE\":\"BU99990101\",\"BU_NAAM\":\"West\",\"WK_CODE\":\"WK999901\"",
			      t_square(X0, Y0, X0 + 500, Y0 + 1000)),
		      t_feature("\"BU_CODE\":\"BU99990201\",\"BU_NAAM\":\"Oost-Noord\",\"WK_CODE\":\"WK999902\"",
			      t_square(X0 + 500, Y0 + 500, X0 + 1000, Y0 + 1000)),
		      t_feature("\"BU_CODE\":\"BU99990202\",\"BU_NAAM\":\"Oost-Zuid\",\"WK_CODE\":\"WK999902\"",
			      t_square(X0 + 500, Y0, X0 + 1000, Y0 + 500)),
		      extra_buurt ? xstrdup(extra_buurt) : NULL, NULL};
	/* 9999ZZ straddles west (60 %) and oost-zuid (40 %) */
	char *p[5] = {t_feature("\"PC6\":\"9999AA\"", t_square(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)),
		      t_feature("\"PC6\":\"9999 ab\"", t_square(X0 + 600, Y0 + 600, X0 + 700, Y0 + 700)),
		      t_feature("\"PC6\":\"9999AC\"", t_square(X0 + 600, Y0 + 100, X0 + 700, Y0 + 200)),
		      t_feature("\"PC6\":\"9999ZZ\"", t_square(X0 + 440, Y0 + 300, X0 + 540, Y0 + 400)), NULL};
	char *path;

	path = file_in(t, "gemeente.geojson");
	t_write_layer(path, (const char *const *)g);
	free(path);
	path = file_in(t, "wijk.geojson");
	t_write_layer(path, (const char *const *)w);
	free(path);
	path = file_in(t, "buurt.geojson");
	t_write_layer(path, (const char *const *)b);
	free(path);
	path = file_in(t, "pc6.geojson");
	t_write_layer(path, (const char *const *)p);
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
		/* the source of every figure is its file:line */
		char *want = xasprintf("%s/kwb.csv:3", t.dir);
		char *got = q(db, "SELECT source FROM indicator WHERE code = 'BU99990201' AND name = 'benefit_recipients'");

		cr_assert_str_eq(got, want);
		free(got);
		free(want);
	}
	db_close(db);
	tiny_end(&t);
}

/* Everything load writes, as one digest: equal digests mean nothing changed. */
static char *snapshot(struct db *db)
{
	return t_query1(db,
			"SELECT md5(concat_ws('|',"
			" (SELECT string_agg(code || name || wijk_code || ST_AsEWKT(geom), ',' ORDER BY code) FROM buurt),"
			" (SELECT string_agg(code || buurt_code || content_hash, ',' ORDER BY code) FROM pc6),"
			" (SELECT string_agg(concat_ws(':', level, code, name, value, missing, source), ','"
			"   ORDER BY level, code, name) FROM indicator),"
			" (SELECT fingerprint FROM load_state)))");
}

/* Load must fail with exit 4, an error at `where` (NULL: any) containing `what`,
 * and leave the previous load untouched. */
static void assert_refused(struct tiny *t, const char *where, const char *what)
{
	struct db *db = t_db(t->schema);
	char *before = snapshot(db), *after;
	struct t_run r = load(t);

	cr_assert_eq(r.status, 4, "expected an input error, got %d: %s", r.status, r.err);
	if (where) {
		char *w = xasprintf("error %s: ", where);

		cr_assert(strstr(r.err, w), "expected the error at %s: %s", where, r.err);
		free(w);
	}
	cr_assert(strstr(r.err, what), "expected \"%s\" in: %s", what, r.err);
	t_run_free(&r);
	after = snapshot(db);
	cr_assert_str_eq(before, after, "a refused load changed the database");
	free(before);
	free(after);
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
	char *dup = t_feature("\"BU_CODE\":\"BU99990202\",\"BU_NAAM\":\"Again\",\"WK_CODE\":\"WK999902\"",
			    t_square(X0 + 900, Y0, X0 + 1000, Y0 + 100));
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
	char *extra = t_feature("\"BU_CODE\":\"BU99990301\",\"BU_NAAM\":\"Nergens\",\"WK_CODE\":\"WK999903\"",
			      t_square(X0 + 900, Y0, X0 + 1000, Y0 + 100));
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
	char *extra = t_feature("\"BU_CODE\":\"B99990301\",\"BU_NAAM\":\"Typo\",\"WK_CODE\":\"WK999902\"",
			      t_square(X0 + 900, Y0, X0 + 1000, Y0 + 100));

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

/* Replace the first `from` in the config file with `to`. */
static void patch_config(const struct tiny *t, const char *from, const char *to)
{
	char *text = t_slurp(t->config, NULL), *at, *patched;

	at = strstr(text, from);
	cr_assert_not_null(at, "test bug: \"%s\" is not in the config", from);
	patched = xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	t_write(t->config, patched);
	free(patched);
	free(text);
}

Test(load, counts_and_shares_are_checked_by_kind)
{
	struct tiny t;
	char *csv, *where;

	tiny_start(&t);
	load_ok(&t);
	csv = file_in(&t, "kwb.csv");
	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;-5;3;1\n");
	where = xasprintf("%s:2:12", csv);
	assert_refused(&t, where, "column AANTAL_HH: expected a count (a whole number, 0 or more), got \"-5\"");
	free(where);
	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;12,5;3;1\n");
	where = xasprintf("%s:2:12", csv);
	assert_refused(&t, where, "column AANTAL_HH: expected a count (a whole number, 0 or more), got \"12,5\"");
	free(where);
	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;120;3;100,5\n");
	where = xasprintf("%s:2:18", csv);
	assert_refused(&t, where, "column P_LINK_HH: expected a share from 0 to 100, got \"100,5\"");
	free(where);
	free(csv);
	tiny_end(&t);
}

Test(load, bad_rows_can_be_skipped_into_a_rejects_file)
{
	struct tiny t;
	struct t_run r;
	struct db *db;
	char *csv, *rejects, *text, *want;

	tiny_start(&t);
	csv = file_in(&t, "kwb.csv");
	rejects = file_in(&t, "rejects.csv");
	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\n"
		     "BU99990101;120;12;12\n"
		     "BU99990201;5x;1;1\n"
		     "BU99990999;10;1;1\n"
		     "BU99990202;60;3;40\n");
	/* two bad rows, one allowed: nothing changes, both are listed */
	r = t_pc6risk((const char *[]){"load", "-c", t.config, "--schema", t.schema, "--max-rejects", "1", "--rejects",
				       rejects, NULL});
	cr_assert_eq(r.status, 4, "%s", r.err);
	cr_assert(strstr(r.err, "has figures but is not among the loaded buurt polygons"), "%s", r.err);
	cr_assert(strstr(r.err, "detail: this is bad row 2; --max-rejects allows 1"), "%s", r.err);
	t_run_free(&r);
	db = t_db(t.schema);
	assert_q(db, "SELECT count(*) FROM buurt", "0");

	r = t_pc6risk((const char *[]){"load", "-c", t.config, "--schema", t.schema, "--max-rejects", "2", "--rejects",
				       rejects, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "skipped 2 bad rows (--max-rejects 2)"), "%s", r.err);
	t_run_free(&r);
	assert_q(db, "SELECT string_agg(code, ',' ORDER BY code) FROM indicator WHERE name = 'households'",
		 "BU99990101,BU99990202");
	assert_q(db, "SELECT counts->>'rows_rejected' FROM run WHERE status = 'succeeded'", "2");
	text = t_slurp(rejects, NULL);
	want = xasprintf("where;code;reason\n"
			 "%s:3:12;BU99990201;\"column AANTAL_HH: expected a number or a CBS missing-value code, got \"\"5x\"\"\"\n"
			 "%s:4:1;BU99990999;buurt BU99990999 has figures but is not among the loaded buurt polygons\n",
			 csv, csv);
	cr_assert_str_eq(text, want);
	free(want);
	free(text);
	db_close(db);
	free(rejects);
	free(csv);
	tiny_end(&t);
}

Test(load, the_same_inputs_change_nothing_and_say_so)
{
	struct tiny t;
	struct t_run r;
	struct db *db;
	char *csv;

	tiny_start(&t);
	load_ok(&t);
	db = t_db(t.schema);
	assert_q(db, "SELECT string_agg(code || '@' || changed_in_run, ',' ORDER BY code) FROM pc6",
		 "9999AA@1,9999AB@1,9999AC@1,9999ZZ@1");

	r = load(&t);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "inputs unchanged since the load of run 1; nothing changed"), "%s", r.err);
	cr_assert_null(strstr(r.err, "read pc6 polygons"), "nothing is read again: %s", r.err);
	t_run_free(&r);
	assert_q(db, "SELECT counts->>'inputs_unchanged' FROM run WHERE id = 2", "true");

	/* --force reads everything again but the PC6 stay as they were */
	r = t_pc6risk((const char *[]){"load", "-c", t.config, "--schema", t.schema, "--force", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "pc6_added=0 pc6_changed=0 pc6_removed=0"), "%s", r.err);
	t_run_free(&r);
	assert_q(db, "SELECT string_agg(code || '@' || changed_in_run, ',' ORDER BY code) FROM pc6",
		 "9999AA@1,9999AB@1,9999AC@1,9999ZZ@1");

	/* one buurt's figure changes: only the PC6 of that buurt... none carry PC6
	 * figures here, so a moved PC6 polygon is the change */
	write_tiny_layers(&t, NULL);
	{
		char *p = file_in(&t, "pc6.geojson"), *text = t_slurp(p, NULL), *at = strstr(text, "9999AC");
		char *moved;

		cr_assert_not_null(at);
		at = strstr(at, "80600");
		cr_assert_not_null(at);
		at[3] = '1'; /* x 80600 -> 80610 */
		moved = text;
		t_write(p, moved);
		free(text);
		free(p);
	}
	r = load(&t);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "pc6_added=0 pc6_changed=1 pc6_removed=0"), "%s", r.err);
	t_run_free(&r);
	assert_q(db, "SELECT string_agg(code || '@' || changed_in_run, ',' ORDER BY code) FROM pc6",
		 "9999AA@1,9999AB@1,9999AC@4,9999ZZ@1");

	/* a changed figure file is a change too (and renaming a file is not) */
	csv = file_in(&t, "kwb.csv");
	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\r\nBU99990101;125;12;12,5\r\n");
	r = load(&t);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.err, "inputs unchanged"), "%s", r.err);
	t_run_free(&r);
	assert_q(db, "SELECT value FROM indicator WHERE code = 'BU99990101' AND name = 'households'", "125");
	assert_q(db, "SELECT count(*) FROM load_input WHERE sha256 ~ '^[0-9a-f]{64}$'", "5");
	free(csv);
	db_close(db);
	tiny_end(&t);
}

Test(load, a_crosswalk_places_pc6_by_most_addresses)
{
	struct tiny t;
	struct t_run r;
	struct db *db;
	char *cw;

	tiny_start(&t);
	cw = file_in(&t, "pc6hnr.csv");
	/* CBS style: bare numeric codes; 9999ZZ has 3 addresses in oost-zuid, 1 in west */
	t_write(cw, "PC6;Huisnummer;Buurt2015;Wijk2015;Gemeente2015\n"
		    "9999AA;1;99990101;999901;9999\n"
		    "9999AB;1;99990201;999902;9999\n"
		    "9999AB;3;99990201;999902;9999\n"
		    "9999ZZ;1;99990101;999901;9999\n"
		    "9999ZZ;2;99990202;999902;9999\n"
		    "9999ZZ;4;99990202;999902;9999\n"
		    "9999ZZ;6;99990202;999902;9999\n"
		    "1234AB;1;1234567;12345;123\n");
	patch_config(&t, "\"indicators\"", "\"crosswalk\": {\"path\": \"pc6hnr.csv\", \"pc6\": \"PC6\", \"buurt\": \"Buurt2015\"},\n \"indicators\"");
	r = load(&t);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "PC6 9999ZZ straddles buurten: 75% in BU99990202 (assigned, by crosswalk), BU99990101 25%"),
		  "%s", r.err);
	t_run_free(&r);
	db = t_db(t.schema);
	/* 9999AC is not in the crosswalk: it falls back to overlap */
	assert_q(db, "SELECT string_agg(code || '>' || buurt_code || ':' || assigned_by, ',' ORDER BY code) FROM pc6",
		 "9999AA>BU99990101:crosswalk,9999AB>BU99990201:crosswalk,9999AC>BU99990202:overlap,"
		 "9999ZZ>BU99990202:crosswalk");
	assert_q(db, "SELECT string_agg(pc6_code || '>' || buurt_code || '=' || share, ',' ORDER BY buurt_code) FROM pc6_overlap",
		 "9999ZZ>BU99990101=0.25,9999ZZ>BU99990202=0.75");
	db_close(db);

	t_write(cw, "PC6;Huisnummer;Buurt2015\n9999AA;1;BU9999A101\n");
	{
		char *where = xasprintf("%s:2:10", cw);

		assert_refused(&t, NULL, "column Buurt2015: expected a buurt code (BU05182915 or 5182915), got \"BU9999A101\"");
		free(where);
	}
	free(cw);
	tiny_end(&t);
}

Test(load, pc6_figures_and_polygons_must_match)
{
	struct tiny t;
	struct t_run r;
	char *csv, *where;

	tiny_start(&t);
	csv = file_in(&t, "pc6.csv");
	t_write(csv, "PC6;INWONER\n9999AA;40\n9999 ab;-99997\n9999AC;15\n9999ZZ;5\n");
	patch_config(&t, "\"indicators\": [", "\"indicators\": [{\"path\": \"pc6.csv\", \"level\": \"pc6\", \"key\": \"PC6\","
					       " \"columns\": {\"inhabitants\": \"INWONER\"}},\n ");
	load_ok(&t);

	t_write(csv, "PC6;INWONER\n9999AA;40\n9999AB;-99997\n9999AC;15\n");
	where = xasprintf("%s/pc6.geojson#fid=3", t.dir);
	assert_refused(&t, where, "PC6 9999ZZ has a polygon but no row in the PC6 figures");
	free(where);

	t_write(csv, "PC6;INWONER\n9999AA;40\n9999AB;-99997\n9999AC;15\n9999ZZ;5\n9999YY;10\n");
	where = xasprintf("%s:6:1", csv);
	assert_refused(&t, where, "pc6 9999YY has figures but is not among the loaded pc6 polygons");
	free(where);

	t_write(csv, "PC6;INWONER\n9999AA;40\n9999AB;-99997\n9999AC;15\n9999ZZ;5\n0999ZZ;10\n");
	where = xasprintf("%s:6:1", csv);
	assert_refused(&t, where, "postcode \"0999ZZ\" is not valid: a postcode does not start with 0");
	free(where);

	/* a PC6 outside the loaded buurten leaves with its figures */
	{
		char *p = file_in(&t, "pc6.geojson"), *text = t_slurp(p, NULL), *end = strrchr(text, ']');
		char *more = xasprintf("%.*s,{\"type\":\"Feature\",\"properties\":{\"PC6\":\"9998AA\"},\"geometry\":"
				       "{\"type\":\"Polygon\",\"coordinates\":[[[70000,440000],[70100,440000],[70100,440100],"
				       "[70000,440100],[70000,440000]]]}}\n%s",
				       (int)(end - text), text, end);

		t_write(p, more);
		free(more);
		free(text);
		free(p);
	}
	t_write(csv, "PC6;INWONER\n9999AA;40\n9999AB;-99997\n9999AC;15\n9999ZZ;5\n9998AA;10\n");
	r = load(&t);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "1 PC6 lie outside the loaded buurten and are left out, with their figures"), "%s", r.err);
	t_run_free(&r);
	{
		struct db *db = t_db(t.schema);

		assert_q(db, "SELECT count(*) FROM pc6", "4");
		assert_q(db, "SELECT count(*) FROM indicator WHERE level = 'pc6'", "4");
		assert_q(db, "SELECT missing FROM indicator WHERE code = '9999AB'", "secret");
		db_close(db);
	}
	free(csv);
	tiny_end(&t);
}

Test(load, cp1252_files_are_read_and_a_wrong_encoding_is_named)
{
	struct tiny t;
	struct t_run r;
	char *csv;

	tiny_start(&t);
	csv = file_in(&t, "kwb.csv");
	/* a CP1252 header comment column and an é in a text column we do not map */
	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH;OPMERKING\n"
		     "BU99990101;120;12;12;caf\xE9\n"
		     "BU99990201;5;1;1;\x80 1\n"
		     "BU99990202;60;3;40;-\n");
	load_ok(&t);
	r = t_pc6risk((const char *[]){"load", "-c", t.config, "--schema", t.schema, "--encoding", "utf-8", NULL});
	cr_assert_eq(r.status, 4, "%s", r.err);
	cr_assert(strstr(r.err, "kwb.csv:2:22: byte 0xE9 is not valid UTF-8"), "%s", r.err);
	cr_assert(strstr(r.err, "hint: set \"encoding\" for this file"), "%s", r.err);
	t_run_free(&r);
	free(csv);
	tiny_end(&t);
}

Test(load, any_gdal_format_and_crs)
{
	struct tiny t;
	struct t_run r;
	struct db *db;
	char *gpkg, *fgb, *wgs, *src;

	tiny_start(&t);
	gpkg = file_in(&t, "tree.gpkg");
	fgb = file_in(&t, "pc6.fgb");
	wgs = file_in(&t, "wijk_wgs84.geojson");
	src = file_in(&t, "buurt.geojson");
	r = t_run((const char *[]){"ogr2ogr", "-f", "GPKG", gpkg, src, "-nln", "buurten", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	free(src);
	src = file_in(&t, "pc6.geojson");
	r = t_run((const char *[]){"ogr2ogr", "-f", "FlatGeobuf", fgb, src, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	free(src);
	src = file_in(&t, "wijk.geojson");
	r = t_run((const char *[]){"ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "-lco", "RFC7946=YES", wgs, src, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	patch_config(&t, "\"path\": \"buurt.geojson\"", "\"path\": \"tree.gpkg\", \"layer\": \"buurten\"");
	patch_config(&t, "\"path\": \"pc6.geojson\"", "\"path\": \"pc6.fgb\"");
	patch_config(&t, "\"path\": \"wijk.geojson\"", "\"path\": \"wijk_wgs84.geojson\"");
	load_ok(&t);
	db = t_db(t.schema);
	assert_q(db, "SELECT count(*) FROM buurt", "3");
	assert_q(db, "SELECT count(*) FROM pc6", "4");
	/* RD -> WGS84 -> RD comes back within a few centimetres */
	assert_q(db, "SELECT round(ST_XMin(geom)) || ',' || round(ST_YMax(geom)) FROM wijk WHERE code = 'WK999902'",
		 "80500,451000");
	db_close(db);

	patch_config(&t, "\"layer\": \"buurten\"", "\"layer\": \"buurt\"");
	assert_refused(&t, NULL, "tree.gpkg: has no layer \"buurt\"");
	free(gpkg);
	free(fgb);
	free(wgs);
	tiny_end(&t);
}

/* The backend of a pc6risk process waiting for a lock on table `rel`, or 0. */
static long waiting_backend(struct db *db, const char *rel)
{
	long pid;

	t_lock_waiters(db, rel, &pid);
	return pid;
}

Test(load, kill_9_in_the_middle_leaves_the_previous_data, .timeout = 120)
{
	struct tiny t;
	struct db *holder, *watcher;
	struct err e;
	char *rel, *lock, *before, *after, *csv;
	long backend = 0;
	pid_t pid;
	int status;

	tiny_start(&t);
	load_ok(&t);
	watcher = t_db(t.schema);
	before = snapshot(watcher);
	csv = file_in(&t, "kwb.csv");
	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;500;50;50\n");

	/* Hold a lock the swap needs, so the load stops right before replacing
	 * the data, with everything staged; then kill it there. */
	holder = t_db(t.schema);
	rel = xasprintf("%s.buurt", t.schema);
	lock = xasprintf("LOCK TABLE %s IN ACCESS SHARE MODE", rel);
	cr_assert_eq(db_exec(holder, "BEGIN", &e), 0);
	cr_assert_eq(db_exec(holder, lock, &e), 0, "%s", e.message);
	pid = t_spawn_pc6risk((const char *[]){"load", "-c", t.config, "--schema", t.schema, NULL});
	for (int i = 0; i < 600 && !backend; i++) {
		backend = waiting_backend(watcher, rel);
		if (!backend)
			t_sleep_ms(50);
	}
	cr_assert_neq(backend, 0, "the load never reached the swap");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	db_rollback(holder);

	/* The orphaned backend finds its client gone and rolls back. */
	for (int i = 0; i < 600; i++) {
		char *sql = xasprintf("SELECT count(*) FROM pg_stat_activity WHERE pid = %ld", backend);
		char *n = t_query1(watcher, sql);
		bool gone = strcmp(n, "0") == 0;

		free(n);
		free(sql);
		if (gone)
			break;
		t_sleep_ms(50);
	}
	after = snapshot(watcher);
	cr_assert_str_eq(before, after, "kill -9 during a load changed the data");
	load_ok(&t);
	assert_q(watcher, "SELECT value FROM indicator WHERE code = 'BU99990101' AND name = 'households'", "500");

	free(before);
	free(after);
	free(csv);
	free(rel);
	free(lock);
	db_close(holder);
	db_close(watcher);
	tiny_end(&t);
}

/* Start a load that changes the data, hold it right before its swap, and
 * return its pid and backend (the caller lets go of `holder` afterwards). */
static pid_t held_load(struct tiny *t, struct db *holder, struct db *watcher, long *backend)
{
	char *rel = xasprintf("%s.buurt", t->schema), *lock = xasprintf("LOCK TABLE %s IN ACCESS SHARE MODE", rel);
	char *csv = file_in(t, "kwb.csv");
	struct err e;
	pid_t pid;

	t_write(csv, "BU_CODE;AANTAL_HH;WWB_UITTOT;P_LINK_HH\nBU99990101;500;50;50\n");
	cr_assert_eq(db_exec(holder, "BEGIN", &e), 0);
	cr_assert_eq(db_exec(holder, lock, &e), 0, "%s", e.message);
	pid = t_spawn_pc6risk((const char *[]){"load", "-c", t->config, "--schema", t->schema, NULL});
	*backend = 0;
	for (int i = 0; i < 600 && !*backend; i++) {
		*backend = waiting_backend(watcher, rel);
		if (!*backend)
			t_sleep_ms(50);
	}
	cr_assert_neq(*backend, 0, "the load never reached the swap");
	free(rel);
	free(lock);
	free(csv);
	return pid;
}

Test(load, sigterm_rolls_back_at_once, .timeout = 120)
{
	struct tiny t;
	struct db *holder, *watcher;
	char *before, *after;
	long backend;
	pid_t pid;
	int status;

	tiny_start(&t);
	load_ok(&t);
	watcher = t_db(t.schema);
	holder = t_db(t.schema);
	before = snapshot(watcher);
	pid = held_load(&t, holder, watcher, &backend);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	/* the load's query is cancelled while it waits: it stops without the lock being let go */
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 6, "exit status %d", WEXITSTATUS(status));
	db_rollback(holder);
	after = snapshot(watcher);
	cr_assert_str_eq(before, after, "SIGTERM during a load changed the data");
	assert_q(watcher, "SELECT error_class || ': ' || error_message FROM run ORDER BY id DESC LIMIT 1",
		 "system: interrupted by signal 15; nothing was changed");
	free(before);
	free(after);
	db_close(holder);
	db_close(watcher);
	tiny_end(&t);
}

Test(load, a_lost_connection_changes_nothing, .timeout = 120)
{
	struct tiny t;
	struct db *holder, *watcher;
	char *before, *after, *kill_sql;
	long backend;
	pid_t pid;
	int status;

	tiny_start(&t);
	load_ok(&t);
	watcher = t_db(t.schema);
	holder = t_db(t.schema);
	before = snapshot(watcher);
	pid = held_load(&t, holder, watcher, &backend);
	kill_sql = xasprintf("SELECT pg_terminate_backend(%ld)", backend);
	free(t_query1(watcher, kill_sql));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 5, "exit status %d", WEXITSTATUS(status));
	db_rollback(holder);
	after = snapshot(watcher);
	cr_assert_str_eq(before, after, "a lost connection during a load changed the data");
	free(kill_sql);
	free(before);
	free(after);
	db_close(holder);
	db_close(watcher);
	tiny_end(&t);
}

/* The real Amsterdam PC6 file (CBS 2020 counts, secret cells written as
 * "Onbekend"), loaded against a grid of made-up squares, one per postcode. */
Test(load, the_real_amsterdam_pc6_file_loads, .timeout = 300)
{
	struct tiny t;
	struct db *db;
	struct err e;
	struct csv *c;
	struct sbuf grid = {0};
	char *csv = t_repo_path("demo/data/pc6_amsterdam.csv"), *path, *cfg;
	long n = 0;

	tiny_start(&t);
	c = csv_open(csv, 0, ENCODING_AUTO, &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(csv_next(c, &e), 1);
	sbuf_puts(&grid, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
			 "{\"name\":\"urn:ogc:def:crs:EPSG::28992\"}},\"features\":[\n");
	while (csv_next(c, &e) == 1) {
		/* 3 m squares in buurt West (x 80000-80500, y 450000-451000) */
		double x = X0 + 10 + (double)(n % 150) * 3, y = Y0 + 10 + (double)(n / 150) * 3;

		sbuf_printf(&grid, "%s{\"type\":\"Feature\",\"properties\":{\"PC6\":\"%s\"},\"geometry\":{\"type\":"
				   "\"Polygon\",\"coordinates\":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}}\n",
			    n ? "," : "", csv_field(c, 0), x, y, x + 2, y, x + 2, y + 2, x, y + 2, x, y);
		n++;
	}
	csv_close(c);
	sbuf_puts(&grid, "]}\n");
	cr_assert_eq(n, 19635);
	path = file_in(&t, "pc6.geojson");
	t_write(path, grid.s);
	free(path);
	patch_config(&t, "\"indicators\": [",
		     "\"indicators\": [{\"path\": \"AMS\", \"level\": \"pc6\", \"key\": \"PC6\","
		     " \"columns\": {\"households\": \"Aantal Huishoudens\", \"inhabitants\": \"Aantal Inwoners\"}},\n ");
	cfg = t_slurp(t.config, NULL);
	{
		char *at = strstr(cfg, "\"AMS\""), *patched = xasprintf("%.*s\"%s\"%s", (int)(at - cfg), cfg, csv, at + 5);

		t_write(t.config, patched);
		free(patched);
	}
	load_ok(&t);
	db = t_db(t.schema);
	assert_q(db, "SELECT count(*) FROM pc6", "19635");
	assert_q(db, "SELECT count(*) FILTER (WHERE missing = 'unknown') FROM indicator WHERE level = 'pc6' AND name = 'households'", "2069");
	assert_q(db, "SELECT count(*) FILTER (WHERE missing = 'unknown') FROM indicator WHERE level = 'pc6' AND name = 'inhabitants'", "1636");
	assert_q(db, "SELECT sum(value)::bigint FROM indicator WHERE name = 'inhabitants'", "915270");
	assert_q(db, "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY value) FROM indicator WHERE name = 'inhabitants'",
		 "40");
	db_close(db);
	sbuf_free(&grid);
	free(cfg);
	free(csv);
	tiny_end(&t);
}

Test(load, empty_geometry_and_an_unknown_crs_are_refused)
{
	struct tiny t;
	char *empty = xstrdup("{\"type\":\"Feature\",\"properties\":{\"BU_CODE\":\"BU99990203\",\"BU_NAAM\":\"Leeg\","
			      "\"WK_CODE\":\"WK999902\"},\"geometry\":null}");
	char *where;

	tiny_start(&t);
	load_ok(&t);
	write_tiny_layers(&t, empty);
	where = xasprintf("%s/buurt.geojson#fid=3", t.dir);
	assert_refused(&t, where, "feature BU99990203 has no geometry");
	free(where);
	write_tiny_layers(&t, NULL);
	patch_config(&t, "\"code\": \"PC6\"", "\"code\": \"PC6\", \"srs\": \"EPSG:999999\"");
	{
		struct t_run r = load(&t);

		cr_assert_eq(r.status, 3, "an unknown CRS in the config is a config error: %s", r.err);
		cr_assert(strstr(r.err, "unknown coordinate reference system \"EPSG:999999\""), "%s", r.err);
		t_run_free(&r);
	}
	free(empty);
	tiny_end(&t);
}
