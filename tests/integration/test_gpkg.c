/*
 * The whole-layer files of a release (src/gpkg.c) on the Den Haag demo:
 * pc6risk.gpkg opened with GDAL's own ogrinfo, its QGIS styles, the CSV
 * files, what PC6 rows show, and identical bytes from a second publish.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pc6risk/config.h"
#include "pc6risk/xalloc.h"
#include "support.h"

struct fixture {
	char *schema, *out, *config, *gpkg;
	struct config *cfg;
	struct db *db;
};

static void start(struct fixture *f)
{
	struct err e;

	f->schema = t_schema("t_gpkg");
	f->out = t_tmpdir();
	f->config = t_repo_path("demo/pc6risk.json");
	f->cfg = config_load(f->config, &e);
	cr_assert_not_null(f->cfg, "%s", e.message);
	t_init(f->config, f->schema);
	t_refresh(f->config, f->schema, f->out, "20");
	f->gpkg = xasprintf("%s/current/pc6risk.gpkg", f->out);
	f->db = t_db(f->schema);
}

static void end(struct fixture *f)
{
	db_close(f->db);
	config_free(f->cfg);
	t_drop_schema(f->schema);
	t_rmtree(f->out);
	free(f->schema);
	free(f->out);
	free(f->config);
	free(f->gpkg);
}

/* What ogrinfo prints for args (the GeoPackage is added), after checking it succeeded. */
static char *ogrinfo(const struct fixture *f, const char *const *args)
{
	const char *argv[16] = {"ogrinfo", "-ro", "-q"};
	size_t n = 3;
	struct t_run r;
	char *out;

	argv[n++] = f->gpkg;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	r = t_run(argv);
	cr_assert_eq(r.status, 0, "ogrinfo failed: %s", r.err);
	out = xstrdup(r.out);
	t_run_free(&r);
	return out;
}

/* The integer ogrinfo prints for a one-value SQL query ("  x (Integer) = 5"). */
static long sql_count(const struct fixture *f, const char *sql)
{
	char *out = ogrinfo(f, (const char *[]){"-sql", sql, NULL});
	const char *eq = strstr(out, ") = ");
	long v;

	cr_assert_not_null(eq, "no value from %s:\n%s", sql, out);
	v = strtol(eq + 4, NULL, 10);
	free(out);
	return v;
}

/* The layers pc6risk.gpkg should hold: level_scenario for each scored level. */
static size_t expected_layers(const struct config *cfg, char **names, enum level *lv)
{
	static const enum level levels[] = {LEVEL_WIJK, LEVEL_BUURT, LEVEL_PC6};
	size_t n = 0;

	for (size_t l = 0; l < 3; l++)
		for (size_t i = 0; i < cfg->nscenarios; i++)
			if (cfg->scenarios[i].outputs[levels[l]]) {
				lv[n] = levels[l];
				names[n++] = xasprintf("%s_%s", level_name(levels[l]), cfg->scenarios[i].name);
			}
	return n;
}

Test(gpkg, qgis_opens_every_layer_styled, .timeout = 300)
{
	struct fixture f;
	char *names[64], *list, *styles;
	enum level lv[64];
	size_t n;

	start(&f);
	n = expected_layers(f.cfg, names, lv);
	cr_assert_gt(n, 0);
	list = ogrinfo(&f, (const char *[]){"-so", NULL});
	for (size_t i = 0; i < n; i++) {
		char *want = xasprintf(": %s (Multi Polygon)\n", names[i]);

		cr_assert_not_null(strstr(list, want), "layer %s is not listed:\n%s", names[i], list);
		free(want);
	}
	cr_assert_not_null(strstr(list, ": layer_styles (None)"), "%s", list);

	/* one default style per layer, as QGIS looks it up (f_table_schema '',
	 * the table and its geometry column), with QML and SLD */
	cr_assert_eq(sql_count(&f, "SELECT count(*) FROM layer_styles"), (long)n);
	cr_assert_eq(sql_count(&f, "SELECT count(DISTINCT f_table_name) FROM layer_styles WHERE f_table_schema = ''"
				   " AND f_geometry_column = 'geom' AND useAsDefault = 1"
				   " AND styleQML LIKE '%graduatedSymbol%' AND styleSLD LIKE '%StyledLayerDescriptor%'"),
		     (long)n);
	styles = ogrinfo(&f, (const char *[]){"-sql", "SELECT f_table_name FROM layer_styles", NULL});
	for (size_t i = 0; i < n; i++) {
		char *want = xasprintf("f_table_name (String) = %s\n", names[i]);

		cr_assert_not_null(strstr(styles, want), "no style for %s", names[i]);
		free(want);
	}
	/* the spatial index, and EPSG:28992 */
	cr_assert_eq(sql_count(&f, "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'"),
		     (long)n);
	cr_assert_eq(sql_count(&f, "SELECT count(*) FROM gpkg_geometry_columns WHERE srs_id = 28992"), (long)n);
	/* nothing but the layers and the styles */
	cr_assert_eq(sql_count(&f, "SELECT count(*) FROM gpkg_contents"), (long)n + 1);
	free(list);
	free(styles);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	end(&f);
}

