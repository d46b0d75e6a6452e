#include "pc6risk/pngmap.h"
#include "pc6risk/wkb.h"
#include "pc6risk/fsx.h"
#include "pc6risk/xalloc.h"

#include <cairo.h>
#include <errno.h>
#include <libdeflate.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FONT "DejaVu Sans"

/* Lines of text at most, per block. */
#define MAX_LINES 3

/* Greys of the page. */
static const double ink[3] = {0.10, 0.10, 0.10}, soft_ink[3] = {0.25, 0.25, 0.25}, frame_grey[3] = {0.78, 0.78, 0.78};
/* The areas' outline: the QML's grey (style.c), a little lighter for print. */
static const double outline[3] = {100 / 255.0, 100 / 255.0, 100 / 255.0};

/* --- shapes --- */

void pngmap_feature(struct pngmap_shapes *m, int cls)
{
	if (m->nfeat + 2 > m->cap_feat) {
		m->cap_feat = m->cap_feat ? 2 * m->cap_feat : 256;
		m->cls = xrealloc(m->cls, m->cap_feat * sizeof *m->cls);
		m->feat_first = xrealloc(m->feat_first, m->cap_feat * sizeof *m->feat_first);
	}
	if (!m->ring_first) {
		m->cap_ring = 1024;
		m->ring_first = xcalloc(m->cap_ring, sizeof *m->ring_first);
	}
	if (m->nfeat == 0)
		m->feat_first[0] = 0;
	m->cls[m->nfeat] = cls;
	m->nfeat++;
	m->feat_first[m->nfeat] = m->nring;
}

void pngmap_ring(struct pngmap_shapes *m, const double *xy, size_t n)
{
	if (m->nfeat == 0)
		pngmap_feature(m, -1);
	if (m->npts + n > m->cap_pts) {
		while (m->npts + n > m->cap_pts)
			m->cap_pts = m->cap_pts ? 2 * m->cap_pts : 4096;
		m->xy = xrealloc(m->xy, 2 * m->cap_pts * sizeof *m->xy);
	}
	if (m->nring + 2 > m->cap_ring) {
		m->cap_ring *= 2;
		m->ring_first = xrealloc(m->ring_first, m->cap_ring * sizeof *m->ring_first);
	}
	memcpy(m->xy + 2 * m->npts, xy, 2 * n * sizeof *xy);
	m->ring_first[m->nring] = m->npts;
	m->npts += n;
	m->nring++;
	m->ring_first[m->nring] = m->npts;
	m->feat_first[m->nfeat] = m->nring;
}

void pngmap_shapes_free(struct pngmap_shapes *m)
{
	if (!m)
		return;
	free(m->cls);
	free(m->feat_first);
	free(m->ring_first);
	free(m->xy);
	memset(m, 0, sizeof *m);
}

/* A ring of a map area; rings of fewer than 3 points draw nothing. */
static int wkb_ring(void *arg, const double *xy, uint32_t n)
{
	if (n >= 3)
		pngmap_ring(arg, xy, n);
	return 0;
}

int pngmap_wkb(struct pngmap_shapes *m, int cls, const unsigned char *wkb, size_t len)
{
	size_t nfeat = m->nfeat, nring = m->nring, npts = m->npts;
	int rc;

	pngmap_feature(m, cls);
	rc = wkb_rings(wkb, len, wkb_ring, m);
	if (rc < 0) {
		m->nfeat = nfeat;
		m->nring = nring;
		m->npts = npts;
		if (m->nfeat)
			m->feat_first[m->nfeat] = m->nring;
		if (m->nring)
			m->ring_first[m->nring] = m->npts;
	}
	return rc;
}

/* --- layout --- */

/* The drawing unit: 1 on the default 1600 x 1200 canvas. */
static double unit(int width, int height)
{
	double k = fmin(width / (double)PNGMAP_WIDTH, height / (double)PNGMAP_HEIGHT);

	return fmax(k, 0.3);
}

/* Heights of the fixed blocks, in units. */
#define MARGIN 32.0
#define TITLE_H 50.0    /* one line at 36, or two at 22 */
#define SUBTITLE_H 26.0
#define HEADER_GAP 14.0
#define FOOTER_SIZE 15.0
#define FOOTER_LEAD 1.4
#define PANEL_W 330.0
#define PANEL_GAP 24.0

