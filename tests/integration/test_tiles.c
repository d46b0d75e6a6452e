/* tiles: the demo publication's vector tiles, every one of them read back —
 * GeoJSON tiles as RFC 7946, MVT from the MBTiles through the tests' own
 * decoder and through GDAL — checked for validity in PostGIS, for coverage
 * of the source areas and for gaps and overlaps between neighbours; and an
 * incremental publish against a full one. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <libdeflate.h>
#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mvtdec.h"
#include "pc6risk/db.h"
#include "pc6risk/xalloc.h"
#include "support.h"

/* What the demo config tiles (publish.tiles defaults). */
static const char *level_at(int z)
{
	return z <= 10 ? "wijk" : z <= 13 ? "buurt" : "pc6";
}

struct demo {
	char *schema, *out, *config;
};

static void demo_start(struct demo *d)
{
	d->schema = t_schema("t_tiles");
	d->out = t_tmpdir();
	d->config = t_repo_path("demo/pc6risk.json");
	t_init(d->config, d->schema);
	t_refresh(d->config, d->schema, d->out, "10");
}

static void demo_end(struct demo *d)
{
	t_drop_schema(d->schema);
	t_rmtree(d->out);
	free(d->schema);
	free(d->out);
	free(d->config);
}

/* ---- GeoJSON tiles ---- */

struct gj_check {
	struct db *db;
	cJSON *types;       /* property name -> its JSON type, over all tiles */
	long tiles[20];     /* per zoom */
	long features, invalid;
	long sampled[20];   /* tiles checked for coverage, per zoom */
	double worst_cover, worst_overlap; /* beyond the slack */
	double raw_cover, raw_overlap;     /* before it */
};

static void tile_lonlat(int z, double x, double y, double *lon, double *lat)
{
	double n = ldexp(1, z);

	*lon = x / n * 360 - 180;
	*lat = atan(sinh(M_PI * (1 - 2 * y / n))) * 180 / M_PI;
}

static void check_ring(const char *path, const cJSON *ring, bool exterior, const double box[4])
{
	int n = cJSON_GetArraySize(ring);
	const cJSON *first = cJSON_GetArrayItem(ring, 0), *last = cJSON_GetArrayItem(ring, n - 1);

	cr_assert_geq(n, 4, "%s: a ring of %d positions", path, n);
	cr_assert(cJSON_GetArrayItem(first, 0)->valuedouble == cJSON_GetArrayItem(last, 0)->valuedouble &&
			  cJSON_GetArrayItem(first, 1)->valuedouble == cJSON_GetArrayItem(last, 1)->valuedouble,
		  "%s: ring not closed", path);
	cr_assert(exterior ? geojson_ring_area(ring) > 0 : geojson_ring_area(ring) < 0, "%s: %s ring wound the wrong way", path,
		  exterior ? "an exterior" : "a hole");
	for (int i = 0; i < n; i++) {
		const cJSON *p = cJSON_GetArrayItem(ring, i);
		double lon = cJSON_GetArrayItem(p, 0)->valuedouble, lat = cJSON_GetArrayItem(p, 1)->valuedouble;

		cr_assert_eq(cJSON_GetArraySize(p), 2, "%s: a position of %d numbers", path, cJSON_GetArraySize(p));
		cr_assert(lon > 3.2 && lon < 7.3 && lat > 50.7 && lat < 53.6, "%s: %f %f is outside the Netherlands", path,
			  lon, lat);
		cr_assert(lon >= box[0] - 1e-6 && lon <= box[2] + 1e-6 && lat >= box[1] - 1e-6 && lat <= box[3] + 1e-6,
			  "%s: %f %f is outside the tile and its buffer", path, lon, lat);
	}
}

/* One property's JSON type must be the same in every feature of every tile. */
static void check_types(struct gj_check *c, const char *path, const cJSON *props)
{
	for (const cJSON *p = props->child; p; p = p->next) {
		const char *t = cJSON_IsString(p) ? "string" : cJSON_IsNumber(p) ? "number" : cJSON_IsBool(p) ? "bool" : "other";
		const cJSON *seen = cJSON_GetObjectItemCaseSensitive(c->types, p->string);

		cr_assert_str_neq(t, "other", "%s: property %s is null or nested", path, p->string);
		if (!seen)
			cJSON_AddStringToObject(c->types, p->string, t);
		else
			cr_assert_str_eq(seen->valuestring, t, "%s: property %s is a %s here, a %s elsewhere", path,
					 p->string, t, seen->valuestring);
	}
}

