/*
 * The demo pipeline end to end on the Den Haag data, against PostGIS: the real
 * buurten and KWB figures, and the synthetic PC6 set tests/run.sh makes with
 * `pc6risk synth --area denhaag --seed 1` (PC6RISK_SYNTH_DIR, which the demo
 * config reads as demo/synthetic). What it writes is read back and checked,
 * and failures leave things as they were.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pc6risk/compare.h"
#include "pc6risk/config.h"
#include "pc6risk/csv.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"
#include "mvtdec.h"
#include "support.h"

static const char *const pilots[] = {"schildersbuurt", "laakkwartier", "bouwlust"};

/* The number of PC6 in the synthetic set: the data rows of its PC6 CSV. */
static long synthetic_pc6(void)
{
	const char *dir = getenv("PC6RISK_SYNTH_DIR");
	char *path, *text;
	long lines = 0;

	cr_assert(dir && dir[0], "PC6RISK_SYNTH_DIR is not set; run the tests with tests/run.sh");
	path = xasprintf("%s/denhaag-synthetic-pc6.csv", dir);
	text = t_slurp(path, NULL);
	cr_assert_not_null(text, "%s was not written", path);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	free(path);
	free(text);
	return lines - 1;
}

/* A schema and an output directory of the test's own, with the demo run once. */
struct demo {
	char *schema;
	char *out;
	char *config;
	struct t_run run; /* what refresh said */
};

static void demo_start(struct demo *d)
{
	d->schema = t_schema("t_demo");
	d->out = t_tmpdir();
	d->config = t_repo_path("demo/pc6risk.json");
	t_init(d->config, d->schema);
	/* fewer draws than the demo's 1000: the tests look at what they give, not how exact */
	d->run = t_pc6risk((const char *[]){"refresh", "-c", d->config, "--schema", d->schema, "--out", d->out,
					    "--draws", "100", NULL});
	cr_assert_eq(d->run.status, 0, "refresh: %s", d->run.err);
}

static void demo_end(struct demo *d)
{
	t_run_free(&d->run);
	t_drop_schema(d->schema);
	t_rmtree(d->out);
	free(d->schema);
	free(d->out);
	free(d->config);
}

static char *out_file(const struct demo *d, const char *rel)
{
	return xasprintf("%s/current/%s", d->out, rel);
}

static cJSON *read_json(const char *path, char **text)
{
	char *t = t_slurp(path, NULL);
	cJSON *j;

	cr_assert_not_null(t, "%s was not written", path);
	j = cJSON_Parse(t);
	cr_assert_not_null(j, "%s is not valid JSON", path);
	if (text)
		*text = t;
	else
		free(t);
	return j;
}

static void check_polygon(const char *path, const char *id, const cJSON *poly)
{
	int nrings = cJSON_GetArraySize(poly);

	cr_assert_gt(nrings, 0, "%s: %s has an empty polygon", path, id);
	for (int r = 0; r < nrings; r++) {
		const cJSON *ring = cJSON_GetArrayItem(poly, r), *pt;
		int n = cJSON_GetArraySize(ring);
		const cJSON *first = cJSON_GetArrayItem(ring, 0), *last = cJSON_GetArrayItem(ring, n - 1);

		cr_assert_geq(n, 4, "%s: %s has a ring of %d positions", path, id, n);
		cr_assert(cJSON_GetArrayItem(first, 0)->valuedouble == cJSON_GetArrayItem(last, 0)->valuedouble &&
				  cJSON_GetArrayItem(first, 1)->valuedouble == cJSON_GetArrayItem(last, 1)->valuedouble,
			  "%s: %s has an open ring", path, id);
		cJSON_ArrayForEach(pt, ring)
		{
			double lon = cJSON_GetArrayItem(pt, 0)->valuedouble, lat = cJSON_GetArrayItem(pt, 1)->valuedouble;

			cr_assert_eq(cJSON_GetArraySize(pt), 2, "%s: %s: positions are [lon, lat]", path, id);
			/* WGS84 lon/lat order: Den Haag lies near 4.3 E, 52.1 N */
			cr_assert(lon > 3 && lon < 8 && lat > 50 && lat < 54, "%s: %s: position %f, %f is not lon/lat in the Netherlands",
				  path, id, lon, lat);
		}
		if (r == 0)
			cr_assert_gt(geojson_ring_area(ring), 0, "%s: %s: exterior ring is not counter-clockwise", path,
				     id);
		else
			cr_assert_lt(geojson_ring_area(ring), 0, "%s: %s: hole is not clockwise", path, id);
	}
}

/* No number in the text has more than six decimals. */
static void check_precision(const char *path, const char *text)
{
	for (const char *p = strchr(text, '.'); p; p = strchr(p + 1, '.')) {
		size_t digits = strspn(p + 1, "0123456789");

		if (p > text && p[-1] >= '0' && p[-1] <= '9')
			cr_assert_leq(digits, 6, "%s: a number with %zu decimals at byte %ld", path, digits, (long)(p - text));
	}
}

