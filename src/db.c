#include "pc6risk/db.h"
#include "pc6risk/log.h"
#include "pc6risk/pgbin.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"
#include "pc6risk/xalloc.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct copy_sender;

struct db {
	PGconn *conn;
	PGcancel *cancel;
	char *schema;
	struct copy_sender *tx; /* sends a COPY's data while the caller makes more */
};

static bool copy_sender_stop(struct db *db);

/* The connection a signal cancels: the last one opened and not yet closed. */
static PGcancel *volatile cancel_on_signal;

/* Called from the signal handler: PQcancel is safe there. */
static void cancel_running_query(void)
{
	char buf[256];

	if (cancel_on_signal)
		PQcancel(cancel_on_signal, buf, sizeof buf);
}

struct db_result {
	PGresult *res;
};

/* A stable key for the database-wide migration lock ("pc6r" "migr"). */
#define MIGRATION_LOCK_KEY "7062435772656773"

static void notice(void *arg, const char *message)
{
	size_t n = strlen(message);

	(void)arg;
	while (n > 0 && message[n - 1] == '\n')
		n--;
	log_msg(LOG_DEBUG, "postgres: %.*s", (int)n, message);
}

/* Fill e from a failed result: primary message, SQLSTATE, detail, hint. */
static int fail_result(struct db *db, const PGresult *res, struct err *e)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

	if (state && strcmp(state, "57014") == 0 && signals_pending())
		return err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d; nothing was changed", signals_pending());
	if (!msg) {
		const char *m = PQerrorMessage(db->conn);
		size_t n = strcspn(m, "\n");

		err_set(e, ERR_DATABASE, NULL, "%.*s", (int)n, n ? m : "lost the database connection");
	} else {
		err_set(e, ERR_DATABASE, NULL, "%s", msg);
	}
	if (state)
		snprintf(e->sqlstate, sizeof e->sqlstate, "%s", state);
	if (detail)
		err_detail(e, "%s", detail);
	if (hint)
		err_hint(e, "%s", hint);
	return -1;
}

enum conn_kind { CONN_MAIN, CONN_AUX, CONN_PEER };

static struct db *connect_as(const char *schema, enum conn_kind kind, struct err *e)
{
	bool aux = kind == CONN_AUX;
	/* the aux connection gives up on an unreachable server after 5 s unless
	 * PGCONNECT_TIMEOUT says otherwise: /readyz must answer */
	const char *keys[] = {"fallback_application_name", "client_encoding", NULL, NULL};
	const char *vals[] = {aux ? "pc6risk daemon" : "pc6risk", "UTF8", NULL, NULL};
	struct db *db = xcalloc(1, sizeof *db);
	char *ident = NULL, *path = NULL;
	const char *params[1];

	if (aux && !getenv("PGCONNECT_TIMEOUT")) {
		keys[2] = "connect_timeout";
		vals[2] = "5";
	}
	db->conn = PQconnectdbParams(keys, vals, 0);
	db->schema = xstrdup(schema);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(db->conn);
		size_t n = strcspn(m, "\n");

		err_set(e, ERR_DATABASE, NULL, "cannot connect to PostgreSQL: %.*s", (int)n, m);
		err_hint(e, "point PGHOST and PGDATABASE (or PGSERVICE) at a PostgreSQL+PostGIS database; "
			    "`make demo` starts a throwaway one when none is set");
		db_close(db);
		return NULL;
	}
	PQsetNoticeProcessor(db->conn, notice, NULL);
	db->cancel = PQgetCancel(db->conn);
	if (kind == CONN_MAIN) {
		cancel_on_signal = db->cancel;
		signals_on_interrupt(cancel_running_query);
	}
	ident = PQescapeIdentifier(db->conn, schema, strlen(schema));
	if (!ident) {
		err_set(e, ERR_DATABASE, NULL, "cannot quote schema name \"%s\"", schema);
		db_close(db);
		return NULL;
	}
	path = xasprintf("%s, public", ident);
	PQfreemem(ident);
	params[0] = path;
	/* PostGIS may live in a schema of its own; keep it reachable. */
	if (db_execp(db,
		     "SELECT pg_catalog.set_config('search_path', $1 || coalesce("
		     " (SELECT ', ' || quote_ident(n.nspname) FROM pg_catalog.pg_extension x"
		     "  JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace"
		     "  WHERE x.extname = 'postgis' AND n.nspname <> 'public'), ''), false)",
		     1, params, e) < 0) {
		free(path);
		db_close(db);
		return NULL;
	}
	free(path);
	/* JIT compilation costs more than it saves on pc6risk's statements, most of
	 * which spend their time in PostGIS functions it cannot compile. */
	if (db_exec(db, aux ? "SET jit = off; SET statement_timeout = '10s'" : "SET jit = off", e) < 0) {
		db_close(db);
		return NULL;
	}
	return db;
}

