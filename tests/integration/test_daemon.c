/*
 * The daemon as operators run it: a real pc6risk process on the demo data
 * against PostGIS, driven by signals, read over HTTP. A refresh at start, a
 * skipped one when nothing changed, tiles fetched and parsed, SIGHUP with a
 * broken config, SIGTERM in the middle of a refresh, two daemons on one
 * schema, and PostgreSQL stopped and started again under a refresh (on a
 * server of the test's own, so other tests keep theirs).
 */
#define _GNU_SOURCE /* prlimit */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"
#include "httpc.h"
#include "mvtdec.h"
#include "support.h"

/* A daemon of the test's own: schema, publish dir, config, log, process. */
struct dmn {
	char *schema;
	char *dir;    /* config, log and publish dir live here */
	char *config;
	char *log;
	char *out;
	pid_t pid;
	int port;
};

/* The buurt figures are read from a copy in the test's directory, which a
 * test may break. */
static void own_copy(const struct dmn *d, cJSON *obj)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "path");
	char *copy = xasprintf("%s/attributes.csv", d->dir);

	if (cJSON_IsString(p) && strstr(p->valuestring, "den_haag_buurten_2015_attributes.csv")) {
		if (access(copy, F_OK) != 0) {
			char *text = t_slurp(p->valuestring, NULL);

			cr_assert_not_null(text);
			t_write(copy, text);
			free(text);
		}
		cJSON_SetValuestring(p, copy);
	}
	free(copy);
}

/* The demo config with absolute input paths, few draws, three zooms, and a
 * daemon section that answers quickly; draws varies it (a changed config). */
static void write_config(struct dmn *d, int draws, const char *schedule)
{
	cJSON *root = t_demo_config(), *inputs, *el, *publish, *tiles, *daemon, *compare;

	inputs = cJSON_GetObjectItemCaseSensitive(root, "inputs");
	cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(inputs, "indicators")) own_copy(d, el);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(root, "database"), "schema",
				  cJSON_CreateString(d->schema));
	compare = cJSON_GetObjectItemCaseSensitive(root, "compare");
	if (!compare)
		cJSON_AddItemToObject(root, "compare", compare = cJSON_CreateObject());
	cJSON_DeleteItemFromObject(compare, "draws");
	cJSON_AddNumberToObject(compare, "draws", draws);
	publish = cJSON_GetObjectItemCaseSensitive(root, "publish");
	if (!publish)
		cJSON_AddItemToObject(root, "publish", publish = cJSON_CreateObject());
	cJSON_DeleteItemFromObject(publish, "dir");
	cJSON_AddStringToObject(publish, "dir", d->out);
	cJSON_DeleteItemFromObject(publish, "tiles");
	tiles = cJSON_Parse("{\"wijk\": [9, 9], \"buurt\": [12, 12], \"pc6\": [14, 14]}");
	cJSON_AddItemToObject(publish, "tiles", tiles);
	daemon = cJSON_CreateObject();
	cJSON_AddStringToObject(daemon, "schedule", schedule);
	cJSON_AddStringToObject(daemon, "listen", "127.0.0.1:0");
	cJSON_AddStringToObject(daemon, "retry_min", "1s");
	cJSON_AddStringToObject(daemon, "retry_max", "2s");
	cJSON_AddStringToObject(daemon, "stop_timeout", "30s");
	cJSON_AddItemToObject(root, "daemon", daemon);
	t_write_json(d->config, root);
}

static void dmn_init(struct dmn *d, const char *prefix)
{
	struct t_run r;

	d->schema = t_schema(prefix);
	d->dir = t_tmpdir();
	d->config = xasprintf("%s/pc6risk.json", d->dir);
	d->log = xasprintf("%s/daemon.log", d->dir);
	d->out = xasprintf("%s/out", d->dir);
	write_config(d, 50, "off");
	r = t_pc6risk((const char *[]){"init", "-c", d->config, NULL});
	cr_assert_eq(r.status, 0, "init: %s", r.err);
	t_run_free(&r);
}