void pngmap_frame(int width, int height, struct pngmap_box *map, struct pngmap_box *panel)
{
	double k = unit(width, height), m = MARGIN * k;
	double top = m + (TITLE_H + 6 + SUBTITLE_H + HEADER_GAP) * k;
	double bottom = height - m - MAX_LINES * FOOTER_SIZE * FOOTER_LEAD * k - 12 * k;
	double pw = round(PANEL_W * k);

	top = round(top);
	bottom = round(bottom);
	panel->x = width - round(m) - pw;
	panel->w = pw;
	panel->y = top;
	panel->h = bottom - top;
	map->x = round(m);
	map->y = top;
	map->w = panel->x - round(PANEL_GAP * k) - map->x;
	map->h = bottom - top;
}

/* --- text --- */

static void set_font(cairo_t *cr, double size, bool bold)
{
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s)
{
	cairo_text_extents_t te;

	cairo_text_extents(cr, s, &te);
	return te.x_advance;
}

struct lines {
	char *line[MAX_LINES];
	size_t start[MAX_LINES]; /* where each line starts in the text */
	size_t n;
	double size;
};

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->line[i]);
	l->n = 0;
}

/* Break text into lines no wider than w at the current font, greedily at
 * spaces. Returns how many lines it needs; keeps the first max. */
static size_t wrap(cairo_t *cr, const char *text, double w, struct lines *out, size_t max)
{
	struct sbuf cur = {0}, trial = {0};
	size_t needed = 0, first = 0;
	const char *p = text;

	out->n = 0;
	while (*p) {
		const char *q;
		size_t n;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (q = p; *q && *q != ' '; q++)
			;
		n = (size_t)(q - p);
		sbuf_reset(&trial);
		if (cur.len)
			sbuf_printf(&trial, "%s ", cur.s);
		sbuf_append(&trial, p, n);
		if (cur.len && text_width(cr, trial.s) > w) {
			if (out->n < max) {
				out->start[out->n] = first;
				out->line[out->n++] = xstrdup(cur.s);
			}
			needed++;
			sbuf_reset(&cur);
			sbuf_append(&cur, p, n);
			first = (size_t)(p - text);
		} else {
			if (!cur.len)
				first = (size_t)(p - text);
			sbuf_reset(&cur);
			sbuf_append(&cur, trial.s, trial.len);
		}
		p = q;
	}
	if (cur.len) {
		if (out->n < max) {
			out->start[out->n] = first;
			out->line[out->n++] = xstrdup(cur.s);
		}
		needed++;
	}
	sbuf_free(&cur);
	sbuf_free(&trial);
	return needed;
}

/* Cut s (UTF-8) until s and an ellipsis are no wider than w. */
static void ellipsize(cairo_t *cr, char **s, double w)
{
	struct sbuf b = {0};
	size_t n = strlen(*s);

	for (;;) {
		sbuf_reset(&b);
		sbuf_append(&b, *s, n);
		sbuf_puts(&b, "\xe2\x80\xa6");
		if (n == 0 || text_width(cr, b.s) <= w)
			break;
		do
			n--;
		while (n > 0 && ((unsigned char)(*s)[n] & 0xc0) == 0x80);
		while (n > 0 && (*s)[n - 1] == ' ')
			n--;
	}
	free(*s);
	*s = sbuf_take(&b);
}

/* Lay text out in at most max lines of width w: the largest size from size
 * down to min_size that fits, else min_size with the last line holding the
 * rest of the text, cut short with an ellipsis. */
static void fit(cairo_t *cr, const char *text, double w, double size, double min_size, bool bold, size_t max,
		struct lines *out)
{
	for (double s = size;; s = fmax(min_size, s * 0.94)) {
		size_t needed;
		bool wide = false;

		set_font(cr, s, bold);
		out->size = s;
		needed = wrap(cr, text, w, out, max);
		for (size_t i = 0; i < out->n; i++)
			wide = wide || text_width(cr, out->line[i]) > w;
		if (needed <= max && !wide)
			return;
		if (s <= min_size) {
			if (needed > max) {
				free(out->line[max - 1]);
				out->line[max - 1] = xstrdup(text + out->start[max - 1]);
			}
			for (size_t i = 0; i < out->n; i++)
				if (text_width(cr, out->line[i]) > w)
					ellipsize(cr, &out->line[i], w);
			return;
		}
		lines_free(out);
	}
}

