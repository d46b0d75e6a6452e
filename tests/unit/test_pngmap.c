/*
 * The PNG map (src/pngmap.c): a small map of squares in metres, decoded again
 * with cairo, and what a reader of the image must find in it.
 */
#define _GNU_SOURCE /* memmem */
#include <cairo.h>
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/pngmap.h"
#include "pc6risk/style.h"

#define W 800
#define H 600

/* A 3 x 2 grid of 1 km squares near Den Haag (RD New), classes 0..4 and one
 * not published; square 0 has a hole. */
static void grid(struct pngmap_shapes *m, const int *cls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double x = 78000 + 1000.0 * (double)(i % 3), y = 454000 + 1000.0 * (double)(i / 3);
		double sq[] = {x, y, x + 1000, y, x + 1000, y + 1000, x, y + 1000, x, y};

		pngmap_feature(m, cls[i]);
		pngmap_ring(m, sq, 5);
		if (i == 0) {
			double hole[] = {x + 400, y + 400, x + 600, y + 400, x + 600, y + 600, x + 400, y + 600};

			pngmap_ring(m, hole, 4);
		}
	}
}

struct image {
	cairo_surface_t *sf;
	const unsigned char *data;
	int w, h, stride;
};

struct reader {
	const unsigned char *p;
	size_t left;
};

static cairo_status_t read_mem(void *closure, unsigned char *data, unsigned int length)
{
	struct reader *r = closure;

	if (length > r->left)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, r->p, length);
	r->p += length;
	r->left -= length;
	return CAIRO_STATUS_SUCCESS;
}

static struct image decode(const struct sbuf *png)
{
	struct reader r = {(const unsigned char *)png->s, png->len};
	struct image im;

	im.sf = cairo_image_surface_create_from_png_stream(read_mem, &r);
	cr_assert_eq(cairo_surface_status(im.sf), CAIRO_STATUS_SUCCESS, "cairo cannot read the PNG: %s",
		     cairo_status_to_string(cairo_surface_status(im.sf)));
	im.data = cairo_image_surface_get_data(im.sf);
	im.w = cairo_image_surface_get_width(im.sf);
	im.h = cairo_image_surface_get_height(im.sf);
	im.stride = cairo_image_surface_get_stride(im.sf);
	return im;
}

static uint32_t pixel(const struct image *im, int x, int y)
{
	return *(const uint32_t *)(const void *)(im->data + (size_t)y * (size_t)im->stride + 4 * (size_t)x) & 0xffffff;
}

static uint32_t rgb(const unsigned char c[3])
{
	return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
}

static bool inside(const struct pngmap_box *b, int x, int y)
{
	return x >= b->x && x < b->x + b->w && y >= b->y && y < b->y + b->h;
}

/* Pixels of exactly colour c inside box b. */
static long count(const struct image *im, const struct pngmap_box *b, uint32_t c)
{
	long n = 0;

	for (int y = (int)b->y; y < (int)(b->y + b->h); y++)
		for (int x = (int)b->x; x < (int)(b->x + b->w); x++)
			n += pixel(im, x, y) == c;
	return n;
}

static struct pngmap_opts opts(const struct style *s, bool synthetic)
{
	return (struct pngmap_opts){
		.width = W,
		.height = H,
		.style = s,
		.title = "Bijstandsuitkeringen per 100 huishoudens, per buurt",
		.subtitle = "quantiles of the published scores",
		.legend_title = "Score",
		.legend_note = "darker = more risk",
		.date = "Data loaded 2024-05-01",
		.attribution = "Bron: CBS, Kadaster",
		.synthetic = synthetic,
	};
}

static const int classes6[6] = {0, 1, 2, 3, 4, -1};

