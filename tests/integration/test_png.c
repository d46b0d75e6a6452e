/*
 * The PNG maps of a release (src/pngpub.c, src/pngmap.c) on the Den Haag
 * demo: refresh --png, publish with publish.png and publish --png; one map per
 * scenario in the right size, the classes and colours of the scenario's
 * buurten.<s>.qml on the map and in the legend, and the same bytes twice.
 */
#define _GNU_SOURCE /* memmem */
#include <cairo.h>
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pc6risk/config.h"
#include "pc6risk/pngmap.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"
#include "support.h"

struct fixture {
	char *schema, *dir, *out, *config, *config_png;
	struct config *cfg;
};

/* The demo config with absolute inputs, publishing into f->out without
 * tiles; with publish.png when png is given. */
static char *write_config(const struct fixture *f, const char *name, const char *png)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	cJSON *root = t_demo_config(), *publish;

	publish = cJSON_GetObjectItemCaseSensitive(root, "publish");
	cJSON_DeleteItemFromObject(publish, "dir");
	cJSON_AddStringToObject(publish, "dir", f->out);
	cJSON_DeleteItemFromObject(publish, "tiles");
	cJSON_AddItemToObject(publish, "tiles", cJSON_Parse("{\"enabled\": false}"));
	cJSON_DeleteItemFromObject(publish, "png");
	if (png)
		cJSON_AddItemToObject(publish, "png", cJSON_Parse(png));
	t_write_json(path, root);
	return path;
}

static void start(struct fixture *f)
{
	struct err e;

	f->schema = t_schema("t_png");
	f->dir = t_tmpdir();
	f->out = xasprintf("%s/out", f->dir);
	f->config = write_config(f, "plain.json", NULL);
	f->config_png = write_config(f, "png.json", "{\"width\": 1000, \"height\": 800}");
	f->cfg = config_load(f->config_png, &e);
	cr_assert_not_null(f->cfg, "%s", e.message);
	cr_assert(f->cfg->png.enabled && f->cfg->png.width == 1000);
	t_init(f->config, f->schema);
}

static void end(struct fixture *f)
{
	config_free(f->cfg);
	t_drop_schema(f->schema);
	t_rmtree(f->dir);
	free(f->schema);
	free(f->dir);
	free(f->out);
	free(f->config);
	free(f->config_png);
}

static void run_ok(const char *const *args)
{
	struct t_run r = t_pc6risk(args);

	cr_assert_eq(r.status, 0, "%s %s: %s", args[0], args[1], r.err);
	t_run_free(&r);
}

/* <out>/current/rel (to free). */
static char *current(const struct fixture *f, const char *rel)
{
	return xasprintf("%s/current/%s", f->out, rel);
}

/* The fill colours of a QML's symbols as 0xRRGGBB, symbol 0 (the grey) first. */
static size_t qml_colours(const char *qml, uint32_t *out, size_t max)
{
	static const char key[] = "name=\"color\" value=\"";
	size_t n = 0;

	for (const char *p = strstr(qml, key); p && n < max; p = strstr(p + 1, key)) {
		unsigned r, g, b;

		cr_assert_eq(sscanf(p + strlen(key), "%u,%u,%u", &r, &g, &b), 3);
		out[n++] = r << 16 | g << 8 | b;
	}
	return n;
}

static uint32_t pixel(cairo_surface_t *sf, int x, int y)
{
	const unsigned char *d = cairo_image_surface_get_data(sf);

	return *(const uint32_t *)(const void *)(d + (size_t)y * (size_t)cairo_image_surface_get_stride(sf) +
						 4 * (size_t)x) &
	       0xffffff;
}

static long count_in(cairo_surface_t *sf, const struct pngmap_box *b, uint32_t c)
{
	long n = 0;

	for (int y = (int)b->y; y < (int)(b->y + b->h); y++)
		for (int x = (int)b->x; x < (int)(b->x + b->w); x++)
			n += pixel(sf, x, y) == c;
	return n;
}

/* Check every scenario's map in the current release: its size, each class
 * colour of buurten.<s>.qml on the map and in the legend, the text chunks. */