/* Draw lines from top y (the top of the first line's em box), left-aligned at
 * x; returns the y below the last line. */
static double draw_lines(cairo_t *cr, const struct lines *l, double x, double y, double lead, const double rgb[3])
{
	cairo_font_extents_t fe;

	cairo_font_extents(cr, &fe);
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	for (size_t i = 0; i < l->n; i++) {
		cairo_move_to(cr, x, y + fe.ascent + i * l->size * lead);
		cairo_show_text(cr, l->line[i]);
	}
	return y + l->n * l->size * lead;
}

/* --- drawing --- */

static void fill_rgb(cairo_t *cr, const unsigned char rgb[3])
{
	cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

/* A 1-unit line around a box, on the pixel grid. */
static void box_line(cairo_t *cr, const struct pngmap_box *b, double width, const double rgb[3])
{
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	cairo_set_line_width(cr, width);
	cairo_rectangle(cr, b->x + width / 2, b->y + width / 2, b->w - width, b->h - width);
	cairo_stroke(cr);
}

/* The areas, fitted to the map frame: fills first, then every outline, so
 * shared borders look the same on both sides. */
static void draw_areas(cairo_t *cr, const struct pngmap_shapes *m, const struct style *s, const struct pngmap_box *f,
		       double k, struct pngmap_layout *l)
{
	double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY, pad = 14 * k, scale, ox, oy;

	for (size_t i = 0; i < m->npts; i++) {
		minx = fmin(minx, m->xy[2 * i]);
		maxx = fmax(maxx, m->xy[2 * i]);
		miny = fmin(miny, m->xy[2 * i + 1]);
		maxy = fmax(maxy, m->xy[2 * i + 1]);
	}
	if (m->npts == 0 || maxx <= minx || maxy <= miny)
		return;
	scale = fmin((f->w - 2 * pad) / (maxx - minx), (f->h - 2 * pad) / (maxy - miny));
	ox = f->x + (f->w - (maxx - minx) * scale) / 2;
	oy = f->y + (f->h - (maxy - miny) * scale) / 2;
	l->m_per_px = 1 / scale;

	cairo_save(cr);
	cairo_rectangle(cr, f->x, f->y, f->w, f->h);
	cairo_clip(cr);
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			cairo_set_source_rgba(cr, outline[0], outline[1], outline[2], 0.85);
			cairo_set_line_width(cr, fmax(0.5, 0.8 * k));
		}
		for (size_t fi = 0; fi < m->nfeat; fi++) {
			int c = m->cls[fi];

			cairo_new_path(cr);
			for (size_t r = m->feat_first[fi]; r < m->feat_first[fi + 1]; r++) {
				for (size_t i = m->ring_first[r]; i < m->ring_first[r + 1]; i++) {
					double x = ox + (m->xy[2 * i] - minx) * scale, y = oy + (maxy - m->xy[2 * i + 1]) * scale;

					if (i == m->ring_first[r])
						cairo_move_to(cr, x, y);
					else
						cairo_line_to(cr, x, y);
				}
				cairo_close_path(cr);
			}
			if (pass == 0) {
				fill_rgb(cr, c >= 0 && (size_t)c < s->nclasses ? s->classes[c].rgb : s->null_rgb);
				cairo_fill(cr);
			} else {
				cairo_stroke(cr);
			}
		}
	}
	cairo_restore(cr);
}

/* Swatches with their labels, the grey last; from the panel's top. */
static double draw_legend(cairo_t *cr, const struct pngmap_opts *o, const struct pngmap_box *p, double k,
			  struct pngmap_layout *l)
{
	const struct style *s = o->style;
	double pad = 16 * k, x = p->x + pad, w = p->w - 2 * pad, y = p->y + pad, reserve = 170 * k;
	double pitch = 34 * k, sw = round(40 * k), sh, label, avail;
	size_t rows = s->nclasses + 1;
	struct lines ln = {0};