Test(pngmap, size_classes_legend_and_grey)
{
	struct pngmap_shapes m = {0};
	struct style s;
	struct pngmap_opts o;
	struct pngmap_layout l;
	struct sbuf png = {0};
	struct err e;
	struct image im;
	struct pngmap_box frame, panel;

	style_bands(&s, "x_band", "x", 5);
	grid(&m, classes6, 6);
	o = opts(&s, false);
	cr_assert_eq(pngmap_render(&m, &o, &png, &l, &e), 0, "%s", e.message);
	im = decode(&png);
	cr_assert_eq(im.w, W);
	cr_assert_eq(im.h, H);

	/* the frame is what pngmap_frame says, and the legend lies in the panel, beside the map */
	pngmap_frame(W, H, &frame, &panel);
	cr_assert(frame.x == l.map.x && frame.y == l.map.y && frame.w == l.map.w && frame.h == l.map.h);
	cr_assert(l.legend.x >= l.map.x + l.map.w && l.legend.x + l.legend.w <= W);
	cr_assert_eq(l.nswatches, s.nclasses + 1);

	for (size_t i = 0; i <= s.nclasses; i++) {
		uint32_t c = rgb(i < s.nclasses ? s.classes[i].rgb : s.null_rgb);
		const struct pngmap_box *sw = &l.swatch[i];

		/* a 1 km square is ~100 pixels a side here: most of it is its colour */
		cr_assert_gt(count(&im, &l.map, c), 2000, "class %zu (#%06x) is not drawn in the map", i, c);
		cr_assert(inside(&l.legend, (int)sw->x, (int)sw->y), "swatch %zu is outside the legend box", i);
		cr_assert_eq(pixel(&im, (int)(sw->x + sw->w / 2), (int)(sw->y + sw->h / 2)), c,
			     "swatch %zu is #%06x, not #%06x", i, pixel(&im, (int)(sw->x + sw->w / 2), (int)(sw->y + sw->h / 2)),
			     c);
	}
	/* the hole in square 0 shows the paper */
	cr_assert_eq(count(&im, &l.map, 0xffffff) > 0, 1);
	/* a scale bar of a round length, shorter than the panel */
	cr_assert_gt(l.scale_m, 0);
	cr_assert_lt(l.scale_m / l.m_per_px, l.panel.w);

	cairo_surface_destroy(im.sf);
	sbuf_free(&png);
	pngmap_shapes_free(&m);
	style_free(&s);
}

Test(pngmap, every_quantile_class_of_a_real_style)
{
	double values[] = {1.2, 5.5, 7.1, 9.9, 12.0, 15.3, 18.0, 22.4, 30.1, 41.0};
	struct pngmap_shapes m = {0};
	int cls[10];
	struct style s;
	struct pngmap_opts o;
	struct pngmap_layout l;
	struct sbuf png = {0};
	struct err e;
	struct image im;

	style_quantiles(&s, "x_score", "x", values, 10, STYLE_QUANTILES);
	cr_assert_eq(s.nclasses, 5);
	for (size_t i = 0; i < 10; i++) {
		cls[i] = style_class_of(&s, values[i]);
		cr_assert_geq(cls[i], 0);
	}
	grid(&m, cls, 10);
	o = opts(&s, false);
	cr_assert_eq(pngmap_render(&m, &o, &png, &l, &e), 0, "%s", e.message);
	im = decode(&png);
	for (size_t i = 0; i < s.nclasses; i++)
		cr_assert_gt(count(&im, &l.map, rgb(s.classes[i].rgb)), 500, "class %zu is not drawn", i);
	cairo_surface_destroy(im.sf);
	sbuf_free(&png);
	pngmap_shapes_free(&m);
	style_free(&s);
}