/* RFC 7946 as QGIS and GDAL read it; returns the parsed collection. */
static cJSON *check_geojson(const char *path)
{
	char *text;
	cJSON *fc = read_json(path, &text), *f;
	struct t_run r;

	cr_assert_str_eq(cJSON_GetObjectItem(fc, "type")->valuestring, "FeatureCollection");
	cr_assert_null(cJSON_GetObjectItem(fc, "crs"), "%s: RFC 7946 has no crs member", path);
	cr_assert(cJSON_IsArray(cJSON_GetObjectItem(fc, "features")));
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(fc, "features"))
	{
		const cJSON *id = cJSON_GetObjectItem(f, "id"), *props = cJSON_GetObjectItem(f, "properties");
		const cJSON *geom = cJSON_GetObjectItem(f, "geometry"), *coords, *poly;
		const char *type;

		cr_assert_str_eq(cJSON_GetObjectItem(f, "type")->valuestring, "Feature");
		cr_assert(cJSON_IsString(id), "%s: feature ids are strings", path);
		cr_assert_str_eq(id->valuestring, cJSON_GetObjectItem(props, "code")->valuestring);
		type = cJSON_GetObjectItem(geom, "type")->valuestring;
		coords = cJSON_GetObjectItem(geom, "coordinates");
		if (strcmp(type, "Polygon") == 0) {
			check_polygon(path, id->valuestring, coords);
		} else {
			cr_assert_str_eq(type, "MultiPolygon", "%s: %s", path, id->valuestring);
			cJSON_ArrayForEach(poly, coords)
			check_polygon(path, id->valuestring, poly);
		}
	}
	check_precision(path, text);
	free(text);

	r = t_run((const char *[]){"ogrinfo", "-ro", "-al", "-so", path, NULL});
	cr_assert_eq(r.status, 0, "ogrinfo %s: %s", path, r.err);
	cr_assert_str_eq(r.err, "", "ogrinfo warns about %s", path);
	t_run_free(&r);
	return fc;
}

static const char *prop(const cJSON *feature, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(feature, "properties"), name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double households(struct db *db, const char *code)
{
	const char *params[1] = {code};
	struct err e;
	struct db_result *r = db_query(db,
				       "SELECT value FROM indicator WHERE level = 'buurt' AND name = 'households' AND code = $1",
				       1, params, &e);
	double v;

	cr_assert_not_null(r, "%s", e.message);
	cr_assert_eq(db_nrows(r), 1, "no households figure for %s", code);
	v = db_value(r, 0, 0) ? atof(db_value(r, 0, 0)) : NAN;
	db_result_free(r);
	return v;
}

static long count(struct db *db, const char *sql)
{
	char *v = t_query1(db, sql);
	long n = atol(v);

	free(v);
	return n;
}

Test(demo, end_to_end_on_real_den_haag_data, .timeout = 300)
{
	struct demo d;
	struct db *db;
	cJSON *fc, *f;
	char *path;
	int nfeatures = 0, published = 0, suppressed = 0;

	demo_start(&d);
	db = t_db(d.schema);

	/* the ranked table shows where the three pilot areas stand */
	cr_assert(strstr(d.run.out, "    1  BU05182916  Schildersbuurt-Noord"), "%s", d.run.out);
	cr_assert(strstr(d.run.out, "Schildersbuurt (wijk WK051829, Wijk 29 Schildersbuurt): 3 buurten ranked 1, 2, 5 of 108"),
		  "%s", d.run.out);
	cr_assert(strstr(d.run.out, "Laakkwartier (wijk WK051838, Wijk 38 Laakkwartier en Spoorwijk): 6 buurten ranked"),
		  "%s", d.run.out);
	cr_assert(strstr(d.run.out, "Bouwlust (wijk WK051833, Wijk 33 Bouwlust en Vrederust): 4 buurten ranked"), "%s",
		  d.run.out);

	/* the whole city: one feature per buurt, none published below k */
	path = out_file(&d, "buurten.geojson");
	fc = check_geojson(path);
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(fc, "features"))
	{
		const char *code = prop(f, "code"), *status = prop(f, "bijstand_status");
		const cJSON *score = cJSON_GetObjectItem(cJSON_GetObjectItem(f, "properties"), "bijstand_score");

		nfeatures++;
		cr_assert_str_eq(prop(f, "level"), "buurt");
		if (strcmp(status, "published") == 0) {
			published++;
			cr_assert(cJSON_IsNumber(score), "%s is published without a score", code);
			cr_assert_geq(households(db, code), 5, "%s is published with fewer than 5 households", code);
		} else {
			suppressed++;
			cr_assert_str_eq(status, "suppressed", "%s", code);
			cr_assert(cJSON_IsNull(score), "%s is suppressed but shows a score", code);
			cr_assert_not_null(prop(f, "bijstand_note"), "%s is suppressed without a reason", code);
		}
		if (strcmp(code, "BU05181785") == 0) /* Kerketuinen en Zichtenburg: 55 inhabitants, 5 households */
			cr_assert_str_eq(prop(f, "bijstand_note"), "below the size rules on its own");
	}
	cr_assert_eq(nfeatures, count(db, "SELECT count(*) FROM buurt"));
	cr_assert_eq(nfeatures, 114);
	cr_assert_eq(published, 108);
	cr_assert_eq(suppressed, 6);
	cJSON_Delete(fc);
	free(path);

	/* each pilot neighbourhood: its buurten and their PC6, nothing else; all
	 * three have PC6 detail (real polygons in Bouwlust, generated elsewhere) */
	for (size_t i = 0; i < 3; i++) {
		char *rel = xasprintf("neighbourhoods/%s.geojson", pilots[i]);
		int buurten = 0, pc6 = 0;
		const char *wijk = NULL;

		path = out_file(&d, rel);
		fc = check_geojson(path);
		cJSON_ArrayForEach(f, cJSON_GetObjectItem(fc, "features"))
		{
			if (!wijk)
				wijk = prop(f, "wijk_code");
			cr_assert_str_eq(prop(f, "wijk_code"), wijk, "%s mixes wijken", rel);
			if (strcmp(prop(f, "level"), "pc6") == 0) {
				pc6++;
				cr_assert_str_eq(prop(f, "bijstand_status"), "not_scored");
				/* every PC6 carries its group; a scenario scoring PC6 shows the group's band */
				cr_assert_not_null(prop(f, "group"));
				cr_assert_not_null(prop(f, "unit"));
				if (strcmp(prop(f, "kinderarmoede-kern_status"), "published") == 0) {
					const cJSON *band = cJSON_GetObjectItem(cJSON_GetObjectItem(f, "properties"),
										"kinderarmoede-kern_band");

					cr_assert(cJSON_IsNumber(band) && band->valueint >= 1 && band->valueint <= 10);
					cr_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "properties"),
										   "kinderarmoede-kern_score")),
						  "the public policy publishes no exact PC6 score");
				}
			} else {
				buurten++;
			}
		}
		{
			char *sql = xasprintf("SELECT count(*) FROM buurt WHERE wijk_code = '%s'", wijk);
			char *sql6 = xasprintf("SELECT count(*) FROM pc6 p JOIN buurt b ON b.code = p.buurt_code"
					       " WHERE b.wijk_code = '%s'", wijk);

			cr_assert_eq(buurten, count(db, sql), "%s", rel);
			cr_assert_eq(pc6, count(db, sql6), "%s", rel);
			free(sql);
			free(sql6);
		}
		if (i == 0)
			cr_assert_gt(pc6, 400, "Schildersbuurt has PC6 detail");
		if (i == 1)
			cr_assert_gt(pc6, 600, "Laakkwartier has PC6 detail");
		if (i == 2)
			cr_assert_gt(pc6, 600, "Bouwlust has the real PC6 polygons of Zuid-West");
		cJSON_Delete(fc);
		free(path);
		free(rel);
	}

	/* the run is recorded with its counts: every synthetic PC6 was loaded */
	{
		long n = synthetic_pc6();
		char *sql = xasprintf("SELECT count(*) FROM run WHERE command = 'refresh' AND status = 'succeeded'"
				      " AND (counts->>'areas_pc6')::int = %ld AND release IS NOT NULL",
				      n);

		cr_assert_gt(n, 10000, "the synthetic set covers the whole city");
		cr_assert_eq(count(db, sql), 1);
		free(sql);
	}
	db_close(db);
	demo_end(&d);
}

