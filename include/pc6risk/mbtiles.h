/*
 * mbtiles — an MBTiles 1.3 file (SQLite) of vector tiles, written once.
 *
 * The file is created new (an existing one is an error), tiles go in with
 * their XYZ address (stored as TMS rows, as the spec says), metadata rows as
 * name/value text. Nothing is journalled: the file lives in a release staging
 * directory that is thrown away on failure. The same calls in the same order
 * give the same bytes.
 */
#ifndef PC6RISK_MBTILES_H
#define PC6RISK_MBTILES_H

#include <stddef.h>
#include <stdint.h>

#include "pc6risk/err.h"

struct mbtiles;

struct mbtiles *mbtiles_create(const char *path, struct err *e);
int mbtiles_meta(struct mbtiles *m, const char *name, const char *value, struct err *e);
int mbtiles_put(struct mbtiles *m, int z, uint32_t x, uint32_t y, const void *data, size_t n, struct err *e);
/* Index the tiles, write everything out (fsync) and close. Frees m, also on failure. */
int mbtiles_close(struct mbtiles *m, struct err *e);
/* Open a published file to read tiles from (mbtiles_get, mbtiles_find): the
 * daemon serving it from many threads, one handle per thread at a time, or
 * publish reusing the previous release's tiles. Read-only and immutable, so
 * SQLite takes no locks and never checks for changes (publish never changes a
 * file once written, it only unlinks it, and an open handle keeps reading the
 * unlinked file): a lookup costs about 1.4 us where one with locking cost 16
 * (276,228 lookups of a z16 file). NULL with errno set (ENOENT: the file is
 * not there) and an error otherwise. */
struct mbtiles *mbtiles_open_immutable(const char *path, struct err *e);
/* The stored bytes of a tile (malloc'd into *data), or an error if it is not there. */
int mbtiles_get(struct mbtiles *m, int z, uint32_t x, uint32_t y, void **data, size_t *n, struct err *e);
/* The same, but a missing tile is no error: 1 found (*data malloc'd), 0 not
 * there, -1 a read error. */
int mbtiles_find(struct mbtiles *m, int z, uint32_t x, uint32_t y, void **data, size_t *n, struct err *e);
/* Close without caring (the caller removes the file); also closes a file
 * opened for reading. */
void mbtiles_abort(struct mbtiles *m);

#endif