Test(pngmap, watermark_only_when_synthetic_and_only_on_the_map)
{
	struct pngmap_shapes m = {0};
	struct style s;
	struct pngmap_opts o;
	struct pngmap_layout l;
	struct sbuf a = {0}, b = {0}, c = {0};
	struct err e;
	struct image ia, ib, ic;
	long changed = 0, outside = 0;

	style_bands(&s, "x_band", "x", 5);
	grid(&m, classes6, 6);
	o = opts(&s, false);
	cr_assert_eq(pngmap_render(&m, &o, &a, &l, &e), 0, "%s", e.message);
	cr_assert_eq(pngmap_render(&m, &o, &b, NULL, &e), 0, "%s", e.message);
	o.synthetic = true;
	cr_assert_eq(pngmap_render(&m, &o, &c, NULL, &e), 0, "%s", e.message);
	ia = decode(&a);
	ib = decode(&b);
	ic = decode(&c);
	for (int y = 0; y < H; y++) {
		for (int x = 0; x < W; x++) {
			cr_assert_eq(pixel(&ia, x, y), pixel(&ib, x, y), "two plain maps differ at %d,%d", x, y);
			if (pixel(&ia, x, y) != pixel(&ic, x, y)) {
				if (inside(&l.map, x, y))
					changed++;
				else
					outside++;
			}
		}
	}
	cr_assert_gt(changed, (long)(l.map.w * l.map.h / 50), "the watermark changed only %ld pixels", changed);
	cr_assert_eq(outside, 0, "the watermark reached %ld pixels outside the map", outside);
	cr_assert_not_null(memmem(c.s, c.len, "tEXtComment\0synthetic data", 26));
	cr_assert_null(memmem(a.s, a.len, "synthetic data", 14));
	cairo_surface_destroy(ia.sf);
	cairo_surface_destroy(ib.sf);
	cairo_surface_destroy(ic.sf);
	sbuf_free(&a);
	sbuf_free(&b);
	sbuf_free(&c);
	pngmap_shapes_free(&m);
	style_free(&s);
}

Test(pngmap, same_input_same_bytes_and_text_chunks)
{
	struct pngmap_shapes m = {0};
	struct style s;
	struct pngmap_opts o;
	struct sbuf a = {0}, b = {0};
	struct err e;

	style_bands(&s, "x_band", "x", 5);
	grid(&m, classes6, 6);
	o = opts(&s, true);
	o.attribution = "Bron: CBS \xc2\xb7 Kadaster";
	cr_assert_eq(pngmap_render(&m, &o, &a, NULL, &e), 0, "%s", e.message);
	cr_assert_eq(pngmap_render(&m, &o, &b, NULL, &e), 0, "%s", e.message);
	cr_assert_eq(a.len, b.len);
	cr_assert_eq(memcmp(a.s, b.s, a.len), 0, "two renders of the same map differ");
	cr_assert_eq(memcmp(a.s, "\x89PNG\r\n\x1a\n", 8), 0);
	cr_assert_not_null(memmem(a.s, a.len, "tEXtTitle\0Bijstandsuitkeringen", 30));
	/* not Latin-1: iTXt, UTF-8 */
	cr_assert_not_null(memmem(a.s, a.len, "iTXtSource\0\0\0\0\0Bron: CBS \xc2\xb7", 25));
	sbuf_free(&a);
	sbuf_free(&b);
	pngmap_shapes_free(&m);
	style_free(&s);
}

Test(pngmap, long_texts_stay_inside_the_page)
{
	static const char *long_title =
		"Kansarmoede: drie van zes domeinen boven het 80e percentiel, met een heel lange titel die niet past, "
		"per buurt";
	struct pngmap_shapes m = {0};
	struct style s;
	struct pngmap_opts o;
	struct pngmap_layout l;
	struct sbuf png = {0}, attr = {0};
	struct err e;
	struct image im;

	for (int i = 0; i < 40; i++)
		sbuf_puts(&attr, "Bron: CBS, Kadaster (Wijk- en buurtkaart 2015), CC BY 4.0; ");
	style_bands(&s, "x_band", "x", 5);
	snprintf(s.classes[4].label, sizeof s.classes[4].label, "band 5 (most risk) with a label far too long for the legend");
	grid(&m, classes6, 6);
	o = opts(&s, true);
	o.title = long_title;
	o.attribution = attr.s;
	cr_assert_eq(pngmap_render(&m, &o, &png, &l, &e), 0, "%s", e.message);
	im = decode(&png);
	/* nothing in the outer 10 pixels: no text runs off the page */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			if (x < 10 || x >= W - 10 || y < 10 || y >= H - 10)
				cr_assert_eq(pixel(&im, x, y), 0xffffff, "ink at %d,%d", x, y);
	cairo_surface_destroy(im.sf);
	sbuf_free(&png);
	sbuf_free(&attr);
	pngmap_shapes_free(&m);
	style_free(&s);
}

