#include "pc6risk/daemon.h"
#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/http.h"
#include "pc6risk/log.h"
#include "pc6risk/run.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/schedule.h"
#include "pc6risk/signals.h"
#include "pc6risk/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct daemon {
	const struct daemon_opts *o;
	/* mu guards cfg (the main thread swaps it; HTTP threads read it) and
	 * status (the HTTP documents' own connection) */
	pthread_mutex_t mu;
	struct config *cfg;
	struct db *status;
	struct http *http;
	atomic_bool refreshing;
	atomic_llong next_at;  /* the next scheduled refresh, or -1 */
	atomic_llong retry_at; /* the retry after a failure, or 0 */
};

/* daemon.stop_timeout, as the last (re)load said: the watchdog reads it */
static atomic_llong stop_timeout;

static const char *schema_of(const struct daemon *d)
{
	return d->o->schema ? d->o->schema : d->cfg->schema;
}

static const char *out_of(const struct daemon *d)
{
	return d->o->out_dir ? d->o->out_dir : d->cfg->out_dir;
}

/* Tell systemd (Type=notify) how we are; nothing without NOTIFY_SOCKET. */
static void notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa, len) < 0)
		log_msg(LOG_DEBUG, "cannot notify systemd: %s", strerror(errno));
	close(fd);
}

static void format_time(long long t, char *buf, size_t n)
{
	if (t < 0)
		snprintf(buf, n, "never");
	else
		schedule_format((time_t)t, buf, n);
}

/* Run one query on the documents' connection, connecting again when the
 * server went away. Called with d->mu held. */
static struct db_result *status_query(struct daemon *d, const char *sql, struct err *e)
{
	if (d->status && !db_ok(d->status)) {
		db_close(d->status);
		d->status = NULL;
	}
	if (!d->status && !(d->status = db_connect_aux(schema_of(d), e)))
		return NULL;
	return db_query(d->status, sql, 0, NULL, e);
}

static const char last_good_sql[] =
	"SELECT id, status, to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" floor(extract(epoch FROM clock_timestamp() - finished_at))::bigint, release"
	" FROM run WHERE command = 'refresh' AND status IN ('succeeded', 'skipped') ORDER BY id DESC LIMIT 1";

/* /readyz: ready when the last good refresh is younger than
 * daemon.ready_max_age and the database answers. */
static int doc_readyz(struct daemon *d, struct sbuf *b)
{
	struct err e;
	struct db_result *r = status_query(d, last_good_sql, &e);
	char next[48];
	int code = 200;

	format_time(atomic_load(&d->next_at), next, sizeof next);
	sbuf_puts(b, "{");
	if (!r) {
		code = 503;
		sbuf_puts(b, "\"ready\": false, \"reason\": ");
		sbuf_json_string(b, "the database is unreachable");
		sbuf_puts(b, ", \"error\": ");
		sbuf_json_string(b, e.message);
	} else if (db_nrows(r) == 0) {
		code = 503;
		sbuf_puts(b, "\"ready\": false, \"reason\": \"no refresh has succeeded yet\"");
	} else {
		long long age = atoll(db_value(r, 0, 3));

		if (age > d->cfg->daemon.ready_max_age)
			code = 503;
		sbuf_printf(b, "\"ready\": %s", code == 200 ? "true" : "false");
		if (code != 200)
			sbuf_printf(b, ", \"reason\": \"the last good refresh is older than %llds (daemon.ready_max_age)\"",
				    d->cfg->daemon.ready_max_age);
		sbuf_printf(b, ", \"last_good_run\": {\"id\": %s, \"status\": \"%s\", \"finished_at\": \"%s\","
			       " \"age_seconds\": %lld, \"release\": ",
			    db_value(r, 0, 0), db_value(r, 0, 1), db_value(r, 0, 2), age);
		sbuf_json_string(b, db_value(r, 0, 4) ? db_value(r, 0, 4) : "");
		sbuf_puts(b, "}");
	}
	sbuf_printf(b, ", \"refreshing\": %s, \"next_refresh\": ", atomic_load(&d->refreshing) ? "true" : "false");
	sbuf_json_string(b, next);
	sbuf_puts(b, "}\n");
	db_result_free(r);
	return code;
}

