/*
 * vecw — write polygon layers into a new GeoPackage, in RD New (EPSG:28992).
 *
 * GDAL stays inside this module, as it does in vector.c for reading.
 * vecw_create returns a writer the caller ends with vecw_close (which says
 * whether the whole file was written) or vecw_abort (which removes the file).
 * Every field is a string. The bytes written depend only on what is written:
 * the time GDAL would stamp into the GeoPackage is pinned, so the same layers,
 * fields and features give an identical file.
 */
#ifndef PC6RISK_VECW_H
#define PC6RISK_VECW_H

#include "pc6risk/err.h"

struct vecw;

/* Create the GeoPackage at path (which must not exist). metadata is a
 * NULL-ended list of "KEY=VALUE" items stored as the file's own metadata
 * (gpkg_metadata), or NULL. */
struct vecw *vecw_create(const char *path, const char *const *metadata, struct err *e);

/* Start a layer of MultiPolygons with a description (stored in
 * gpkg_contents) and a NULL-ended list of string fields; the layer before it
 * is finished. */
int vecw_layer(struct vecw *w, const char *name, const char *description, const char *const *fields,
	       struct err *e);

/* Add a feature to the current layer: one value per field (NULL for none) and
 * the geometry as hex WKB (a Polygon or MultiPolygon). */
int vecw_add(struct vecw *w, const char *const *values, const char *wkb_hex, struct err *e);

/* Finish the file and free the writer. On failure the file is removed. */
int vecw_close(struct vecw *w, struct err *e);

/* Give up: free the writer and remove the file. vecw_abort(NULL) is fine. */
void vecw_abort(struct vecw *w);

#endif