struct db *db_connect(const char *schema, struct err *e)
{
	return connect_as(schema, CONN_MAIN, e);
}

struct db *db_connect_aux(const char *schema, struct err *e)
{
	return connect_as(schema, CONN_AUX, e);
}

struct db *db_connect_snapshot(struct db *db, struct err *e)
{
	struct db_result *r = db_query(db, "SELECT pg_export_snapshot()", 0, NULL, e);
	struct db *peer = NULL;
	char *lit = NULL, *sql = NULL;

	if (!r || !(peer = connect_as(db->schema, CONN_PEER, e)))
		goto out;
	lit = PQescapeLiteral(peer->conn, db_value(r, 0, 0), strlen(db_value(r, 0, 0)));
	if (!lit) {
		err_set(e, ERR_DATABASE, NULL, "cannot quote the snapshot name");
		goto fail;
	}
	/* SET TRANSACTION SNAPSHOT takes no parameter: the name is the server's, quoted */
	sql = xasprintf("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT %s", lit);
	if (db_exec(peer, sql, e) == 0)
		goto out;
fail:
	db_close(peer);
	peer = NULL;
out:
	if (lit)
		PQfreemem(lit);
	free(sql);
	db_result_free(r);
	return peer;
}

void db_cancel(struct db *db)
{
	char why[256];

	if (db && db->cancel)
		PQcancel(db->cancel, why, sizeof why);
}

bool db_ok(const struct db *db)
{
	return db && PQstatus(db->conn) == CONNECTION_OK;
}

int db_session_lock(struct db *db, const char *what, struct err *e)
{
	char *name = xasprintf("pc6risk:%s:%s", db->schema, what);
	const char *params[1] = {name};
	struct db_result *r = db_query(db, "SELECT pg_try_advisory_lock(hashtext($1))", 1, params, e);
	int rc;

	free(name);
	if (!r)
		return -1;
	rc = strcmp(db_value(r, 0, 0), "t") == 0;
	db_result_free(r);
	return rc;
}

void db_session_unlock(struct db *db, const char *what)
{
	char *name = xasprintf("pc6risk:%s:%s", db->schema, what);
	const char *params[1] = {name};
	struct err e;

	if (db_ok(db) && db_execp(db, "SELECT pg_advisory_unlock(hashtext($1))", 1, params, &e) < 0)
		log_msg(LOG_WARN, "cannot release the %s lock: %s", what, e.message);
	free(name);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (cancel_on_signal == db->cancel) {
		signals_on_interrupt(NULL);
		cancel_on_signal = NULL;
	}
	copy_sender_stop(db);
	PQfreeCancel(db->cancel);
	PQfinish(db->conn);
	free(db->schema);
	free(db);
}

const char *db_schema(const struct db *db)
{
	return db->schema;
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
	PGresult *res = PQexec(db->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = fail_result(db, res, e);
	PQclear(res);
	return rc;
}

long long db_execp(struct db *db, const char *sql, int nparams, const char *const *params, struct err *e)
{
	PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	long long n = 0;

	if (st == PGRES_TUPLES_OK)
		n = PQntuples(res);
	else if (st == PGRES_COMMAND_OK)
		n = atoll(PQcmdTuples(res));
	else
		n = fail_result(db, res, e);
	PQclear(res);
	return n;
}

static struct db_result *query(struct db *db, const char *sql, int nparams, const char *const *params, int format,
			       struct err *e)
{
	PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, format);
	struct db_result *r;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fail_result(db, res, e);
		PQclear(res);
		return NULL;
	}
	r = xmalloc(sizeof *r);
	r->res = res;
	return r;
}

struct db_result *db_query(struct db *db, const char *sql, int nparams, const char *const *params,
			   struct err *e)
{
	return query(db, sql, nparams, params, 0, e);
}

struct db_result *db_query_binary(struct db *db, const char *sql, int nparams, const char *const *params,
				  struct err *e)
{
	return query(db, sql, nparams, params, 1, e);
}

int db_nrows(const struct db_result *r)
{
	return PQntuples(r->res);
}

