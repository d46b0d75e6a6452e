/*
 * tile — the geometry of one tiling pass: polygons → per zoom simplified with
 * shared borders kept shared → clipped per tile, in tile coordinates.
 *
 * Pure code (no database, no files). Coordinates are integers on the web
 * mercator (EPSG:3857) pixel grid of a source zoom: a world of
 * 2^src_zoom * TILE_EXTENT units a side, x to the east, y to the SOUTH (down),
 * as in XYZ tiles. The caller quantises its input once onto that grid, so
 * areas that share a border in the source share it vertex for vertex here.
 *
 * Per zoom z (tile_zoom) every ring is cut into arcs at its junctions (points
 * where the neighbours of a point differ between the rings through it, the
 * TopoJSON rule); each arc is simplified once, in one canonical direction,
 * with its ends fixed, then snapped to the grid of zoom z: two polygons that
 * share a border get the identical simplified border, so no gap or overlap
 * opens between them (tippecanoe's -pn standard). Rings that collapse at a
 * zoom are dropped for the whole zoom (never per tile) and counted.
 *
 * Each polygon is then checked (no crossing or overlapping segments, holes
 * inside, orientation kept); one that fails has all its arcs simplified less
 * (tolerance / 4, then not at all: its neighbours follow, as they share the
 * arcs), and a ring still touching itself is split there into rings and
 * holes. What then still fails is kept and counted (polys_invalid).
 * tiler_zoom checks on a few threads; its result does not depend on them.
 *
 * tile_clip then cuts the simplified polygons to one tile plus a buffer,
 * giving tile-local coordinates in [-buffer, TILE_EXTENT + buffer] with
 * exterior rings clockwise and holes counter-clockwise on screen (y down):
 * the MVT 2.1 rule (positive shoelace area in tile coordinates). GeoJSON
 * (RFC 7946: exteriors counter-clockwise in lon/lat) needs them reversed.
 * Where a polygon leaves the window and comes back, the pieces come out as
 * separate polygons (no zero-width bridges along the window's sides).
 */
#ifndef PC6RISK_TILE_H
#define PC6RISK_TILE_H

#include <stddef.h>
#include <stdint.h>

#define TILE_EXTENT 4096
#define TILE_BUFFER 64 /* tile units each side */

/* Polygons in CSR form. Feature f has polygons poly_first[f] ..
 * poly_first[f+1]-1; polygon p has rings ring_first[p] .. ring_first[p+1]-1,
 * the exterior first; ring r has points pt_first[r] .. pt_first[r+1]-1 in
 * xy[2*i], xy[2*i+1], NOT closed (the first point is not repeated). */
struct tile_polys {
	size_t nfeat;
	uint32_t *poly_first; /* nfeat + 1 */
	uint32_t *ring_first; /* npoly + 1 */
	uint32_t *pt_first;   /* nring + 1 */
	int64_t *xy;          /* 2 * npoints */
};

void tile_polys_free(struct tile_polys *p);

/* Input: the caller's features (index = position) on the grid of src_zoom.
 * Ring orientation may be either; the tiler normalises it. */
struct tiler;

/* The tiler keeps no pointer into src: the caller may free it afterwards. */
struct tiler *tiler_new(const struct tile_polys *src, int src_zoom);
void tiler_free(struct tiler *t);

struct tile_zoom_stats {
	long long points_in;      /* points of all rings before simplification */
	long long points_out;     /* after */
	long long rings_dropped;  /* rings that collapsed at this zoom */
	long long features_dropped; /* features left with no ring at this zoom */
	long long tiles;          /* non-empty tiles at this zoom */
	long long arcs_fallback;  /* arcs simplified less so that polygons stay valid */
	long long polys_invalid;  /* polygons still failing the validity check */
};

/* Simplify every feature for zoom z (z <= src_zoom) with a tolerance of
 * tolerance tile units (1.0 is one unit of the 4096 grid at that zoom) and
 * list the tiles that any feature's bounding box (plus the buffer) touches.
 * Replaces the previous zoom's state. -1 on a bad zoom. */
int tiler_zoom(struct tiler *t, int z, double tolerance, struct tile_zoom_stats *st);

/* The simplified polygons of the current zoom, feature for feature, on the
 * grid of that zoom (a world 2^z * TILE_EXTENT wide); valid until the next
 * tiler_zoom or tiler_free. */
const struct tile_polys *tiler_geometry(const struct tiler *t);

/* The tiles of the current zoom that hold something, sorted by x then y. */
size_t tiler_ntiles(const struct tiler *t);
void tiler_tile_xy(const struct tiler *t, size_t i, uint32_t *x, uint32_t *y);

/* One tile's content: the features in it, ascending by index, each clipped to
 * the tile plus TILE_BUFFER, in tile-local coordinates (geom.xy is int64 but
 * every value fits in the buffer range). geom.nfeat == nfeat and feature k
 * of geom is feature[k] of the input. Polygons that clip to nothing are left
 * out, and so are features left with no polygon. */
struct tile_content {
	size_t nfeat;
	uint32_t *feature; /* input feature indexes */
	struct tile_polys geom;
	/* allocated room, for reuse: start from a zeroed tile_content */
	size_t cap_feat, cap_poly, cap_ring, cap_pt;
};

/* Clip tile i of the current zoom into *out (emptied first; reuse one
 * tile_content across calls to save allocations). Safe to call from
 * several threads at once, each with its own out, between tiler_zoom calls. */
int tile_clip(const struct tiler *t, size_t i, struct tile_content *out);

void tile_content_free(struct tile_content *c);

/* Room reused across tile_ring_uncross calls (zero it first). */
struct tile_scratch {
	void *seg;
	size_t cap;
};

/* Ring xy[0..n) (not closed; any integer grid, either orientation) in
 * place without self-crossings or self-touches: where two edges that are not
 * neighbours meet, the smaller loop between them is cut off by joining the
 * vertex before the meeting to the one after it. For rings that rounding to a coarser grid folded (GeoJSON's 6 decimals
 * at zoom 16); a sweep finds out first, so a simple ring costs n log n.
 * Returns the number of points left. */
size_t tile_ring_uncross(int64_t *xy, size_t n, struct tile_scratch *s);
void tile_scratch_free(struct tile_scratch *s);

#endif
