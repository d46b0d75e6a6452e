/*
 * db — the door to PostgreSQL: connect, run statements with parameters, COPY,
 * migrations, advisory locks.
 *
 * The only module that includes libpq-fe.h. A struct db is a connection whose
 * search_path puts the configured schema first and then public (where PostGIS
 * lives), so SQL here and in sql/ names its tables without a schema. db_connect
 * returns what the caller frees with db_close; db_query returns a result the
 * caller frees with db_result_free; value strings stay valid until then.
 * Errors from PostgreSQL carry their SQLSTATE, detail and hint.
 */
#ifndef PC6RISK_DB_H
#define PC6RISK_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "pc6risk/err.h"

struct db;
struct db_result;

/* One numbered migration from sql/NNN_name.sql, embedded at build time. */
struct db_migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct db_migration db_migrations[];
extern const size_t db_nmigrations;

/* Connect with the libpq environment (PGHOST, PGDATABASE, PGSERVICE, ...) and
 * put schema first on the search_path. NULL with e filled on failure. */
struct db *db_connect(const char *schema, struct err *e);
void db_close(struct db *db);

/* A second connection beside the working one (the daemon's, for /readyz,
 * /metrics and /runs): SIGTERM does not cancel its queries, connecting gives
 * up after 5 s (unless PGCONNECT_TIMEOUT says otherwise) and a statement
 * after 10 s. */
struct db *db_connect_aux(const char *schema, struct err *e);

/* A second connection that reads what db's open transaction reads (its
 * snapshot, exported and imported, REPEATABLE READ, READ ONLY), for work done
 * beside db's on another thread; SIGTERM does not cancel its queries (the
 * caller stops it with db_cancel). Close it before db's transaction ends. */
struct db *db_connect_snapshot(struct db *db, struct err *e);

/* Ask the server to cancel the statement running on db, if any (any thread). */
void db_cancel(struct db *db);

/* Is the connection still up? False after the server went away. */
bool db_ok(const struct db *db);

const char *db_schema(const struct db *db);

/* Run static SQL (no parameters; may hold several statements). */
int db_exec(struct db *db, const char *sql, struct err *e);

/* Run one statement with text parameters (NULL entries are SQL NULL). Returns
 * the number of rows it affected or returned, or -1. */
long long db_execp(struct db *db, const char *sql, int nparams, const char *const *params, struct err *e);

/* Run one query with text parameters and keep its rows. NULL on failure. */
struct db_result *db_query(struct db *db, const char *sql, int nparams, const char *const *params,
			   struct err *e);
/* The same with its rows in binary format: text, varchar and bytea values
 * arrive as their bytes (bytea without hex), numbers in network byte order.
 * db_value still ends each value with a NUL; db_length gives its length. */
struct db_result *db_query_binary(struct db *db, const char *sql, int nparams, const char *const *params,
				  struct err *e);
int db_nrows(const struct db_result *r);
/* The text of a value, or NULL for SQL NULL. */
const char *db_value(const struct db_result *r, int row, int col);
size_t db_length(const struct db_result *r, int row, int col);
void db_result_free(struct db_result *r);

int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
/* Roll back whatever transaction is open; never fails (a broken connection
 * rolls back on its own). */
void db_rollback(struct db *db);

/* COPY ... FROM STDIN in text format: begin, put rows (each ending in '\n'), end. */
int db_copy_begin(struct db *db, const char *sql, struct err *e);
int db_copy_put(struct db *db, const char *data, size_t len, struct err *e);
int db_copy_end(struct db *db, struct err *e);

/* Rows are made into an sbuf and sent in batches of about this size, so the
 * server stores one while the next is made and memory stays flat. */
#define DB_COPY_BATCH (1 << 20)

/* Send what rows holds once it is at least `least` bytes (0: whatever it
 * holds, to finish), and empty it. */
struct sbuf;
int db_copy_flush(struct db *db, struct sbuf *rows, size_t least, struct err *e);

/* COPY ... TO STDOUT in text format: call fn for each row (without its
 * newline; the text is the callee's only during the call). A non-zero return
 * from fn stops with that as the error (fn fills e). */
int db_copy_out(struct db *db, const char *sql, int (*fn)(char *row, size_t len, void *arg, struct err *e),
		void *arg, struct err *e);

/* COPY ... TO STDOUT WITH (FORMAT binary): call fn for each row with its
 * fields (what follows the row's field count; read them with pgbin_read and
 * pgbin_field), valid only during the call. A non-zero return from fn stops
 * with that as the error. Numbers and arrays come as stored: no text to
 * format on the server and none to parse here. */
int db_copy_out_binary(struct db *db, const char *sql,
		       int (*fn)(const unsigned char *row, size_t len, void *arg, struct err *e), void *arg,
		       struct err *e);

/* Append s to a COPY text row with tab, newline, carriage return and backslash
 * escaped; NULL appends \N. */
struct sbuf;
void db_copy_field(struct sbuf *row, const char *s);

/* Append an array literal of the n strings (each quoted, with '"' and backslash
 * escaped), for a text[] parameter: "... = ANY($1::text[])". */
void db_text_array(struct sbuf *b, const char *const *v, size_t n);

/* The primary, unique and foreign keys of some tables of the schema (and the
 * foreign keys of other tables that point at them), dropped while many rows go
 * in and added again at the end: one build is cheaper than keeping a key up
 * row by row. Use inside a transaction, on tables emptied in it; rows that
 * break a key fail db_keys_restore, naming the key. db_keys_drop returns what
 * to give db_keys_restore, or NULL; db_keys_restore frees it (also on failure)
 * and sets *k to NULL, so db_keys_free(*k) on a way out is always right. */
struct db_keys;
struct db_keys *db_keys_drop(struct db *db, const char *const *tables, size_t ntables, struct err *e);
int db_keys_restore(struct db *db, struct db_keys **k, struct err *e);
void db_keys_free(struct db_keys *k);

/* Apply the embedded migrations not yet recorded in schema_migration, each in
 * its own transaction, under a database-wide advisory lock. *applied counts
 * the ones applied now. A recorded migration whose text changed is an error. */
int db_migrate(struct db *db, int *applied, struct err *e);

/* Check that the schema is at the version this build expects; the error says
 * to run `pc6risk init` when it is behind. */
int db_check_schema(struct db *db, struct err *e);

/* The libpq version as an integer (150018 for 15.18). */
int db_client_version(void);

/* The highest migration version this build knows. */
int db_latest_version(void);

/* Take a transaction-scoped advisory lock named by the schema and what.
 * With wait false, fail at once (ERR_DATABASE) when another session holds it. */
int db_lock(struct db *db, const char *what, bool wait, struct err *e);

/* Try a session-scoped advisory lock of the same kind, held until
 * db_session_unlock or the end of the connection (also when the process
 * dies): 1 taken, 0 another session holds it, -1 error. */
int db_session_lock(struct db *db, const char *what, struct err *e);
void db_session_unlock(struct db *db, const char *what);

#endif