static void dmn_free(struct dmn *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	t_drop_schema(d->schema);
	t_rmtree(d->dir);
	free(d->schema);
	free(d->dir);
	free(d->config);
	free(d->log);
	free(d->out);
}

/* How often a text occurs in the daemon's log so far. */
static int log_count(const struct dmn *d, const char *what)
{
	char *text = t_slurp(d->log, NULL);
	int n = 0;

	for (const char *p = text ? text : ""; (p = strstr(p, what)); p += strlen(what))
		n++;
	free(text);
	return n;
}

/* Wait until the log holds what n times; fails the test after ms. */
static void wait_log(const struct dmn *d, const char *what, int n, int ms)
{
	for (int waited = 0; log_count(d, what) < n; waited += 100) {
		if (waited > ms) {
			char *text = t_slurp(d->log, NULL);

			cr_assert_fail("no \"%s\" (x%d) in the daemon's log after %d ms:\n%s", what, n, ms, text ? text : "");
		}
		t_sleep_ms(100);
	}
}

/* Start the daemon and learn its port from the log. */
static void dmn_start(struct dmn *d)
{
	char *text;
	const char *p;

	d->pid = t_spawn_pc6risk_log((const char *[]){"daemon", "-c", d->config, NULL}, d->log);
	wait_log(d, "over http port=", 1, 20000);
	text = t_slurp(d->log, NULL);
	p = strstr(text, "over http port=");
	d->port = atoi(p + strlen("over http port="));
	free(text);
	cr_assert_gt(d->port, 0);
}

/* The count of runs of the schema with a status (and a trigger, or any). */
static int runs(const struct dmn *d, const char *status)
{
	struct db *db = t_db(d->schema);
	char *sql = xasprintf("SELECT count(*) FROM run WHERE command = 'refresh' AND status = '%s'", status);
	char *v = t_query1(db, sql);
	int n = atoi(v);

	free(v);
	free(sql);
	db_close(db);
	return n;
}

/* One GET on a connection of its own: 0, or -1 when nothing answered. */
static int get(int port, const char *path, struct httpc_resp *r)
{
	struct httpc *c = httpc_connect(port);
	int rc;

	memset(r, 0, sizeof *r);
	if (!c)
		return -1;
	rc = httpc_request(c, "GET", path, NULL, r);
	httpc_close(c);
	return rc;
}

/* Wait until /readyz answers code; fails after ms. */
static void wait_ready(const struct dmn *d, int code, int ms)
{
	for (int waited = 0;; waited += 200) {
		struct httpc_resp r;

		if (get(d->port, "/readyz", &r) == 0 && r.status == code) {
			httpc_resp_free(&r);
			return;
		}
		if (waited > ms) {
			char *text = t_slurp(d->log, NULL);

			cr_assert_fail("/readyz did not answer %d within %d ms (last %d %s); log:\n%s", code, ms, r.status,
				 r.body ? r.body : "", text ? text : "");
		}
		httpc_resp_free(&r);
		t_sleep_ms(200);
	}
}

/* Wait until /readyz says a refresh is running; fails after 30 s. */
static void wait_refreshing(const struct dmn *d)
{
	struct httpc_resp r;

	for (int waited = 0;; waited += 50) {
		cr_assert_eq(get(d->port, "/readyz", &r), 0);
		if (strstr(r.body ? r.body : "", "\"refreshing\": true")) {
			httpc_resp_free(&r);
			return;
		}
		httpc_resp_free(&r);
		cr_assert_lt(waited, 30000, "the refresh did not start");
		t_sleep_ms(50);
	}
}

/* Change the config (SIGHUP) and start a refresh (SIGUSR1) that does real
 * work, and return while it runs. */