	if (o->legend_title) {
		fit(cr, o->legend_title, w, 20 * k, 12 * k, true, 2, &ln);
		y = draw_lines(cr, &ln, x, y, 1.25, ink);
		lines_free(&ln);
	}
	if (o->legend_note) {
		y += 2 * k;
		fit(cr, o->legend_note, w, 14 * k, 10 * k, false, 2, &ln);
		y = draw_lines(cr, &ln, x, y, 1.3, soft_ink);
		lines_free(&ln);
	}
	y += 10 * k;
	/* rows shrink to leave room for the scale bar and the arrow below */
	avail = p->y + p->h - reserve - y - pad - 8 * k;
	if (rows * pitch > avail)
		pitch = fmax(6, avail / rows);
	sh = round(fmax(4, fmin(24 * k, pitch * 0.72)));
	label = fmin(16 * k, pitch * 0.62);
	for (size_t i = 0; i < rows; i++) {
		bool grey = i == s->nclasses;
		double top = round(y + i * pitch + (grey ? 8 * k : 0));
		struct pngmap_box *b = &l->swatch[i];
		cairo_font_extents_t fe;

		*b = (struct pngmap_box){round(x), top, sw, sh};
		fill_rgb(cr, grey ? s->null_rgb : s->classes[i].rgb);
		cairo_rectangle(cr, b->x, b->y, b->w, b->h);
		cairo_fill(cr);
		box_line(cr, b, 1, (const double[3]){0.45, 0.45, 0.45});
		fit(cr, grey ? "not published" : s->classes[i].label, w - sw - 12 * k, label, fmin(label, 9), false, 1,
		    &ln);
		cairo_font_extents(cr, &fe);
		cairo_set_source_rgb(cr, ink[0], ink[1], ink[2]);
		cairo_move_to(cr, b->x + sw + 12 * k, b->y + sh / 2 + (fe.ascent - fe.descent) / 2);
		cairo_show_text(cr, ln.line[0] ? ln.line[0] : "");
		lines_free(&ln);
	}
	l->nswatches = rows;
	y += rows * pitch + 8 * k + pad - (pitch - sh);
	l->legend = (struct pngmap_box){p->x, p->y, p->w, round(y - p->y)};
	box_line(cr, &l->legend, fmax(1, round(k)), frame_grey);
	return y;
}

/* The largest 1, 2 or 5 times a power of ten at most max. */
static double round_length(double max)
{
	double p = pow(10, floor(log10(max)));

	return max >= 5 * p ? 5 * p : max >= 2 * p ? 2 * p : p;
}

static void length_label(double m, char *buf, size_t n)
{
	if (m >= 1000 || m == 0)
		snprintf(buf, n, "%g%s", m / 1000, m == 0 ? "" : " km");
	else
		snprintf(buf, n, "%g m", m);
}

/* The scale bar (four segments, black and white) and a north arrow, at the
 * panel's foot. */
static void draw_scale(cairo_t *cr, const struct pngmap_box *p, double k, struct pngmap_layout *l)
{
	double pad = 16 * k, x = round(p->x + pad), maxw = p->w - 2 * pad - 20 * k, bar_h = round(9 * k);
	double y = round(p->y + p->h - pad - bar_h), len, px;
	cairo_text_extents_t te;
	char buf[32];

	if (l->m_per_px <= 0)
		return;
	len = round_length(maxw * l->m_per_px);
	px = len / l->m_per_px;
	l->scale_m = len;
	for (int i = 0; i < 4; i++) {
		double x0 = round(x + px * i / 4), x1 = round(x + px * (i + 1) / 4);

		cairo_rectangle(cr, x0, y, x1 - x0, bar_h);
		cairo_set_source_rgb(cr, i % 2 ? 1 : 0.15, i % 2 ? 1 : 0.15, i % 2 ? 1 : 0.15);
		cairo_fill(cr);
	}
	box_line(cr, &(struct pngmap_box){x, y, round(x + px) - x, bar_h}, 1, (const double[3]){0.15, 0.15, 0.15});
	set_font(cr, 14 * k, false);
	cairo_set_source_rgb(cr, ink[0], ink[1], ink[2]);
	for (int i = 0; i <= 4; i += 2) {
		length_label(len * i / 4, buf, sizeof buf);
		cairo_text_extents(cr, buf, &te);
		cairo_move_to(cr, fmax(x - 2 * k, fmin(x + px * i / 4 - te.x_advance / 2, x + px + 16 * k - te.x_advance)),
			      y - 6 * k);
		cairo_show_text(cr, buf);
	}

	/* north: RD New's grid north is within 2 degrees of true north here */
	{
		double cx = x + 14 * k, base = y - 34 * k, tip = base - 44 * k, half = 10 * k;

		cairo_move_to(cr, cx, tip);
		cairo_line_to(cr, cx + half, base);
		cairo_line_to(cr, cx, base - 10 * k);
		cairo_close_path(cr);
		cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
		cairo_fill(cr);
		cairo_move_to(cr, cx, tip);
		cairo_line_to(cr, cx - half, base);
		cairo_line_to(cr, cx, base - 10 * k);
		cairo_close_path(cr);
		cairo_set_line_width(cr, fmax(1, 1.2 * k));
		cairo_stroke(cr);
		set_font(cr, 16 * k, true);
		cairo_text_extents(cr, "N", &te);
		cairo_move_to(cr, cx + 2 * half, base - 14 * k);
		cairo_show_text(cr, "N");
	}
}