/* Valid in PostGIS; for a sample, the pieces cover the source areas of the
 * tile and do not overlap. */
static void check_in_postgis(struct gj_check *c, const char *path, const char *text, int z, int x, int y)
{
	char zs[8], xs[16], ys[16];
	const char *params[5] = {text, zs, xs, ys, level_at(z)};
	struct db_result *r;
	struct err e;

	snprintf(zs, sizeof zs, "%d", z);
	snprintf(xs, sizeof xs, "%d", x);
	snprintf(ys, sizeof ys, "%d", y);
	r = db_query(c->db,
		     "SELECT count(*) FILTER (WHERE NOT ST_IsValid(ST_GeomFromGeoJSON(f->>'geometry')))"
		     " FROM json_array_elements($1::json->'features') f",
		     1, params, &e);
	cr_assert_not_null(r, "%s: %s", path, e.message);
	c->invalid += atol(db_value(r, 0, 0));
	cr_assert_eq(atol(db_value(r, 0, 0)), 0, "%s: %s invalid geometries", path, db_value(r, 0, 0));
	db_result_free(r);
	if (c->tiles[z] % 5 != 0 || c->sampled[z] >= 25)
		return;
	c->sampled[z]++;
	r = db_query(c->db,
		     "WITH env AS (SELECT ST_TileEnvelope($2::int, $3::int, $4::int) AS e),"
		     " pieces AS (SELECT ST_Intersection(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(f->>'geometry'), 4326),"
		     "  3857), e) AS g FROM json_array_elements($1::json->'features') f, env),"
		     " src AS (SELECT ST_Intersection(ST_Transform(a.geom, 3857), e) AS g FROM protected_area a, env"
		     "  WHERE a.level = $5 AND ST_Intersects(ST_Transform(a.geom, 3857), e))"
		     " SELECT (SELECT coalesce(sum(ST_Area(g)), 0) FROM pieces), (SELECT coalesce(ST_Area(ST_Union(g)), 0)"
		     " FROM pieces), (SELECT coalesce(ST_Area(ST_Union(g)), 0) FROM src),"
		     " (SELECT coalesce(sum(ST_Perimeter(g)), 0) FROM src)",
		     5, params, &e);
	cr_assert_not_null(r, "%s: %s", path, e.message);
	{
		double sum = strtod(db_value(r, 0, 0), NULL), uni = strtod(db_value(r, 0, 1), NULL);
		double src = strtod(db_value(r, 0, 2), NULL), perimeter = strtod(db_value(r, 0, 3), NULL);
		/* one unit of the tile grid, in web mercator metres */
		double unit = 40075016.686 / ldexp(4096, z);
		/* the stated tolerances (README, Tiles): the simplification may move a
		 * border by a grid unit; beyond that, 1 % of the area, 0.5 % overlap */
		double slack = unit * perimeter;
		double cover = src > 0 ? fmax(0, fabs(uni - src) - slack) / src : 0;
		double overlap = uni > 0 ? fmax(0, sum - uni - slack / 2) / uni : 0;

		cr_assert_leq(cover, 0.01, "%s: the tile covers %.0f m2 of %.0f m2 of source (slack %.0f)", path, uni, src,
			      slack);
		cr_assert_leq(overlap, 0.005, "%s: neighbours overlap by %.0f m2 of %.0f", path, sum - uni, uni);
		if (src > 0 && fabs(uni - src) / src > c->raw_cover)
			c->raw_cover = fabs(uni - src) / src;
		if (uni > 0 && (sum - uni) / uni > c->raw_overlap)
			c->raw_overlap = (sum - uni) / uni;
		if (cover > c->worst_cover)
			c->worst_cover = cover;
		if (overlap > c->worst_overlap)
			c->worst_overlap = overlap;
	}
	db_result_free(r);
}