const char *db_value(const struct db_result *r, int row, int col)
{
	if (PQgetisnull(r->res, row, col))
		return NULL;
	return PQgetvalue(r->res, row, col);
}

size_t db_length(const struct db_result *r, int row, int col)
{
	return (size_t)PQgetlength(r->res, row, col);
}

void db_result_free(struct db_result *r)
{
	if (!r)
		return;
	PQclear(r->res);
	free(r);
}

struct db_keys {
	struct db_result *keys; /* table, name, definition: unique keys first, foreign keys last */
};

struct db_keys *db_keys_drop(struct db *db, const char *const *tables, size_t ntables, struct err *e)
{
	struct sbuf list = {0};
	const char *params[1];
	struct db_keys *k = xcalloc(1, sizeof *k);
	int rc = 0;

	db_text_array(&list, tables, ntables);
	params[0] = list.s;
	k->keys = db_query(db,
			   "WITH t AS (SELECT c.oid FROM pg_class c"
			   " WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relname = ANY($1::text[]))"
			   " SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)"
			   " FROM pg_constraint"
			   " WHERE (conrelid IN (SELECT oid FROM t) AND contype IN ('p', 'u', 'f'))"
			   "  OR (confrelid IN (SELECT oid FROM t) AND contype = 'f')"
			   " ORDER BY contype = 'f', conrelid::regclass::text, conname",
			   1, params, e);
	sbuf_free(&list);
	if (!k->keys) {
		free(k);
		return NULL;
	}
	for (int i = db_nrows(k->keys) - 1; i >= 0 && rc == 0; i--) {
		char *sql = xasprintf("ALTER TABLE %s DROP CONSTRAINT %s", db_value(k->keys, i, 0),
				      db_value(k->keys, i, 1));

		rc = db_exec(db, sql, e);
		free(sql);
	}
	if (rc < 0) {
		db_keys_free(k);
		return NULL;
	}
	return k;
}

int db_keys_restore(struct db *db, struct db_keys **kp, struct err *e)
{
	struct db_keys *k = *kp;
	int rc = 0;

	*kp = NULL;
	for (int i = 0; i < db_nrows(k->keys) && rc == 0; i++) {
		char *sql = xasprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", db_value(k->keys, i, 0),
				      db_value(k->keys, i, 1), db_value(k->keys, i, 2));

		rc = db_exec(db, sql, e);
		if (rc < 0)
			err_prefix(e, "rebuilding %s of %s", db_value(k->keys, i, 1), db_value(k->keys, i, 0));
		free(sql);
	}
	db_keys_free(k);
	return rc;
}

void db_keys_free(struct db_keys *k)
{
	if (!k)
		return;
	db_result_free(k->keys);
	free(k);
}

int db_begin(struct db *db, struct err *e)
{
	return db_exec(db, "BEGIN", e);
}

int db_commit(struct db *db, struct err *e)
{
	return db_exec(db, "COMMIT", e);
}

void db_rollback(struct db *db)
{
	PGresult *res;

	if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
}

/* COPY data goes in pieces of this size: libpq copies each piece into its
 * output buffer, which would otherwise grow to the whole payload (hundreds of
 * MB for a national score) and be faulted in page by page. */
#define COPY_PIECE (1 << 20)
/* Pieces waiting for the sender: enough to keep PostgreSQL busy while the
 * caller makes the next ones, little enough to keep memory flat. */
#define COPY_QUEUE 4

/*
 * A COPY's data is sent by a thread of its own. With one thread, making rows
 * and sending them take turns: a blocking PQputCopyData returns only once
 * the kernel has taken the piece, and a socket holds a few hundred KB, so the
 * server sat idle while the next MB was made and the caller sat idle while
 * the server read (a third of a national load was both waiting). With the
 * sender, the caller fills the next piece while PostgreSQL stores the last.
 * The connection is the sender's alone from db_copy_begin to db_copy_end.
 */
struct copy_piece {
	char *data;
	size_t len;
};

struct copy_sender {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	PGconn *conn;
	struct copy_piece queue[COPY_QUEUE]; /* waiting, oldest at head */
	int head, count;
	char *spare[COPY_QUEUE + 1];         /* emptied pieces, for reuse */
	int nspare;
	bool stop;   /* no more pieces will come */
	bool failed; /* PQputCopyData failed: the connection says why */
};