/* A large diagonal "SYNTHETIC DATA" across the map frame. */
static void draw_watermark(cairo_t *cr, const struct pngmap_box *f, double k)
{
	const char *text = "SYNTHETIC DATA";
	double diag = hypot(f->w, f->h), angle = -atan2(f->h, f->w);
	cairo_text_extents_t te;

	cairo_save(cr);
	cairo_rectangle(cr, f->x, f->y, f->w, f->h);
	cairo_clip(cr);
	set_font(cr, 100, true);
	cairo_text_extents(cr, text, &te);
	set_font(cr, 100 * 0.72 * diag / te.x_advance, true);
	cairo_text_extents(cr, text, &te);
	cairo_translate(cr, f->x + f->w / 2, f->y + f->h / 2);
	cairo_rotate(cr, angle);
	cairo_move_to(cr, -te.x_advance / 2, -(te.y_bearing + te.height / 2));
	cairo_text_path(cr, text);
	cairo_set_source_rgba(cr, 0.35, 0.35, 0.35, 0.20);
	cairo_fill_preserve(cr);
	cairo_set_source_rgba(cr, 1, 1, 1, 0.55);
	cairo_set_line_width(cr, fmax(1, 2 * k));
	cairo_stroke(cr);
	cairo_restore(cr);
}

/* --- PNG --- */