static void check_geojson_tile(struct gj_check *c, const char *path, int z, int x, int y)
{
	size_t len;
	char *text = t_slurp(path, &len);
	cJSON *fc, *features;
	double box[4], margin = 64.0 / 4096;

	cr_assert_not_null(text);
	fc = cJSON_Parse(text);
	cr_assert_not_null(fc, "%s does not parse", path);
	cr_assert_str_eq(cJSON_GetObjectItem(fc, "type")->valuestring, "FeatureCollection");
	cr_assert_null(cJSON_GetObjectItem(fc, "crs"), "%s: RFC 7946 has no crs member", path);
	features = cJSON_GetObjectItem(fc, "features");
	cr_assert_gt(cJSON_GetArraySize(features), 0, "%s: an empty tile was written", path);
	tile_lonlat(z, x - margin, y + 1 + margin, &box[0], &box[1]);
	tile_lonlat(z, x + 1 + margin, y - margin, &box[2], &box[3]);
	for (const char *p = text; *p; p++) {
		if (*p == '.' && p > text && p[-1] >= '0' && p[-1] <= '9') {
			int d = 0;

			while (p[1] >= '0' && p[1] <= '9')
				d++, p++;
			cr_assert_leq(d, 6, "%s: a number with %d decimals", path, d);
		}
	}
	for (const cJSON *f = features->child; f; f = f->next) {
		const cJSON *id = cJSON_GetObjectItem(f, "id"), *props = cJSON_GetObjectItem(f, "properties");
		const cJSON *geom = cJSON_GetObjectItem(f, "geometry"), *coords = cJSON_GetObjectItem(geom, "coordinates");
		bool multi = strcmp(cJSON_GetObjectItem(geom, "type")->valuestring, "MultiPolygon") == 0;

		cr_assert(cJSON_IsString(id), "%s: a feature id that is not a string", path);
		cr_assert_str_eq(cJSON_GetObjectItem(props, "code")->valuestring, id->valuestring,
				 "%s: the id is the area code in properties", path);
		cr_assert_str_eq(cJSON_GetObjectItem(props, "level")->valuestring, level_at(z), "%s", path);
		cr_assert(multi || strcmp(cJSON_GetObjectItem(geom, "type")->valuestring, "Polygon") == 0, "%s", path);
		check_types(c, path, props);
		for (int i = 0; i < (multi ? cJSON_GetArraySize(coords) : 1); i++) {
			const cJSON *poly = multi ? cJSON_GetArrayItem(coords, i) : coords;

			for (int k = 0; k < cJSON_GetArraySize(poly); k++)
				check_ring(path, cJSON_GetArrayItem(poly, k), k == 0, box);
		}
		c->features++;
	}
	check_in_postgis(c, path, text, z, x, y);
	c->tiles[z]++;
	cJSON_Delete(fc);
	free(text);
}

static void walk_geojson(struct gj_check *c, const char *dir)
{
	for (int z = 0; z < 20; z++) {
		char *zd = xasprintf("%s/%d", dir, z);
		DIR *dz = opendir(zd);
		struct dirent *ex;

		if (!dz) {
			free(zd);
			continue;
		}
		while ((ex = readdir(dz))) {
			char *xd;
			DIR *dx;
			struct dirent *ey;

			if (ex->d_name[0] == '.')
				continue;
			xd = xasprintf("%s/%s", zd, ex->d_name);
			dx = opendir(xd);
			while (dx && (ey = readdir(dx))) {
				char *path;

				if (ey->d_name[0] == '.')
					continue;
				cr_assert(strstr(ey->d_name, ".geojson"), "%s/%s: not a .geojson tile", xd, ey->d_name);
				path = xasprintf("%s/%s", xd, ey->d_name);
				check_geojson_tile(c, path, z, atoi(ex->d_name), atoi(ey->d_name));
				free(path);
			}
			if (dx)
				closedir(dx);
			free(xd);
		}
		closedir(dz);
		free(zd);
	}
}

/* ---- MBTiles ---- */

static char *meta(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	char *v = NULL;

	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT value FROM metadata WHERE name = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	cr_assert_not_null(v, "MBTiles metadata has no %s", name);
	return v;
}

/* Every tile: gzip, one layer of the zoom's level, polygons only, rings of
 * at least 3 points plus closure, exteriors positive, inside the buffer. */
