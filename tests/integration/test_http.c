/* http: the read-only HTTP server against a publish directory the tests make
 * themselves (no database): every route, caching headers and conditional
 * requests, tiles.json rewriting, both encodings of vector tiles, CORS, the
 * requests it must refuse, and a load test that swaps and prunes releases
 * under the clients' feet. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "mvtdec.h"
#include "pc6risk/fsx.h"
#include "pc6risk/http.h"
#include "pc6risk/mbtiles.h"
#include "pc6risk/mvt.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"
#include "support.h"

#define TZ 14
#define TX 8414u
#define TY 5396u
#define TILE "14/8414/5396"
#define SHARED_TILE "14/8414/5397" /* the same file (a hard link) in every release made with a base */

/* ---- a publish directory ---- */

static void release_id(char *buf, size_t size, int k)
{
	snprintf(buf, size, "20261123T%02d%02d%02dZ-r%d", 10 + k / 3600, k / 60 % 60, k % 60, k);
}

/* The MVT of one square feature whose "release" property names the release. */
static void make_mvt(struct sbuf *out, const char *release)
{
	static int64_t xy[] = {0, 0, 100, 0, 100, 100, 0, 100};
	static uint32_t pt_first[] = {0, 4}, ring_first[] = {0, 1}, poly_first[] = {0, 1};
	static const char *const keys[] = {"id", "release"};
	static const enum mvt_type types[] = {MVT_STRING, MVT_STRING};
	struct tile_polys g = {1, poly_first, ring_first, pt_first, xy};
	struct mvt_schema s = {"risk", 2, keys, types};
	struct mvt_value props[2] = {{true, {.s = "a"}}, {true, {.s = release}}};
	struct mvt_tile t = {TZ, TX, TY, &g, 1, props};

	mvt_encode(out, &s, &t);
}

/* 512 KiB that hardly compress: a tile far larger than the server's memory per connection. */
static void big_blob(struct sbuf *b)
{
	uint32_t x = 12345;

	sbuf_reset(b);
	for (int i = 0; i < 512 * 1024; i++) {
		x = x * 1103515245u + 12345u;
		sbuf_putc(b, (char)(x >> 24));
	}
}

static void *gzip(const void *in, size_t n, size_t *out_n)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	size_t cap = libdeflate_gzip_compress_bound(c, n);
	void *out = xmalloc(cap);

	*out_n = libdeflate_gzip_compress(c, in, n, out, cap);
	cr_assert(*out_n > 0);
	libdeflate_free_compressor(c);
	return out;
}

static unsigned char *gunzip(const void *in, size_t n, size_t *out_n)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	unsigned char *out = xmalloc(1 << 20);

	cr_assert_eq(libdeflate_gzip_decompress(d, in, n, out, 1 << 20, out_n), LIBDEFLATE_SUCCESS);
	libdeflate_free_decompressor(d);
	return out;
}

static char *geojson_tile(const char *release)
{
	return xasprintf("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":\"a\","
			 "\"properties\":{\"id\":\"a\",\"release\":\"%s\"},\"geometry\":{\"type\":\"Polygon\","
			 "\"coordinates\":[[[4.3,52.07],[4.31,52.07],[4.31,52.08],[4.3,52.08],[4.3,52.07]]]}}]}\n",
			 release);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", dir, rel);
	struct err e;

	cr_assert(fsx_write_file_nosync(path, text, strlen(text), &e) == 0, "%s", e.message);
	free(path);
}

/* <out>/releases/<id> as publish lays it out: tiles/risk/ with two GeoJSON
 * tiles and tiles.json, tiles/risk.mbtiles with gzip'd MVT at TILE and 0/0/0,
 * neighbourhoods/centrum.geojson, and when big a large tile at 1/0/0. Every
 * body names the release, but for SHARED_TILE, a hard link to the file of
 * release base when base is not NULL. */
static void make_release(const char *out, const char *id, const char *base, bool big)
{
	char *dir = xasprintf("%s/releases/%s", out, id), *p, *gj;
	struct sbuf mvt = {0};
	struct mbtiles *m;
	struct err e;
	void *gz;
	size_t gzn;

	p = xasprintf("%s/tiles/risk/14/8414", dir);
	cr_assert(fsx_mkdirs(p, &e) == 0, "%s", e.message);
	free(p);
	p = xasprintf("%s/neighbourhoods", dir);
	cr_assert(fsx_mkdirs(p, &e) == 0, "%s", e.message);
	free(p);
	gj = geojson_tile(id);
	write_file(dir, "tiles/risk/" TILE ".geojson", gj);
	write_file(dir, "neighbourhoods/centrum.geojson", gj);
	free(gj);
	if (base) {
		char *from = xasprintf("%s/releases/%s/tiles/risk/" SHARED_TILE ".geojson", out, base);

		p = xasprintf("%s/tiles/risk/" SHARED_TILE ".geojson", dir);
		cr_assert(link(from, p) == 0);
		free(from);
		free(p);
	} else {
		gj = geojson_tile("shared");
		write_file(dir, "tiles/risk/" SHARED_TILE ".geojson", gj);
		free(gj);
	}
	p = xasprintf("{\n  \"tilejson\": \"3.0.0\",\n  \"name\": \"risk\",\n  \"description\": \"%s\",\n"
		      "  \"scheme\": \"xyz\",\n  \"tiles\": [\"{z}/{x}/{y}.geojson\"],\n  \"format\": \"geojson\",\n"
		      "  \"minzoom\": 0,\n  \"maxzoom\": 14,\n  \"vector_layers\": [{\"id\": \"risk\", \"fields\": "
		      "{\"release\": \"String\"}}],\n  \"mbtiles\": \"../risk.mbtiles\"\n}\n",
		      id);
	write_file(dir, "tiles/risk/tiles.json", p);
	free(p);
	p = xasprintf("%s/tiles/risk.mbtiles", dir);
	m = mbtiles_create(p, &e);
	cr_assert(m != NULL, "%s", e.message);
	make_mvt(&mvt, id);
	gz = gzip(mvt.s, mvt.len, &gzn);
	cr_assert(mbtiles_meta(m, "name", "risk", &e) == 0 && mbtiles_put(m, TZ, TX, TY, gz, gzn, &e) == 0 &&
		  mbtiles_put(m, 0, 0, 0, gz, gzn, &e) == 0, "%s", e.message);
	free(gz);
	if (big) {
		big_blob(&mvt);
		gz = gzip(mvt.s, mvt.len, &gzn);
		cr_assert(mbtiles_put(m, 1, 0, 0, gz, gzn, &e) == 0, "%s", e.message);
		free(gz);
	}
	cr_assert(mbtiles_close(m, &e) == 0, "%s", e.message);
	free(p);
	sbuf_free(&mvt);
	free(dir);
}

