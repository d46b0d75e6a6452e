/*
 * edges — which polygons share a border, from their WKB, without GEOS.
 *
 * Two polygons are neighbours when a segment of one equals a segment of the
 * other (either direction), with coordinates rounded to a centimetre: areas
 * that tile a map (CBS's PC6, buurten; what pc6risk synth makes) share their
 * borders vertex for vertex. Touching at a corner does not count (rook
 * adjacency). Pure code; protect feeds it what PostGIS returns.
 */
#ifndef PC6RISK_EDGES_H
#define PC6RISK_EDGES_H

#include <stddef.h>

struct edges {
	size_t n, cap;
	struct edge_seg *seg;
};

/* Add the rings of one Polygon or MultiPolygon (ISO/OGC WKB or PostGIS
 * EWKB, either byte order) as belonging to item and block; items of
 * different blocks never become neighbours. -1 for WKB that is not a
 * (multi)polygon or is cut short. */
int edges_add_wkb(struct edges *e, int item, int block, const unsigned char *wkb, size_t len);

/* The same from the hex text PostgreSQL prints for bytea ("\x0103...") or
 * geometry ("0103..."). */
int edges_add_hex(struct edges *e, int item, int block, const char *hex);

/* The neighbour pairs (a < b), each once, sorted: *pairs holds 2 * *npairs
 * ints. Empties e. */
void edges_pairs(struct edges *e, int **pairs, size_t *npairs);

void edges_free(struct edges *e);

#endif
