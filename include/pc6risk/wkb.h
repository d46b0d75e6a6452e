/*
 * wkb — a reader of polygon WKB as PostGIS sends it (ST_AsBinary, or EWKB):
 * either byte order, the EWKB Z/M/SRID flags and the ISO Z/M type codes.
 * Pure: it owns nothing past a call.
 */
#ifndef PC6RISK_WKB_H
#define PC6RISK_WKB_H

#include <stddef.h>
#include <stdint.h>

/* Call ring(arg, xy, n) for every ring of the Polygon or MultiPolygon in
 * wkb, in order: xy holds the ring's n points as x, y pairs (Z and M
 * dropped) and is valid during the call only. 0; -1 when wkb is not a
 * (Multi)Polygon, is cut short or holds a coordinate that is not finite, or
 * when ring returned -1 (rings before the bad part were passed on). */
int wkb_rings(const unsigned char *wkb, size_t len, int (*ring)(void *arg, const double *xy, uint32_t n),
	      void *arg);

#endif