static void start_changed_refresh(struct dmn *d)
{
	write_config(d, 51, "off");
	kill(d->pid, SIGHUP);
	wait_log(d, "config reloaded from", 1, 20000);
	kill(d->pid, SIGUSR1);
	wait_refreshing(d);
	t_sleep_ms(300);
}

/* GET that must answer 200; the body is the caller's. */
static char *get200(const struct dmn *d, const char *path, size_t *len, char **release)
{
	struct httpc_resp r;
	char *body;

	cr_assert_eq(get(d->port, path, &r), 0, "GET %s: no answer", path);
	cr_assert_eq(r.status, 200, "GET %s: %d %s", path, r.status, r.body ? r.body : "");
	if (release) {
		const char *h = httpc_header(&r, "X-Pc6risk-Release");

		cr_assert_not_null(h, "GET %s: no X-Pc6risk-Release", path);
		*release = xstrdup(h);
	}
	if (len)
		*len = r.body_len;
	body = r.body;
	r.body = NULL;
	httpc_resp_free(&r);
	return body;
}

/* The first tile of zoom z on disk in the current release. */
static void first_tile(const struct dmn *d, int z, unsigned *x, unsigned *y)
{
	char *pattern = xasprintf("%s/current/tiles/kansarmoede-3van6/%d/*/*.geojson", d->out, z);
	glob_t g;

	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no tiles at %s", pattern);
	cr_assert_eq(sscanf(g.gl_pathv[0] + strlen(pattern) - strlen("*/*.geojson"), "%u/%u.geojson", x, y), 2);
	globfree(&g);
	free(pattern);
}

/* A tile of the first scenario through the daemon's tiles.json, as pbf and as
 * GeoJSON, decoded. Returns the release it came from. */
static char *fetch_tiles(const struct dmn *d)
{
	char *tj = get200(d, "/tiles/kansarmoede-3van6/tiles.json", NULL, NULL), *geo, *pbf, *release, *path;
	cJSON *root = cJSON_Parse(tj), *tiles, *rel;
	struct mvtdec_layer layers[4];
	size_t len;
	int nl;
	int z = 12;
	unsigned x, y;

	first_tile(d, z, &x, &y);

	cr_assert_not_null(root, "tiles.json does not parse: %s", tj);
	tiles = cJSON_GetObjectItemCaseSensitive(root, "tiles");
	rel = cJSON_GetObjectItemCaseSensitive(root, "release");
	cr_assert(cJSON_IsArray(tiles) && cJSON_IsString(rel), "tiles.json: %s", tj);
	cr_assert(strstr(cJSON_GetArrayItem(tiles, 0)->valuestring, rel->valuestring), "tile URLs name the release");
	path = xasprintf("/releases/%s/tiles/kansarmoede-3van6/%d/%u/%u.pbf", rel->valuestring, z, x, y);
	pbf = get200(d, path, &len, NULL);
	nl = mvtdec((const unsigned char *)pbf, len, layers, 4);
	cr_assert_gt(nl, 0, "the pbf tile decodes to layers");
	cr_assert_gt(layers[0].nfeat, 0);
	for (int i = 0; i < nl; i++)
		mvtdec_free(&layers[i]);
	free(path);
	path = xasprintf("/tiles/kansarmoede-3van6/%d/%u/%u.geojson", z, x, y);
	geo = get200(d, path, NULL, &release);
	{
		cJSON *g = cJSON_Parse(geo);

		cr_assert_not_null(g, "the GeoJSON tile parses");
		cr_assert_gt(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "features")), 0);
		cJSON_Delete(g);
	}
	cr_assert_str_eq(release, rel->valuestring);
	free(path);
	free(geo);
	free(pbf);
	free(tj);
	cJSON_Delete(root);
	return release;
}

