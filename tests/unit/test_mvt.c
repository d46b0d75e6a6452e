/* mvt: the MVT 2.1 encoder, decoded again by the tests' own reader (mvtdec),
 * and the GeoJSON tile encoder, parsed with cJSON. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mvtdec.h"
#include "pc6risk/mvt.h"

/* Two features: a square with a square hole, and two triangles (a
 * MultiPolygon), in tile coordinates with exteriors clockwise on screen. */
static int64_t xy[] = {
	/* exterior 0..3 */ 0, 0, 100, 0, 100, 100, 0, 100,
	/* hole 4..7 */ 20, 20, 20, 80, 80, 80, 80, 20,
	/* triangle a */ 200, 200, 300, 200, 300, 300,
	/* triangle b */ -50, 4000, 10, 4000, 10, 4100,
};
static uint32_t pt_first[] = {0, 4, 8, 11, 14};
static uint32_t ring_first[] = {0, 2, 3, 4};
static uint32_t poly_first[] = {0, 1, 3};

static const char *const keys[] = {"code", "name", "score", "rank"};
static const enum mvt_type types[] = {MVT_STRING, MVT_STRING, MVT_DOUBLE, MVT_INT};

static struct mvt_value props[8];

static void make_tile(struct mvt_tile *t, struct tile_polys *g, struct mvt_schema *s)
{
	*g = (struct tile_polys){2, poly_first, ring_first, pt_first, xy};
	*s = (struct mvt_schema){"buurt", 4, keys, types};
	props[0] = (struct mvt_value){true, {.s = "BU05180001"}};
	props[1] = (struct mvt_value){true, {.s = "Oud & \"Nieuw\""}};
	props[2] = (struct mvt_value){true, {.d = 12.5}};
	props[3] = (struct mvt_value){true, {.i = -3}};
	props[4] = (struct mvt_value){true, {.s = "BU05180002"}};
	props[5] = (struct mvt_value){true, {.s = "Oud & \"Nieuw\""}}; /* the same value: one entry */
	props[6] = (struct mvt_value){false, {.d = 0}};                /* absent: left out */
	props[7] = (struct mvt_value){true, {.i = 7}};
	*t = (struct mvt_tile){16, 33656, 21582, g, 2, props};
}

Test(mvt, decodes_to_the_input)
{
	struct tile_polys g;
	struct mvt_schema s;
	struct mvt_tile t;
	struct sbuf out = {0};
	struct mvtdec_layer l[2];
	const struct mvtdec_feature *f;

	make_tile(&t, &g, &s);
	mvt_encode(&out, &s, &t);
	cr_assert_eq(mvtdec((unsigned char *)out.s, out.len, l, 2), 1, "a Tile with one layer");
	cr_assert_eq(l[0].version, 2);
	cr_assert_eq(l[0].extent, 4096);
	cr_assert_str_eq(l[0].name, "buurt");
	cr_assert_eq(l[0].nkeys, 4);
	cr_assert_str_eq(l[0].keys[2], "score");
	cr_assert_eq(l[0].nvalues, 6, "6 distinct values, the repeated name once; got %zu", l[0].nvalues);
	cr_assert_eq(l[0].nfeat, 2);
	f = l[0].feat;
	cr_assert_eq(f[0].type, 3, "POLYGON");
	cr_assert_eq(f[0].ntags, 8);
	cr_assert_eq(f[1].ntags, 6, "the absent score is left out");
	cr_assert_eq(f[0].tags[3], f[1].tags[3], "both names point at the one value");
	cr_assert_eq(f[0].bad_commands + f[1].bad_commands, 0);
	cr_assert_eq(f[0].nrings, 2);
	cr_assert_eq(f[1].nrings, 2);
	cr_assert_arr_eq(f[0].rings[0].xy, xy, 8 * sizeof(int64_t));
	cr_assert_arr_eq(f[0].rings[1].xy, xy + 8, 8 * sizeof(int64_t));
	cr_assert_arr_eq(f[1].rings[0].xy, xy + 16, 6 * sizeof(int64_t));
	cr_assert_arr_eq(f[1].rings[1].xy, xy + 22, 6 * sizeof(int64_t));
	cr_assert(f[0].rings[0].area > 0 && f[0].rings[1].area < 0, "exterior positive, hole negative");
	mvtdec_free(&l[0]);
	sbuf_free(&out);
}

