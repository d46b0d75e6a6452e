/*
 * areas.json and the viewer folder of a release (src/areas.c) on the Den
 * Haag demo: every wijk and buurt and nothing finer, values exactly as
 * protect released them, legends that are the QML styles' classes, and the
 * viewer copied from publish.viewer (or left out).
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pc6risk/xalloc.h"
#include "support.h"

struct fixture {
	char *schema, *out, *config;
	struct db *db;
	cJSON *areas;
};

static cJSON *read_json(const char *path)
{
	size_t n;
	char *text = t_slurp(path, &n);
	cJSON *j;

	cr_assert_not_null(text, "%s is missing", path);
	j = cJSON_ParseWithLength(text, n);
	cr_assert_not_null(j, "%s is not JSON", path);
	free(text);
	return j;
}

static void start(struct fixture *f)
{
	char *path;

	f->schema = t_schema("t_areas");
	f->out = t_tmpdir();
	f->config = t_repo_path("demo/pc6risk.json");
	t_init(f->config, f->schema);
	t_refresh(f->config, f->schema, f->out, "20");
	f->db = t_db(f->schema);
	path = xasprintf("%s/current/areas.json", f->out);
	f->areas = read_json(path);
	free(path);
}

static void end(struct fixture *f)
{
	cJSON_Delete(f->areas);
	db_close(f->db);
	t_drop_schema(f->schema);
	t_rmtree(f->out);
	free(f->schema);
	free(f->out);
	free(f->config);
}

static long count(struct fixture *f, const char *sql)
{
	char *v = t_query1(f->db, sql);
	long n = atol(v);

	free(v);
	return n;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_pc6(const char *s)
{
	return strlen(s) == 6 && s[0] >= '1' && s[0] <= '9' && isdigit((unsigned char)s[1]) &&
	       isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && isupper((unsigned char)s[4]) &&
	       isupper((unsigned char)s[5]);
}

/* No string anywhere in j is a PC6 code: the file says nothing per postcode. */
static void no_pc6(const cJSON *j)
{
	for (const cJSON *c = j->child; c; c = c->next) {
		if (cJSON_IsString(c))
			cr_assert(!is_pc6(c->valuestring), "areas.json names postcode %s", c->valuestring);
		if (c->string)
			cr_assert(!is_pc6(c->string), "areas.json has key %s", c->string);
		no_pc6(c);
	}
}

Test(areas, every_wijk_and_buurt_as_protect_released_it, .timeout = 300)
{
	struct fixture f;
	const cJSON *list, *scen;
	long published = 0, with_domains = 0;

	start(&f);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f.areas, "synthetic")), "the demo is synthetic");
	cr_assert_eq(strlen(str(f.areas, "data_date")), 10);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f.areas, "basemap")), "no basemap by default");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f.areas, "bounds")), 4);
	list = cJSON_GetObjectItemCaseSensitive(f.areas, "areas");
	cr_assert_eq(cJSON_GetArraySize(list),
		     count(&f, "SELECT count(*) FROM protected_area WHERE level IN ('wijk', 'buurt')"));
	no_pc6(f.areas);

	cJSON_ArrayForEach(scen, cJSON_GetObjectItemCaseSensitive(f.areas, "scenarios")) {
		const char *name = str(scen, "name");
		int ndomains = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(scen, "domains"));
		const cJSON *a;

		cJSON_ArrayForEach(a, list) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(a, "scenarios"), name);
			const cJSON *score, *rank, *dom, *d;
			char sql[512];

			if (!v)
				continue; /* not scored at this level */
			score = cJSON_GetObjectItemCaseSensitive(v, "score");
			rank = cJSON_GetObjectItemCaseSensitive(v, "rank");
			dom = cJSON_GetObjectItemCaseSensitive(v, "domains");
			snprintf(sql, sizeof sql,
				 "SELECT concat_ws('|', status, score, rank, shown_from) FROM protected_value"
				 " WHERE scenario = '%s' AND level = '%s' AND code = '%s'",
				 name, str(a, "level"), str(a, "code"));
			{
				char *want = t_query1(f.db, sql), got[256];

				snprintf(got, sizeof got, "%s", str(v, "status"));
				if (cJSON_IsNumber(score))
					snprintf(got + strlen(got), sizeof got - strlen(got), "|%g", score->valuedouble);
				if (cJSON_IsNumber(rank))
					snprintf(got + strlen(got), sizeof got - strlen(got), "|%d", rank->valueint);
				if (str(v, "shown_from"))
					snprintf(got + strlen(got), sizeof got - strlen(got), "|%s", str(v, "shown_from"));
				cr_assert_str_eq(got, want, "%s %s in %s", name, str(a, "code"), sql);
				free(want);
			}
			if (strcmp(str(v, "status"), "suppressed") == 0) {
				cr_assert(!score && !dom, "a suppressed area shows nothing");
				cr_assert_not_null(str(v, "note"), "and says why");
				continue;
			}
			published++;
			if (!cJSON_IsNumber(rank) || ndomains < 2) {
				cr_assert(!dom, "domains only beside a rank, and only of several domains");
				continue;
			}
			/* a domain without a figure in the area has no percentile */
			cr_assert(cJSON_GetArraySize(dom) >= 1 && cJSON_GetArraySize(dom) <= ndomains, "%s %s", name,
				  str(a, "code"));
			with_domains++;
			cJSON_ArrayForEach(d, dom) {
				cr_assert(d->valueint >= 0 && d->valueint <= 100, "a percentile: %d", d->valueint);
			}
		}
	}
	cr_assert_gt(published, 500);
	cr_assert_gt(with_domains, 400);
	end(&f);
}