static void point_current(const char *out, const char *id)
{
	char *target = xasprintf("releases/%s", id), *link = xasprintf("%s/current", out);
	struct err e;

	cr_assert(fsx_symlink_swap(target, link, &e) == 0, "%s", e.message);
	free(target);
	free(link);
}

static void remove_release(const char *out, const char *id)
{
	char *dir = xasprintf("%s/releases/%s", out, id);
	struct err e;

	cr_assert(fsx_rmtree(dir, &e) == 0, "%s", e.message);
	free(dir);
}

/* ---- a server on it ---- */

static struct http *g_http; /* for the doc callback's /metrics */

static int test_doc(void *ctx, enum http_doc doc, struct sbuf *body, const char **content_type)
{
	(void)ctx;
	switch (doc) {
	case HTTP_READYZ:
		sbuf_puts(body, "ready\n");
		*content_type = "text/plain; charset=utf-8";
		return 200;
	case HTTP_METRICS:
		http_metrics(g_http, body);
		*content_type = "text/plain; version=0.0.4";
		return 200;
	default:
		sbuf_puts(body, "{\"runs\": []}\n");
		*content_type = "application/json";
		return 200;
	}
}

struct fx {
	char *out;
	char id[3][48]; /* releases 1 and 2 (2 from 1, current), and 3 (pruned) */
	struct http *h;
	struct httpc *c;
};

static struct http *start(const char *out, const char *cors, const char *public_url)
{
	struct http_opts o = {.listen = "127.0.0.1:0", .out_dir = out, .cors_origin = cors,
			      .public_url = public_url, .threads = 2, .doc = test_doc};
	struct err e;
	struct http *h = http_start(&o, &e);

	cr_assert(h != NULL, "http_start: %s", e.message);
	cr_assert(http_port(h) > 0);
	g_http = h;
	return h;
}

static void fx_setup(struct fx *f, const char *cors, const char *public_url)
{
	f->out = t_tmpdir();
	for (int i = 0; i < 3; i++)
		release_id(f->id[i], sizeof f->id[i], i + 1);
	make_release(f->out, f->id[0], NULL, true);
	make_release(f->out, f->id[1], f->id[0], true);
	point_current(f->out, f->id[1]);
	f->h = start(f->out, cors, public_url);
	f->c = httpc_connect(http_port(f->h));
	cr_assert(f->c != NULL);
}

static void fx_end(struct fx *f)
{
	httpc_close(f->c);
	http_stop(f->h);
	t_rmtree(f->out);
	free(f->out);
}

/* Request and check the status; the answer is the caller's to free. */
static struct httpc_resp want(struct httpc *c, const char *method, const char *path, const char *const *extra,
			      int status)
{
	struct httpc_resp r;

	httpc_request(c, method, path, extra, &r);
	cr_assert_eq(r.status, status, "%s %s: status %d, want %d: %s", method, path, r.status, status,
		     r.body ? r.body : "");
	return r;
}

static void header_is(const struct httpc_resp *r, const char *name, const char *value)
{
	const char *v = httpc_header(r, name);

	if (!value) {
		cr_assert_null(v, "%s should be absent, is %s", name, v);
		return;
	}
	cr_assert(v != NULL, "no %s header", name);
	cr_assert_str_eq(v, value, "%s", name);
}

/* The "release" property of a GeoJSON FeatureCollection's first feature (to free). */
static char *geojson_release(const char *body)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "features"), 0);
	const char *r = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "properties"), "release"));
	char *out = r ? xstrdup(r) : NULL;

	cJSON_Delete(j);
	return out;
}

/* ---- the tests ---- */

Test(http, health_and_documents)
{
	struct fx f;
	struct httpc_resp r;
	char etag[64], inm[96];

	fx_setup(&f, NULL, NULL);
	r = want(f.c, "GET", "/healthz", NULL, 200);
	cr_assert_str_eq(r.body, "ok\n");
	header_is(&r, "Cache-Control", "no-store");
	header_is(&r, "X-Pc6risk-Release", NULL);
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/readyz", NULL, 200);
	cr_assert_str_eq(r.body, "ready\n");
	header_is(&r, "Cache-Control", "no-store");
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/runs", NULL, 200);
	cr_assert_str_eq(r.body, "{\"runs\": []}\n");
	header_is(&r, "Content-Type", "application/json");
	cr_assert(httpc_header(&r, "ETag"));
	snprintf(etag, sizeof etag, "%s", httpc_header(&r, "ETag"));
	httpc_resp_free(&r);
	snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
	r = want(f.c, "GET", "/runs", (const char *[]){inm, NULL}, 304);
	cr_assert_eq(r.body_len, 0);
	httpc_resp_free(&r);
	r = want(f.c, "HEAD", "/healthz", NULL, 200);
	header_is(&r, "Content-Length", "3");
	cr_assert_eq(r.body_len, 0);
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/metrics", NULL, 200);
	cr_assert(strstr(r.body, "pc6risk_http_requests_total{route=\"healthz\",code=\"2xx\"} 2\n"), "%s", r.body);
	cr_assert(strstr(r.body, "pc6risk_http_requests_total{route=\"runs\",code=\"3xx\"} 1\n"), "%s", r.body);
	cr_assert(strstr(r.body, "pc6risk_http_response_bytes_total "), "%s", r.body);
	httpc_resp_free(&r);
	fx_end(&f);
}