Test(demo, every_pc6_nests_in_the_buurt_it_overlaps_most, .timeout = 300)
{
	struct demo d;
	struct db *db;

	demo_start(&d);
	db = t_db(d.schema);
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6"), synthetic_pc6());
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6 p JOIN buurt b ON b.code = p.buurt_code"
			       " WHERE NOT ST_Intersects(p.geom, b.geom)"),
		     0);
	/* no other buurt holds more of any PC6 than the one it was given */
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6 p JOIN buurt b ON b.code = p.buurt_code"
			       " JOIN buurt o ON o.code <> b.code AND ST_Intersects(p.geom, o.geom)"
			       " WHERE ST_Area(ST_Intersection(p.geom, o.geom)) > ST_Area(ST_Intersection(p.geom, b.geom))"),
		     0);
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6 WHERE buurt_code IN"
			       " (SELECT code FROM buurt WHERE wijk_code = 'WK051833') AND code NOT LIKE '254%'"),
		     0, "Bouwlust's PC6 are in 2541-2546");
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6 WHERE buurt_code IN"
			       " (SELECT code FROM buurt WHERE wijk_code = 'WK051829') AND left(code, 4) NOT IN ('2525', '2526')"),
		     0, "Schildersbuurt's PC6 are in 2525 and 2526");
	cr_assert_eq(count(db, "SELECT count(*) FROM pc6 WHERE buurt_code IN (SELECT code FROM buurt"
			       " WHERE wijk_code = 'WK051838') AND left(code, 4) NOT BETWEEN '2521' AND '2524'"),
		     0, "Laakkwartier's PC6 are in 2521-2524");
	db_close(db);
	demo_end(&d);
}