static void put_u32(struct sbuf *b, uint32_t v)
{
	char c[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

	sbuf_append(b, c, 4);
}

static void chunk(struct sbuf *b, const char *type, const void *data, size_t n)
{
	uint32_t crc = libdeflate_crc32(0, type, 4);

	crc = libdeflate_crc32(crc, data, n);
	put_u32(b, (uint32_t)n);
	sbuf_append(b, type, 4);
	sbuf_append(b, data, n);
	put_u32(b, crc);
}

/* A text chunk: tEXt when the value is ASCII, else iTXt (UTF-8). Control
 * characters become spaces. */
static void text_chunk(struct sbuf *b, const char *key, const char *value)
{
	struct sbuf d = {0};
	bool ascii = true;

	for (const char *p = value; *p; p++)
		ascii = ascii && (unsigned char)*p < 0x80;
	sbuf_append(&d, key, strlen(key) + 1);
	if (!ascii)
		sbuf_append(&d, "\0\0\0\0", 4); /* not compressed, method 0, no language, no translated key */
	for (const char *p = value; *p; p++)
		sbuf_putc(&d, (unsigned char)*p < 0x20 ? ' ' : *p);
	chunk(b, ascii ? "tEXt" : "iTXt", d.s, d.len);
	sbuf_free(&d);
}

/* Each row with the PNG filter whose output has the smallest sum of
 * absolute values (libpng's heuristic), for a smaller file. */
static unsigned char *filter_rows(const unsigned char *rgb, int width, int height, size_t *len)
{
	size_t row = 3 * (size_t)width, n = (1 + row) * (size_t)height;
	unsigned char *out = xmalloc(n), *cand[5];
	unsigned char *zero = xcalloc(row, 1);

	for (int f = 0; f < 5; f++)
		cand[f] = xmalloc(row);
	for (int y = 0; y < height; y++) {
		const unsigned char *cur = rgb + (size_t)y * row, *up = y ? cur - row : zero;
		unsigned long best = ~0UL;
		int pick = 0;

		for (int f = 0; f < 5; f++) {
			unsigned long sum = 0;

			for (size_t i = 0; i < row; i++) {
				int a = i >= 3 ? cur[i - 3] : 0, b = up[i], c = i >= 3 ? up[i - 3] : 0, pred;

				switch (f) {
				case 0: pred = 0; break;
				case 1: pred = a; break;
				case 2: pred = b; break;
				case 3: pred = (a + b) / 2; break;
				default: {
					int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

					pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
				}
				}
				cand[f][i] = (unsigned char)(cur[i] - pred);
				sum += (unsigned long)abs((signed char)cand[f][i]);
			}
			if (sum < best) {
				best = sum;
				pick = f;
			}
		}
		out[(size_t)y * (row + 1)] = (unsigned char)pick;
		memcpy(out + (size_t)y * (row + 1) + 1, cand[pick], row);
	}
	for (int f = 0; f < 5; f++)
		free(cand[f]);
	free(zero);
	*len = n;
	return out;
}

static int encode_png(cairo_surface_t *sf, const struct pngmap_opts *o, struct sbuf *png, struct err *e)
{
	int w = cairo_image_surface_get_width(sf), h = cairo_image_surface_get_height(sf);
	int stride = cairo_image_surface_get_stride(sf);
	const unsigned char *data;
	unsigned char *rgb, *raw, *z, ihdr[13];
	size_t rawlen, zcap, zlen;
	struct libdeflate_compressor *c;

	cairo_surface_flush(sf);
	data = cairo_image_surface_get_data(sf);
	rgb = xmalloc(3 * (size_t)w * (size_t)h);
	for (int y = 0; y < h; y++) {
		const uint32_t *px = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
		unsigned char *d = rgb + 3 * (size_t)w * (size_t)y;

		for (int x = 0; x < w; x++) {
			d[3 * x] = (unsigned char)(px[x] >> 16);
			d[3 * x + 1] = (unsigned char)(px[x] >> 8);
			d[3 * x + 2] = (unsigned char)px[x];
		}
	}
	raw = filter_rows(rgb, w, h, &rawlen);
	free(rgb);
	c = libdeflate_alloc_compressor(9);
	if (!c) {
		free(raw);
		return err_set(e, ERR_SYSTEM, NULL, "cannot start the PNG compressor: out of memory");
	}
	zcap = libdeflate_zlib_compress_bound(c, rawlen);
	z = xmalloc(zcap);
	zlen = libdeflate_zlib_compress(c, raw, rawlen, z, zcap);
	libdeflate_free_compressor(c);
	free(raw);
	if (zlen == 0) {
		free(z);
		return err_set(e, ERR_INTERNAL, NULL, "the PNG compressor found no room for the image");
	}
	sbuf_append(png, "\x89PNG\r\n\x1a\n", 8);
	for (int i = 0; i < 4; i++) {
		ihdr[i] = (unsigned char)((uint32_t)w >> (24 - 8 * i));
		ihdr[4 + i] = (unsigned char)((uint32_t)h >> (24 - 8 * i));
	}
	ihdr[8] = 8;  /* bits per sample */
	ihdr[9] = 2;  /* RGB */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering */
	ihdr[12] = 0; /* not interlaced */
	chunk(png, "IHDR", ihdr, sizeof ihdr);
	if (o->title)
		text_chunk(png, "Title", o->title);
	if (o->attribution)
		text_chunk(png, "Source", o->attribution);
	if (o->synthetic)
		text_chunk(png, "Comment", "synthetic data");
	chunk(png, "IDAT", z, zlen);
	chunk(png, "IEND", "", 0);
	free(z);
	return 0;
}

int pngmap_render(const struct pngmap_shapes *m, const struct pngmap_opts *o, struct sbuf *png,
		  struct pngmap_layout *layout, struct err *e)
{
	struct pngmap_layout local;
	struct pngmap_layout *l = layout ? layout : &local;
	cairo_surface_t *sf;
	cairo_t *cr;
	struct lines ln = {0};
	const char *title = o->title ? o->title : "";
	double k, mg, y, w;
	int rc = -1;

	if (o->width < PNGMAP_MIN_SIDE || o->width > PNGMAP_MAX_SIDE || o->height < PNGMAP_MIN_SIDE ||
	    o->height > PNGMAP_MAX_SIDE)
		return err_set(e, ERR_INTERNAL, NULL, "a map of %d x %d pixels: each side must be %d to %d", o->width,
			       o->height, PNGMAP_MIN_SIDE, PNGMAP_MAX_SIDE);
	if (o->style->nclasses > PNGMAP_MAX_CLASSES)
		return err_set(e, ERR_INTERNAL, NULL, "a legend of %zu classes: at most %d fit", o->style->nclasses,
			       PNGMAP_MAX_CLASSES);
	memset(l, 0, sizeof *l);
	sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, o->width, o->height);
	cr = cairo_create(sf);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		err_set(e, ERR_SYSTEM, NULL, "cannot draw a map of %d x %d pixels: %s", o->width, o->height,
			cairo_status_to_string(cairo_status(cr)));
		goto out;
	}
	k = unit(o->width, o->height);
	mg = round(MARGIN * k);
	w = o->width - 2 * mg;
	pngmap_frame(o->width, o->height, &l->map, &l->panel);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);

	/* title: one line, shrinking; else two smaller lines */
	y = mg;
	set_font(cr, 28 * k, true);
	if (text_width(cr, title) <= w)
		fit(cr, title, w, 36 * k, 28 * k, true, 1, &ln);
	else
		fit(cr, title, w, 22 * k, 16 * k, true, 2, &ln);
	draw_lines(cr, &ln, mg, y + (ln.n == 1 ? (TITLE_H * k - ln.size * 1.2) / 2 : 0), 1.15, ink);
	lines_free(&ln);
	y = mg + (TITLE_H + 6) * k;
	if (o->subtitle) {
		fit(cr, o->subtitle, w, 19 * k, 12 * k, false, 1, &ln);
		draw_lines(cr, &ln, mg, y, 1.2, soft_ink);
		lines_free(&ln);
	}

	/* footer: date and source, bottom-aligned */
	{
		struct sbuf f = {0};
		double top;

		if (o->date)
			sbuf_puts(&f, o->date);
		if (o->date && o->attribution)
			sbuf_puts(&f, " \xc2\xb7 ");
		if (o->attribution)
			sbuf_puts(&f, o->attribution);
		if (f.len) {
			fit(cr, f.s, w, FOOTER_SIZE * k, 11 * k, false, MAX_LINES, &ln);
			top = o->height - mg - ln.n * ln.size * FOOTER_LEAD;
			draw_lines(cr, &ln, mg, top, FOOTER_LEAD, soft_ink);
			lines_free(&ln);
		}
		sbuf_free(&f);
	}

	box_line(cr, &l->map, fmax(1, round(k)), frame_grey);
	draw_areas(cr, m, o->style, &l->map, k, l);
	if (o->synthetic)
		draw_watermark(cr, &l->map, k);
	draw_legend(cr, o, &l->panel, k, l);
	draw_scale(cr, &l->panel, k, l);

	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		err_set(e, ERR_SYSTEM, NULL, "cannot draw the map: %s", cairo_status_to_string(cairo_status(cr)));
		goto out;
	}
	rc = encode_png(sf, o, png, e);
out:
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
	return rc;
}

int pngmap_write(const struct pngmap_shapes *m, const struct pngmap_opts *o, const char *path, size_t *bytes,
		 struct err *e)
{
	struct sbuf png = {0};
	char *tmp = xasprintf("%s.tmp", path);
	int rc = -1;

	if (pngmap_render(m, o, &png, NULL, e) < 0)
		goto out;
	if (unlink(tmp) < 0 && errno != ENOENT) {
		err_set(e, ERR_SYSTEM, tmp, "cannot remove the file: %s", strerror(errno));
		goto out;
	}
	if (fsx_write_file(tmp, png.s, png.len, e) < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		err_set(e, ERR_SYSTEM, path, "cannot rename %s to it: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	*bytes = png.len;
	rc = 0;
out:
	sbuf_free(&png);
	free(tmp);
	return rc;
}