Test(http, no_doc_callback_and_no_release)
{
	char *out = t_tmpdir();
	struct http_opts o = {.listen = "127.0.0.1:0", .out_dir = out};
	struct err e;
	struct http *h = http_start(&o, &e);
	struct httpc *c;
	struct httpc_resp r;

	cr_assert(h != NULL, "%s", e.message);
	c = httpc_connect(http_port(h));
	r = want(c, "GET", "/runs", NULL, 404);
	httpc_resp_free(&r);
	r = want(c, "GET", "/tiles/risk/" TILE ".geojson", NULL, 404);
	cr_assert(strstr(r.body, "no release"), "%s", r.body);
	header_is(&r, "X-Pc6risk-Release", NULL);
	httpc_resp_free(&r);
	r = want(c, "GET", "/healthz", NULL, 200);
	httpc_resp_free(&r);
	httpc_close(c);
	http_stop(h);
	http_stop(NULL);
	t_rmtree(out);
	free(out);
}

Test(http, geojson_tiles_and_etags)
{
	struct fx f;
	struct httpc_resp r, a, b;
	char *rel, etag[64], inm[160], path[160];

	fx_setup(&f, NULL, NULL);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".geojson", NULL, 200);
	header_is(&r, "Content-Type", "application/geo+json");
	header_is(&r, "Cache-Control", "public, max-age=60");
	header_is(&r, "X-Pc6risk-Release", f.id[1]);
	/* keep-alive: a map fetches dozens of tiles per view over a few connections */
	cr_assert_null(httpc_header(&r, "Connection"), "Connection: %s", httpc_header(&r, "Connection"));
	rel = geojson_release(r.body);
	cr_assert_str_eq(rel, f.id[1]);
	free(rel);
	cr_assert(httpc_header(&r, "ETag"));
	snprintf(etag, sizeof etag, "%s", httpc_header(&r, "ETag"));
	httpc_resp_free(&r);

	r = want(f.c, "HEAD", "/tiles/risk/" TILE ".geojson", NULL, 200);
	cr_assert_eq(r.body_len, 0);
	cr_assert_gt(atoi(httpc_header(&r, "Content-Length")), 100);
	header_is(&r, "ETag", etag);
	httpc_resp_free(&r);

	/* If-None-Match: the tag, W/ the tag, in a list, and *. */
	const char *forms[] = {"%s", "W/%s", "\"zz\", %s", "*"};
	for (int i = 0; i < 4; i++) {
		int n = snprintf(inm, sizeof inm, "If-None-Match: ");

		snprintf(inm + n, sizeof inm - (size_t)n, forms[i], etag);
		r = want(f.c, "GET", "/tiles/risk/" TILE ".geojson", (const char *[]){inm, NULL}, 304);
		header_is(&r, "ETag", etag);
		header_is(&r, "Cache-Control", "public, max-age=60");
		header_is(&r, "X-Pc6risk-Release", f.id[1]);
		cr_assert_eq(r.body_len, 0);
		httpc_resp_free(&r);
	}
	r = want(f.c, "GET", "/tiles/risk/" TILE ".geojson", (const char *[]){"If-None-Match: \"other\"", NULL}, 200);
	httpc_resp_free(&r);

	/* A pinned release is immutable; the hard-linked tile keeps its ETag, the other does not. */
	snprintf(path, sizeof path, "/releases/%s/tiles/risk/" TILE ".geojson", f.id[0]);
	r = want(f.c, "GET", path, NULL, 200);
	header_is(&r, "Cache-Control", "public, max-age=31536000, immutable");
	header_is(&r, "X-Pc6risk-Release", f.id[0]);
	rel = geojson_release(r.body);
	cr_assert_str_eq(rel, f.id[0]);
	free(rel);
	cr_assert_str_neq(httpc_header(&r, "ETag"), etag);
	httpc_resp_free(&r);
	snprintf(path, sizeof path, "/releases/%s/tiles/risk/" SHARED_TILE ".geojson", f.id[0]);
	a = want(f.c, "GET", path, NULL, 200);
	b = want(f.c, "GET", "/tiles/risk/" SHARED_TILE ".geojson", NULL, 200);
	header_is(&b, "ETag", httpc_header(&a, "ETag"));
	header_is(&b, "X-Pc6risk-Release", f.id[1]);
	httpc_resp_free(&a);
	httpc_resp_free(&b);

	/* Missing: a tile of a tileset that is there, a tileset, a release. */
	r = want(f.c, "GET", "/tiles/risk/14/8414/5398.geojson", NULL, 404);
	cr_assert(strstr(r.body, "no tile 14/8414/5398"), "%s", r.body);
	header_is(&r, "X-Pc6risk-Release", f.id[1]);
	header_is(&r, "Cache-Control", "public, max-age=60");
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/tiles/other/" TILE ".geojson", NULL, 404);
	cr_assert(strstr(r.body, "no tileset other"), "%s", r.body);
	header_is(&r, "Cache-Control", "no-store");
	httpc_resp_free(&r);
	snprintf(path, sizeof path, "/releases/%s/tiles/risk/" TILE ".geojson", f.id[2]);
	r = want(f.c, "GET", path, NULL, 404);
	cr_assert(strstr(r.body, "is not here"), "%s", r.body);
	header_is(&r, "X-Pc6risk-Release", NULL);
	httpc_resp_free(&r);
	fx_end(&f);
}

Test(http, neighbourhoods)
{
	struct fx f;
	struct httpc_resp r;
	char *rel, path[160];

	fx_setup(&f, NULL, NULL);
	r = want(f.c, "GET", "/neighbourhoods/centrum.geojson", NULL, 200);
	header_is(&r, "Content-Type", "application/geo+json");
	header_is(&r, "X-Pc6risk-Release", f.id[1]);
	header_is(&r, "Cache-Control", "public, max-age=60");
	rel = geojson_release(r.body);
	cr_assert_str_eq(rel, f.id[1]);
	free(rel);
	httpc_resp_free(&r);
	snprintf(path, sizeof path, "/releases/%s/neighbourhoods/centrum.geojson", f.id[0]);
	r = want(f.c, "GET", path, NULL, 200);
	header_is(&r, "Cache-Control", "public, max-age=31536000, immutable");
	rel = geojson_release(r.body);
	cr_assert_str_eq(rel, f.id[0]);
	free(rel);
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/neighbourhoods/noord.geojson", NULL, 404);
	cr_assert(strstr(r.body, "no neighbourhood noord"), "%s", r.body);
	httpc_resp_free(&r);
	fx_end(&f);
}