Test(gpkg, layers_hold_what_protect_published_and_pc6_only_bands, .timeout = 300)
{
	struct fixture f;
	char *names[64];
	enum level lv[64];
	size_t n;

	start(&f);
	n = expected_layers(f.cfg, names, lv);
	for (size_t i = 0; i < n; i++) {
		const char *s = strchr(names[i], '_') + 1;
		char *sql = xasprintf("SELECT count(*) FROM protected_area WHERE level = '%s'", level_name(lv[i]));
		char *want = t_query1(f.db, sql), *q;

		free(sql);
		q = xasprintf("SELECT count(*) FROM \"%s\"", names[i]);
		cr_assert_eq(sql_count(&f, q), atol(want), "%s: features", names[i]);
		free(q);
		free(want);
		if (lv[i] == LEVEL_PC6) {
			/* PC6: the group's band, never a score or a rank (public policy) */
			q = xasprintf("SELECT count(*) FROM \"%s\" WHERE \"%s_score\" IS NOT NULL OR \"%s_rank\" IS NOT NULL"
				      " OR \"%s_ranked_of\" IS NOT NULL",
				      names[i], s, s, s);
			cr_assert_eq(sql_count(&f, q), 0, "%s shows more than bands", names[i]);
			free(q);
			sql = xasprintf("SELECT count(*) FROM protected_area a JOIN protected_group_value g"
					" ON g.group_code = a.group_code AND g.scenario = '%s' WHERE a.level = 'pc6'"
					" AND g.band IS NOT NULL",
					s);
			want = t_query1(f.db, sql);
			q = xasprintf("SELECT count(*) FROM \"%s\" WHERE \"%s_band\" BETWEEN 1 AND %d"
				      " AND \"%s_status\" = 'published'",
				      names[i], s, f.cfg->privacy.bands, s);
			cr_assert_eq(sql_count(&f, q), atol(want), "%s: banded PC6", names[i]);
		} else {
			sql = xasprintf("SELECT count(*) FROM protected_value WHERE level = '%s' AND scenario = '%s'"
					" AND status = 'published'",
					level_name(lv[i]), s);
			want = t_query1(f.db, sql);
			q = xasprintf("SELECT count(*) FROM \"%s\" WHERE \"%s_score\" IS NOT NULL AND \"%s_status\" = 'published'"
				      " AND \"%s_band\" IS NULL",
				      names[i], s, s, s);
			cr_assert_eq(sql_count(&f, q), atol(want), "%s: published scores", names[i]);
		}
		free(q);
		free(sql);
		free(want);
		free(names[i]);
	}
	end(&f);
}

Test(gpkg, csv_and_qml_beside_the_geojson, .timeout = 300)
{
	struct fixture f;
	char *path, *text, *header, *want;
	size_t lines = 0;

	start(&f);
	path = xasprintf("%s/current/pc6.csv", f.out);
	text = t_slurp(path, NULL);
	cr_assert_not_null(text, "%s was not written", path);
	header = xasprintf("code,name,level,buurt_code,wijk_code,gemeente_code,group,unit,%s_score,",
			   f.cfg->scenarios[0].name);
	cr_assert_eq(strncmp(text, header, strlen(header)), 0, "%.200s", text);
	for (const char *p = text; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	want = t_query1(f.db, "SELECT count(*) FROM protected_area WHERE level = 'pc6'");
	cr_assert_eq((long)lines - 1, atol(want), "pc6.csv: a row per PC6");
	/* no PC6 row carries a score, rank or rank total: only empty fields or a band */
	for (const char *p = strstr(text, "\r\n") + 2; *p; p = strstr(p, "\r\n") + 2) {
		int field = 0;

		for (const char *q = p; *q != '\r'; q++) {
			if (*q == '"') {
				while (*++q != '"' || q[1] == '"')
					if (*q == '"')
						q++;
				continue;
			}
			if (*q == ',') {
				field++;
				/* per scenario: score, rank, ranked_of come first of six */
				if (field >= 8 && (field - 8) % 6 < 3)
					cr_assert(q[1] == ',', "pc6.csv: a PC6 row with a score or rank: %.80s", p);
			}
		}
	}
	free(text);
	free(path);
	free(header);
	free(want);

	path = xasprintf("%s/current/buurten.qml", f.out);
	text = t_slurp(path, NULL);
	cr_assert_not_null(text, "buurten.qml was not written");
	cr_assert_not_null(strstr(text, "type=\"graduatedSymbol\""));
	free(text);
	free(path);
	for (size_t i = 0; i < f.cfg->nscenarios; i++) {
		if (!f.cfg->scenarios[i].outputs[LEVEL_BUURT])
			continue;
		path = xasprintf("%s/current/buurten.%s.qml", f.out, f.cfg->scenarios[i].name);
		cr_assert_eq(access(path, R_OK), 0, "%s was not written", path);
		free(path);
	}
	end(&f);
}

Test(gpkg, publishing_again_gives_identical_bytes, .timeout = 300)
{
	static const char *const files[] = {"pc6risk.gpkg", "wijken.csv", "buurten.csv", "pc6.csv", "buurten.qml",
					    "areas.json"};
	struct fixture f;
	char *first, *second;
	struct t_run r;

	start(&f);
	first = xasprintf("%s/first", f.out);
	second = xasprintf("%s/current", f.out);
	r = t_run((const char *[]){"cp", "-rL", second, first, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	sleep(1); /* release ids carry the second they were made */
	r = t_pc6risk((const char *[]){"publish", "-c", f.config, "--schema", f.schema, "--out", f.out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *a = xasprintf("%s/%s", first, files[i]), *b = xasprintf("%s/%s", second, files[i]);
		size_t na, nb;
		char *ta = t_slurp(a, &na), *tb = t_slurp(b, &nb);

		cr_assert(ta && tb, "%s is missing", files[i]);
		cr_assert(na == nb && memcmp(ta, tb, na) == 0, "%s differs between two publishes", files[i]);
		free(ta);
		free(tb);
		free(a);
		free(b);
	}
	free(first);
	free(second);
	end(&f);
}