/* The viewer's legend is the QML style's classes: one source of truth. */
Test(areas, legends_are_the_qml_classes, .timeout = 300)
{
	struct fixture f;
	const cJSON *scen;
	int checked = 0;

	start(&f);
	cJSON_ArrayForEach(scen, cJSON_GetObjectItemCaseSensitive(f.areas, "scenarios")) {
		const cJSON *buurt = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(scen, "legend"), "buurt");
		const cJSON *pc6 = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(scen, "legend"),
								     "pc6");
		char *path = xasprintf("%s/current/buurten.%s.qml", f.out, str(scen, "name"));
		char *qml = t_slurp(path, NULL), *at;
		const cJSON *c;

		cr_assert_not_null(qml, "%s", path);
		cr_assert_not_null(buurt, "%s has a buurt legend", str(scen, "name"));
		at = strstr(qml, "label=\"not published\"");
		cr_assert_not_null(at);
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(buurt, "classes")) {
			char want[160];
			unsigned r, g, b;

			snprintf(want, sizeof want, "label=\"%s\"", str(c, "label"));
			at = strstr(at + 1, want);
			cr_assert_not_null(at, "%s: class %s is not the QML's next one", path, str(c, "label"));
			cr_assert_eq(sscanf(str(c, "color"), "#%2x%2x%2x", &r, &g, &b), 3);
			snprintf(want, sizeof want, "value=\"%u,%u,%u,255\"", r, g, b);
			cr_assert_not_null(strstr(qml, want), "%s: colour %s is not in the QML", path, str(c, "color"));
			checked++;
		}
		cr_assert_null(strstr(at + 1, "<range "), "%s: the QML has more classes", path);
		if (strcmp(str(scen, "name"), "bijstand") != 0)
			cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pc6, "classes")), 10,
				     "ten bands for the PC6 groups");
		free(qml);
		free(path);
	}
	cr_assert_gt(checked, 20);
	end(&f);
}

/* The demo config with publish.viewer set to viewer (which it takes), and
 * publish.basemap when basemap, at path. */
static void write_config(const char *path, cJSON *viewer, const char *basemap)
{
	cJSON *root = t_demo_config(), *publish = cJSON_GetObjectItemCaseSensitive(root, "publish");

	cJSON_AddItemToObject(publish, "viewer", viewer);
	if (basemap)
		cJSON_AddItemToObject(publish, "basemap", cJSON_Parse(basemap));
	t_write_json(path, root);
}

/* publish.viewer names the folder copied as viewer/; false leaves it out;
 * publish.basemap reaches areas.json. */
Test(areas, the_viewer_folder_is_copied_or_left_out, .timeout = 300)
{
	struct fixture f;
	char *dir, *src = t_tmpdir(), *conf, *p;
	struct t_run r;
	struct stat st;

	start(&f);
	p = xasprintf("%s/assets", src);
	cr_assert_eq(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/index.html", src);
	t_write(p, "<!doctype html><title>map</title>\n");
	free(p);
	p = xasprintf("%s/assets/app.js", src);
	t_write(p, "console.log('map');\n");
	free(p);

	/* the demo config with publish.viewer set */
	conf = xasprintf("%s/viewer.json", f.out);
	write_config(conf, cJSON_CreateString(src), NULL);
	r = t_pc6risk((const char *[]){"publish", "-c", conf, "--schema", f.schema, "--out", f.out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	dir = xasprintf("%s/current/viewer/assets/app.js", f.out);
	p = t_slurp(dir, NULL);
	cr_assert_str_eq(p, "console.log('map');\n");
	free(p);
	free(dir);

	write_config(conf, cJSON_CreateFalse(),
		     "{\"url\": \"https://tiles.example.nl/{z}/{x}/{y}.png\", \"attribution\": \"Kadaster\"}");
	sleep(1); /* release ids carry the second they were made */
	r = t_pc6risk((const char *[]){"publish", "-c", conf, "--schema", f.schema, "--out", f.out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	dir = xasprintf("%s/current/viewer", f.out);
	cr_assert_neq(stat(dir, &st), 0, "viewer: false leaves it out");
	free(dir);
	{
		char *path = xasprintf("%s/current/areas.json", f.out);
		cJSON *areas = read_json(path), *bm = cJSON_GetObjectItemCaseSensitive(areas, "basemap");

		cr_assert_str_eq(str(bm, "url"), "https://tiles.example.nl/{z}/{x}/{y}.png", "the configured basemap");
		cr_assert_str_eq(str(bm, "attribution"), "Kadaster");
		cJSON_Delete(areas);
		free(path);
	}
	free(conf);
	t_rmtree(src);
	free(src);
	end(&f);
}
