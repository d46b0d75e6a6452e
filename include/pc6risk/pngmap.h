/*
 * pngmap — a static choropleth map as a PNG, for reports: the areas filled
 * with their class colour, a title, a legend, a scale bar, a north arrow, the
 * data date and source, and a diagonal "SYNTHETIC DATA" watermark when the
 * figures are synthetic.
 *
 * Pure rendering (no database, no files but the one written): cairo draws
 * into an image in memory, and our own PNG writer (libdeflate) encodes it
 * with tEXt chunks Title, Source and Comment. Same input, same bytes.
 * Coordinates are projected metres (EPSG:28992 RD New for pc6risk: x east,
 * y north), so the scale bar is exact. cairo stays inside pngmap.c.
 *
 * A struct pngmap_shapes is the caller's (zero-initialise it); it owns its
 * arrays, which pngmap_shapes_free frees. Everything else is borrowed.
 */
#ifndef PC6RISK_PNGMAP_H
#define PC6RISK_PNGMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "pc6risk/err.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/style.h"

/* Canvas sizes pngmap accepts, in pixels a side (publish.png checks the same). */
#define PNGMAP_MIN_SIDE 400
#define PNGMAP_MAX_SIDE 8000
#define PNGMAP_WIDTH 1600
#define PNGMAP_HEIGHT 1200

/* The legend holds at most this many classes (privacy.bands allows 100). */
#define PNGMAP_MAX_CLASSES 100

/* Features (a polygon or multipolygon each, with a class) as flat arrays:
 * feature f has rings feat_first[f] .. feat_first[f+1]-1, ring r has points
 * ring_first[r] .. ring_first[r+1]-1 in xy[2*i], xy[2*i+1]. Holes need no
 * orientation: rings are filled even-odd. */
struct pngmap_shapes {
	size_t nfeat, nring, npts;
	int *cls;            /* per feature: its class in the style, or -1: not published (grey) */
	size_t *feat_first;  /* nfeat + 1 */
	size_t *ring_first;  /* nring + 1 */
	double *xy;
	size_t cap_feat, cap_ring, cap_pts;
};

/* Start a new feature of class cls (-1: not published). */
void pngmap_feature(struct pngmap_shapes *m, int cls);

/* Add a ring of n points (closed or not) to the last feature. */
void pngmap_ring(struct pngmap_shapes *m, const double *xy, size_t n);

/* Add a feature of class cls from the WKB of a Polygon or MultiPolygon (OGC
 * or ISO WKB, or PostGIS EWKB; either byte order; Z and M are ignored). -1
 * (and nothing added) for anything else or WKB cut short. */
int pngmap_wkb(struct pngmap_shapes *m, int cls, const unsigned char *wkb, size_t len);

void pngmap_shapes_free(struct pngmap_shapes *m);

struct pngmap_opts {
	int width, height;         /* pixels, PNGMAP_MIN_SIDE .. PNGMAP_MAX_SIDE */
	const struct style *style; /* the classes, their labels and colours, and the grey */
	const char *title;         /* at the top, wrapped or shrunk to fit */
	const char *subtitle;      /* a line under it, or NULL */
	const char *legend_title;  /* the legend's heading ("Score"), or NULL */
	const char *legend_note;   /* a small line under the heading, or NULL */
	const char *date;          /* the footer starts with it ("data loaded 2024-05-01"), or NULL */
	const char *attribution;   /* the footer's source credit (PNG Source), or NULL */
	bool synthetic;            /* the watermark, and PNG Comment "synthetic data" */
};

struct pngmap_box {
	double x, y, w, h;
};

/* Where things were drawn, for tests and callers that annotate. */
struct pngmap_layout {
	struct pngmap_box map;    /* the map frame: polygons are drawn only inside it */
	struct pngmap_box panel;  /* the column right of it: legend, scale bar, north arrow */
	struct pngmap_box legend; /* the legend box, inside the panel */
	/* swatch[i] for class i, swatch[nclasses] the "not published" grey */
	struct pngmap_box swatch[PNGMAP_MAX_CLASSES + 1];
	size_t nswatches;
	double scale_m;           /* the scale bar's length in metres (0: no areas, no bar) */
	double m_per_px;          /* metres per pixel of the map */
};

/* The map frame and the panel for a canvas size: they depend on the size
 * only, so a reader of the PNG knows where the map is. */
void pngmap_frame(int width, int height, struct pngmap_box *map, struct pngmap_box *panel);

/* Draw the map and append its PNG to png. Fills layout when not NULL.
 * ERR_INTERNAL for a bad size or too many classes; ERR_SYSTEM when cairo
 * fails (out of memory). */
int pngmap_render(const struct pngmap_shapes *m, const struct pngmap_opts *o, struct sbuf *png,
		  struct pngmap_layout *layout, struct err *e);

/* Render and write the PNG to path: to path.tmp, fsynced, then renamed over
 * path. *bytes gets the file's size. */
int pngmap_write(const struct pngmap_shapes *m, const struct pngmap_opts *o, const char *path, size_t *bytes,
		 struct err *e);

#endif
