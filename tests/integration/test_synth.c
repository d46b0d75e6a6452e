/*
 * pc6risk synth against PostGIS: the Den Haag set tests/run.sh made (seed 1, in
 * PC6RISK_SYNTH_DIR) and small national sets, checked against every promise of
 * issue 4: buurt sums, the size distribution, tiling, nesting, codes,
 * determinism, labelling, and loading with zero rejects.
 *
 * Statistics and bounds (docs/synth.md states them too):
 * - buurt sums: every real KWB total lies inside the interval the published
 *   (rounded, suppressed) PC6 values allow; the city totals of the published
 *   values (a secret one counted as 2) within 0.5 % of the real ones;
 * - sizes: two-sample Kolmogorov-Smirnov D < 0.1 against the real Amsterdam PC6
 *   for published inhabitants and households per PC6 (secret = -1 on both
 *   sides, so the tail of tiny PC6 counts too);
 * - tiling: in a buurt no real PC6 overlaps, the generated cells cover it with
 *   |area(union) - area(buurt)|, their overlap and their area outside it below
 *   1e-6 of the buurt's area; elsewhere they overlap neither each other nor any
 *   real PC6 (same bound) and all PC6 cover at least 85 % of every buurt;
 * - spatial autocorrelation: Moran's I (PC6 sharing a border) of the share of
 *   low incomes > 0.5, and > 0.2 within buurten, where a shuffle gives ~0.
 * - the outcome layer P_KIND_LAAGINK: whole percentages or -99997, secret
 *   exactly in the buurten under 100 inhabitants; Spearman's rho with the
 *   buurt's bijstand rate within [0.4, 0.9] (Den Haag) and [0.2, 0.8]
 *   (national); Moran's I of what the bijstand rate leaves unexplained, over
 *   buurten sharing a border, > 0.2.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/cbs.h"
#include "pc6risk/csv.h"
#include "pc6risk/gen.h"
#include "pc6risk/pc6gen.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/stats.h"
#include "pc6risk/xalloc.h"
#include "support.h"

static const char *synth_dir(void)
{
	const char *dir = getenv("PC6RISK_SYNTH_DIR");

	cr_assert(dir && dir[0], "PC6RISK_SYNTH_DIR is not set; run the tests with tests/run.sh");
	return dir;
}

/* A whole delimited file in memory: header and rows of fields. */
struct table {
	size_t ncols, nrows;
	char **head;
	char **cell; /* row-major */
};

static struct table read_table(const char *path, char delim)
{
	struct table t = {0};
	struct err e;
	struct csv *c = csv_open(path, delim, ENCODING_AUTO, &e);
	size_t cap = 0;
	int rc;

	cr_assert_not_null(c, "%s: %s", path, e.message);
	cr_assert_eq(csv_next(c, &e), 1, "%s has no header", path);
	t.ncols = csv_nfields(c);
	t.head = xcalloc(t.ncols, sizeof *t.head);
	for (size_t i = 0; i < t.ncols; i++)
		t.head[i] = xstrdup(csv_field(c, i));
	while ((rc = csv_next(c, &e)) == 1) {
		cr_assert_eq(csv_nfields(c), t.ncols, "%s:%ld has %zu fields", path, csv_line(c), csv_nfields(c));
		if ((t.nrows + 1) * t.ncols > cap) {
			cap = cap ? 2 * cap : 1024 * t.ncols;
			t.cell = xrealloc(t.cell, cap * sizeof *t.cell);
		}
		for (size_t i = 0; i < t.ncols; i++)
			t.cell[t.nrows * t.ncols + i] = xstrdup(csv_field(c, i));
		t.nrows++;
	}
	cr_assert_eq(rc, 0, "%s: %s", path, e.message);
	csv_close(c);
	return t;
}

static size_t column(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->head[i], name) == 0)
			return i;
	cr_assert_fail("no column %s", name);
	return 0;
}

static const char *cell(const struct table *t, size_t row, size_t col)
{
	return t->cell[row * t->ncols + col];
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->head[i]);
	for (size_t i = 0; i < t->ncols * t->nrows; i++)
		free(t->cell[i]);
	free(t->head);
	free(t->cell);
}

