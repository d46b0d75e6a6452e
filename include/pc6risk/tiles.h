/*
 * tiles — publish's tiling pass: the protected areas as vector tiles.
 *
 * Reads protected_area, protected_value and protected_group_value (what
 * protect wrote, nothing else), and for every zoom of publish.tiles runs one
 * tiling pass (tile.h: simplified with shared borders kept shared, clipped
 * per tile) whose geometry every scenario shares. Per scenario it writes into
 * the release directory:
 *   tiles/<scenario>/{z}/{x}/{y}.geojson   RFC 7946, one file per non-empty tile
 *   tiles/<scenario>.mbtiles               the same tiles as gzipped MVT 2.1
 *   tiles/<scenario>/{z}/{x}/{y}.pbf       the same MVT, plain (publish.tiles.pbf)
 *   tiles/<scenario>/tiles.json            TileJSON 3.0 for the GeoJSON tiles
 *   tiles/<scenario>/inputs.tsv            per tile a hash of what went into it
 * A layer per level (wijk, buurt, pc6), each at its zooms. When the previous
 * release has a tile whose inputs hash the same, the tile's bytes are taken
 * from there instead of being encoded again (an incremental publish gives the
 * same bytes as a full one).
 */
#ifndef PC6RISK_TILES_H
#define PC6RISK_TILES_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct tiles_stats {
	long long tiles;         /* tiles written, all scenarios */
	long long reused;        /* of which taken from the previous release */
	long long bytes_mvt;     /* gzipped MVT bytes */
	long long bytes_geojson;
	long long oversize;      /* tiles over 500 KB gzipped */
	long long dropped_rings; /* rings too small for their zoom */
	long long heaviest;      /* gzipped bytes of the largest MVT tile */
	char heaviest_at[48];    /* its "scenario z/x/y" */
};

/* The extent of the published gemeenten in WGS84, as west, south, east,
 * north (tiles.json and areas.json give it): 1, or 0 when there is none
 * (b untouched), or -1 with e filled. */
int tiles_bounds(struct db *db, double b[4], struct err *e);

/* Write the tiles of zooms minzoom..maxzoom (-1, -1: all configured) into
 * dir (the release being staged). prev is the previous release directory or
 * NULL. Runs inside the caller's (read-only, repeatable read) transaction.
 * Gives up between batches of tiles when a signal came or *stop (if stop is
 * not NULL) turned true, which another thread may set. */
int tiles_write(struct db *db, const struct config *cfg, const char *dir, const char *prev, int minzoom,
		int maxzoom, const bool *stop, struct tiles_stats *st, struct err *e);

#endif