/* One gauge: "# HELP", "# TYPE" and the value (NULL text: no sample). */
static void gauge(struct sbuf *b, const char *name, const char *help, const char *value)
{
	sbuf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	if (value && value[0])
		sbuf_printf(b, "%s %s\n", name, value);
}

static const char metrics_sql[] =
	"WITH last AS (SELECT * FROM run WHERE command = 'refresh' AND status <> 'running' ORDER BY id DESC LIMIT 1),"
	" good AS (SELECT * FROM run WHERE command = 'refresh' AND status IN ('succeeded', 'skipped')"
	"  ORDER BY id DESC LIMIT 1),"
	" made AS (SELECT * FROM run WHERE command = 'refresh' AND status = 'succeeded' ORDER BY id DESC LIMIT 1)"
	" SELECT last.status,"
	"  round(extract(epoch FROM last.finished_at - last.started_at), 3),"
	"  floor(extract(epoch FROM last.finished_at)),"
	"  floor(extract(epoch FROM good.finished_at)),"
	"  made.counts->>'values_loaded', made.counts->>'groups',"
	"  made.counts->>'figures_suppressed_primary', made.counts->>'figures_suppressed_secondary',"
	"  made.counts->>'merged_pc6', made.counts->>'merged_buurten',"
	"  made.counts->>'tiles_written', made.counts->>'tiles_reused', made.counts->>'features_written',"
	"  CASE WHEN last.status = 'failed' AND last.error_message LIKE 'the release fails its disclosure audit%'"
	"   THEN '0' WHEN made.counts ? 'audited_figures' THEN '1' END,"
	"  made.counts->>'audited_figures',"
	"  (SELECT count(*) FROM run WHERE command = 'refresh' AND status = 'succeeded'),"
	"  (SELECT count(*) FROM run WHERE command = 'refresh' AND status = 'skipped'),"
	"  (SELECT count(*) FROM run WHERE command = 'refresh' AND status = 'failed')"
	" FROM (SELECT 1) one LEFT JOIN last ON true LEFT JOIN good ON true LEFT JOIN made ON true";

/* /metrics in the Prometheus text format (0.0.4). */
static int doc_metrics(struct daemon *d, struct sbuf *b)
{
	static const char *const statuses[] = {"succeeded", "skipped", "failed"};
	struct err e;
	struct db_result *r = status_query(d, metrics_sql, &e);
	char num[32];

	gauge(b, "pc6risk_database_up", "1 when the daemon's database answers", r ? "1" : "0");
	snprintf(num, sizeof num, "%d", atomic_load(&d->refreshing) ? 1 : 0);
	gauge(b, "pc6risk_refreshing", "1 while a refresh runs in this daemon", num);
	snprintf(num, sizeof num, "%lld", (long long)atomic_load(&d->next_at));
	gauge(b, "pc6risk_next_refresh_timestamp_seconds", "when the next scheduled refresh is due (-1: none)", num);
	if (r) {
		const char *last = db_value(r, 0, 0);

		sbuf_puts(b, "# HELP pc6risk_last_run_status the status of the last finished refresh (1 for it)\n"
			     "# TYPE pc6risk_last_run_status gauge\n");
		for (size_t i = 0; last && i < sizeof statuses / sizeof *statuses; i++)
			sbuf_printf(b, "pc6risk_last_run_status{status=\"%s\"} %d\n", statuses[i],
				    strcmp(last, statuses[i]) == 0);
		gauge(b, "pc6risk_last_run_duration_seconds", "how long the last finished refresh took", db_value(r, 0, 1));
		gauge(b, "pc6risk_last_run_timestamp_seconds", "when the last refresh finished", db_value(r, 0, 2));
		gauge(b, "pc6risk_last_success_timestamp_seconds",
		      "when the last refresh finished that succeeded or found nothing to do", db_value(r, 0, 3));
		gauge(b, "pc6risk_rows_loaded", "indicator values loaded by the last refresh that published",
		      db_value(r, 0, 4));
		gauge(b, "pc6risk_groups_published", "PC6 groups published by the last refresh that published",
		      db_value(r, 0, 5));
		sbuf_puts(b, "# HELP pc6risk_cells_suppressed counts hidden by the last refresh that published\n"
			     "# TYPE pc6risk_cells_suppressed gauge\n");
		if (db_value(r, 0, 6))
			sbuf_printf(b, "pc6risk_cells_suppressed{kind=\"primary\"} %s\n"
				       "pc6risk_cells_suppressed{kind=\"secondary\"} %s\n",
				    db_value(r, 0, 6), db_value(r, 0, 7));
		sbuf_puts(b, "# HELP pc6risk_areas_merged areas merged into a larger published unit\n"
			     "# TYPE pc6risk_areas_merged gauge\n");
		if (db_value(r, 0, 8))
			sbuf_printf(b, "pc6risk_areas_merged{level=\"pc6\"} %s\npc6risk_areas_merged{level=\"buurt\"} %s\n",
				    db_value(r, 0, 8), db_value(r, 0, 9));
		gauge(b, "pc6risk_tiles_written", "tiles encoded by the last refresh that published", db_value(r, 0, 10));
		gauge(b, "pc6risk_tiles_reused", "tiles taken unchanged from the release before", db_value(r, 0, 11));
		gauge(b, "pc6risk_features_written", "features in the files of the last refresh that published",
		      db_value(r, 0, 12));
		gauge(b, "pc6risk_audit_passed", "1 when the last audited release passed its disclosure audit, 0 when"
						 " the last refresh failed its audit",
		      db_value(r, 0, 13));
		gauge(b, "pc6risk_audited_figures", "figures the last audit checked", db_value(r, 0, 14));
		sbuf_puts(b, "# HELP pc6risk_refreshes_total refreshes in the run ledger by status\n"
			     "# TYPE pc6risk_refreshes_total counter\n");
		for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
			sbuf_printf(b, "pc6risk_refreshes_total{status=\"%s\"} %s\n", statuses[i], db_value(r, 0, 15 + (int)i));
	}
	db_result_free(r);
	http_metrics(d->http, b);
	return 200;
}

