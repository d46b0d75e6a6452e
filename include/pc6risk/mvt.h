/*
 * mvt — one tile's features in two encodings: Mapbox Vector Tile 2.1
 * (protobuf, written here without a protobuf library) and an RFC 7946 GeoJSON
 * FeatureCollection in lon/lat.
 *
 * Both take the same input: tile-local polygons from tile_clip (extent
 * TILE_EXTENT, exteriors clockwise on screen) and typed properties from a
 * fixed layer schema, so a property has one type across every feature of
 * every tile. A property that is absent is left out of the feature in both
 * encodings (MVT has no null). GeoJSON coordinates are the tile grid points
 * turned into degrees with 6 decimals: neighbours that share grid points
 * share coordinates, and exteriors come out counter-clockwise.
 */
#ifndef PC6RISK_MVT_H
#define PC6RISK_MVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pc6risk/sbuf.h"
#include "pc6risk/tile.h"

enum mvt_type { MVT_STRING, MVT_INT, MVT_DOUBLE };

struct mvt_schema {
	const char *layer;        /* the MVT layer name */
	size_t nkeys;
	const char *const *keys;  /* property names; keys[0] is the feature id (a string) */
	const enum mvt_type *types;
};

struct mvt_value {
	bool present;
	union {
		const char *s;
		int64_t i;
		double d;
	} v;
};

/* Feature k of a tile: props[k * nkeys .. + nkeys), geometry feature k of geom. */
struct mvt_tile {
	int z;
	uint32_t x, y;
	const struct tile_polys *geom;
	size_t nfeat;
	const struct mvt_value *props;
};

/* Append the tile as one MVT layer (a complete Tile message). */
void mvt_encode(struct sbuf *out, const struct mvt_schema *s, const struct mvt_tile *t);

/* Append the tile as a GeoJSON FeatureCollection, one feature per line, each
 * with "id" = props[0] (also in properties). Doubles get at most decimals
 * digits after the point. Rings that lose points to the 6-decimal rounding
 * keep the rest; a ring left with fewer than 4 positions is left out (counted
 * in *dropped_rings when not NULL). */
void mvt_geojson(struct sbuf *out, const struct mvt_schema *s, const struct mvt_tile *t, int decimals,
		 long long *dropped_rings);

/* The lon/lat of a tile-local grid point. */
void mvt_lonlat(int z, uint32_t x, uint32_t y, int64_t tx, int64_t ty, double *lon, double *lat);

#endif