static long check_mbtiles(const char *path, long expect_tiles)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct libdeflate_decompressor *dz = libdeflate_alloc_decompressor();
	size_t cap = 1 << 24;
	unsigned char *buf = xmalloc(cap);
	char *json, *fmt;
	cJSON *j;
	long n = 0, features = 0;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", path);
	fmt = meta(db, "format");
	cr_assert_str_eq(fmt, "pbf");
	json = meta(db, "json");
	j = cJSON_Parse(json);
	cr_assert_not_null(j, "metadata json parses");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "vector_layers")), 3, "%s", json);
	free(meta(db, "bounds"));
	free(meta(db, "minzoom"));
	free(meta(db, "maxzoom"));
	free(meta(db, "name"));
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles", -1, &st, NULL),
		     SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int z = sqlite3_column_int(st, 0), x = sqlite3_column_int(st, 1), row = sqlite3_column_int(st, 2);
		const void *blob = sqlite3_column_blob(st, 3);
		size_t len = (size_t)sqlite3_column_bytes(st, 3), out = 0;
		struct mvtdec_layer l[2];

		cr_assert_lt(len, 500 * 1024, "tile %d/%d/%d is %zu bytes gzipped", z, x, row, len);
		cr_assert_eq(libdeflate_gzip_decompress(dz, blob, len, buf, cap, &out), LIBDEFLATE_SUCCESS,
			     "tile %d/%d/(tms)%d is not gzip", z, x, row);
		cr_assert_eq(mvtdec(buf, out, l, 2), 1, "tile %d/%d/%d: one layer", z, x, row);
		cr_assert_str_eq(l[0].name, level_at(z), "tile %d/%d/%d", z, x, row);
		cr_assert_eq(l[0].version, 2);
		cr_assert_eq(l[0].extent, 4096);
		cr_assert_gt(l[0].nfeat, 0, "tile %d/%d/%d is empty", z, x, row);
		for (size_t i = 0; i < l[0].nfeat; i++) {
			const struct mvtdec_feature *f = &l[0].feat[i];

			cr_assert_eq(f->type, 3, "only polygons in a polygon layer");
			cr_assert_eq(f->bad_commands, 0, "tile %d/%d/%d feature %zu: bad commands", z, x, row, i);
			cr_assert_gt(f->nrings, 0);
			cr_assert_gt(f->rings[0].area, 0, "tile %d/%d/%d feature %zu begins with a hole", z, x, row, i);
			for (size_t r = 0; r < f->nrings; r++) {
				cr_assert_geq(f->rings[r].n, 3, "a ring of %zu points", f->rings[r].n);
				cr_assert_neq(f->rings[r].area, 0, "a ring without area");
				for (size_t k = 0; k < 2 * f->rings[r].n; k++)
					cr_assert(f->rings[r].xy[k] >= -64 && f->rings[r].xy[k] <= 4096 + 64,
						  "tile %d/%d/%d: coordinate %lld outside the buffer", z, x, row,
						  (long long)f->rings[r].xy[k]);
			}
			features++;
		}
		mvtdec_free(&l[0]);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	cr_assert_eq(n, expect_tiles, "%s holds %ld tiles, the GeoJSON folder %ld", path, n, expect_tiles);
	cr_assert_gt(features, 0);
	cJSON_Delete(j);
	free(json);
	free(fmt);
	free(buf);
	libdeflate_free_decompressor(dz);
	return n;
}