/* Decode a pbf answer (inflating it when it says gzip) and check it is the
 * tile made for release. */
static void check_pbf(const struct httpc_resp *r, const char *release)
{
	const char *ce = httpc_header(r, "Content-Encoding");
	unsigned char *raw = (unsigned char *)r->body;
	size_t n = r->body_len;
	struct mvtdec_layer l[2];
	struct sbuf want_mvt = {0};

	if (ce) {
		cr_assert_str_eq(ce, "gzip");
		raw = gunzip(r->body, r->body_len, &n);
	}
	cr_assert_eq(mvtdec(raw, n, l, 2), 1, "one layer");
	cr_assert_str_eq(l[0].name, "risk");
	cr_assert_eq(l[0].nfeat, 1);
	cr_assert_eq(l[0].feat[0].nrings, 1);
	mvtdec_free(&l[0]);
	make_mvt(&want_mvt, release);
	cr_assert(n == want_mvt.len && memcmp(raw, want_mvt.s, n) == 0, "the MVT of release %s", release);
	sbuf_free(&want_mvt);
	if (raw != (unsigned char *)r->body)
		free(raw);
}

/* The map viewer and the other files of a release: / sends the browser to
 * the current release's viewer, so a page and what it reads come from one
 * release; only known kinds of file are served, with their media types. */
Test(http, viewer_and_release_files)
{
	struct fx f;
	struct httpc_resp r;
	char path[160], where[160], *dir;
	struct err e;
	const char *none[] = {"/viewer/app.exe", "/areas.txt", "/tiles/risk/x.json", "/secret/a.json",
			      "/viewer/a/b.js", "/.hidden.json", "/disclosure/"};

	fx_setup(&f, NULL, "https://maps.example.nl/pc6risk/");
	r = want(f.c, "GET", "/", NULL, 404);
	cr_assert(strstr(r.body, "has no map viewer"), "without a viewer / says so: %s", r.body);
	httpc_resp_free(&r);

	for (int i = 0; i < 2; i++) {
		dir = xasprintf("%s/releases/%s/viewer", f.out, f.id[i]);
		cr_assert(fsx_mkdirs(dir, &e) == 0, "%s", e.message);
		write_file(dir, "index.html", "<!doctype html><title>viewer</title>\n");
		write_file(dir, "viewer.js", "console.log(1);\n");
		free(dir);
		dir = xasprintf("%s/releases/%s", f.out, f.id[i]);
		write_file(dir, "areas.json", "{\"areas\": []}\n");
		free(dir);
	}
	snprintf(where, sizeof where, "https://maps.example.nl/pc6risk/releases/%s/viewer/", f.id[1]);
	for (int i = 0; i < 2; i++) {
		r = want(f.c, "GET", i ? "/viewer" : "/", NULL, 302);
		header_is(&r, "Location", where);
		header_is(&r, "Cache-Control", "no-store");
		httpc_resp_free(&r);
	}
	snprintf(path, sizeof path, "/releases/%s/viewer", f.id[0]);
	r = want(f.c, "GET", path, NULL, 302);
	snprintf(where, sizeof where, "https://maps.example.nl/pc6risk/releases/%s/viewer/", f.id[0]);
	header_is(&r, "Location", where);
	httpc_resp_free(&r);

	snprintf(path, sizeof path, "/releases/%s/viewer/", f.id[0]);
	r = want(f.c, "GET", path, NULL, 200);
	header_is(&r, "Content-Type", "text/html; charset=utf-8");
	header_is(&r, "Cache-Control", "public, max-age=31536000, immutable");
	header_is(&r, "X-Content-Type-Options", "nosniff");
	cr_assert(strstr(r.body, "<title>viewer</title>"));
	httpc_resp_free(&r);
	snprintf(path, sizeof path, "/releases/%s/viewer/viewer.js", f.id[0]);
	r = want(f.c, "GET", path, NULL, 200);
	header_is(&r, "Content-Type", "text/javascript; charset=utf-8");
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/areas.json", NULL, 200);
	header_is(&r, "Content-Type", "application/json");
	header_is(&r, "X-Pc6risk-Release", f.id[1]);
	cr_assert_str_eq(r.body, "{\"areas\": []}\n");
	httpc_resp_free(&r);
	snprintf(path, sizeof path, "/releases/%s/release.json", f.id[0]);
	r = want(f.c, "GET", path, NULL, 404);
	cr_assert(strstr(r.body, "no release.json in release"), "%s", r.body);
	httpc_resp_free(&r);
	for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
		r = want(f.c, "GET", none[i], NULL, 404);
		httpc_resp_free(&r);
	}
	r = want(f.c, "GET", "/viewer/../areas.json", NULL, 400);
	httpc_resp_free(&r);
	fx_end(&f);
}

