/*
 * mvtdec — the tests' readers of tiles: a small MVT 2.1 reader (one layer's
 * features with their tags and polygon rings, decoded independently of
 * src/mvt.c), and the signed area of a GeoJSON ring.
 */
#ifndef PC6RISK_TEST_MVTDEC_H
#define PC6RISK_TEST_MVTDEC_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct mvtdec_ring {
	size_t n;      /* points, the closing one not repeated */
	int64_t *xy;
	double area;   /* shoelace in tile coordinates: > 0 exterior (MVT 2.1) */
};

struct mvtdec_feature {
	int type;       /* 3 = POLYGON */
	size_t ntags;
	uint32_t *tags;
	size_t nrings;
	struct mvtdec_ring *rings;
	int bad_commands; /* a command other than MoveTo(1) LineTo(n) ClosePath per ring */
};

struct mvtdec_layer {
	char name[64];
	int version, extent;
	size_t nkeys, nvalues, nfeat;
	char **keys;
	struct mvtdec_feature *feat;
};

/* Decode a Tile message with one or more layers; layers[] gets them. Returns
 * the number of layers, or -1 for bytes that are not a well-formed tile. */
int mvtdec(const unsigned char *data, size_t n, struct mvtdec_layer *layers, size_t max);
void mvtdec_free(struct mvtdec_layer *l);

/* A GeoJSON ring's signed area in its own units (shoelace, x east, y north):
 * positive when counter-clockwise, as RFC 7946 wants exteriors. */
double geojson_ring_area(const cJSON *ring);

#endif