static void *copy_send(void *arg)
{
	struct copy_sender *t = arg;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		struct copy_piece p;
		bool ok;

		while (t->count == 0 && !t->stop)
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->count == 0)
			break;
		p = t->queue[t->head];
		pthread_mutex_unlock(&t->mu);
		/* after a failure the rest is dropped: db_copy_end reports it */
		ok = !t->failed && PQputCopyData(t->conn, p.data, (int)p.len) == 1;
		pthread_mutex_lock(&t->mu);
		t->head = (t->head + 1) % COPY_QUEUE;
		t->count--;
		if (!ok)
			t->failed = true;
		if (t->nspare < COPY_QUEUE + 1)
			t->spare[t->nspare++] = p.data;
		else
			free(p.data);
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Start the sender; without one (no thread to be had) db_copy_put sends itself. */
static void copy_sender_start(struct db *db)
{
	struct copy_sender *t = xcalloc(1, sizeof *t);
	sigset_t all, old;
	int rc;

	t->conn = db->conn;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	/* signals stay with the thread that handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->thread, NULL, copy_send, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		free(t);
		return;
	}
	db->tx = t;
}

/* Let the sender send what is queued and end; false if a send failed. */
static bool copy_sender_stop(struct db *db)
{
	struct copy_sender *t = db->tx;
	bool ok;

	if (!t)
		return true;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	ok = !t->failed;
	for (int i = 0; i < t->nspare; i++)
		free(t->spare[i]);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
	db->tx = NULL;
	return ok;
}

/* Queue one piece of at most COPY_PIECE bytes, waiting while the queue is full. */
static bool copy_sender_put(struct copy_sender *t, const char *data, size_t len)
{
	char *buf;
	bool ok;

	pthread_mutex_lock(&t->mu);
	while (t->count == COPY_QUEUE && !t->failed)
		pthread_cond_wait(&t->cv, &t->mu);
	ok = !t->failed;
	buf = ok && t->nspare > 0 ? t->spare[--t->nspare] : NULL;
	pthread_mutex_unlock(&t->mu);
	if (!ok)
		return false;
	if (!buf)
		buf = xmalloc(COPY_PIECE);
	memcpy(buf, data, len);
	pthread_mutex_lock(&t->mu);
	t->queue[(t->head + t->count) % COPY_QUEUE] = (struct copy_piece){buf, len};
	t->count++;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	return true;
}

int db_copy_begin(struct db *db, const char *sql, struct err *e)
{
	PGresult *res = PQexec(db->conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN)
		rc = fail_result(db, res, e);
	PQclear(res);
	if (rc == 0)
		copy_sender_start(db);
	return rc;
}

int db_copy_put(struct db *db, const char *data, size_t len, struct err *e)
{
	while (len > 0) {
		size_t n = len > COPY_PIECE ? COPY_PIECE : len;

		if (db->tx ? !copy_sender_put(db->tx, data, n) : PQputCopyData(db->conn, data, (int)n) != 1) {
			copy_sender_stop(db);
			return fail_result(db, NULL, e);
		}
		data += n;
		len -= n;
	}
	return 0;
}

int db_copy_flush(struct db *db, struct sbuf *rows, size_t least, struct err *e)
{
	if (rows->len == 0 || rows->len < least)
		return 0;
	if (db_copy_put(db, rows->s, rows->len, e) < 0)
		return -1;
	sbuf_reset(rows);
	return 0;
}

int db_copy_end(struct db *db, struct err *e)
{
	PGresult *res;
	int rc = 0;

	if (!copy_sender_stop(db))
		rc = fail_result(db, NULL, e);
	if (PQputCopyEnd(db->conn, NULL) != 1)
		return rc < 0 ? rc : fail_result(db, NULL, e);
	while ((res = PQgetResult(db->conn)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = fail_result(db, res, e);
		PQclear(res);
	}
	return rc;
}

/* COPY ... TO STDOUT: each CopyData message to msg (until it fails), then
 * the statement's result. */
static int copy_out(struct db *db, const char *sql, int (*msg)(char *buf, size_t n, void *arg, struct err *e),
		    void *arg, struct err *e)
{
	PGresult *res = PQexec(db->conn, sql);
	char *buf;
	int n, rc = 0;

	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		rc = fail_result(db, res, e);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	while ((n = PQgetCopyData(db->conn, &buf, 0)) > 0) {
		if (rc == 0)
			rc = msg(buf, (size_t)n, arg, e);
		PQfreemem(buf);
	}
	if (n == -2 && rc == 0)
		rc = fail_result(db, NULL, e);
	while ((res = PQgetResult(db->conn)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = fail_result(db, res, e);
		PQclear(res);
	}
	return rc < 0 ? -1 : rc;
}

/* A text COPY sends a row per message: the row without its newline. */
struct text_out {
	int (*fn)(char *row, size_t len, void *arg, struct err *e);
	void *arg;
};

static int text_row(char *buf, size_t len, void *arg, struct err *e)
{
	struct text_out *t = arg;

	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return t->fn(buf, len, t->arg, e);
}

int db_copy_out(struct db *db, const char *sql, int (*fn)(char *row, size_t len, void *arg, struct err *e),
		void *arg, struct err *e)
{
	struct text_out t = {fn, arg};

	return copy_out(db, sql, text_row, &t, e);
}

/* Split one CopyData message of a binary COPY into its rows: the header
 * before the first, the trailer after the last. The server sends a row per
 * message, but nothing here relies on more than a row not being split. */
static int copy_binary_message(const unsigned char *p, size_t n, bool *header, bool *ended,
			       int (*fn)(const unsigned char *, size_t, void *, struct err *), void *arg, struct err *e)
{
	static const unsigned char signature[11] = "PGCOPY\n\377\r\n";

	if (!*header) {
		/* signature, flags, then the length of a header extension and it */
		size_t skip = n < 19 ? 0 : 19 + (uint32_t)pgbin_get_int4(p + 15);

		if (skip == 0 || memcmp(p, signature, sizeof signature) != 0 || n < skip)
			return err_set(e, ERR_INTERNAL, NULL, "binary COPY from the server began without its header");
		n -= skip;
		p += skip;
		*header = true;
	}
	while (n > 0 && !*ended) {
		struct pgbin_reader r;
		const unsigned char *field;
		int16_t nf;

		if (n < 2)
			return err_set(e, ERR_INTERNAL, NULL, "a binary COPY row from the server was cut short");
		nf = pgbin_get_int2(p);
		if (nf < 0) {
			*ended = true;
			break;
		}
		pgbin_read(&r, p + 2, n - 2);
		for (int i = 0; i < nf; i++)
			pgbin_field(&r, &field);
		if (r.bad)
			return err_set(e, ERR_INTERNAL, NULL, "a binary COPY row from the server was cut short");
		if (fn(p + 2, (size_t)(r.p - (p + 2)), arg, e) != 0)
			return -1;
		n -= (size_t)(r.p - p);
		p = r.p;
	}
	return 0;
}

struct binary_out {
	int (*fn)(const unsigned char *row, size_t len, void *arg, struct err *e);
	void *arg;
	bool header, ended;
};

static int binary_message(char *buf, size_t n, void *arg, struct err *e)
{
	struct binary_out *b = arg;

	return copy_binary_message((const unsigned char *)buf, n, &b->header, &b->ended, b->fn, b->arg, e);
}

int db_copy_out_binary(struct db *db, const char *sql, int (*fn)(const unsigned char *row, size_t len, void *arg,
								  struct err *e),
		       void *arg, struct err *e)
{
	struct binary_out b = {fn, arg, false, false};

	return copy_out(db, sql, binary_message, &b, e);
}

void db_text_array(struct sbuf *b, const char *const *v, size_t n)
{
	sbuf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		sbuf_puts(b, i ? ",\"" : "\"");
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				sbuf_putc(b, '\\');
			sbuf_putc(b, *p);
		}
		sbuf_putc(b, '"');
	}
	sbuf_putc(b, '}');
}

void db_copy_field(struct sbuf *row, const char *s)
{
	const char *p, *run;

	if (!s) {
		sbuf_puts(row, "\\N");
		return;
	}
	for (p = run = s; *p; p++) {
		const char *esc = NULL;

		switch (*p) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		default: continue;
		}
		sbuf_append(row, run, (size_t)(p - run));
		sbuf_puts(row, esc);
		run = p + 1;
	}
	sbuf_append(row, run, (size_t)(p - run));
}