Test(http, pbf_tiles_both_encodings)
{
	struct fx f;
	struct httpc_resp r;
	char strong[64], inm[128], path[160];

	fx_setup(&f, NULL, NULL);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".pbf", (const char *[]){"Accept-Encoding: gzip, deflate", NULL},
		 200);
	header_is(&r, "Content-Type", "application/vnd.mapbox-vector-tile");
	header_is(&r, "Content-Encoding", "gzip");
	header_is(&r, "Vary", "Accept-Encoding");
	header_is(&r, "X-Pc6risk-Release", f.id[1]);
	header_is(&r, "Cache-Control", "public, max-age=60");
	check_pbf(&r, f.id[1]);
	snprintf(strong, sizeof strong, "%s", httpc_header(&r, "ETag"));
	cr_assert_eq(strong[0], '"');
	httpc_resp_free(&r);

	/* No Accept-Encoding, or gzip refused: inflated, weakly the same ETag. */
	const char *const no_gzip[][2] = {{NULL, NULL}, {"Accept-Encoding: gzip;q=0, br", NULL},
					  {"Accept-Encoding: identity", NULL}, {"Accept-Encoding: *;q=0.0", NULL}};
	for (int i = 0; i < 4; i++) {
		char weak[80];

		r = want(f.c, "GET", "/tiles/risk/" TILE ".pbf", no_gzip[i], 200);
		header_is(&r, "Content-Encoding", NULL);
		snprintf(weak, sizeof weak, "W/%s", strong);
		header_is(&r, "ETag", weak);
		check_pbf(&r, f.id[1]);
		httpc_resp_free(&r);
	}
	r = want(f.c, "GET", "/tiles/risk/" TILE ".pbf", (const char *[]){"Accept-Encoding: *", NULL}, 200);
	header_is(&r, "Content-Encoding", "gzip");
	httpc_resp_free(&r);

	snprintf(inm, sizeof inm, "If-None-Match: %s", strong);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".pbf", (const char *[]){inm, "Accept-Encoding: gzip", NULL}, 304);
	header_is(&r, "ETag", strong);
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".pbf", (const char *[]){inm, NULL}, 304);
	httpc_resp_free(&r);

	r = want(f.c, "HEAD", "/tiles/risk/0/0/0.pbf", (const char *[]){"Accept-Encoding: gzip", NULL}, 200);
	cr_assert_eq(r.body_len, 0);
	header_is(&r, "Content-Encoding", "gzip");
	httpc_resp_free(&r);

	snprintf(path, sizeof path, "/releases/%s/tiles/risk/" TILE ".pbf", f.id[0]);
	r = want(f.c, "GET", path, NULL, 200);
	header_is(&r, "Cache-Control", "public, max-age=31536000, immutable");
	check_pbf(&r, f.id[0]);
	httpc_resp_free(&r);

	/* A large tile, in both encodings. */
	{
		struct sbuf big = {0};
		size_t n;
		unsigned char *raw;

		big_blob(&big);
		r = want(f.c, "GET", "/tiles/risk/1/0/0.pbf", (const char *[]){"Accept-Encoding: gzip", NULL}, 200);
		raw = gunzip(r.body, r.body_len, &n);
		cr_assert(n == big.len && memcmp(raw, big.s, n) == 0);
		free(raw);
		httpc_resp_free(&r);
		r = want(f.c, "GET", "/tiles/risk/1/0/0.pbf", NULL, 200);
		cr_assert(r.body_len == big.len && memcmp(r.body, big.s, big.len) == 0);
		httpc_resp_free(&r);
		sbuf_free(&big);
	}

	/* The rows are TMS: 14/8414/5396 is stored at row 2^14-1-5396, and 14/8414/10987 is not a tile. */
	r = want(f.c, "GET", "/tiles/risk/14/8414/10987.pbf", NULL, 404);
	cr_assert(strstr(r.body, "no tile 14/8414/10987 in tileset risk"), "%s", r.body);
	header_is(&r, "X-Pc6risk-Release", f.id[1]);
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/tiles/other/" TILE ".pbf", NULL, 404);
	cr_assert(strstr(r.body, "no tileset other"), "%s", r.body);
	httpc_resp_free(&r);
	fx_end(&f);
}

static void check_tilejson(const struct httpc_resp *r, const char *base, const char *release)
{
	cJSON *j = cJSON_Parse(r->body);
	const cJSON *tiles, *gj;
	char *want_url;

	cr_assert(j != NULL, "tiles.json parses: %s", r->body);
	tiles = cJSON_GetObjectItem(j, "tiles");
	gj = cJSON_GetObjectItem(j, "geojson_tiles");
	cr_assert_eq(cJSON_GetArraySize(tiles), 1);
	want_url = xasprintf("%s/releases/%s/tiles/risk/{z}/{x}/{y}.pbf", base, release);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(tiles, 0)), want_url);
	free(want_url);
	want_url = xasprintf("%s/releases/%s/tiles/risk/{z}/{x}/{y}.geojson", base, release);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(gj, 0)), want_url);
	free(want_url);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "format")), "pbf");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "release")), release);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "description")), release, "from that release's file");
	cr_assert_null(cJSON_GetObjectItem(j, "mbtiles"));
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "tilejson")), "3.0.0");
	cr_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "vector_layers")));
	cJSON_Delete(j);
}

Test(http, tilejson_rewritten)
{
	struct fx f;
	struct httpc_resp r, t;
	char base[64], path[160], inm[128];

	fx_setup(&f, NULL, NULL);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", http_port(f.h));
	r = want(f.c, "GET", "/tiles/risk/tiles.json", NULL, 200);
	header_is(&r, "Content-Type", "application/json");
	header_is(&r, "Cache-Control", "public, max-age=60");
	header_is(&r, "X-Pc6risk-Release", f.id[1]);
	check_tilejson(&r, base, f.id[1]);
	snprintf(inm, sizeof inm, "If-None-Match: %s", httpc_header(&r, "ETag"));
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/tiles/risk/tiles.json", (const char *[]){inm, NULL}, 304);
	httpc_resp_free(&r);

	/* The URLs it gives answer, immutably. */
	snprintf(path, sizeof path, "/releases/%s/tiles/risk/" TILE ".pbf", f.id[1]);
	t = want(f.c, "GET", path, NULL, 200);
	header_is(&t, "Cache-Control", "public, max-age=31536000, immutable");
	check_pbf(&t, f.id[1]);
	httpc_resp_free(&t);

	snprintf(path, sizeof path, "/releases/%s/tiles/risk/tiles.json", f.id[0]);
	r = want(f.c, "GET", path, (const char *[]){"Host: tiles.example.org", NULL}, 200);
	header_is(&r, "Cache-Control", "public, max-age=31536000, immutable");
	check_tilejson(&r, "http://tiles.example.org", f.id[0]);
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/tiles/risk/tiles.json", (const char *[]){"Host: [::1]:8080", NULL}, 200);
	check_tilejson(&r, "http://[::1]:8080", f.id[1]);
	httpc_resp_free(&r);

	const char *bad_hosts[] = {"Host: evil.org/x", "Host: a b", "Host: evil.org\"", "Host: x@y"};
	for (int i = 0; i < 4; i++) {
		r = want(f.c, "GET", "/tiles/risk/tiles.json", (const char *[]){bad_hosts[i], NULL}, 400);
		httpc_resp_free(&r);
	}
	r = want(f.c, "GET", "/tiles/other/tiles.json", NULL, 404);
	httpc_resp_free(&r);
	fx_end(&f);

	fx_setup(&f, NULL, "https://kaart.example.nl/risk/");
	r = want(f.c, "GET", "/tiles/risk/tiles.json", (const char *[]){"Host: evil.org/x", NULL}, 200);
	check_tilejson(&r, "https://kaart.example.nl/risk", f.id[1]);
	httpc_resp_free(&r);
	fx_end(&f);
}

