/*
 * areas — what the map viewer needs beside the tiles, in one file a release
 * carries: areas.json (every wijk and buurt with its extent and, per
 * scenario, the published value, rank, rank interval, drivers and domain
 * percentiles; each scenario's legend per level, from the same style code as
 * the GeoPackage and QML; the data date and whether the data is synthetic),
 * and the viewer's own files copied beside it (viewer/).
 *
 * Like publish, it reads only what protect released, inside publish's
 * read-only transaction; the same data and config give the same bytes.
 * docs/viewer.md describes the file.
 */
#ifndef PC6RISK_AREAS_H
#define PC6RISK_AREAS_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

/* The day the data in the schema was loaded, in Amsterdam time (not the
 * server's TimeZone), as YYYY-MM-DD into date: 1, 0 when nothing is loaded,
 * -1 with e filled. areas.json and the PNG maps show it. */
int areas_data_date(struct db *db, char date[11], struct err *e);

/* Write dir/areas.json (no release id or time in it: the same data and
 * config give the same bytes). */
int areas_write(struct db *db, const struct config *cfg, const char *dir, struct err *e);

/* The folder of the built viewer publish copies: publish.viewer when set,
 * else maps/viewer/dist beside the binary's source tree, else the installed
 * one under datadir. NULL when none holds an index.html. The caller frees
 * the result. */
char *areas_viewer_dir(const struct config *cfg, const char *datadir);

/* Copy the viewer's files (regular files and folders, no links) from src
 * into dir/viewer. */
int areas_copy_viewer(const char *src, const char *dir, struct err *e);

#endif
