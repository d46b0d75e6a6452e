#include "pc6risk/mbtiles.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mbtiles {
	sqlite3 *db;
	sqlite3_stmt *tile, *meta;
	char *path;
};

static int fail(struct mbtiles *m, struct err *e, const char *what)
{
	return err_set(e, ERR_SYSTEM, m->path, "%s: %s", what, m->db ? sqlite3_errmsg(m->db) : "out of memory");
}

static int exec(struct mbtiles *m, const char *sql, struct err *e)
{
	if (sqlite3_exec(m->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(m, e, "cannot write the MBTiles file");
	return 0;
}

struct mbtiles *mbtiles_create(const char *path, struct err *e)
{
	struct mbtiles *m = xcalloc(1, sizeof *m);

	m->path = xstrdup(path);
	if (access(path, F_OK) == 0) {
		err_set(e, ERR_SYSTEM, path, "the MBTiles file exists already");
		goto fail;
	}
	if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		fail(m, e, "cannot create the MBTiles file");
		goto fail;
	}
	if (exec(m, "PRAGMA page_size = 4096; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
		    " PRAGMA locking_mode = EXCLUSIVE; BEGIN;"
		    " CREATE TABLE metadata (name text, value text);"
		    " CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);",
		 e) < 0)
		goto fail;
	if (sqlite3_prepare_v2(m->db, "INSERT INTO tiles VALUES (?, ?, ?, ?)", -1, &m->tile, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db, "INSERT INTO metadata VALUES (?, ?)", -1, &m->meta, NULL) != SQLITE_OK) {
		fail(m, e, "cannot prepare the MBTiles inserts");
		goto fail;
	}
	return m;
fail:
	mbtiles_abort(m);
	return NULL;
}

struct mbtiles *mbtiles_open_immutable(const char *path, struct err *e)
{
	struct mbtiles *m = xcalloc(1, sizeof *m);
	struct sbuf uri = {0};
	int saved;

	/* A URI names the immutable flag; its path must be percent-encoded. */
	sbuf_puts(&uri, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-~", *p))
			sbuf_putc(&uri, (char)*p);
		else
			sbuf_printf(&uri, "%%%02X", *p);
	}
	sbuf_puts(&uri, "?immutable=1");
	m->path = xstrdup(path);
	if (sqlite3_open_v2(uri.s, &m->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(m->db,
			       "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
			       -1, &m->tile, NULL) != SQLITE_OK) {
		saved = m->db ? sqlite3_system_errno(m->db) : ENOMEM;
		fail(m, e, "cannot read the MBTiles file");
		mbtiles_abort(m);
		m = NULL;
		errno = saved ? saved : EIO;
	}
	sbuf_free(&uri);
	return m;
}

int mbtiles_find(struct mbtiles *m, int z, uint32_t x, uint32_t y, void **data, size_t *n, struct err *e)
{
	int rc;

	sqlite3_bind_int(m->tile, 1, z);
	sqlite3_bind_int64(m->tile, 2, x);
	sqlite3_bind_int64(m->tile, 3, ((int64_t)1 << z) - 1 - y);
	rc = sqlite3_step(m->tile);
	if (rc == SQLITE_ROW) {
		*n = (size_t)sqlite3_column_bytes(m->tile, 0);
		*data = xmalloc(*n ? *n : 1);
		memcpy(*data, sqlite3_column_blob(m->tile, 0), *n);
	} else if (rc != SQLITE_DONE) {
		fail(m, e, "cannot read a tile");
	}
	sqlite3_reset(m->tile);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int mbtiles_get(struct mbtiles *m, int z, uint32_t x, uint32_t y, void **data, size_t *n, struct err *e)
{
	int rc = mbtiles_find(m, z, x, y, data, n, e);

	if (rc == 0)
		return err_set(e, ERR_SYSTEM, m->path, "tile %d/%u/%u is not in the previous release", z, x, y);
	return rc < 0 ? -1 : 0;
}

static int step(struct mbtiles *m, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return fail(m, e, "cannot write to the MBTiles file");
	return 0;
}

int mbtiles_meta(struct mbtiles *m, const char *name, const char *value, struct err *e)
{
	sqlite3_bind_text(m->meta, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(m->meta, 2, value, -1, SQLITE_STATIC);
	return step(m, m->meta, e);
}

int mbtiles_put(struct mbtiles *m, int z, uint32_t x, uint32_t y, const void *data, size_t n, struct err *e)
{
	sqlite3_bind_int(m->tile, 1, z);
	sqlite3_bind_int64(m->tile, 2, x);
	sqlite3_bind_int64(m->tile, 3, ((int64_t)1 << z) - 1 - y);
	sqlite3_bind_blob64(m->tile, 4, data, n, SQLITE_STATIC);
	return step(m, m->tile, e);
}

void mbtiles_abort(struct mbtiles *m)
{
	if (!m)
		return;
	sqlite3_finalize(m->tile);
	sqlite3_finalize(m->meta);
	sqlite3_close(m->db);
	free(m->path);
	free(m);
}

int mbtiles_close(struct mbtiles *m, struct err *e)
{
	int rc = exec(m, "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
			 " CREATE UNIQUE INDEX name ON metadata (name); COMMIT;",
		      e);
	int fd;

	sqlite3_finalize(m->tile);
	sqlite3_finalize(m->meta);
	m->tile = m->meta = NULL;
	if (rc == 0 && sqlite3_close(m->db) != SQLITE_OK)
		rc = fail(m, e, "cannot close the MBTiles file");
	else if (rc == 0)
		m->db = NULL;
	if (rc == 0) {
		fd = open(m->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = err_set(e, ERR_SYSTEM, m->path, "cannot flush the MBTiles file to disk");
		if (fd >= 0)
			close(fd);
	}
	mbtiles_abort(m);
	return rc;
}