Test(demo, publishing_again_gives_identical_bytes, .timeout = 300)
{
	struct demo d;
	struct t_run r;
	char *first, *second, *a, *b;

	demo_start(&d);
	first = t_link_target(d.out);
	sleep(1); /* release ids carry the second they were made */
	r = t_pc6risk((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", d.out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* refresh prints the comparison of the scenarios, then what publish prints */
	cr_assert(strlen(r.out) > 0 && strlen(d.run.out) > strlen(r.out) &&
			  strcmp(d.run.out + strlen(d.run.out) - strlen(r.out), r.out) == 0,
		  "the ranked table is the same:\n%s\n---\n%s", r.out, d.run.out);
	t_run_free(&r);
	second = t_link_target(d.out);
	cr_assert_str_neq(first, second, "a new release was made");
	a = xasprintf("%s/%s", d.out, first);
	b = xasprintf("%s/%s", d.out, second);
	t_compare_trees(a, b, "");
	free(a);
	free(b);
	free(first);
	free(second);
	demo_end(&d);
}

/* A server that gives pc6risk one connection (here a role with CONNECTION
 * LIMIT 1) still gets its publication: the tiles are written after the rest,
 * on the main connection, and the files are the bytes of a publish with two. */
Test(demo, a_publish_with_one_connection_writes_the_same_files, .timeout = 300)
{
	struct demo d;
	struct db *db;
	struct err e;
	struct t_run r;
	char *role, *sql, *first, *second, *a, *b;
	const char *user = getenv("PGUSER");

	demo_start(&d);
	db = t_db(d.schema);
	role = xasprintf("t_solo_%ld", (long)getpid());
	sql = xasprintf("CREATE ROLE %s LOGIN NOSUPERUSER CONNECTION LIMIT 1", role);
	if (db_exec(db, sql, &e) < 0)
		cr_skip_test("cannot make a role with one connection here: %s", e.message);
	free(sql);
	sql = xasprintf("GRANT USAGE, CREATE ON SCHEMA %s TO %s; GRANT ALL ON ALL TABLES IN SCHEMA %s TO %s;"
			" GRANT ALL ON ALL SEQUENCES IN SCHEMA %s TO %s",
			d.schema, role, d.schema, role, d.schema, role);
	cr_assert_eq(db_exec(db, sql, &e), 0, "%s", e.message);
	free(sql);
	first = t_link_target(d.out);
	sleep(1); /* release ids carry the second they were made */
	setenv("PGUSER", role, 1);
	r = t_pc6risk((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", d.out, NULL});
	if (user)
		setenv("PGUSER", user, 1);
	else
		unsetenv("PGUSER");
	/* the role goes before anything is checked, so a failure leaves none */
	sql = xasprintf("DROP OWNED BY %s; DROP ROLE %s", role, role);
	cr_assert_eq(db_exec(db, sql, &e), 0, "%s", e.message);
	free(sql);
	cr_assert_eq(r.status, 0, "publish with one connection: %s", r.err);
	cr_assert(strstr(r.err, "no second connection for the tiles"), "it says why the tiles came last: %s", r.err);
	second = t_link_target(d.out);
	cr_assert_str_neq(first, second, "a new release was made");
	a = xasprintf("%s/%s", d.out, first);
	b = xasprintf("%s/%s", d.out, second);
	t_compare_trees(a, b, "");
	t_run_free(&r);
	free(a);
	free(b);
	free(first);
	free(second);
	free(role);
	db_close(db);
	demo_end(&d);
}

/* The names in dir, sorted, as one string; hidden ones too when all. */
static char *listing(const char *dir, bool all)
{
	struct t_run r = t_run(all ? (const char *[]){"ls", "-A", dir, NULL} : (const char *[]){"ls", dir, NULL});
	char *s = xstrdup(r.out);

	t_run_free(&r);
	return s;
}

/* The publish's connections waiting for a lock on rel (there are two while the
 * tiles are written beside the GeoPackage). */
static int publish_waiters(struct db *db, const char *rel)
{
	return t_lock_waiters(db, rel, NULL);
}

Test(demo, sigterm_stops_both_halves_of_a_publish_and_leaves_the_previous_release, .timeout = 300)
{
	struct demo d;
	struct db *holder, *watcher;
	struct err e;
	char *before, *after, *releases, *list_before, *list_after, *rel, *lock, *log, *said;
	int status = -1, waiting = 0;
	pid_t pid;

	demo_start(&d);
	before = t_link_target(d.out);
	releases = xasprintf("%s/releases", d.out);
	list_before = listing(releases, true);
	log = xasprintf("%s/publish.log", d.out);

	/* Both the GeoPackage (this thread) and the tiles (the other, on a
	 * connection of its own) read the groups' bands: hold them, so that both
	 * wait there, then stop the publish. */
	holder = t_db(d.schema);
	watcher = t_db(d.schema);
	rel = xasprintf("%s.protected_group_value", d.schema);
	lock = xasprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", rel);
	cr_assert_eq(db_exec(holder, "BEGIN", &e), 0);
	cr_assert_eq(db_exec(holder, lock, &e), 0, "%s", e.message);
	sleep(1);
	pid = t_spawn_pc6risk_log((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", d.out,
						   NULL},
				  log);
	for (int i = 0; i < 600 && waiting < 2; i++) {
		waiting = publish_waiters(watcher, rel);
		if (waiting < 2)
			t_sleep_ms(50);
	}
	cr_assert_eq(waiting, 2, "the publish's two connections never both waited for the bands");
	cr_assert_eq(kill(pid, SIGTERM), 0);
	status = t_wait_exit(pid, 60000);
	said = t_slurp(log, NULL);
	cr_assert_neq(status, -1, "publish did not stop within a minute of SIGTERM: %s", said);
	cr_assert(status > 0 && status < 128, "publish should stop with an error of its own, not die: %d: %s", status,
		  said);
	cr_assert(strstr(said, "interrupted by signal"), "%s", said);
	/* still holding the lock: neither connection waits for it any more */
	for (int i = 0; i < 200 && (waiting = publish_waiters(watcher, rel)) > 0; i++)
		t_sleep_ms(50);
	cr_assert_eq(waiting, 0, "a connection of the stopped publish still waits for the lock");
	db_rollback(holder);

	after = t_link_target(d.out);
	cr_assert_str_eq(before, after, "current still points at the previous release");
	list_after = listing(releases, true);
	cr_assert_str_eq(list_before, list_after, "no new release and no staging directory left: %s", list_after);

	free(said);
	free(list_after);
	free(after);
	free(before);
	free(releases);
	free(list_before);
	free(rel);
	free(lock);
	free(log);
	db_close(holder);
	db_close(watcher);
	demo_end(&d);
}

Test(demo, a_failed_publish_leaves_the_previous_release, .timeout = 300)
{
	struct demo d;
	struct t_run r;
	char *before, *after, *releases, *list_before, *list_after, *city, *text_before, *text_after;

	demo_start(&d);
	before = t_link_target(d.out);
	releases = xasprintf("%s/releases", d.out);
	list_before = listing(releases, false);
	city = out_file(&d, "buurten.geojson");
	text_before = t_slurp(city, NULL);

	/* refused before anything is written */
	r = t_pc6risk((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", d.out, "--select",
				       "Schildersbuurt,Nergenshuizen", NULL});
	cr_assert_eq(r.status, 4, "%s", r.err);
	cr_assert(strstr(r.err, "no wijk or buurt is named like \"Nergenshuizen\""), "%s", r.err);
	t_run_free(&r);

	/* killed half-way through writing: a file limit below the Bouwlust file's size */
	sleep(1);
	r = t_run((const char *[]){"prlimit", "--fsize=100000", getenv("PC6RISK_BIN"), "publish", "-c", d.config,
				   "--schema", d.schema, "--out", d.out, NULL});
	cr_assert_neq(r.status, 0, "the write limit should have stopped publish");
	t_run_free(&r);

	after = t_link_target(d.out);
	cr_assert_str_eq(before, after, "current still points at the previous release");
	text_after = t_slurp(city, NULL);
	cr_assert_str_eq(text_before, text_after, "the previous release is intact");
	list_after = listing(releases, false);
	cr_assert_str_eq(list_before, list_after, "no new release appeared");
	free(list_after);
	list_after = listing(releases, true);
	cr_assert(strstr(list_after, ".staging-"), "the killed publish left its staging directory: %s", list_after);

	/* the next publish succeeds and clears what the killed one left */
	sleep(1);
	r = t_pc6risk((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", d.out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	free(list_after);
	list_after = listing(releases, true);
	cr_assert_null(strstr(list_after, ".staging"), "staging left behind: %s", list_after);

	free(before);
	free(after);
	free(releases);
	free(list_before);
	free(list_after);
	free(city);
	free(text_before);
	free(text_after);
	demo_end(&d);
}

Test(demo, a_bad_input_file_changes_nothing_and_names_line_and_column, .timeout = 300)
{
	struct demo d;
	struct t_run r;
	struct db *db;
	char *dir = t_tmpdir(), *csv, *config, *text, *orig, *line, *data, *bad;
	long before_values;

	demo_start(&d);
	db = t_db(d.schema);
	before_values = count(db, "SELECT count(*) FROM indicator");

	/* the real CSV with one value spoiled: Belgisch Park (line 3), WWB_UITTOT "120" -> "12O" */
	orig = t_repo_path("demo/data/den_haag_buurten_2015_attributes.csv");
	text = t_slurp(orig, NULL);
	line = strstr(text, "\nBU05180271,");
	cr_assert_not_null(line);
	bad = strstr(line, "\"240\",\"130\",\"120\"");
	cr_assert_not_null(bad);
	bad[15] = 'O';
	csv = xasprintf("%s/kwb.csv", dir);
	t_write(csv, text);
	free(text);

	/* the demo config, pointing at the demo data (real and synthetic) except
	 * for the spoiled file */
	text = t_slurp(d.config, NULL);
	for (int k = 0; k < 2; k++) {
		const char *rel = k == 0 ? "\"data/" : "\"synthetic/";
		char *p, *fixed = xstrdup("");

		data = xasprintf("%s/demo/%s", t_root(), rel + 1);
		for (p = text; (line = strstr(p, rel)); p = line + strlen(rel)) {
			char *next = xasprintf("%s%.*s\"%s", fixed, (int)(line - p), p, data);

			free(fixed);
			fixed = next;
		}
		line = xasprintf("%s%s", fixed, p);
		free(fixed);
		free(text);
		free(data);
		text = line;
	}
	data = NULL;
	{
		char *at = strstr(text, "den_haag_buurten_2015_attributes.csv");
		char *start = at;

		while (start > text && start[-1] != '"')
			start--;
		line = xasprintf("%.*s%s%s", (int)(start - text), text, csv, at + strlen("den_haag_buurten_2015_attributes.csv"));
		free(text);
		text = line;
	}
	config = xasprintf("%s/pc6risk.json", dir);
	t_write(config, text);

	r = t_pc6risk((const char *[]){"load", "-c", config, "--schema", d.schema, NULL});
	cr_assert_eq(r.status, 4, "%s", r.err);
	{
		/* line 3, column 210: where the WWB_UITTOT field (the 36th) starts */
		char *want = xasprintf("%s:3:210: ", csv);

		cr_assert(strstr(r.err, want), "%s", r.err);
		cr_assert(strstr(r.err, ": column WWB_UITTOT: expected a number or a CBS missing-value code, got \"12O\""),
			  "%s", r.err);
		free(want);
	}
	t_run_free(&r);
	cr_assert_eq(count(db, "SELECT count(*) FROM indicator"), before_values, "the old figures are still there");
	cr_assert_eq(count(db, "SELECT count(*) FROM buurt"), 114);
	cr_assert_eq(count(db, "SELECT count(*) FROM run WHERE command = 'load' AND status = 'failed'"
			       " AND error_class = 'input' AND error_message LIKE 'column WWB_UITTOT:%'"),
		     1);

	free(orig);
	free(csv);
	free(config);
	free(text);
	free(data);
	db_close(db);
	t_rmtree(dir);
	free(dir);
	demo_end(&d);
}

/* The Monte Carlo's results as one text, to compare runs. */
static char *mc_text(struct db *db)
{
	return t_query1(db, "SELECT string_agg(concat_ws(' ', scenario, code, median_rank, rank_p05, rank_p95, p_top_3,"
			    " p_top_5, p_top_10), ';' ORDER BY scenario, code) FROM compare_area");
}

static char *run_compare(struct db *db, const struct config *cfg, uint64_t seed, int threads)
{
	struct compare_opts o = {.draws = 60, .seed = seed, .threads = threads};
	struct compare_stats st;
	struct err e;

	cr_assert_eq(compare_run(db, cfg, &o, &st, &e), 0, "compare: %s", e.message);
	cr_assert_eq(st.draws, (long long)cfg->nscenarios * 60);
	return mc_text(db);
}

Test(demo, the_monte_carlo_repeats_for_a_seed_whatever_the_threads, .timeout = 300)
{
	struct demo d;
	struct config *cfg;
	struct db *db;
	struct err e;
	char *one, *two, *again, *other;

	demo_start(&d);
	db = t_db(d.schema);
	cfg = config_load(d.config, &e);
	cr_assert_not_null(cfg, "%s", e.message);
	one = run_compare(db, cfg, 11, 1);
	two = run_compare(db, cfg, 11, 2);
	again = run_compare(db, cfg, 11, 2);
	other = run_compare(db, cfg, 12, 2);
	cr_assert_str_eq(one, two, "one thread and two give the same draws");
	cr_assert_str_eq(two, again, "the same seed gives the same intervals");
	cr_assert_str_neq(two, other, "another seed gives other draws");
	free(one);
	free(two);
	free(again);
	free(other);
	config_free(cfg);
	db_close(db);
	demo_end(&d);
}

/* report.csv: one row per scenario and released area above PC6; a hidden area
 * shows no figure of any kind, and the robust picks follow their definition. */
Test(demo, the_report_hides_what_protect_hides_and_names_the_robust_picks, .timeout = 300)
{
	static const int figures[] = {8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	struct demo d;
	struct db *db;
	struct csv *c;
	struct err e;
	char *path, *text, *want;
	cJSON *report, *robust;
	long rows = 0, published = 0, with_interval = 0;
	struct sbuf got = {0};
	const cJSON *item;

	demo_start(&d);
	db = t_db(d.schema);
	path = out_file(&d, "report.csv");
	c = csv_open(path, ',', ENCODING_UTF8, &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_nfields(c), 21);
	cr_assert_str_eq(csv_field(c, 0), "scenario");
	cr_assert_str_eq(csv_field(c, 20), "drivers");
	while (csv_next(c, &e) == 1) {
		const char *status = csv_field(c, 6);

		rows++;
		cr_assert_eq(csv_nfields(c), 21, "line %ld", rows + 1);
		cr_assert_neq(strcmp(csv_field(c, 1), "pc6"), 0, "no PC6 row is released yet");
		if (strcmp(status, "suppressed") == 0) {
			cr_assert_neq(csv_field(c, 7)[0], '\0', "a hidden area says why");
			for (size_t k = 0; k < sizeof figures / sizeof figures[0]; k++)
				cr_assert_eq(csv_field(c, figures[k])[0], '\0', "%s %s shows %s although hidden",
					     csv_field(c, 0), csv_field(c, 2), csv_field(c, figures[k]));
			continue;
		}
		cr_assert_str_eq(status, "published");
		published++;
		cr_assert_neq(csv_field(c, 8)[0], '\0', "a published area has a score");
		if (csv_field(c, 11)[0]) {
			double med = strtod(csv_field(c, 11), NULL), of = strtod(csv_field(c, 10), NULL);

			with_interval++;
			cr_assert(med >= 1 && med <= of, "median rank %g of %g", med, of);
			cr_assert_leq(strtod(csv_field(c, 12), NULL), med);
			cr_assert_geq(strtod(csv_field(c, 13), NULL), med);
		}
	}
	csv_close(c);
	cr_assert_eq(rows, count(db, "SELECT count(*) FROM protected_value WHERE level <> 'pc6'"));
	cr_assert_eq(published, count(db, "SELECT count(*) FROM protected_value WHERE level <> 'pc6'"
					  " AND status = 'published'"));
	cr_assert_eq(with_interval, count(db, "SELECT count(*) FROM protected_value WHERE level = 'buurt'"
					      " AND status = 'published' AND rank IS NOT NULL"),
		     "every published buurt has its rank interval (no buurt ranked by score is hidden in the demo)");
	free(path);

	/* the robust top 5: in the top 5 (rank <= 5) of all scenarios but one */
	path = out_file(&d, "report.json");
	report = read_json(path, &text);
	robust = cJSON_GetObjectItem(cJSON_GetObjectItem(report, "robust_top"), "5");
	cJSON_ArrayForEach(item, robust)
		sbuf_printf(&got, "%s%s", got.len ? "," : "", cJSON_GetObjectItem(item, "code")->valuestring);
	want = t_query1(db, "SELECT string_agg(code, ',' ORDER BY code COLLATE \"C\") FROM (SELECT code FROM score"
			    " WHERE level = 'buurt' AND rank <= 5 GROUP BY code"
			    " HAVING count(*) >= (SELECT count(DISTINCT scenario) - 1 FROM score)) r");
	cr_assert_str_eq(got.s ? got.s : "", want);
	cr_assert_gt(strlen(want), 0, "the demo has robust picks");
	/* the panel has every buurt of Schildersbuurt under every scenario */
	item = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "neighbourhoods"), 0);
	cr_assert_str_eq(cJSON_GetObjectItem(item, "query")->valuestring, "Schildersbuurt");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(item, "buurten")), 3);
	{
		const cJSON *buurt;

		cJSON_ArrayForEach(buurt, cJSON_GetObjectItem(item, "buurten"))
			cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(buurt, "scenarios")),
				     count(db, "SELECT count(DISTINCT scenario) FROM score"));
	}
	sbuf_free(&got);
	free(want);
	free(text);
	cJSON_Delete(report);
	free(path);
	db_close(db);
	demo_end(&d);
}

/* Replace the first line starting with prefix in text by line (one edit). */
static char *replace_line(const char *text, const char *prefix, const char *line)
{
	const char *at = strstr(text, prefix), *end;
	char *out;

	cr_assert_not_null(at, "no line %s", prefix);
	end = strchr(at, '\n');
	out = xasprintf("%.*s%s%s", (int)(at - text), text, line, end);
	return out;
}

/*
 * The published release passes its audit: on its own, and against the buurt
 * totals CBS would publish of the same data (every buurt's counts rounded to
 * 5, benefit recipients to 10 where a buurt has 100 households) treated as
 * known. The real small buurt Kerketuinen en Zichtenburg (55 inhabitants) is
 * published only inside a unit, and none of its counts can be recomputed.
 * Protect again gives the same files; a release with Kerketuinen's unit total
 * put back is caught.
 */
Test(demo, the_release_passes_its_audit_also_against_the_buurt_totals, .timeout = 300)
{
	struct demo d;
	struct db *db;
	struct t_run r;
	char *pub, *sql, *csv, *figs, *groups, *again, *bad, *path, *release_dir;

	demo_start(&d);
	db = t_db(d.schema);
	cr_assert(strstr(d.run.err, "audit passed"), "refresh audits what it publishes:\n%s", d.run.err);

	release_dir = xasprintf("%s/current", d.out);
	r = t_pc6risk((const char *[]){"audit", release_dir, NULL});
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "passed"), "%s", r.out);
	t_run_free(&r);

	/* the buurt totals of the same PC6 figures, as a KWB would publish them */
	sql = xasprintf("SELECT 'level,code,variable,value,base' || chr(10) || string_agg(line, chr(10) ORDER BY line)"
			" FROM (SELECT format('buurt,%%s,%%s,%%s,%%s', p.buurt_code, i.name,"
			"  (round(sum(coalesce(i.value, 2)) / CASE i.name WHEN 'benefit_recipients' THEN 10 ELSE 5 END)"
			"   * CASE i.name WHEN 'benefit_recipients' THEN 10 ELSE 5 END)::bigint,"
			"  CASE i.name WHEN 'benefit_recipients' THEN 10 ELSE 5 END) AS line"
			"  FROM %s.indicator i JOIN %s.pc6 p ON p.code = i.code"
			"  WHERE i.level = 'pc6' AND i.name IN ('inhabitants', 'households', 'dwellings', 'benefit_recipients')"
			"  GROUP BY p.buurt_code, i.name"
			"  HAVING i.name <> 'benefit_recipients'"
			"   OR (SELECT sum(coalesce(h.value, 2)) FROM %s.indicator h JOIN %s.pc6 q ON q.code = h.code"
			"        WHERE h.level = 'pc6' AND h.name = 'households' AND q.buurt_code = p.buurt_code) >= 100) x",
			d.schema, d.schema, d.schema, d.schema);
	csv = t_query1(db, sql);
	free(sql);
	pub = xasprintf("%s/kwb.csv", d.out);
	t_write(pub, csv);
	free(csv);
	r = t_pc6risk((const char *[]){"audit", release_dir, "--public", pub, NULL});
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.out, " 0 taken as known"), "the buurt totals are used: %s", r.out);
	t_run_free(&r);

	/* Kerketuinen en Zichtenburg: in a unit with a neighbour, every count of
	 * its groups and of the unit hidden */
	cr_assert_eq(count(db, "SELECT count(*) FROM protected_group WHERE buurt_code = 'BU05181785'"
			       " AND unit_code LIKE '%+%'"),
		     count(db, "SELECT count(*) FROM protected_group WHERE buurt_code = 'BU05181785'"));
	cr_assert_gt(count(db, "SELECT count(*) FROM protected_group WHERE buurt_code = 'BU05181785'"), 0);
	cr_assert_eq(count(db, "SELECT count(*) FROM protected_figure f JOIN protected_group g"
			       " ON f.region IN (g.code, g.unit_code) WHERE g.buurt_code = 'BU05181785'"
			       " AND f.status = 'published'"),
		     0, "a count of Kerketuinen en Zichtenburg or its unit is published");

	/* deterministic: protect and publish again, the same disclosure files */
	path = out_file(&d, "disclosure/figures.csv");
	figs = t_slurp(path, NULL);
	free(path);
	path = out_file(&d, "disclosure/groups.csv");
	groups = t_slurp(path, NULL);
	free(path);
	sleep(1);
	r = t_pc6risk((const char *[]){"protect", "-c", d.config, "--schema", d.schema, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	r = t_pc6risk((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", d.out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	path = out_file(&d, "disclosure/figures.csv");
	again = t_slurp(path, NULL);
	cr_assert_str_eq(again, figs, "protect gave other figures the second time");
	free(again);
	free(path);
	path = out_file(&d, "disclosure/groups.csv");
	again = t_slurp(path, NULL);
	cr_assert_str_eq(again, groups, "protect gave other groups the second time");
	free(again);
	free(path);

	/* the audit can fail: put the unit's inhabitants back and it is caught */
	{
		char *unit = t_query1(db, "SELECT unit_code FROM protected_group WHERE buurt_code = 'BU05181785' LIMIT 1");
		char *prefix = xasprintf("buurt,%s,inhabitants,", unit);
		char *line = xasprintf("buurt,%s,inhabitants,person,published,1000,5,", unit);
		char *dir = xasprintf("%s/tampered", d.out), *disc = xasprintf("%s/disclosure", dir), *p;

		bad = replace_line(figs, prefix, line);
		cr_assert_eq(mkdir(dir, 0700), 0);
		cr_assert_eq(mkdir(disc, 0700), 0);
		p = xasprintf("%s/figures.csv", disc);
		t_write(p, bad);
		free(p);
		p = xasprintf("%s/groups.csv", disc);
		t_write(p, groups);
		free(p);
		{
			char *src = out_file(&d, "disclosure/policy.json"), *text = t_slurp(src, NULL);

			p = xasprintf("%s/policy.json", disc);
			t_write(p, text);
			free(p);
			free(text);
			free(src);
		}
		r = t_pc6risk((const char *[]){"audit", dir, NULL});
		cr_assert_eq(r.status, 1, "a published unit total with Kerketuinen's hidden group: %s", r.out);
		cr_assert(strstr(r.out, "G2544CV") || strstr(r.out, "differencing") || strstr(r.out, "interval"), "%s",
			  r.out);
		t_run_free(&r);
		free(unit);
		free(prefix);
		free(line);
		free(dir);
		free(disc);
		free(bad);
	}
	free(figs);
	free(groups);
	free(pub);
	free(release_dir);
	demo_end(&d);
}

/* protect computes the groups' scores and bands in C: they are what the SQL
 * definition gives (docs/disclosure.md): the mean of the members' scores,
 * rounded as round(x::numeric, 1), and ntile(bands) within the reference
 * area over the mean, then the group id. With exact scores, so that the
 * rounding is checked too. */
Test(demo, group_bands_and_exact_scores_are_the_sql_definition, .timeout = 300)
{
	char *schema = t_schema("t_bands"), *dir = t_tmpdir(), *config = xasprintf("%s/pc6risk.json", dir), *sql;
	cJSON *root = t_demo_config(), *privacy = cJSON_GetObjectItem(root, "privacy");
	struct db *db;
	struct t_run r;

	cJSON_ReplaceItemInObject(privacy, "policy", cJSON_CreateString("internal"));
	cJSON_AddBoolToObject(privacy, "exact_scores", true);
	cJSON_AddNumberToObject(privacy, "bands", 7);
	t_write_json(config, root);
	t_init(config, schema);
	for (int step = 0; step < 3; step++) {
		static const char *const cmd[] = {"load", "score", "protect"};

		r = t_pc6risk((const char *[]){cmd[step], "-q", "-c", config, "--schema", schema, NULL});
		cr_assert_eq(r.status, 0, "%s: %s", cmd[step], r.err);
		t_run_free(&r);
	}
	db = t_db(schema);
	sql = xasprintf("WITH want AS ("
			" SELECT scenario, code AS group_code, ntile(7) OVER (PARTITION BY scenario, ref"
			"  ORDER BY score, code COLLATE \"C\")::int AS band, round(score::numeric, 1)::float8 AS score"
			" FROM (SELECT s.scenario, g.code, min(s.reference) AS ref, avg(s.value) AS score"
			"  FROM %s.protected_group g CROSS JOIN LATERAL unnest(g.members) AS m(pc6)"
			"  JOIN %s.score s ON s.level = 'pc6' AND s.code = m.pc6 AND s.value IS NOT NULL"
			"  WHERE g.meets GROUP BY s.scenario, g.code) x)"
			" SELECT format('%%s of %%s rows differ, e.g. %%s', count(*) FILTER (WHERE w IS DISTINCT FROM h),"
			"  count(*), min(coalesce(w::text, '-') || ' vs ' || coalesce(h::text, '-'))"
			"   FILTER (WHERE w IS DISTINCT FROM h))"
			" FROM want w FULL JOIN (SELECT scenario, group_code, band, score FROM %s.protected_group_value"
			"  WHERE bands = 7) h USING (scenario, group_code)",
			schema, schema, schema);
	{
		char *got = t_query1(db, sql);

		cr_assert(strncmp(got, "0 of ", 5) == 0, "%s", got);
		cr_assert(strcmp(got, "0 of 0 rows differ, e.g. ") != 0, "no group values at all");
		free(got);
	}
	free(sql);
	cr_assert_eq(count(db, "SELECT count(*) FROM protected_group_value WHERE score IS NULL OR bands <> 7"), 0);
	db_close(db);
	t_drop_schema(schema);
	t_rmtree(dir);
	free(schema);
	free(dir);
	free(config);
}