Test(http, pruned_release)
{
	struct fx f;
	struct httpc_resp r;
	char path[160];

	fx_setup(&f, NULL, NULL);
	make_release(f.out, f.id[2], f.id[1], true);
	point_current(f.out, f.id[2]);
	remove_release(f.out, f.id[0]);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".pbf", NULL, 200);
	header_is(&r, "X-Pc6risk-Release", f.id[2]);
	check_pbf(&r, f.id[2]);
	httpc_resp_free(&r);
	snprintf(path, sizeof path, "/releases/%s/tiles/risk/" TILE ".pbf", f.id[0]);
	r = want(f.c, "GET", path, NULL, 404);
	cr_assert(strstr(r.body, "is not here"), "%s", r.body);
	header_is(&r, "Cache-Control", "no-store");
	httpc_resp_free(&r);
	snprintf(path, sizeof path, "/releases/%s/tiles/risk/tiles.json", f.id[0]);
	r = want(f.c, "GET", path, NULL, 404);
	httpc_resp_free(&r);
	/* The shared tile outlives the release it was first written in. */
	r = want(f.c, "GET", "/tiles/risk/" SHARED_TILE ".geojson", NULL, 200);
	httpc_resp_free(&r);
	fx_end(&f);
}

Test(http, cors)
{
	struct fx f;
	struct httpc_resp r;

	fx_setup(&f, "https://kaart.denhaag.nl", NULL);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".pbf", (const char *[]){"Origin: https://kaart.denhaag.nl", NULL},
		 200);
	header_is(&r, "Access-Control-Allow-Origin", "https://kaart.denhaag.nl");
	header_is(&r, "Access-Control-Expose-Headers", "ETag, X-Pc6risk-Release");
	header_is(&r, "Vary", "Accept-Encoding, Origin");
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/nothing", NULL, 404);
	header_is(&r, "Access-Control-Allow-Origin", "https://kaart.denhaag.nl");
	header_is(&r, "Vary", "Origin");
	httpc_resp_free(&r);
	r = want(f.c, "OPTIONS", "/tiles/risk/" TILE ".pbf",
		 (const char *[]){"Origin: https://kaart.denhaag.nl", "Access-Control-Request-Method: GET", NULL}, 204);
	header_is(&r, "Access-Control-Allow-Origin", "https://kaart.denhaag.nl");
	header_is(&r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
	header_is(&r, "Access-Control-Allow-Headers", "If-None-Match");
	header_is(&r, "Access-Control-Max-Age", "86400");
	httpc_resp_free(&r);
	fx_end(&f);

	fx_setup(&f, "*", NULL);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".geojson", NULL, 200);
	header_is(&r, "Access-Control-Allow-Origin", "*");
	header_is(&r, "Vary", NULL);
	httpc_resp_free(&r);
	fx_end(&f);

	fx_setup(&f, NULL, NULL);
	r = want(f.c, "GET", "/tiles/risk/" TILE ".geojson", NULL, 200);
	header_is(&r, "Access-Control-Allow-Origin", NULL);
	httpc_resp_free(&r);
	r = want(f.c, "OPTIONS", "/tiles/risk/" TILE ".geojson", NULL, 204);
	header_is(&r, "Allow", "GET, HEAD, OPTIONS");
	header_is(&r, "Access-Control-Allow-Methods", NULL);
	httpc_resp_free(&r);
	fx_end(&f);
}

/* The daemon still answers, on a new connection. */
static void still_alive(int port)
{
	struct httpc *c = httpc_connect(port);
	struct httpc_resp r = want(c, "GET", "/healthz", NULL, 200);

	httpc_resp_free(&r);
	httpc_close(c);
}