static const char runs_sql[] =
	"SELECT coalesce(json_agg(r ORDER BY r.id DESC), '[]') FROM ("
	" SELECT id, command, trigger, host, status, started_at, finished_at,"
	"  round(extract(epoch FROM finished_at - started_at), 3) AS seconds, release, input_fingerprint,"
	"  config_hash, inputs, counts, error_class, error_where, error_sqlstate, error_message, error_detail"
	" FROM run ORDER BY id DESC LIMIT 100) r";

static int doc_runs(struct daemon *d, struct sbuf *b)
{
	struct err e;
	struct db_result *r = status_query(d, runs_sql, &e);

	if (!r) {
		sbuf_puts(b, "{\"error\": ");
		sbuf_json_string(b, e.message);
		sbuf_puts(b, "}\n");
		return 503;
	}
	sbuf_puts(b, db_value(r, 0, 0));
	sbuf_putc(b, '\n');
	db_result_free(r);
	return 200;
}

/* The HTTP server's callback for /readyz, /metrics and /runs. */
static int doc(void *ctx, enum http_doc which, struct sbuf *body, const char **type)
{
	struct daemon *d = ctx;
	int code = 404;

	pthread_mutex_lock(&d->mu);
	switch (which) {
	case HTTP_READYZ:
		*type = "application/json";
		code = doc_readyz(d, body);
		break;
	case HTTP_METRICS:
		*type = "text/plain; version=0.0.4; charset=utf-8";
		code = doc_metrics(d, body);
		break;
	case HTTP_RUNS:
		*type = "application/json";
		code = doc_runs(d, body);
		break;
	}
	pthread_mutex_unlock(&d->mu);
	return code;
}

/* Start the HTTP server for cfg. Signals stay with the main thread: the
 * server's threads are made with them blocked. */