Test(mvt, geojson_is_rfc7946)
{
	struct tile_polys g;
	struct mvt_schema s;
	struct mvt_tile t;
	struct sbuf out = {0};
	cJSON *fc, *f0, *f1, *poly, *ring;
	double lon, lat;

	make_tile(&t, &g, &s);
	mvt_geojson(&out, &s, &t, 3, NULL);
	fc = cJSON_Parse(out.s);
	cr_assert_not_null(fc, "GeoJSON parses: %s", out.s);
	cr_assert_null(cJSON_GetObjectItem(fc, "crs"));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fc, "features")), 2);
	f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(fc, "features"), 0);
	f1 = cJSON_GetArrayItem(cJSON_GetObjectItem(fc, "features"), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(f0, "id")->valuestring, "BU05180001");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(f0, "properties"), "code")->valuestring, "BU05180001");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(f0, "properties"), "name")->valuestring,
			 "Oud & \"Nieuw\"");
	cr_assert_float_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(f0, "properties"), "score")->valuedouble, 12.5, 1e-9);
	cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(f1, "properties"), "score"), "absent: no key");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(f0, "geometry"), "type")->valuestring, "Polygon");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(f1, "geometry"), "type")->valuestring, "MultiPolygon");
	poly = cJSON_GetObjectItem(cJSON_GetObjectItem(f0, "geometry"), "coordinates");
	cr_assert_eq(cJSON_GetArraySize(poly), 2, "exterior and hole");
	ring = cJSON_GetArrayItem(poly, 0);
	cr_assert_eq(cJSON_GetArraySize(ring), 5, "closed ring of 4 corners");
	cr_assert(geojson_ring_area(ring) > 0, "exterior counter-clockwise in lon/lat");
	cr_assert(geojson_ring_area(cJSON_GetArrayItem(poly, 1)) < 0, "hole clockwise");
	/* the tile's north-west corner is a corner of the exterior */
	mvt_lonlat(16, 33656, 21582, 0, 0, &lon, &lat);
	{
		int found = 0;

		for (int i = 0; i < 4; i++) {
			const cJSON *p = cJSON_GetArrayItem(ring, i);

			found += fabs(cJSON_GetArrayItem(p, 0)->valuedouble - round(lon * 1e6) / 1e6) < 1e-9 &&
				 fabs(cJSON_GetArrayItem(p, 1)->valuedouble - round(lat * 1e6) / 1e6) < 1e-9;
		}
		cr_assert_eq(found, 1);
	}
	cr_assert(lon > 4.8 && lon < 4.9 && lat > 52.2 && lat < 52.25, "tile 16/33656/21582 lies just south of Amsterdam: %f %f", lon,
		  lat);
	cJSON_Delete(fc);
	sbuf_free(&out);
}

Test(mvt, geojson_has_at_most_six_decimals)
{
	struct tile_polys g;
	struct mvt_schema s;
	struct mvt_tile t;
	struct sbuf out = {0};
	const char *p;

	make_tile(&t, &g, &s);
	mvt_geojson(&out, &s, &t, 3, NULL);
	p = strstr(out.s, "\"coordinates\"");
	cr_assert_not_null(p);
	for (; *p; p++) {
		if (*p == '.') {
			int d = 0;

			while (p[1] >= '0' && p[1] <= '9') {
				d++;
				p++;
			}
			cr_assert_leq(d, 6, "a number with %d decimals", d);
		}
	}
	sbuf_free(&out);
}

Test(mvt, lonlat_corners)
{
	double lon, lat;

	mvt_lonlat(0, 0, 0, 0, 0, &lon, &lat);
	cr_assert_float_eq(lon, -180.0, 1e-9);
	cr_assert_float_eq(lat, 85.0511287798, 1e-8);
	mvt_lonlat(0, 0, 0, TILE_EXTENT / 2, TILE_EXTENT / 2, &lon, &lat);
	cr_assert_float_eq(lon, 0.0, 1e-9);
	cr_assert_float_eq(lat, 0.0, 1e-9);
}

Test(mvt, tiny_ring_dropped_and_counted)
{
	/* at zoom 16 one unit is ~0.15 m: three points within a few units
	 * round to fewer than 3 distinct 6-decimal positions */
	static int64_t sxy[] = {0, 0, 1, 0, 1, 0};
	static uint32_t spt[] = {0, 3}, sring[] = {0, 1}, spoly[] = {0, 1};
	struct tile_polys g = {1, spoly, sring, spt, sxy};
	struct mvt_schema s = {"pc6", 4, keys, types};
	struct mvt_tile t = {16, 33656, 21582, &g, 1, props};
	struct sbuf out = {0};
	long long dropped = 0;
	cJSON *fc;

	make_tile(&(struct mvt_tile){0}, &(struct tile_polys){0}, &(struct mvt_schema){0});
	mvt_geojson(&out, &s, &t, 3, &dropped);
	cr_assert_eq(dropped, 1);
	fc = cJSON_Parse(out.s);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fc, "features")), 0, "no feature left: %s", out.s);
	cJSON_Delete(fc);
	sbuf_free(&out);
}