Test(http, methods_and_bodies)
{
	struct fx f;
	struct httpc_resp r;
	const char *methods[] = {"POST", "PUT", "DELETE", "PATCH", "TRACE"};

	fx_setup(&f, NULL, NULL);
	for (int i = 0; i < 5; i++) {
		r = want(f.c, methods[i], "/tiles/risk/" TILE ".geojson", NULL, 405);
		header_is(&r, "Allow", "GET, HEAD, OPTIONS");
		httpc_resp_free(&r);
	}
	httpc_send_raw(f.c, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 58);
	httpc_read(f.c, false, &r);
	cr_assert_eq(r.status, 413);
	httpc_resp_free(&r);
	httpc_send_raw(f.c, "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		       strlen("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
	httpc_read(f.c, false, &r);
	cr_assert_eq(r.status, 413);
	httpc_resp_free(&r);
	r = want(f.c, "GET", "/healthz", (const char *[]){"Content-Length: 0", NULL}, 200);
	httpc_resp_free(&r);
	still_alive(http_port(f.h));
	fx_end(&f);
}

Test(http, refused_paths)
{
	struct fx f;
	struct httpc_resp r;
	char path[160];
	const char *bad[] = {
		"/tiles/../../etc/passwd", "/tiles/%2e%2e/x", "/tiles/risk/%2e%2e/tiles.json",
		"/tiles/risk/14/8414/5396%2egeojson", "/tiles%2frisk/tiles.json", "//healthz", "/tiles//risk/tiles.json",
		"/tiles/risk/./tiles.json", "/tiles/Risk/tiles.json", "/tiles/-risk/tiles.json",
		"/tiles/risk/14/8414/05396.geojson", "/tiles/risk/014/8414/5396.pbf", "/tiles/risk/-1/0/0.pbf",
		"/tiles/risk/+1/0/0.pbf", "/tiles/risk/31/0/0.pbf", "/tiles/risk/2/4/0.pbf", "/tiles/risk/2/0/4.pbf",
		"/tiles/risk/1/1/1x.pbf", "/tiles/risk/99999999999/0/0.pbf", "/releases/2026-11-23/tiles/risk/tiles.json",
		"/releases/20261123T101500Z-r01/tiles/risk/tiles.json", "/releases/../current/tiles/risk/tiles.json",
		"/neighbourhoods/Centrum.geojson", "/neighbourhoods/a~b.geojson", "/tiles/risk/tiles.json%00",
	};
	const char *missing[] = {"/", "/viewer/", "/nothing", "/tiles/risk", "/tiles/risk/", "/tiles/risk/14/8414/5396.txt",
				 "/tiles/risk/14/8414/5396", "/releases", "/current/tiles/risk/tiles.json",
				 "/neighbourhoods/centrum.json", "/healthz/x"};

	fx_setup(&f, NULL, NULL);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		r = want(f.c, "GET", bad[i], NULL, 400);
		header_is(&r, "X-Pc6risk-Release", NULL);
		httpc_resp_free(&r);
	}
	for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
		r = want(f.c, "GET", missing[i], NULL, 404);
		httpc_resp_free(&r);
	}
	snprintf(path, sizeof path, "/releases/%s", f.id[0]);
	r = want(f.c, "GET", path, NULL, 404);
	httpc_resp_free(&r);

	/* Bytes no client sends: never a 200, and the daemon carries on. */
	const char *raw[] = {
		"GET /tiles/risk\\..\\x HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /tiles/\x01risk/tiles.json HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /tiles/ri sk/tiles.json HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /tiles/\x7f/tiles.json HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /tiles/\xc3\xa9/tiles.json HTTP/1.1\r\nHost: x\r\n\r\n",
		"GARBAGE\r\n\r\n",
		"GET /healthz HTTP/9.9\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
		struct httpc *c = httpc_connect(http_port(f.h));

		httpc_send_raw(c, raw[i], strlen(raw[i]));
		httpc_read(c, false, &r);
		cr_assert(r.status == 0 || (r.status >= 400 && r.status < 500) || r.status == 505, "raw %zu: %d", i,
			  r.status);
		httpc_resp_free(&r);
		httpc_close(c);
	}
	{
		static const char with_nul[] = "GET /tiles/risk\0/../../x HTTP/1.1\r\nHost: x\r\n\r\n";
		struct httpc *c = httpc_connect(http_port(f.h));

		httpc_send_raw(c, with_nul, sizeof with_nul - 1);
		httpc_read(c, false, &r);
		cr_assert(r.status == 0 || (r.status >= 400 && r.status < 500), "NUL: %d", r.status);
		httpc_resp_free(&r);
		httpc_close(c);
	}
	{
		struct sbuf big = {0};
		struct httpc *c = httpc_connect(http_port(f.h));

		sbuf_puts(&big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
		for (int i = 0; i < 100000; i++)
			sbuf_putc(&big, 'a');
		sbuf_puts(&big, "\r\n\r\n");
		httpc_send_raw(c, big.s, big.len);
		httpc_read(c, false, &r);
		cr_assert(r.status == 0 || (r.status >= 400 && r.status < 500), "huge header: %d", r.status);
		httpc_resp_free(&r);
		httpc_close(c);
		sbuf_free(&big);
	}
	still_alive(http_port(f.h));
	fx_end(&f);
}

Test(http, listen_addresses)
{
	struct sockaddr_storage sa;
	socklen_t len;
	struct err e;
	const char *good[] = {"127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080", "[::]:0", "10.1.2.3:65535"};
	const char *bad[] = {"127.0.0.1", "localhost:8080", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:08",
			     "[::1]8080", "::1:8080", "[nope]:80", "1.2.3.4:", ":80", "127.0.0.1:80x"};

	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		cr_assert_eq(http_parse_listen(good[i], &sa, &len, &e), 0, "%s: %s", good[i], e.message);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_assert_eq(http_parse_listen(bad[i], &sa, &len, &e), -1, "%s", bad[i]);
		cr_assert_eq(e.cls, ERR_CONFIG);
		cr_assert(strstr(e.message, bad[i]), "the message names the address: %s", e.message);
	}
	{
		struct http *a = start("/nonexistent", NULL, NULL), *b;
		char listen[32];
		struct http_opts o = {.listen = listen, .out_dir = "/nonexistent"};

		snprintf(listen, sizeof listen, "127.0.0.1:%d", http_port(a));
		b = http_start(&o, &e);
		cr_assert_null(b, "the port is taken");
		cr_assert_eq(e.cls, ERR_SYSTEM);
		http_stop(a);
	}
}

/* ---- load: clients on current while releases are swapped and pruned ---- */

#define LOAD_RELEASES 100
#define LOAD_CLIENTS 6

struct load {
	const char *out;
	int port;
	atomic_int stop;
	atomic_llong requests, ok, not_modified, errors;
	pthread_mutex_t lock;
	char first_error[512];
};