static struct http *start_http(struct daemon *d, const struct config *cfg, struct err *e)
{
	const struct config_daemon *c = &cfg->daemon;
	struct http_opts ho = {
		.listen = d->o->listen ? d->o->listen : c->listen,
		.out_dir = d->o->out_dir ? d->o->out_dir : cfg->out_dir,
		.cors_origin = c->cors_origin,
		.public_url = c->public_url,
		.threads = (unsigned)c->threads,
		.max_connections = (unsigned)c->max_connections,
		.doc = doc,
		.ctx = d,
	};
	sigset_t block, old;
	struct http *h;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	h = http_start(&ho, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h)
		log_msg(LOG_INFO, "serving %s over http port=%d listen=%s", ho.out_dir, http_port(h), ho.listen);
	return h;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Do two configs serve HTTP the same way? */
static bool same_http(const struct config *a, const struct config *b)
{
	return same_text(a->daemon.listen, b->daemon.listen) && same_text(a->daemon.cors_origin, b->daemon.cors_origin) &&
	       same_text(a->daemon.public_url, b->daemon.public_url) && a->daemon.threads == b->daemon.threads &&
	       a->daemon.max_connections == b->daemon.max_connections && same_text(a->out_dir, b->out_dir);
}

/* When the next scheduled refresh is due after now (-1: never). */
static long long next_due(const struct daemon *d, time_t now, time_t last_start)
{
	time_t t = schedule_next(&d->cfg->daemon.schedule, now, last_start);

	return t == (time_t)-1 ? -1 : (long long)t;
}

/* SIGHUP: read the config again; keep the old one when the new one is bad or
 * its HTTP address cannot be taken. */
static void reload(struct daemon *d, time_t last_start)
{
	struct err e;
	struct config *cfg;
	char where[1600], sched[64];

	notify("RELOADING=1");
	if (!(cfg = config_load(d->o->config_path, &e))) {
		err_format(&e, where, sizeof where);
		log_msg(LOG_ERROR, "config reload failed; the old config stays in force: %s", where);
		notify("READY=1");
		return;
	}
	if (!same_http(d->cfg, cfg)) {
		struct http *h;

		/* the address may be the same one: free it first, and take the old
		 * settings back if the new ones cannot be served */
		http_stop(d->http);
		d->http = NULL;
		if (!(h = start_http(d, cfg, &e))) {
			err_format(&e, where, sizeof where);
			log_msg(LOG_ERROR, "config reload failed; the old config stays in force: %s", where);
			d->http = start_http(d, d->cfg, &e);
			if (!d->http)
				log_msg(LOG_ERROR, "cannot serve the old address again either: %s", e.message);
			config_free(cfg);
			notify("READY=1");
			return;
		}
		d->http = h;
	}
	pthread_mutex_lock(&d->mu);
	if (!d->o->schema && strcmp(cfg->schema, d->cfg->schema) != 0) {
		db_close(d->status);
		d->status = NULL;
	}
	config_free(d->cfg);
	d->cfg = cfg;
	pthread_mutex_unlock(&d->mu);
	atomic_store(&stop_timeout, cfg->daemon.stop_timeout);
	atomic_store(&d->next_at, next_due(d, time(NULL), last_start));
	schedule_describe(&cfg->daemon.schedule, sched, sizeof sched);
	log_msg(LOG_INFO, "config reloaded from %s schedule=\"%s\"", d->o->config_path, sched);
	notify("READY=1");
}

/* One recorded refresh: 0 done or skipped (also when another process holds
 * the refresh lock), -1 failed (logged and recorded). */
static int refresh(struct daemon *d, const char *trigger, struct err *e)
{
	struct run_counts counts = {0};
	struct db *db = db_connect(schema_of(d), e);
	long long id = 0;
	int applied, got, rc = -1;

	if (!db)
		return -1;
	if (db_migrate(db, &applied, e) < 0)
		goto out;
	if ((got = db_session_lock(db, "refresh", e)) < 0)
		goto out;
	if (got == 0) {
		log_msg(LOG_INFO, "refresh not started: another process is refreshing schema %s trigger=%s",
			db_schema(db), trigger);
		rc = 0;
		goto out;
	}
	if (run_begin(db, "refresh", trigger, &id, e) < 0)
		goto out;
	{
		struct run_opts ro = {
			.load = {.run_id = id, .rejects_path = "pc6risk-rejects.csv"},
			.compare = {.draws = d->cfg->compare_draws, .seed = d->cfg->compare_seed},
			.publish = {.out_dir = d->o->out_dir, .run_id = id, .minzoom = -1, .maxzoom = -1},
		};

		rc = run_refresh(db, d->cfg, &ro, false, &counts, e);
	}
	run_end(db, id, &counts, rc < 0 ? e : NULL);
out:
	db_close(db);
	return rc;
}

/* After SIGTERM: give the current step stop_timeout seconds to roll back. */
static void *watchdog(void *arg)
{
	struct timespec tick = {0, 100 * 1000 * 1000};
	time_t since = 0;

	(void)arg;
	for (;;) {
		long long limit = atomic_load(&stop_timeout);

		nanosleep(&tick, NULL);
		if (!signals_pending())
			continue;
		if (!since)
			since = time(NULL);
		if (time(NULL) - since > limit) {
			/* the previous publication is intact whatever the step was doing;
			 * the run stays "running" until the next run closes it */
			log_msg(LOG_WARN, "the refresh did not stop within %llds (daemon.stop_timeout); exiting without it",
				limit);
			_exit(0);
		}
	}
	return NULL;
}

int daemon_run(const struct daemon_opts *o, struct err *e)
{
	struct daemon d = {.o = o};
	struct timespec tick = {0, 200 * 1000 * 1000};
	long long backoff;
	char next[48], sched[64], cur[PATH_MAX];
	time_t last_start = 0;
	pthread_t dog;
	bool now;
	int rc = -1;

	if (!(d.cfg = config_load(o->config_path, e)))
		return -1;
	pthread_mutex_init(&d.mu, NULL);
	atomic_init(&d.refreshing, false);
	atomic_init(&d.retry_at, 0);
	signals_install_daemon();
	if (!(d.http = start_http(&d, d.cfg, e)))
		goto out;
	atomic_store(&stop_timeout, d.cfg->daemon.stop_timeout);
	if (pthread_create(&dog, NULL, watchdog, NULL) != 0) {
		err_set(e, ERR_SYSTEM, NULL, "cannot start a thread: %s", strerror(errno));
		goto out;
	}
	pthread_detach(dog);
	backoff = d.cfg->daemon.retry_min;
	/* nothing to serve yet: make something now rather than at night */
	{
		char *link = xasprintf("%s/current", out_of(&d));

		now = o->now || readlink(link, cur, sizeof cur) < 0;
		free(link);
	}
	atomic_init(&d.next_at, next_due(&d, time(NULL), 0));
	schedule_describe(&d.cfg->daemon.schedule, sched, sizeof sched);
	format_time(atomic_load(&d.next_at), next, sizeof next);
	log_msg(LOG_INFO, "daemon started schema=%s schedule=\"%s\" next=\"%s\"%s", schema_of(&d), sched, next,
		now ? " refreshing now" : "");
	notify("READY=1");

	while (!signals_pending()) {
		time_t t = time(NULL);
		const char *trigger = NULL;

		if (signals_take_hangup())
			reload(&d, last_start);
		if (signals_take_usr1())
			trigger = "signal";
		else if (now)
			trigger = "start";
		else if (atomic_load(&d.retry_at) && t >= atomic_load(&d.retry_at))
			trigger = "retry";
		else if (atomic_load(&d.next_at) >= 0 && t >= atomic_load(&d.next_at))
			trigger = "schedule";
		if (!trigger) {
			nanosleep(&tick, NULL);
			continue;
		}
		now = false;
		last_start = t;
		atomic_store(&d.refreshing, true);
		if (refresh(&d, trigger, e) < 0 && !signals_pending()) {
			char what[1600];

			err_format(e, what, sizeof what);
			atomic_store(&d.retry_at, (long long)time(NULL) + backoff);
			log_msg(LOG_ERROR, "refresh failed; the previous publication stays served; retry in %llds: %s", backoff,
				what);
			backoff = backoff * 2 > d.cfg->daemon.retry_max ? d.cfg->daemon.retry_max : backoff * 2;
		} else {
			atomic_store(&d.retry_at, 0);
			backoff = d.cfg->daemon.retry_min;
		}
		atomic_store(&d.refreshing, false);
		atomic_store(&d.next_at, next_due(&d, time(NULL), last_start));
		format_time(atomic_load(&d.next_at), next, sizeof next);
		log_msg(LOG_DEBUG, "next refresh %s", next);
	}
	notify("STOPPING=1");
	log_msg(LOG_INFO, "daemon stopping (signal %d)", signals_pending());
	rc = 0;
out:
	http_stop(d.http);
	db_close(d.status);
	config_free(d.cfg);
	pthread_mutex_destroy(&d.mu);
	return rc;
}