Test(daemon, refreshes_serves_skips_reloads_and_stops, .timeout = 600)
{
	struct dmn d = {0};
	char *rel, *rel2, *body, *target;

	dmn_init(&d, "t_dmn");
	dmn_start(&d);
	/* nothing published yet: it refreshes at start */
	wait_ready(&d, 200, 240000);
	cr_assert_eq(runs(&d, "succeeded"), 1);
	rel = fetch_tiles(&d);

	body = get200(&d, "/healthz", NULL, NULL);
	free(body);
	body = get200(&d, "/metrics", NULL, NULL);
	cr_assert(strstr(body, "pc6risk_last_run_status{status=\"succeeded\"} 1"), "%s", body);
	cr_assert(strstr(body, "pc6risk_database_up 1"), "%s", body);
	cr_assert(strstr(body, "pc6risk_audit_passed 1"), "%s", body);
	cr_assert(strstr(body, "pc6risk_tiles_written "), "%s", body);
	free(body);
	body = get200(&d, "/runs", NULL, NULL);
	{
		cJSON *runs_json = cJSON_Parse(body), *first;

		cr_assert(cJSON_IsArray(runs_json), "%s", body);
		first = cJSON_GetArrayItem(runs_json, 0);
		cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(first, "status")->valuestring, "succeeded");
		cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(first, "trigger")->valuestring, "start");
		cr_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(first, "inputs")), "inputs per file: %s", body);
		cr_assert_gt(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(first, "inputs")), 3);
		cJSON_Delete(runs_json);
	}
	free(body);

	/* SIGUSR1 with nothing changed: a skipped run and one log line */
	kill(d.pid, SIGUSR1);
	wait_log(&d, "skipped: inputs and config unchanged", 1, 60000);
	cr_assert_eq(runs(&d, "skipped"), 1);
	cr_assert_eq(runs(&d, "succeeded"), 1);

	/* a broken config at SIGHUP: logged, the old one kept, still serving */
	t_write(d.config, "{\"inputs\": ");
	kill(d.pid, SIGHUP);
	wait_log(&d, "config reload failed; the old config stays in force", 1, 20000);
	rel2 = fetch_tiles(&d);
	cr_assert_str_eq(rel, rel2);
	free(rel2);
	kill(d.pid, SIGUSR1);
	wait_log(&d, "skipped: inputs and config unchanged", 2, 60000);

	/* a changed config is taken, and makes the next refresh run; SIGTERM
	 * during it rolls back and exits 0, the previous release stays */
	start_changed_refresh(&d);
	kill(d.pid, SIGTERM);
	{
		int status = t_wait_exit(d.pid, 30000);

		cr_assert_eq(status, 0, "SIGTERM: exit %d, log:\n%s", status, t_slurp(d.log, NULL));
		d.pid = 0;
	}
	target = t_link_target(d.out);
	cr_assert(strstr(target, rel), "current still points at %s, not %s", rel, target);
	free(target);
	cr_assert_eq(runs(&d, "succeeded"), 1, "the interrupted refresh published nothing");
	cr_assert_eq(runs(&d, "failed"), 1, "the interrupted refresh is recorded as failed");
	free(rel);
	dmn_free(&d);
}

/* The newest run's column, as text ("" for NULL). */
static char *last_run(const struct dmn *d, const char *column)
{
	struct db *db = t_db(d->schema);
	char *sql = xasprintf("SELECT %s FROM run WHERE command = 'refresh' ORDER BY id DESC LIMIT 1", column);
	char *v = t_query1(db, sql);

	free(sql);
	db_close(db);
	return v;
}

/* SIGUSR1, then wait for the n-th "refresh failed" line. */
static void expect_failure(const struct dmn *d, int n)
{
	kill(d->pid, SIGUSR1);
	wait_log(d, "refresh failed; the previous publication stays served", n, 120000);
}