static void load_error(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void load_error(struct load *l, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&l->errors, 1);
	pthread_mutex_lock(&l->lock);
	if (!l->first_error[0]) {
		va_start(ap, fmt);
		vsnprintf(l->first_error, sizeof l->first_error, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&l->lock);
}

static const char *json_str(const cJSON *j)
{
	return cJSON_IsString(j) ? j->valuestring : "";
}

/* Does the body of a 200 name the release its header names? NULL or what is wrong. */
static const char *load_check(const struct httpc_resp *r, int kind, const char *release)
{
	static _Thread_local char why[128];
	cJSON *j;
	bool ok = false;

	if (kind == 0 || kind == 3) {
		char *rel = geojson_release(r->body);

		ok = rel && strcmp(rel, release) == 0;
		free(rel);
		return ok ? NULL : "the GeoJSON names another release";
	}
	if (kind == 1 || kind == 2) {
		const char *ce = httpc_header(r, "Content-Encoding");
		struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
		static _Thread_local unsigned char buf[1 << 16];
		const unsigned char *raw = (const unsigned char *)r->body;
		size_t n = r->body_len;
		struct sbuf want_mvt = {0};
		struct mvtdec_layer l[2];
		int nl;

		if (ce && libdeflate_gzip_decompress(d, r->body, r->body_len, buf, sizeof buf, &n) != LIBDEFLATE_SUCCESS)
			n = 0;
		libdeflate_free_decompressor(d);
		if (ce)
			raw = buf;
		nl = mvtdec(raw, n, l, 2);
		if (nl == 1)
			mvtdec_free(&l[0]);
		make_mvt(&want_mvt, release);
		ok = nl == 1 && n == want_mvt.len && memcmp(raw, want_mvt.s, n) == 0;
		sbuf_free(&want_mvt);
		return ok ? NULL : "the MVT is not that release's";
	}
	j = cJSON_Parse(r->body);
	snprintf(why, sizeof why, "/releases/%s/", release);
	ok = j && strcmp(json_str(cJSON_GetObjectItem(j, "release")), release) == 0 &&
	     strcmp(json_str(cJSON_GetObjectItem(j, "description")), release) == 0 &&
	     strstr(json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tiles"), 0)), why);
	cJSON_Delete(j);
	return ok ? NULL : "tiles.json is not that release's";
}

static void *load_client(void *arg)
{
	struct load *l = arg;
	struct httpc *c = httpc_connect(l->port);
	static const char *const paths[] = {"/tiles/risk/" TILE ".geojson", "/tiles/risk/" TILE ".pbf",
					    "/tiles/risk/" TILE ".pbf", "/neighbourhoods/centrum.geojson",
					    "/tiles/risk/tiles.json"};
	char etag[5][64] = {{0}}, inm[96];
	unsigned i = 0;

	if (!c) {
		load_error(l, "cannot connect");
		return NULL;
	}
	while (!atomic_load(&l->stop)) {
		int kind = (int)(i % 5);
		bool conditional = i % 7 == 0 && etag[kind][0];
		const char *extra[3] = {NULL, NULL, NULL};
		struct httpc_resp r;
		const char *rel, *why;
		size_t k = 0;

		if (kind == 1)
			extra[k++] = "Accept-Encoding: gzip";
		if (conditional) {
			snprintf(inm, sizeof inm, "If-None-Match: %s", etag[kind]);
			extra[k++] = inm;
		}
		i++;
		atomic_fetch_add(&l->requests, 1);
		if (httpc_request(c, "GET", paths[kind], extra, &r) < 0) {
			load_error(l, "GET %s: no answer", paths[kind]);
			httpc_resp_free(&r);
			continue;
		}
		rel = httpc_header(&r, "X-Pc6risk-Release");
		if (r.status == 304 && rel) {
			atomic_fetch_add(&l->not_modified, 1);
		} else if (r.status != 200 || !rel) {
			load_error(l, "GET %s: %d %s", paths[kind], r.status, r.body);
		} else if ((why = load_check(&r, kind, rel)) != NULL) {
			load_error(l, "GET %s (release %s): %s", paths[kind], rel, why);
		} else {
			atomic_fetch_add(&l->ok, 1);
			if (httpc_header(&r, "ETag"))
				snprintf(etag[kind], sizeof etag[kind], "%s", httpc_header(&r, "ETag"));
		}
		httpc_resp_free(&r);
	}
	httpc_close(c);
	return NULL;
}

Test(http, load_while_releases_swap, .timeout = 120)
{
	char *out = t_tmpdir();
	char id[LOAD_RELEASES + 1][48];
	struct load l = {.out = out};
	pthread_t th[LOAD_CLIENTS];
	struct http_opts o = {.listen = "127.0.0.1:0", .out_dir = out, .threads = 4};
	struct http *h;
	struct err e;
	struct timespec t0, t1;
	double secs;

	pthread_mutex_init(&l.lock, NULL);
	for (int k = 1; k <= LOAD_RELEASES; k++)
		release_id(id[k], sizeof id[k], k);
	make_release(out, id[1], NULL, false);
	point_current(out, id[1]);
	h = http_start(&o, &e);
	cr_assert(h != NULL, "%s", e.message);
	l.port = http_port(h);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < LOAD_CLIENTS; i++)
		cr_assert(pthread_create(&th[i], NULL, load_client, &l) == 0);
	/* The swapper, as publish does it: the new release in place, current
	 * swapped, all but the newest two removed; in the second half all but
	 * the newest one (publish.keep = 1), so that requests which resolved
	 * current just before a swap find their release gone. */
	for (int k = 2; k <= LOAD_RELEASES; k++) {
		int keep = k <= LOAD_RELEASES / 2 ? 2 : 1;

		make_release(out, id[k], NULL, false);
		point_current(out, id[k]);
		if (k - keep >= 1)
			remove_release(out, id[k - keep]);
		t_sleep_ms(keep == 2 ? 120 : 40);
	}
	atomic_store(&l.stop, 1);
	for (int i = 0; i < LOAD_CLIENTS; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_log_info("http load: %lld requests in %.1f s = %.0f requests/s (%lld 200, %lld 304) with %d clients over %d "
		    "releases",
		    (long long)l.requests, secs, (double)l.requests / secs, (long long)l.ok, (long long)l.not_modified,
		    LOAD_CLIENTS, LOAD_RELEASES);
	cr_assert_eq(l.errors, 0, "%lld errors, the first: %s", (long long)l.errors, l.first_error);
	cr_assert_gt(l.ok, 1000);
	http_stop(h);
	pthread_mutex_destroy(&l.lock);
	t_rmtree(out);
	free(out);
}