Test(tiles, every_demo_tile_is_valid_covers_its_areas_and_reads_in_gdal, .timeout = 900)
{
	struct demo d;
	struct gj_check c = {0};
	char *dir, *mb, *tj;
	cJSON *tilejson;
	long total = 0;
	struct t_run r;

	demo_start(&d);
	/* one scenario is enough: every scenario shares the geometry */
	dir = xasprintf("%s/current/tiles/bijstand", d.out);
	mb = xasprintf("%s/current/tiles/bijstand.mbtiles", d.out);
	c.db = t_db(d.schema);
	c.types = cJSON_CreateObject();
	walk_geojson(&c, dir);
	for (int z = 0; z < 20; z++) {
		if (z >= 8 && z <= 16)
			cr_assert_gt(c.tiles[z], 0, "no tiles at zoom %d", z);
		else
			cr_assert_eq(c.tiles[z], 0, "tiles at zoom %d", z);
		if (z >= 8 && z <= 16)
			cr_assert_gt(c.sampled[z], 0, "zoom %d: no tile sampled for coverage", z);
		total += c.tiles[z];
	}
	cr_assert_eq(c.invalid, 0);
	cr_log_info("%ld GeoJSON tiles, %ld features; worst coverage error %.4f %% (%.4f %% beyond a grid unit),"
		    " worst overlap %.4f %% (%.4f %%)",
		    total, c.features, 100 * c.raw_cover, 100 * c.worst_cover, 100 * c.raw_overlap, 100 * c.worst_overlap);
	check_mbtiles(mb, total);

	tj = xasprintf("%s/tiles.json", dir);
	tilejson = cJSON_Parse(t_slurp(tj, NULL));
	cr_assert_not_null(tilejson, "tiles.json parses");
	cr_assert_str_eq(cJSON_GetObjectItem(tilejson, "tilejson")->valuestring, "3.0.0");
	cr_assert_eq(cJSON_GetObjectItem(tilejson, "minzoom")->valueint, 8);
	cr_assert_eq(cJSON_GetObjectItem(tilejson, "maxzoom")->valueint, 16);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(tilejson, "vector_layers")), 3);

	/* GDAL's MVT reader, at a zoom of each level, without a warning */
	for (int z = 8; z <= 16; z += 3) {
		char oo[32];

		snprintf(oo, sizeof oo, "ZOOM_LEVEL=%d", z + 2);
		r = t_run((const char *[]){"ogrinfo", "-ro", "-al", "-q", "-oo", oo, mb, NULL});
		cr_assert_eq(r.status, 0, "ogrinfo: %s", r.err);
		cr_assert_null(strstr(r.err, "Warning"), "ogrinfo warns: %s", r.err);
		cr_assert_null(strstr(r.err, "ERROR"), "ogrinfo: %s", r.err);
		cr_assert(strstr(r.out, level_at(z + 2)), "ogrinfo lists no %s features at zoom %d", level_at(z + 2), z + 2);
		t_run_free(&r);
	}
	db_close(c.db);
	cJSON_Delete(c.types);
	cJSON_Delete(tilejson);
	free(tj);
	free(dir);
	free(mb);
	demo_end(&d);
}

static long reused_of(const char *log)
{
	const char *p = strstr(log, "info tiles=");
	long tiles = -1, reused = -1;

	cr_assert_not_null(p, "publish logged no tile summary:\n%s", log);
	cr_assert_eq(sscanf(p, "info tiles=%ld reused=%ld", &tiles, &reused), 2);
	return reused;
}

Test(tiles, an_incremental_publish_gives_the_bytes_of_a_full_one, .timeout = 900)
{
	struct demo d;
	struct db *db;
	struct t_run r;
	char *full = t_tmpdir(), *a, *b, *target_inc, *target_full, *total_s;
	long reused;

	demo_start(&d);
	db = t_db(d.schema);
	/* a refresh that changed about 1 % of the PC6: their groups change band */
	total_s = t_query1(db, "SELECT count(*) FROM protected_group_value");
	cr_assert_gt(db_execp(db,
			      "UPDATE protected_group_value SET band = bands + 1 - band"
			      " WHERE band IS NOT NULL AND abs(hashtext(group_code)) % 100 = 0 AND scenario = 'generatie'",
			      0, NULL, &(struct err){0}),
		     0);
	sleep(1);
	r = t_pc6risk((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", d.out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	reused = reused_of(r.err);
	t_run_free(&r);
	r = t_pc6risk((const char *[]){"publish", "-c", d.config, "--schema", d.schema, "--out", full, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(reused_of(r.err), 0, "a publish into an empty directory encodes every tile");
	t_run_free(&r);
	target_inc = t_link_target(d.out);
	target_full = t_link_target(full);
	a = xasprintf("%s/%s", d.out, target_inc);
	b = xasprintf("%s/%s", full, target_full);
	t_compare_trees(a, b, "");
	t_compare_trees(b, a, "");
	{
		struct t_run c = t_run((const char *[]){"sh", "-c", "grep -c . \"$0\"/tiles/*/inputs.tsv | awk -F: '{s += $2} END {print s}'", a, NULL});
		long all = atol(c.out);

		cr_assert_gt(all, 0);
		cr_assert(reused > all / 2 && reused < all, "%ld of %ld tiles reused after a 1 %% change", reused, all);
		cr_log_info("incremental: %ld of %ld tiles reused", reused, all);
		t_run_free(&c);
	}
	db_close(db);
	free(total_s);
	free(a);
	free(b);
	free(target_inc);
	free(target_full);
	t_rmtree(full);
	free(full);
	demo_end(&d);
}