Test(daemon, failed_refreshes_keep_the_release, .timeout = 600)
{
	struct dmn d = {0};
	char *rel, *again, *target, *copy, *text, *bad, *v;
	struct rlimit small, none;

	dmn_init(&d, "t_dmnfail");
	dmn_start(&d);
	wait_ready(&d, 200, 240000);
	rel = fetch_tiles(&d);

	/* bad new input: the run fails with the file, line and column, in the
	 * log and in the run record; the release stays */
	copy = xasprintf("%s/attributes.csv", d.dir);
	text = t_slurp(copy, NULL);
	cr_assert(strstr(text, "\"2464\",\"2\",\"7955\""));
	bad = xstrdup(text);
	memcpy(strstr(bad, "\"2464\",\"2\",\"7955\"") + strlen("\"2464\",\"2\",\""), "veel", 4);
	t_write(copy, bad);
	expect_failure(&d, 1);
	cr_assert(log_count(&d, "attributes.csv:3:"), "the log names file and line:\n%s", t_slurp(d.log, NULL));
	v = last_run(&d, "status");
	cr_assert_str_eq(v, "failed");
	free(v);
	v = last_run(&d, "error_where");
	cr_assert(strstr(v, "attributes.csv:3:"), "error_where: %s", v);
	free(v);
	v = last_run(&d, "error_class");
	cr_assert_str_eq(v, "input");
	free(v);
	again = fetch_tiles(&d);
	cr_assert_str_eq(again, rel);
	free(again);

	/* the file back as it was: nothing to do (its date changed, not its content) */
	t_write(copy, text);
	kill(d.pid, SIGUSR1);
	wait_log(&d, "their contents did not", 1, 120000);

	/* disk full while publishing (a file-size limit on the daemon: its
	 * writes fail as on a full disk): a failed run, the release intact */
	write_config(&d, 51, "off");
	kill(d.pid, SIGHUP);
	wait_log(&d, "config reloaded from", 1, 20000);
	/* only the soft limit moves: raising it back needs no privilege */
	cr_assert_eq(prlimit(d.pid, RLIMIT_FSIZE, NULL, &none), 0, "prlimit: %s", strerror(errno));
	small = none;
	small.rlim_cur = 1 << 20;
	cr_assert_eq(prlimit(d.pid, RLIMIT_FSIZE, &small, NULL), 0, "prlimit: %s", strerror(errno));
	expect_failure(&d, 2);
	v = last_run(&d, "error_class");
	cr_assert_str_eq(v, "system", "the failure: %s", t_slurp(d.log, NULL));
	free(v);
	target = t_link_target(d.out);
	cr_assert(strstr(target, rel), "current still points at %s, not %s", rel, target);
	free(target);
	again = fetch_tiles(&d);
	cr_assert_str_eq(again, rel);
	free(again);
	{
		glob_t g;
		char *pattern = xasprintf("%s/releases/.staging-*", d.out);

		cr_assert_eq(glob(pattern, 0, NULL, &g), GLOB_NOMATCH, "a staging directory was left: %s",
			     g.gl_pathc ? g.gl_pathv[0] : "");
		free(pattern);
	}
	/* room again: the retry publishes */
	cr_assert_eq(prlimit(d.pid, RLIMIT_FSIZE, &none, NULL), 0);
	for (int waited = 0; runs(&d, "succeeded") < 2; waited += 500) {
		cr_assert_lt(waited, 240000, "no successful retry; log:\n%s", t_slurp(d.log, NULL));
		t_sleep_ms(500);
	}
	target = t_link_target(d.out);
	cr_assert(!strstr(target, rel), "a new release is current: %s", target);
	free(target);

	kill(d.pid, SIGTERM);
	cr_assert_eq(t_wait_exit(d.pid, 30000), 0);
	d.pid = 0;
	free(copy);
	free(text);
	free(bad);
	free(rel);
	dmn_free(&d);
}