static char *in_dir(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* A published CBS value as a number; -1 for a secret or missing value. */
static double published(const char *text)
{
	double v;
	const char *missing;

	cr_assert_eq(cbs_parse_value(text, true, &v, &missing), 0, "\"%s\"", text);
	return missing ? -1 : v;
}

/* The true values a published count allows: rounded to 5, or secret (< 5). */
static void bounds(double v, long *lo, long *hi)
{
	if (v < 0) {
		*lo = 0;
		*hi = 4;
	} else {
		*lo = (long)v - 2 < 0 ? 0 : (long)v - 2;
		*hi = (long)v + 2;
	}
}

static long count(struct db *db, const char *sql)
{
	char *v = t_query1(db, sql);
	long n = atol(v);

	free(v);
	return n;
}

static double number(struct db *db, const char *sql)
{
	char *v = t_query1(db, sql);
	double n = atof(v);

	free(v);
	return n;
}

/* Load a set's pc6risk.json into a new schema; returns the schema (to free). */
static char *load_set(const char *dir, struct t_run *out)
{
	char *config = in_dir(dir, "pc6risk.json"), *schema = t_schema("t_synth");
	struct t_run r = t_pc6risk((const char *[]){"init", "-c", config, "--schema", schema, NULL});

	cr_assert_eq(r.status, 0, "init: %s", r.err);
	t_run_free(&r);
	*out = t_pc6risk((const char *[]){"load", "-c", config, "--schema", schema, NULL});
	cr_assert_eq(out->status, 0, "load: %s", out->err);
	free(config);
	return schema;
}

/* Copy a GeoPackage layer into schema.table with ogr2ogr. */
static void import_layer(const char *gpkg, const char *layer, const char *schema, const char *table)
{
	char *nln = xasprintf("%s.%s", schema, table);
	struct t_run r = t_run((const char *[]){"ogr2ogr", "-f", "PostgreSQL", "PG:", gpkg, layer, "-nln", nln, "-lco",
						"GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", NULL});

	cr_assert_eq(r.status, 0, "ogr2ogr %s %s: %s", gpkg, layer, r.err);
	t_run_free(&r);
	free(nln);
}

static struct t_run synth(const char *const *args)
{
	return t_pc6risk(args);
}

/* --------------------------------------------------------------- Den Haag */

Test(synth, buurt_sums_meet_the_real_kwb_totals_within_rounding, .timeout = 120)
{
	const char *dir = synth_dir();
	char *pc6_path = in_dir(dir, "denhaag-synthetic-pc6.csv"), *cw_path = in_dir(dir, "denhaag-synthetic-pc6hnr.csv");
	char *kwb_path = t_repo_path("demo/data/den_haag_buurten_2015_attributes.csv");
	struct table pc6 = read_table(pc6_path, ';'), cw = read_table(cw_path, ';'), kwb = read_table(kwb_path, ',');
	static const char *const pc6_cols[3] = {"INWONER", "AANTAL_HH", "WWB_UITTOT"};
	static const char *const kwb_cols[3] = {"AANT_INW", "AANTAL_HH", "WWB_UITTOT"};
	long lo[3][200] = {{0}}, hi[3][200] = {{0}}, shown[3] = {0}, real[3] = {0};
	size_t checked[3] = {0}, pcol = column(&cw, "PC6"), bcol = column(&cw, "Buurt2015");
	size_t cw_row = 0;

	cr_assert_eq(kwb.nrows, 114);
	for (size_t r = 0; r < pc6.nrows; r++) {
		const char *code = cell(&pc6, r, 0);
		char bu[16];
		size_t k;

		/* the crosswalk is sorted like the PC6 file: find this PC6's buurt */
		while (cw_row < cw.nrows && strcmp(cell(&cw, cw_row, pcol), code) < 0)
			cw_row++;
		cr_assert(cw_row < cw.nrows && strcmp(cell(&cw, cw_row, pcol), code) == 0, "%s is not in the crosswalk", code);
		snprintf(bu, sizeof bu, "BU%08ld", atol(cell(&cw, cw_row, bcol)));
		for (k = 0; k < kwb.nrows; k++)
			if (strcmp(cell(&kwb, k, 0), bu) == 0)
				break;
		cr_assert_lt(k, kwb.nrows, "%s lies in %s, which is no Den Haag buurt", code, bu);
		for (int f = 0; f < 3; f++) {
			double v = published(cell(&pc6, r, column(&pc6, pc6_cols[f])));
			long a, b;

			bounds(v, &a, &b);
			lo[f][k] += a;
			hi[f][k] += b;
			/* rounding to 5 is unbiased; a secret value is 0 to 4 */
			shown[f] += v >= 0 ? (long)v : 2;
		}
	}
	for (size_t k = 0; k < kwb.nrows; k++) {
		for (int f = 0; f < 3; f++) {
			double v = published(cell(&kwb, k, column(&kwb, kwb_cols[f])));

			if (v < 0)
				continue; /* secret in the KWB: nothing to meet */
			cr_assert(v >= lo[f][k] && v <= hi[f][k], "%s %s: the real %g is outside [%ld, %ld], what its PC6 allow",
				  cell(&kwb, k, 0), kwb_cols[f], v, lo[f][k], hi[f][k]);
			real[f] += (long)v;
			checked[f]++;
		}
	}
	cr_assert_eq(checked[0], 114);
	cr_assert_eq(checked[1], 114);
	cr_assert_eq(checked[2], 109, "WWB_UITTOT is secret in 5 buurten of the 2015 KWB");
	for (int f = 0; f < 2; f++)
		cr_assert_lt(fabs((double)(shown[f] - real[f])) / (double)real[f], 0.005, "%s: the city sums to %ld, really %ld",
			     kwb_cols[f], shown[f], real[f]);
	table_free(&pc6);
	table_free(&cw);
	table_free(&kwb);
	free(pc6_path);
	free(cw_path);
	free(kwb_path);
}

/* Check the outcome layer of a buurt CSV: every value a whole percentage or
 * secret, secret exactly where the buurt has fewer than 100 inhabitants; the
 * buurt's inhabitants, households and bijstand come from `pov` (keyed by
 * BU_CODE in its first column; published, so possibly rounded to 5). Returns
 * Spearman's rho of the outcome and the bijstand rate per household; the
 * number of secret values into *secret. */
static double check_outcome(const struct table *bu, const struct table *pov, long *secret)
{
	size_t col = column(bu, "P_KIND_LAAGINK"), inh = column(pov, "AANT_INW"), hh = column(pov, "AANTAL_HH");
	size_t wwb = column(pov, "WWB_UITTOT"), n = 0;
	double *y = xcalloc(bu->nrows + 1, sizeof *y), *x = xcalloc(bu->nrows + 1, sizeof *x), rho;

	*secret = 0;
	for (size_t r = 0; r < bu->nrows; r++) {
		const char *code = cell(bu, r, 0), *text = cell(bu, r, col);
		char *end;
		long v = strtol(text, &end, 10);
		double people, households, benefits;
		size_t k;

		for (k = 0; k < pov->nrows && strcmp(cell(pov, k, 0), code) != 0; k++)
			;
		cr_assert_lt(k, pov->nrows, "%s has no inhabitants figure", code);
		cr_assert(text[0] && *end == '\0' && (v == GEN_CBS_SECRET || (v >= 0 && v <= 100)),
			  "%s: P_KIND_LAAGINK is \"%s\", not a whole percentage or -99997", code, text);
		people = published(cell(pov, k, inh));
		/* a published count v stands for v-2 .. v+2: at 100 either is right */
		if (v == GEN_CBS_SECRET)
			cr_assert(people < PC6GEN_OUTCOME_MIN_INHABITANTS + 3, "%s is secret with %g inhabitants", code, people);
		else
			cr_assert(people > PC6GEN_OUTCOME_MIN_INHABITANTS - 3, "%s has %g inhabitants, too few to show", code,
				  people);
		if (v == GEN_CBS_SECRET) {
			(*secret)++;
			continue;
		}
		households = published(cell(pov, k, hh));
		benefits = published(cell(pov, k, wwb));
		if (households > 0 && benefits >= 0) {
			y[n] = (double)v;
			x[n] = benefits / households;
			n++;
		}
	}
	rho = stats_spearman(y, x, n);
	free(x);
	free(y);
	return rho;
}

Test(synth, the_outcome_layer_follows_poverty_loosely_and_is_secret_in_small_buurten)
{
	char *path = in_dir(synth_dir(), "denhaag-synthetic-buurt.csv");
	char *kwb_path = t_repo_path("demo/data/den_haag_buurten_2015_attributes.csv");
	struct table bu = read_table(path, ';'), kwb = read_table(kwb_path, ',');
	long secret;
	double rho = check_outcome(&bu, &kwb, &secret);

	cr_log_info("P_KIND_LAAGINK: Spearman rho with the bijstand rate %.3f, secret in %ld buurten", rho, secret);
	cr_assert_eq(secret, 6, "the KWB has 6 buurten under 100 inhabitants (0, 0, 0, 0, 25, 55)");
	/* The model gives 0.70 for seed 1 (0.70-0.81 over seeds 1-5): it follows
	 * the real bijstand of 2015 with a slope on tanh of the deprivation, and
	 * spatial fields and noise of its own about as strong. Below 0.4 it would
	 * hardly be tied to poverty; above 0.9 generatie would rank the buurten
	 * as the poverty presets do, and adds nothing. */
	cr_assert(rho > 0.4 && rho < 0.9, "rho = %.3f", rho);
	table_free(&bu);
	table_free(&kwb);
	free(path);
	free(kwb_path);
}

/* KS D of a PC6 column against the real Amsterdam one (secret = -1 on both sides). */
static double ks_against_amsterdam(const struct table *pc6, const char *col, const char *ams_col, double *median,
				   double *secret)
{
	char *path = t_repo_path("demo/data/pc6_amsterdam.csv");
	struct table ams = read_table(path, ',');
	double *a = xcalloc(pc6->nrows, sizeof *a), *b = xcalloc(ams.nrows, sizeof *b), d;
	size_t ca = column(pc6, col), cb = column(&ams, ams_col), known = 0, nsecret = 0;

	for (size_t r = 0; r < pc6->nrows; r++) {
		a[r] = published(cell(pc6, r, ca));
		nsecret += a[r] < 0;
	}
	for (size_t r = 0; r < ams.nrows; r++)
		b[r] = published(cell(&ams, r, cb));
	d = gen_ks2(a, pc6->nrows, b, ams.nrows);
	/* a is sorted now: the median of the known values */
	for (size_t r = 0; r < pc6->nrows; r++)
		known += a[r] >= 0;
	*median = a[pc6->nrows - known + known / 2];
	*secret = (double)nsecret / (double)pc6->nrows;
	free(a);
	free(b);
	table_free(&ams);
	free(path);
	return d;
}

Test(synth, pc6_sizes_follow_the_real_amsterdam_distribution, .timeout = 120)
{
	char *path = in_dir(synth_dir(), "denhaag-synthetic-pc6.csv");
	struct table pc6 = read_table(path, ';');
	double median, secret, d;

	cr_assert_gt(pc6.nrows, 10000);
	d = ks_against_amsterdam(&pc6, "INWONER", "Aantal Inwoners", &median, &secret);
	cr_log_info("Den Haag inhabitants per PC6: KS D = %.4f, median %g, secret %.1f %%", d, median, 100 * secret);
	cr_assert_lt(d, 0.1, "inhabitants per PC6: KS D = %.4f against Amsterdam", d);
	cr_assert(median >= 35 && median <= 45, "the median PC6 has %g inhabitants; Amsterdam's has 40", median);
	cr_assert(secret >= 0.03 && secret <= 0.2, "%.1f %% of PC6 have fewer than 5 inhabitants", 100 * secret);
	d = ks_against_amsterdam(&pc6, "AANTAL_HH", "Aantal Huishoudens", &median, &secret);
	cr_log_info("Den Haag households per PC6: KS D = %.4f, median %g, secret %.1f %%", d, median, 100 * secret);
	cr_assert_lt(d, 0.1, "households per PC6: KS D = %.4f against Amsterdam", d);
	table_free(&pc6);
	free(path);
}

Test(synth, generated_pc6_tile_their_buurt, .timeout = 180)
{
	char *gpkg = in_dir(synth_dir(), "denhaag-synthetic.gpkg"), *schema = t_schema("t_tiles");
	struct db *db;

	t_drop_schema(schema);
	db = t_db(schema);
	{
		char *sql = xasprintf("CREATE SCHEMA %s", schema);
		struct err e;

		cr_assert_eq(db_exec(db, sql, &e), 0, "%s", e.message);
		free(sql);
	}
	import_layer(gpkg, "buurt", schema, "bu");
	import_layer(gpkg, "pc6", schema, "p6");
	{
		struct err e;

		cr_assert_eq(db_exec(db, "CREATE INDEX ON p6 (bu_code); ANALYZE p6; ANALYZE bu", &e), 0, "%s", e.message);
	}
	cr_assert_eq(count(db, "SELECT count(*) FROM bu"), 114);
	cr_assert_eq(count(db, "SELECT count(*) FROM p6 WHERE geometrie <> 'synthetisch'"), 1819,
		     "the 1819 real Zuid-West PC6 polygons are all there");
	cr_assert_eq(count(db, "SELECT count(DISTINCT pc6) FROM p6"), count(db, "SELECT count(*) FROM p6"));
	cr_assert_eq(count(db, "SELECT count(*) FROM p6 WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)"), 0);
	{
		struct err e;

		/* per buurt: its generated cells, their summed area, and the real PC6
		 * (of any buurt) that overlap it */
		cr_assert_eq(db_exec(db,
				     "CREATE TABLE g AS SELECT b.bu_code, b.geom AS bgeom, ST_Area(b.geom) AS area,"
				     " ST_Union(p.geom) FILTER (WHERE p.geometrie = 'synthetisch') AS gen,"
				     " sum(ST_Area(p.geom)) FILTER (WHERE p.geometrie = 'synthetisch') AS gen_sum,"
				     " count(*) FILTER (WHERE p.geometrie <> 'synthetisch') AS own_real, NULL::geometry AS real"
				     " FROM bu b JOIN p6 p ON p.bu_code = b.bu_code GROUP BY b.bu_code, b.geom;"
				     "UPDATE g SET real = (SELECT ST_Union(r.geom) FROM p6 r WHERE r.geometrie <> 'synthetisch'"
				     " AND ST_Intersects(r.geom, g.bgeom) AND ST_Area(ST_Intersection(r.geom, g.bgeom)) > 0)",
				     &e),
			     0, "%s", e.message);
	}
	cr_assert_eq(count(db, "SELECT count(*) FROM g"), 114, "every buurt has PC6");
	cr_assert_eq(count(db, "SELECT count(*) FROM g WHERE own_real > 0"), 17, "17 buurten hold real PC6");
	/* buurten no real PC6 overlaps: the generated cells are the buurt, exactly */
	cr_assert_eq(count(db, "SELECT count(*) FROM g WHERE real IS NULL"), 93, "93 buurten have only generated PC6");
	cr_assert_eq(count(db, "SELECT count(*) FROM g WHERE real IS NULL AND ("
			       " abs(ST_Area(gen) - area) / area >= 1e-6"
			       " OR (gen_sum - ST_Area(gen)) / area >= 1e-6"
			       " OR ST_Area(ST_Difference(gen, bgeom)) / area >= 1e-6)"),
		     0, "a buurt with a gap, an overlap or a cell outside it");
	/* elsewhere generated cells fill what the real PC6 leave, inside the
	 * buurt, overlapping neither the real PC6 nor each other */
	cr_assert_eq(count(db, "SELECT count(*) FROM g WHERE real IS NOT NULL AND gen IS NOT NULL AND ("
			       " ST_Area(ST_Intersection(gen, real)) / area >= 1e-6"
			       " OR (gen_sum - ST_Area(gen)) / area >= 1e-6"
			       " OR ST_Area(ST_Difference(gen, bgeom)) / area >= 1e-6)"),
		     0);
	{
		/* PC6 do not overlap (checked above for generated ones; the real ones
		 * are a CBS partition), so their areas inside the buurt add up */
		double worst = number(db, "SELECT min(c) FROM (SELECT sum(ST_Area(ST_Intersection(p.geom, g.bgeom))) / g.area AS c"
					  " FROM g JOIN p6 p ON ST_Intersects(p.geom, g.bgeom) GROUP BY g.bu_code, g.area) x");

		cr_log_info("least covered buurt: %.2f %% of its area lies in a PC6", 100 * worst);
		cr_assert_geq(worst, 0.85, "the PC6 cover at least 85 %% of every buurt");
	}
	/* generated codes use the PC4 of the real PC6 of their buurt */
	cr_assert_eq(count(db, "SELECT count(*) FROM p6 s WHERE s.geometrie = 'synthetisch'"
			       " AND EXISTS (SELECT 1 FROM p6 r WHERE r.bu_code = s.bu_code AND r.geometrie <> 'synthetisch')"
			       " AND left(s.pc6, 4) NOT IN (SELECT left(r.pc6, 4) FROM p6 r"
			       "  WHERE r.bu_code = s.bu_code AND r.geometrie <> 'synthetisch')"),
		     0);
	db_close(db);
	t_drop_schema(schema);
	free(schema);
	free(gpkg);
}

static long data_rows(const char *path)
{
	char *text = t_slurp(path, NULL);
	long lines = 0;

	cr_assert_not_null(text, "%s", path);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	free(text);
	return lines - 1;
}

Test(synth, the_demo_set_loads_with_zero_rejects_and_neighbours_resemble_each_other, .timeout = 180)
{
	const char *dir = synth_dir();
	char *csv = in_dir(dir, "denhaag-synthetic-pc6.csv"), *sql;
	long npc6 = data_rows(csv), secrets = 0;
	struct t_run r;
	char *schema = load_set(dir, &r);
	struct db *db = t_db(schema);
	double moran, within, shuffled;

	cr_assert_null(strstr(r.err, "warning"), "load warned: %s", r.err);
	t_run_free(&r);
	{
		char *text = t_slurp(csv, NULL);

		for (char *p = strstr(text, "-99997"); p; p = strstr(p + 1, "-99997"))
			secrets++;
		free(text);
	}
	/* every PC6 and every value, none left out, repaired or refused */
	sql = xasprintf("SELECT count(*) FROM run WHERE command = 'load' AND status = 'succeeded'"
			" AND (counts->>'areas_pc6')::bigint = %ld AND (counts->>'polygons_repaired')::int = 0"
			" AND (counts->>'values_loaded')::bigint = %ld",
			npc6, npc6 * 27 + 114 * 3 + 114 * 6);
	cr_assert_eq(count(db, sql), 1);
	free(sql);
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6"), npc6);
	cr_assert_eq(count(db, "SELECT count(*) FROM indicator WHERE level = 'pc6' AND missing IS NOT NULL"), secrets,
		     "the only missing PC6 values are the -99997 in the file");
	cr_assert_eq(count(db, "SELECT count(*) FROM indicator WHERE missing IS NOT NULL AND missing <> 'secret'"), 0);

	/* Moran's I of the share of low incomes, PC6 sharing a border as
	 * neighbours; within buurten uses the deviation from the buurt mean; the
	 * shuffle moves each value to another PC6 at random */
	static const char moran_sql[] =
		"WITH v AS (SELECT p.code, p.buurt_code AS b, i.value AS v FROM pc6 p JOIN indicator i"
		"  ON i.level = 'pc6' AND i.code = p.code AND i.name = 'low_income_share' WHERE i.value IS NOT NULL),"
		" s AS (%s),"
		" y AS (SELECT code, %s AS d FROM s),"
		" pairs AS (SELECT a.code AS ca, c.code AS cc FROM pc6 a JOIN pc6 c"
		"  ON a.code <> c.code AND ST_Intersects(a.geom, c.geom)),"
		" pv AS (SELECT ya.d AS da, yc.d AS dc FROM pairs JOIN y ya ON ya.code = ca JOIN y yc ON yc.code = cc)"
		" SELECT (SELECT count(*) FROM y)::float8 / count(*) * sum(da * dc) / (SELECT sum(d * d) FROM y) FROM pv";
	sql = xasprintf(moran_sql, "SELECT code, b, v FROM v", "v - avg(v) OVER ()");
	moran = number(db, sql);
	free(sql);
	sql = xasprintf(moran_sql, "SELECT code, b, v FROM v", "v - avg(v) OVER (PARTITION BY b)");
	within = number(db, sql);
	free(sql);
	sql = xasprintf(moran_sql,
			"SELECT a.code, a.b, c.v FROM (SELECT code, b, row_number() OVER (ORDER BY code) AS k FROM v) a"
			" JOIN (SELECT v, row_number() OVER (ORDER BY md5(code)) AS k FROM v) c USING (k)",
			"v - avg(v) OVER ()");
	shuffled = number(db, sql);
	free(sql);
	cr_log_info("Moran's I of low_income_share: %.3f, within buurten %.3f, shuffled %.3f", moran, within, shuffled);
	cr_assert_gt(moran, 0.5);
	cr_assert_gt(within, 0.2, "neighbours resemble each other inside a buurt too");
	cr_assert_lt(fabs(shuffled), 0.05, "the statistic sees no pattern where there is none");

	/* the outcome layer's own part, what the bijstand rate does not explain
	 * (residuals of a straight line on the logit scale), resembles the
	 * neighbouring buurten' too: its fields are 1 and 10 km wide */
	moran = number(db,
		       "WITH j AS (SELECT o.code, ln(o.value / (100 - o.value)) AS y,"
		       "  ln((b.value + 0.5) / (h.value - b.value + 0.5)) AS x FROM indicator o"
		       "  JOIN indicator h ON h.level = 'buurt' AND h.code = o.code AND h.name = 'households'"
		       "  JOIN indicator b ON b.level = 'buurt' AND b.code = o.code AND b.name = 'benefit_recipients'"
		       "  WHERE o.level = 'buurt' AND o.name = 'mobility_outcome' AND o.value > 0 AND o.value < 100"
		       "  AND h.value > 0 AND b.value IS NOT NULL),"
		       " f AS (SELECT regr_slope(y, x) AS s, regr_intercept(y, x) AS i FROM j),"
		       " r AS (SELECT code, y - (f.i + f.s * x) AS d FROM j, f),"
		       " y AS (SELECT code, d - avg(d) OVER () AS d FROM r),"
		       " pairs AS (SELECT a.code AS ca, c.code AS cc FROM buurt a JOIN buurt c"
		       "  ON a.code <> c.code AND ST_Intersects(a.geom, c.geom)),"
		       " pv AS (SELECT ya.d AS da, yc.d AS dc FROM pairs JOIN y ya ON ya.code = ca JOIN y yc ON yc.code = cc)"
		       " SELECT (SELECT count(*) FROM y)::float8 / count(*) * sum(da * dc) / (SELECT sum(d * d) FROM y) FROM pv");
	cr_log_info("Moran's I of the outcome layer beyond poverty, buurten: %.3f", moran);
	cr_assert_gt(moran, 0.2);
	db_close(db);
	t_drop_schema(schema);
	free(schema);
	free(csv);
}

/* The names in a directory, sorted, one a line. */
static char *listing(const char *dir)
{
	struct t_run r = t_run((const char *[]){"ls", dir, NULL});
	char *s = xstrdup(r.out);

	t_run_free(&r);
	return s;
}

static void same_files(const char *a, const char *b)
{
	char *la = listing(a), *lb = listing(b), *save = NULL;
	int files = 0;

	cr_assert_str_eq(la, lb, "the two runs wrote other files");
	for (char *name = strtok_r(la, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		char *pa = in_dir(a, name), *pb = in_dir(b, name);
		struct t_run r = t_run((const char *[]){"cmp", pa, pb, NULL});

		cr_assert_eq(r.status, 0, "%s differs between two runs with the same seed: %s", name, r.out);
		t_run_free(&r);
		free(pa);
		free(pb);
		files++;
	}
	cr_assert_eq(files, 6);
	free(la);
	free(lb);
}

Test(synth, the_same_seed_gives_the_same_bytes_and_another_seed_other_ones, .timeout = 180)
{
	char *dir = t_tmpdir(), *one = in_dir(dir, "one"), *two = in_dir(dir, "two"), *schema = t_schema("t_scratch");
	char *data = t_repo_path("demo/data");
	struct t_run r = synth((const char *[]){"synth", "-q", "--area", "denhaag", "--seed", "1", "--data", data, "--out",
						one, "--schema", schema, NULL});

	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err, "", "-q logs nothing");
	t_run_free(&r);
	same_files(synth_dir(), one);

	r = synth((const char *[]){"synth", "-q", "--area", "denhaag", "--seed", "2", "--data", data, "--out", two,
				   "--schema", schema, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = {"denhaag-synthetic-pc6.csv", "denhaag-synthetic.gpkg",
						    "denhaag-synthetic-pc6hnr.csv"};
		char *pa = in_dir(one, names[i]), *pb = in_dir(two, names[i]);

		r = t_run((const char *[]){"cmp", "-s", pa, pb, NULL});
		cr_assert_eq(r.status, 1, "%s is the same for seeds 1 and 2", names[i]);
		t_run_free(&r);
		free(pa);
		free(pb);
	}
	t_rmtree(dir);
	free(dir);
	free(one);
	free(two);
	free(schema);
	free(data);
}

Test(synth, every_file_says_it_is_synthetic)
{
	const char *dir = synth_dir();
	char *list = listing(dir), *save = NULL, *path;
	struct t_run r;
	char *text;

	for (char *name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save))
		if (strcmp(name, "pc6risk.json") != 0)
			cr_assert(strstr(name, "synthetic"), "%s does not say synthetic in its name", name);
	free(list);

	path = in_dir(dir, "denhaag-synthetic.gpkg");
	r = t_run((const char *[]){"ogrinfo", "-ro", "-so", "-al", path, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "SYNTHETIC=yes"), "%s", r.out);
	t_run_free(&r);
	r = t_run((const char *[]){"ogrinfo", "-ro", "-q", path, "-sql",
				   "SELECT count(*) FROM gpkg_contents WHERE description LIKE '%SYNTHETIC%'", NULL});
	cr_assert(strstr(r.out, "= 4"), "every layer's description says SYNTHETIC: %s", r.out);
	t_run_free(&r);
	free(path);

	for (int i = 0; i < 2; i++) {
		struct table t;

		path = in_dir(dir, i ? "denhaag-synthetic-buurt.csv" : "denhaag-synthetic-pc6.csv");
		t = read_table(path, ';');
		for (size_t row = 0; row < t.nrows; row++)
			cr_assert_str_eq(cell(&t, row, column(&t, "BRON")), "synthetisch");
		table_free(&t);
		free(path);
	}
	path = in_dir(dir, "synthetic.json");
	text = t_slurp(path, NULL);
	cr_assert(text && strstr(text, "\"synthetic\": true"));
	free(text);
	free(path);
	path = in_dir(dir, "pc6risk.json");
	text = t_slurp(path, NULL);
	cr_assert(text && strstr(text, "\"attribution\": \"SYNTHETISCHE"));
	free(text);
	free(path);
}

Test(synth, postcodes_are_valid_unique_and_from_den_haag)
{
	char *path = in_dir(synth_dir(), "denhaag-synthetic-pc6.csv");
	char *pc4_path = t_repo_path("demo/data/PC4_CBS_2019_urbanization_index.csv");
	struct table pc6 = read_table(path, ';'), pc4 = read_table(pc4_path, ';');

	for (size_t r = 0; r < pc6.nrows; r++) {
		const char *code = cell(&pc6, r, 0), *why;
		char norm[7];
		bool known = false;

		cr_assert_eq(cbs_pc6_normalise(code, norm, &why), 0, "%s: %s", code, why);
		cr_assert_str_eq(norm, code);
		if (r)
			cr_assert_lt(strcmp(cell(&pc6, r - 1, 0), code), 0, "%s is not unique or not in order", code);
		for (size_t k = 0; k < pc4.nrows && !known; k++)
			known = strncmp(cell(&pc4, k, 0), code, 4) == 0;
		cr_assert(known && strncmp(code, "24", 2) >= 0 && strncmp(code, "2599", 4) <= 0,
			  "%s is not in one of Den Haag's real PC4", code);
	}
	table_free(&pc6);
	table_free(&pc4);
	free(path);
	free(pc4_path);
}

/* --------------------------------------------------------------- national */

Test(synth, a_national_set_nests_meets_its_targets_and_loads, .timeout = 240)
{
	char *dir = t_tmpdir(), *one = in_dir(dir, "one"), *two = in_dir(dir, "two"), *schema, *path;
	char *data = t_repo_path("demo/data"), *scratch = t_schema("t_scratch");
	struct t_run r = synth((const char *[]){"synth", "--area", "nl", "--postcodes", "5000", "--seed", "3", "--data",
						data, "--out", one, "--schema", scratch, NULL});
	struct db *db;
	struct table pc6, cw;
	double median, secret, d;

	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "gemeenten=4 wijken=37 buurten=145 pc6=5000"), "%s", r.err);
	t_run_free(&r);
	r = synth((const char *[]){"synth", "-q", "--area", "nl", "--postcodes", "5000", "--seed", "3", "--data", data,
				   "--out", two, "--schema", scratch, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	same_files(one, two);

	/* 5000 / 34.6 = 145 buurten, / 3.94 = 37 wijken, / 9.7 = 4 gemeenten */
	schema = load_set(one, &r);
	t_run_free(&r);
	db = t_db(schema);
	cr_assert_eq(count(db, "SELECT count(*) FROM gemeente"), 4);
	cr_assert_eq(count(db, "SELECT count(*) FROM wijk"), 37);
	cr_assert_eq(count(db, "SELECT count(*) FROM buurt"), 145);
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6"), 5000);
	/* every level tiles its parent exactly: no gap, no overlap, nothing outside */
	{
		static const char *const levels[][3] = {
			{"pc6", "buurt_code", "buurt"}, {"buurt", "wijk_code", "wijk"}, {"wijk", "gemeente_code", "gemeente"}};

		for (int i = 0; i < 3; i++) {
			char *sql = xasprintf("SELECT count(*) FROM (SELECT p.code, ST_Area(p.geom) AS area, ST_Union(c.geom) AS u,"
					      " sum(ST_Area(c.geom)) AS s, p.geom FROM %s c JOIN %s p ON p.code = c.%s"
					      " GROUP BY p.code, p.geom) x WHERE abs(ST_Area(u) - area) / area >= 1e-6"
					      " OR (s - ST_Area(u)) / area >= 1e-6 OR ST_Area(ST_Difference(u, geom)) / area >= 1e-6",
					      levels[i][0], levels[i][2], levels[i][1]);

			cr_assert_eq(count(db, sql), 0, "%s do not tile their %s", levels[i][0], levels[i][2]);
			free(sql);
		}
	}
	cr_assert_eq(count(db, "SELECT count(*) FROM buurt WHERE left(code, 8) <> 'BU' || substr(wijk_code, 3)"), 0,
		     "buurt codes extend their wijk's code");

	/* the crosswalk puts every address in its PC6's buurt */
	path = in_dir(one, "nl-synthetic-pc6hnr.csv");
	cw = read_table(path, ';');
	free(path);
	{
		struct err e;
		struct db_result *res = db_query(db, "SELECT code, buurt_code FROM pc6 ORDER BY code COLLATE \"C\"", 0, NULL, &e);
		size_t k = 0, seen = 0;

		cr_assert_not_null(res, "%s", e.message);
		for (size_t row = 0; row < cw.nrows; row++) {
			const char *code = cell(&cw, row, 0);
			char bu[16];

			while (k < (size_t)db_nrows(res) && strcmp(db_value(res, (int)k, 0), code) < 0)
				k++;
			cr_assert(k < (size_t)db_nrows(res) && strcmp(db_value(res, (int)k, 0), code) == 0, "%s", code);
			snprintf(bu, sizeof bu, "BU%08ld", atol(cell(&cw, row, 2)));
			cr_assert_str_eq(bu, db_value(res, (int)k, 1), "%s", code);
			seen += row == 0 || strcmp(cell(&cw, row - 1, 0), code) != 0;
		}
		cr_assert_eq(seen, 5000, "every PC6 has addresses");
		db_result_free(res);
	}
	table_free(&cw);

	path = in_dir(one, "nl-synthetic-pc6.csv");
	pc6 = read_table(path, ';');
	free(path);
	d = ks_against_amsterdam(&pc6, "INWONER", "Aantal Inwoners", &median, &secret);
	cr_assert_lt(d, 0.1, "inhabitants per PC6: KS D = %.4f", d);
	d = ks_against_amsterdam(&pc6, "AANTAL_HH", "Aantal Huishoudens", &median, &secret);
	cr_assert_lt(d, 0.1, "households per PC6: KS D = %.4f", d);
	table_free(&pc6);

	/* the outcome layer: the national deprivation varies less than Den
	 * Haag's real bijstand (logit sd 0.6 against 1.6), so poverty explains
	 * less of it; 0.42 for this set (0.46-0.47 for 20,000 PC6, seeds 1-3) */
	{
		struct table bu;
		long secret;
		double rho;

		path = in_dir(one, "nl-synthetic-buurt.csv");
		bu = read_table(path, ';');
		free(path);
		rho = check_outcome(&bu, &bu, &secret);
		cr_log_info("national P_KIND_LAAGINK: Spearman rho with the bijstand rate %.3f, secret in %ld buurten", rho,
			    secret);
		cr_assert(rho > 0.2 && rho < 0.8, "rho = %.3f", rho);
		cr_assert_lt(secret, 10);
		table_free(&bu);
	}

	db_close(db);
	t_drop_schema(schema);
	t_rmtree(dir);
	free(schema);
	free(scratch);
	free(dir);
	free(one);
	free(two);
	free(data);
}

/* --------------------------------------------------------------- refusals */

Test(synth, usage_errors_exit_2)
{
	const char *const *cases[] = {
		(const char *const[]){"synth", NULL},
		(const char *const[]){"synth", "--area", "utrecht", NULL},
		(const char *const[]){"synth", "--area", "denhaag", "--postcodes", "5000", NULL},
		(const char *const[]){"synth", "--area", "nl", "--postcodes", "99", NULL},
		(const char *const[]){"synth", "--area", "nl", "--postcodes", "5e3", NULL},
		(const char *const[]){"synth", "--area", "nl", "--seed", "-1", NULL},
		(const char *const[]){"synth", "--area", "nl", "-c", "pc6risk.json", NULL},
		(const char *const[]){"load", "--area", "nl", NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct t_run r = synth(cases[i]);

		cr_assert_eq(r.status, 2, "case %zu: %s", i, r.err);
		cr_assert(strstr(r.err, "Try 'pc6risk "), "case %zu: %s", i, r.err);
		t_run_free(&r);
	}
}

Test(synth, a_scratch_schema_in_use_is_refused_and_left_alone)
{
	char *schema = t_schema("t_taken"), *dir = t_tmpdir(), *out = in_dir(dir, "out"), *data = t_repo_path("demo/data");
	struct db *db = t_db("public");
	char *sql = xasprintf("CREATE SCHEMA %s; CREATE TABLE %s.keep (x int)", schema, schema);
	struct err e;
	struct t_run r;
	char *list;

	cr_assert_eq(db_exec(db, sql, &e), 0, "%s", e.message);
	free(sql);
	r = synth((const char *[]){"synth", "--area", "denhaag", "--data", data, "--out", out, "--schema", schema, NULL});
	cr_assert_eq(r.status, 5, "%s", r.err);
	cr_assert(strstr(r.err, "already exists"), "%s", r.err);
	cr_assert(strstr(r.err, "hint: synth needs a scratch schema of its own"), "%s", r.err);
	t_run_free(&r);
	sql = xasprintf("SELECT count(*) FROM %s.keep", schema);
	cr_assert_eq(count(db, sql), 0, "the schema is still there");
	free(sql);
	list = listing(out);
	cr_assert_str_eq(list, "", "nothing was written");
	free(list);

	/* a data directory without the real files: an input error naming the file */
	r = synth((const char *[]){"synth", "--area", "denhaag", "--data", dir, "--out", out, NULL});
	cr_assert_eq(r.status, 4, "%s", r.err);
	cr_assert(strstr(r.err, "pc6_amsterdam.csv"), "%s", r.err);
	t_run_free(&r);

	db_close(db);
	t_drop_schema(schema);
	t_rmtree(dir);
	free(schema);
	free(dir);
	free(out);
	free(data);
}