int db_client_version(void)
{
	return PQlibVersion();
}

int db_latest_version(void)
{
	int v = 0;

	for (size_t i = 0; i < db_nmigrations; i++)
		if (db_migrations[i].version > v)
			v = db_migrations[i].version;
	return v;
}

/* Take the migration lock and make sure the schema and its ledger exist. */
static int migration_begin(struct db *db, struct err *e)
{
	char *ident, *sql;
	int rc;

	if (db_begin(db, e) < 0)
		return -1;
	if (db_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", e) < 0)
		return -1;
	ident = PQescapeIdentifier(db->conn, db->schema, strlen(db->schema));
	if (!ident)
		return fail_result(db, NULL, e);
	sql = xasprintf("CREATE SCHEMA IF NOT EXISTS %s;"
			"CREATE TABLE IF NOT EXISTS %s.schema_migration ("
			" version integer PRIMARY KEY,"
			" name text NOT NULL,"
			" checksum text NOT NULL,"
			" applied_at timestamptz NOT NULL DEFAULT now())",
			ident, ident);
	PQfreemem(ident);
	rc = db_exec(db, sql, e);
	free(sql);
	return rc;
}

int db_migrate(struct db *db, int *applied, struct err *e)
{
	*applied = 0;
	for (size_t i = 0; i < db_nmigrations; i++) {
		const struct db_migration *m = &db_migrations[i];
		char version[16];
		const char *params[3];
		struct db_result *r;
		bool done, same = true;

		snprintf(version, sizeof version, "%d", m->version);
		params[0] = version;
		params[1] = m->name;
		params[2] = m->sql;
		if (migration_begin(db, e) < 0)
			goto fail;
		r = db_query(db, "SELECT checksum = md5($2) FROM schema_migration WHERE version = $1::int", 2,
			     (const char *[]){version, m->sql}, e);
		if (!r)
			goto fail;
		done = db_nrows(r) == 1;
		if (done)
			same = strcmp(db_value(r, 0, 0), "t") == 0;
		db_result_free(r);
		if (done && !same) {
			err_set(e, ERR_DATABASE, m->name, "migration %d was changed after it was applied to schema \"%s\"",
				m->version, db->schema);
			err_hint(e, "migrations are append-only: put the change in a new sql/NNN_*.sql file");
			goto fail;
		}
		if (!done) {
			if (db_exec(db, m->sql, e) < 0) {
				err_prefix(e, "migration %s", m->name);
				goto fail;
			}
			if (db_execp(db, "INSERT INTO schema_migration (version, name, checksum) VALUES ($1::int, $2, md5($3))",
				     3, params, e) < 0)
				goto fail;
			log_msg(LOG_INFO, "applied migration %s schema=%s", m->name, db->schema);
			(*applied)++;
		}
		if (db_commit(db, e) < 0)
			goto fail;
	}
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int db_check_schema(struct db *db, struct err *e)
{
	const char *params[1] = {db->schema};
	struct db_result *r;
	int have, want = db_latest_version();

	r = db_query(db, "SELECT to_regclass(quote_ident($1) || '.schema_migration') IS NOT NULL", 1, params, e);
	if (!r)
		return -1;
	have = strcmp(db_value(r, 0, 0), "t") == 0;
	db_result_free(r);
	if (have) {
		r = db_query(db, "SELECT coalesce(max(version), 0) FROM schema_migration", 0, NULL, e);
		if (!r)
			return -1;
		have = atoi(db_value(r, 0, 0));
		db_result_free(r);
	}
	if (have < want) {
		err_set(e, ERR_DATABASE, NULL, "schema \"%s\" is at version %d, this pc6risk needs version %d",
			db->schema, have, want);
		return err_hint(e, "run `pc6risk init` (with the same --config or --schema) to apply the migrations");
	}
	if (have > want) {
		err_set(e, ERR_DATABASE, NULL, "schema \"%s\" is at version %d, newer than this pc6risk knows (%d)",
			db->schema, have, want);
		return err_hint(e, "use a newer pc6risk with this database");
	}
	return 0;
}

int db_lock(struct db *db, const char *what, bool wait, struct err *e)
{
	char *name = xasprintf("pc6risk:%s:%s", db->schema, what);
	const char *params[1] = {name};
	struct db_result *r;
	int rc = 0;

	r = db_query(db,
		     wait ? "SELECT pg_advisory_xact_lock(hashtext($1)), true"
			  : "SELECT 0, pg_try_advisory_xact_lock(hashtext($1))",
		     1, params, e);
	if (!r) {
		free(name);
		return -1;
	}
	if (strcmp(db_value(r, 0, 1), "t") != 0) {
		rc = err_set(e, ERR_DATABASE, NULL, "another pc6risk %s is running on schema \"%s\"", what, db->schema);
		err_hint(e, "wait for it to finish, or find it in pg_stat_activity (application_name pc6risk)");
	}
	db_result_free(r);
	free(name);
	return rc;
}