Test(daemon, two_daemons_refresh_once, .timeout = 600)
{
	struct dmn a = {0}, b = {0};
	char *blog;

	dmn_init(&a, "t_dmn2");
	/* b: the same config and schema, a log of its own */
	blog = xasprintf("%s/daemon-b.log", a.dir);
	b = a;
	b.log = blog;
	b.pid = 0;
	/* both start with nothing published, so both want to refresh at once */
	dmn_start(&a);
	dmn_start(&b);
	wait_ready(&a, 200, 240000);
	wait_ready(&b, 200, 240000);
	/* whichever came second found the lock taken, or nothing left to do */
	for (int waited = 0; log_count(&a, "run ") + log_count(&b, "run ") < 1; waited += 100)
		t_sleep_ms(100);
	t_sleep_ms(500);
	cr_assert_eq(runs(&a, "succeeded"), 1, "exactly one refresh; logs:\n%s\n%s", t_slurp(a.log, NULL),
		     t_slurp(b.log, NULL));
	cr_assert_eq(runs(&a, "failed"), 0);

	kill(a.pid, SIGUSR1);
	kill(b.pid, SIGUSR1);
	t_sleep_ms(3000);
	cr_assert_eq(runs(&a, "succeeded"), 1);
	cr_assert_eq(runs(&a, "failed"), 0);
	kill(b.pid, SIGTERM);
	cr_assert_eq(t_wait_exit(b.pid, 30000), 0);
	b.pid = 0;

	/* a second SIGTERM during a refresh ends the daemon at once; the
	 * release stays as it was */
	{
		char *before = t_link_target(a.out), *after;

		write_config(&a, 52, "off");
		kill(a.pid, SIGHUP);
		wait_log(&a, "config reloaded from", 1, 20000);
		kill(a.pid, SIGUSR1);
		wait_refreshing(&a);
		kill(a.pid, SIGTERM);
		t_sleep_ms(20);
		kill(a.pid, SIGTERM);
		cr_assert_eq(t_wait_exit(a.pid, 2000), 128 + SIGTERM, "the second SIGTERM ends it at once");
		a.pid = 0;
		after = t_link_target(a.out);
		cr_assert_str_eq(before, after);
		free(before);
		free(after);
	}
	free(blog);
	dmn_free(&a);
}

/* A PostgreSQL server of this test's own, to stop and start under the daemon. */
struct pgc {
	char *dir;
	char *bindir;
};

/* Run a server binary (as the postgres user when we are root: initdb refuses
 * root); fails the test with its output. */
static void pgc_run(const struct pgc *p, const char *const *args)
{
	const char *argv[32];
	size_t n = 0;
	char *bin = xasprintf("%s/%s", p->bindir, args[0]);
	struct t_run r;

	if (geteuid() == 0) {
		argv[n++] = "runuser";
		argv[n++] = "-u";
		argv[n++] = "postgres";
		argv[n++] = "--";
	}
	argv[n++] = bin;
	for (args++; *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	r = t_run(argv);
	cr_assert_eq(r.status, 0, "%s: %s%s", bin, r.out, r.err);
	t_run_free(&r);
	free(bin);
}

static void pgc_start(const struct pgc *p)
{
	char *data = xasprintf("%s/data", p->dir), *log = xasprintf("%s/server.log", p->dir);
	char *opts = xasprintf("-c listen_addresses='' -k %s -c fsync=off", p->dir);

	pgc_run(p, (const char *[]){"pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", opts, "start", NULL});
	free(data);
	free(log);
	free(opts);
}

static void pgc_stop(const struct pgc *p)
{
	char *data = xasprintf("%s/data", p->dir);

	pgc_run(p, (const char *[]){"pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", NULL});
	free(data);
}

/* initdb, start, a database, and the libpq environment pointing at it. */
static void pgc_init(struct pgc *p)
{
	char tmpl[] = "/tmp/pc6pgt.XXXXXX", *data;
	glob_t g;

	cr_assert_eq(glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g), 0, "no PostgreSQL server binaries");
	p->bindir = xstrdup(g.gl_pathv[g.gl_pathc - 1]);
	*strrchr(p->bindir, '/') = '\0';
	globfree(&g);
	cr_assert_not_null(mkdtemp(tmpl));
	p->dir = xstrdup(tmpl);
	if (geteuid() == 0) {
		struct t_run r = t_run((const char *[]){"chown", "postgres", p->dir, NULL});

		cr_assert_eq(r.status, 0, "%s", r.err);
		t_run_free(&r);
	}
	data = xasprintf("%s/data", p->dir);
	pgc_run(p, (const char *[]){"initdb", "-D", data, "-U", "pc6risk", "-A", "trust", "-E", "UTF8", "--locale=C",
				    NULL});
	free(data);
	pgc_start(p);
	pgc_run(p, (const char *[]){"createdb", "-h", p->dir, "-U", "pc6risk", "pc6risk", NULL});
	setenv("PGHOST", p->dir, 1);
	setenv("PGUSER", "pc6risk", 1);
	setenv("PGDATABASE", "pc6risk", 1);
	unsetenv("PGPORT");
	unsetenv("PGSERVICE");
}