static void check_maps(const struct fixture *f, int width, int height)
{
	for (size_t i = 0; i < f->cfg->nscenarios; i++) {
		const struct config_scenario *s = &f->cfg->scenarios[i];
		char *rel = xasprintf("png/%s.png", s->name), *path = current(f, rel);
		char *qrel = xasprintf("buurten.%s.qml", s->name), *qpath = current(f, qrel);
		char *qml = t_slurp(qpath, NULL), *bytes;
		uint32_t colours[64];
		size_t n, len, found = 0;
		struct pngmap_box map, panel;
		cairo_surface_t *sf;

		cr_assert_not_null(qml, "no %s", qrel);
		n = qml_colours(qml, colours, 64);
		cr_assert_geq(n, 3, "%s: %zu colours", qrel, n);
		sf = cairo_image_surface_create_from_png(path);
		cr_assert_eq(cairo_surface_status(sf), CAIRO_STATUS_SUCCESS, "%s: %s", rel,
			     cairo_status_to_string(cairo_surface_status(sf)));
		cr_assert_eq(cairo_image_surface_get_width(sf), width, "%s", rel);
		cr_assert_eq(cairo_image_surface_get_height(sf), height, "%s", rel);
		pngmap_frame(width, height, &map, &panel);
		for (size_t c = 1; c < n; c++) {
			long on_map = count_in(sf, &map, colours[c]);

			/* every class holds at least one buurt (its breaks are values of the data) */
			cr_assert_gt(on_map, 0, "%s: class %zu (#%06x) is not on the map", rel, c, colours[c]);
			found += on_map > 0;
			cr_assert_gt(count_in(sf, &panel, colours[c]), 100, "%s: class %zu (#%06x) is not in the legend", rel,
				     c, colours[c]);
		}
		cr_assert_geq(found, n - 1, "%s: %zu class colours on the map, %zu in the legend", rel, found, n - 1);
		cr_assert_gt(count_in(sf, &panel, colours[0]), 100, "%s: no grey swatch in the legend", rel);
		cairo_surface_destroy(sf);

		/* the demo's attribution says SYNTHETIC: so does the PNG */
		bytes = t_slurp(path, &len);
		cr_assert_not_null(memmem(bytes, len, "tEXtComment\0synthetic data", 26), "%s", rel);
		cr_assert_not_null(memmem(bytes, len, s->title, strlen(s->title)), "%s: no title", rel);
		free(bytes);
		free(qml);
		free(qpath);
		free(qrel);
		free(path);
		free(rel);
	}
}

/* The maps of the current release, one after the other. */
static struct sbuf snapshot(const struct fixture *f)
{
	struct sbuf b = {0};

	for (size_t i = 0; i < f->cfg->nscenarios; i++) {
		char *rel = xasprintf("png/%s.png", f->cfg->scenarios[i].name), *path = current(f, rel), *data;
		size_t len;

		data = t_slurp(path, &len);
		cr_assert_not_null(data, "no %s", rel);
		sbuf_append(&b, data, len);
		free(data);
		free(path);
		free(rel);
	}
	return b;
}

Test(png, refresh_and_publish_write_a_map_per_scenario, .timeout = 300)
{
	struct fixture f;
	struct sbuf first, again;
	char *png_dir;

	start(&f);
	/* no publish.png and no --png: no maps */
	run_ok((const char *[]){"refresh", "-c", f.config, "--schema", f.schema, "--draws", "20", NULL});
	png_dir = current(&f, "png");
	cr_assert_neq(access(png_dir, F_OK), 0, "a png/ folder without --png or publish.png");

	/* refresh --png runs again on unchanged inputs, in the default size */
	run_ok((const char *[]){"refresh", "-c", f.config, "--schema", f.schema, "--draws", "20", "--png", NULL});
	check_maps(&f, PNGMAP_WIDTH, PNGMAP_HEIGHT);
	first = snapshot(&f);

	/* publish --png: the same data, the same bytes */
	t_sleep_ms(1100); /* release ids are per second */
	run_ok((const char *[]){"publish", "-c", f.config, "--schema", f.schema, "--png", NULL});
	again = snapshot(&f);
	cr_assert(first.len == again.len && memcmp(first.s, again.s, first.len) == 0,
		  "the maps differ between two publishes of the same data");

	/* publish.png in the config: every publish, in its size */
	t_sleep_ms(1100);
	run_ok((const char *[]){"publish", "-c", f.config_png, "--schema", f.schema, NULL});
	check_maps(&f, 1000, 800);

	sbuf_free(&first);
	sbuf_free(&again);
	free(png_dir);
	end(&f);
}