struct wkbw {
	unsigned char *b;
	size_t n;
	bool big;
};

static void w_u32(struct wkbw *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->b[w->n++] = (unsigned char)(w->big ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void w_pt(struct wkbw *w, double x, double y)
{
	double d[2] = {x, y};

	for (int k = 0; k < 2; k++) {
		uint64_t u;

		memcpy(&u, &d[k], 8);
		for (int i = 0; i < 8; i++)
			w->b[w->n++] = (unsigned char)(w->big ? u >> (56 - 8 * i) : u >> (8 * i));
	}
}

/* WKB of a MultiPolygon of two squares, the first with a hole. */
static size_t put_wkb(unsigned char *b, bool big)
{
	struct wkbw w = {b, 0, big};

	w.b[w.n++] = !big;
	w_u32(&w, 6);
	w_u32(&w, 2);
	for (int p = 0; p < 2; p++) {
		int rings = p == 0 ? 2 : 1;

		w.b[w.n++] = !big;
		w_u32(&w, 3);
		w_u32(&w, (uint32_t)rings);
		for (int r = 0; r < rings; r++) {
			double x0 = 1000.0 * p + (r ? 300 : 0), x1 = 1000.0 * p + (r ? 600 : 900);
			double y0 = r ? 300 : 0, y1 = r ? 600 : 900;

			w_u32(&w, 5);
			w_pt(&w, x0, y0);
			w_pt(&w, x1, y0);
			w_pt(&w, x1, y1);
			w_pt(&w, x0, y1);
			w_pt(&w, x0, y0);
		}
	}
	return w.n;
}

Test(pngmap, wkb_multipolygons_either_byte_order)
{
	unsigned char wkb[1024];
	struct pngmap_shapes m = {0};

	for (int big = 0; big < 2; big++) {
		size_t n = put_wkb(wkb, big);

		cr_assert_eq(pngmap_wkb(&m, 2, wkb, n), 0);
	}
	cr_assert_eq(m.nfeat, 2);
	cr_assert_eq(m.nring, 6);
	cr_assert_eq(m.npts, 30);
	cr_assert_eq(m.cls[1], 2);
	cr_assert_eq(m.feat_first[1], 3);
	cr_assert_eq(m.xy[2 * m.ring_first[1]], 300.0);
	cr_assert_eq(m.xy[2 * m.ring_first[4] + 1], 300.0);
	/* cut short, or not a polygon: -1 and nothing added */
	cr_assert_eq(pngmap_wkb(&m, 0, wkb, put_wkb(wkb, false) - 3), -1);
	wkb[1] = 2; /* LineString */
	cr_assert_eq(pngmap_wkb(&m, 0, wkb, 200), -1);
	cr_assert_eq(m.nfeat, 2);
	cr_assert_eq(m.nring, 6);
	cr_assert_eq(m.npts, 30);
	cr_assert_eq(m.feat_first[2], 6);
	pngmap_shapes_free(&m);
}

Test(pngmap, bad_sizes_are_errors)
{
	struct pngmap_shapes m = {0};
	struct style s;
	struct pngmap_opts o;
	struct sbuf png = {0};
	struct err e;

	style_bands(&s, "x_band", "x", 5);
	o = opts(&s, false);
	o.width = 399;
	cr_assert_eq(pngmap_render(&m, &o, &png, NULL, &e), -1);
	cr_assert_not_null(strstr(e.message, "400 to 8000"), "%s", e.message);
	/* no areas at all: still a page, without a scale bar */
	o.width = 400;
	cr_assert_eq(pngmap_render(&m, &o, &png, NULL, &e), 0, "%s", e.message);
	sbuf_free(&png);
	style_free(&s);
}