static void pgc_free(struct pgc *p)
{
	char *data = xasprintf("%s/data", p->dir);
	const char *argv[] = {"runuser", "-u", "postgres", "--", NULL, "-D", data, "-m", "immediate", "stop", NULL};
	char *bin = xasprintf("%s/pg_ctl", p->bindir);
	struct t_run r;

	argv[4] = bin;
	r = t_run(geteuid() == 0 ? argv : argv + 4);
	t_run_free(&r);
	t_rmtree(p->dir);
	free(bin);
	free(data);
	free(p->dir);
	free(p->bindir);
}

Test(daemon, survives_postgres_restart, .timeout = 600)
{
	struct pgc pg = {0};
	struct dmn d = {0};
	struct httpc_resp r;
	char *rel, *again, *target;

	pgc_init(&pg);
	dmn_init(&d, "t_dmnpg");
	dmn_start(&d);
	wait_ready(&d, 200, 240000);
	rel = fetch_tiles(&d);

	/* a changed config makes the next refresh do real work; stop the
	 * server while it runs */
	start_changed_refresh(&d);
	pgc_stop(&pg);
	wait_log(&d, "refresh failed; the previous publication stays served", 1, 60000);

	/* the daemon lives: the old tiles are served, /readyz says why it is not ready */
	again = fetch_tiles(&d);
	cr_assert_str_eq(again, rel);
	free(again);
	cr_assert_eq(get(d.port, "/readyz", &r), 0);
	cr_assert_eq(r.status, 503, "%s", r.body);
	cr_assert(strstr(r.body, "the database is unreachable"), "%s", r.body);
	httpc_resp_free(&r);
	cr_assert_eq(get(d.port, "/healthz", &r), 0);
	cr_assert_eq(r.status, 200);
	httpc_resp_free(&r);

	/* back again: a retry publishes */
	pgc_start(&pg);
	for (int waited = 0; runs(&d, "succeeded") < 2; waited += 500) {
		cr_assert_lt(waited, 240000, "no successful refresh after the restart; log:\n%s", t_slurp(d.log, NULL));
		t_sleep_ms(500);
	}
	wait_ready(&d, 200, 20000);
	cr_assert_eq(runs(&d, "running"), 0, "the interrupted run is closed");
	cr_assert_geq(runs(&d, "failed"), 1, "the interrupted run is recorded as failed");
	target = t_link_target(d.out);
	cr_assert(!strstr(target, rel), "a new release is current: %s", target);
	free(target);
	again = fetch_tiles(&d);
	cr_assert_str_neq(again, rel);
	free(again);

	kill(d.pid, SIGTERM);
	cr_assert_eq(t_wait_exit(d.pid, 30000), 0);
	d.pid = 0;
	free(rel);
	dmn_free(&d);
	pgc_free(&pg);
}
