/*
 * vector — read area polygons from any GDAL vector source, in EPSG:28992.
 *
 * GDAL stays inside this module. vec_open returns a reader the caller frees
 * with vec_close. The strings in a struct vec_feature belong to the reader and
 * stay valid until the next vec_next. Polygons come out as MultiPolygons in RD
 * New (reprojected from whatever CRS the source declares, or the one the caller
 * names), 2D, curves linearised, as WKB and as hex EWKB ready for COPY into a
 * geometry(MultiPolygon, 28992) column.
 */
#ifndef PC6RISK_VECTOR_H
#define PC6RISK_VECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "pc6risk/err.h"

struct vec;

struct vec_feature {
	long long fid;
	const char *where;  /* "path#fid=N", for messages */
	const char *code;   /* never NULL or empty */
	const char *name;   /* NULL when no name field was asked for or it is empty */
	const char *parent; /* likewise */
	const unsigned char *wkb; /* ISO WKB (little-endian) of the MultiPolygon */
	size_t wkb_len;
	const unsigned char *ewkb; /* the same as EWKB with SRID 28992, for binary COPY */
	size_t ewkb_len;
	const char *ewkb_hex;      /* and as hex, for text COPY */
	bool valid;                /* valid by OGC rules (GEOS); else load repairs it */
};

/* Open layer (NULL: the first) of the source at path. srs (NULL: the source's
 * own) names the CRS of the coordinates, in any form GDAL reads ("EPSG:4326").
 * The field names must exist in the layer; name_field and parent_field may be
 * NULL. */
struct vec *vec_open(const char *path, const char *layer, const char *srs, const char *code_field,
		     const char *name_field, const char *parent_field, struct err *e);

/* Whether vec_feature.ewkb_hex is filled (default yes); a reader that sends
 * binary COPY turns it off to save the work. Off, ewkb_hex is "". */
void vec_want_hex(struct vec *v, bool on);

/* Number of features, or -1 when the source cannot tell cheaply. */
long long vec_count(const struct vec *v);

/* The next feature: 1 when there is one, 0 at the end, -1 on bad data (a
 * missing code, no geometry, not a polygon, not reprojectable). */
int vec_next(struct vec *v, struct vec_feature *f, struct err *e);

void vec_close(struct vec *v);

/* The files that make up the source at path (a Shapefile's .shp, .shx, .dbf,
 * .prj, ...), sorted, as a NULL-terminated array the caller frees with
 * vec_files_free. NULL on failure. */
char **vec_files(const char *path, struct err *e);
void vec_files_free(char **files);

/* The GDAL release in use, like "3.6.2". */
const char *vec_gdal_version(void);

#endif
