#include "support.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

const char *t_root(void)
{
	const char *r = getenv("PC6RISK_ROOT");

	return r && r[0] ? r : ".";
}

char *t_repo_path(const char *rel)
{
	return xasprintf("%s/%s", t_root(), rel);
}

struct t_run t_run(const char *const *argv)
{
	struct t_run r = {0};
	struct sbuf out = {0}, err = {0};
	int po[2], pe[2], status;
	pid_t pid;

	cr_assert(pipe(po) == 0 && pipe(pe) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	{
		struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		int open_fds = 2;

		while (open_fds > 0) {
			if (poll(fds, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			for (int i = 0; i < 2; i++) {
				char buf[8192];
				ssize_t n;

				if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				n = read(fds[i].fd, buf, sizeof buf);
				if (n <= 0) {
					close(fds[i].fd);
					fds[i].fd = -1;
					open_fds--;
				} else {
					sbuf_append(i == 0 ? &out : &err, buf, (size_t)n);
				}
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r.out = sbuf_take(&out);
	r.err = sbuf_take(&err);
	return r;
}

struct t_run t_pc6risk(const char *const *args)
{
	const char *bin = getenv("PC6RISK_BIN");
	const char *argv[64];
	size_t n = 0;

	argv[n++] = bin && bin[0] ? bin : "build/pc6risk";
	for (; *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return t_run(argv);
}

/* Start the binary with output to path (appended), or to /dev/null. */
static pid_t spawn(const char *const *args, const char *path)
{
	const char *bin = getenv("PC6RISK_BIN");
	const char *argv[64];
	size_t n = 0;
	pid_t pid;

	argv[n++] = bin && bin[0] ? bin : "build/pc6risk";
	for (; *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND, 0644) : open("/dev/null", O_RDWR);

		/* a test that fails half-way leaves no process behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

pid_t t_spawn_pc6risk(const char *const *args)
{
	return spawn(args, NULL);
}

pid_t t_spawn_pc6risk_log(const char *const *args, const char *log)
{
	return spawn(args, log);
}

int t_wait_exit(pid_t pid, int ms)
{
	int status;

	for (int waited = 0; waited <= ms; waited += 20) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		t_sleep_ms(20);
	}
	return -1;
}

void t_run_free(struct t_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *t_tmpdir(void)
{
	char *p = xstrdup("/tmp/pc6t.XXXXXX");

	cr_assert(mkdtemp(p) != NULL, "mkdtemp: %s", strerror(errno));
	return p;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

void t_rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A schema name of this test process; one left behind by an earlier run
 * that had the same process id is dropped first. */
char *t_schema(const char *prefix)
{
	static int n;
	char *s = xasprintf("%s_%ld_%d", prefix, (long)getpid(), n++);

	t_drop_schema(s);
	return s;
}

struct db *t_db(const char *schema)
{
	struct err e;
	struct db *db = db_connect(schema, &e);

	cr_assert(db != NULL, "cannot connect: %s", e.message);
	return db;
}

void t_drop_schema(const char *schema)
{
	struct db *db = t_db("public");
	char *sql = xasprintf("DROP SCHEMA IF EXISTS %s CASCADE", schema);
	struct err e;

	db_exec(db, sql, &e);
	free(sql);
	db_close(db);
}

int t_lock_waiters(struct db *db, const char *rel, long *pid)
{
	const char *params[1] = {rel};
	struct err e;
	struct db_result *r = db_query(db,
				       "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
				       " WHERE NOT l.granted AND l.relation = $1::regclass AND a.application_name = 'pc6risk'"
				       " ORDER BY a.pid",
				       1, params, &e);
	int n;

	cr_assert_not_null(r, "%s", e.message);
	n = db_nrows(r);
	if (pid)
		*pid = n ? atol(db_value(r, 0, 0)) : 0;
	db_result_free(r);
	return n;
}

char *t_query1(struct db *db, const char *sql)
{
	struct err e;
	struct db_result *r = db_query(db, sql, 0, NULL, &e);
	char *v;

	cr_assert(r != NULL, "query failed: %s: %s", sql, e.message);
	cr_assert(db_nrows(r) > 0, "query returned no rows: %s", sql);
	v = xstrdup(db_value(r, 0, 0) ? db_value(r, 0, 0) : "");
	db_result_free(r);
	return v;
}

char *t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct sbuf b = {0};
	char buf[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sbuf_append(&b, buf, n);
	fclose(f);
	if (len)
		*len = b.len;
	return sbuf_take(&b);
}

void t_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f != NULL, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

void t_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

char *t_square(double x0, double y0, double x1, double y1)
{
	return xasprintf("{\"type\":\"Polygon\",\"coordinates\":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}", x0, y0,
			 x1, y0, x1, y1, x0, y1, x0, y0);
}

char *t_feature(const char *props, char *geometry)
{
	char *f = xasprintf("{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":%s}", props, geometry);

	free(geometry);
	return f;
}

void t_write_layer(const char *path, const char *const *features)
{
	struct sbuf b = {0};

	sbuf_puts(&b, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
		      "{\"name\":\"urn:ogc:def:crs:EPSG::28992\"}},\"features\":[\n");
	for (size_t i = 0; features[i]; i++)
		sbuf_printf(&b, "%s%s\n", i ? "," : "", features[i]);
	sbuf_puts(&b, "]}\n");
	t_write(path, b.s);
	sbuf_free(&b);
}

void t_compare_trees(const char *a, const char *b, const char *rel)
{
	char *da = xasprintf("%s/%s", a, rel);
	DIR *dir = opendir(da);
	struct dirent *ent;
	int files = 0;

	cr_assert_not_null(dir, "%s", da);
	while ((ent = readdir(dir)) != NULL) {
		char *sub, *pa, *pb, *ta, *tb;
		size_t la, lb;
		struct stat st;

		if (ent->d_name[0] == '.' || strcmp(ent->d_name, "release.json") == 0)
			continue;
		sub = xasprintf("%s%s%s", rel, rel[0] ? "/" : "", ent->d_name);
		pa = xasprintf("%s/%s", a, sub);
		pb = xasprintf("%s/%s", b, sub);
		stat(pa, &st);
		if (S_ISDIR(st.st_mode)) {
			t_compare_trees(a, b, sub);
		} else {
			ta = t_slurp(pa, &la);
			tb = t_slurp(pb, &lb);
			cr_assert_not_null(tb, "%s is missing from the second release", sub);
			cr_assert(la == lb && memcmp(ta, tb, la) == 0, "%s differs between releases", sub);
			free(ta);
			free(tb);
			files++;
		}
		free(sub);
		free(pa);
		free(pb);
	}
	closedir(dir);
	free(da);
}

char *t_link_target(const char *out)
{
	char *link = xasprintf("%s/current", out);
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof buf - 1);

	cr_assert_gt(n, 0, "%s is not a symlink", link);
	buf[n] = '\0';
	free(link);
	return xstrdup(buf);
}

/* Make an input path of the demo config absolute. */
static void absolute_path(cJSON *obj)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "path");
	char *abs;

	if (!cJSON_IsString(p) || p->valuestring[0] == '/')
		return;
	abs = xasprintf("%s/demo/%s", t_root(), p->valuestring);
	cJSON_SetValuestring(p, abs);
	free(abs);
}

cJSON *t_demo_config(void)
{
	char *demo = t_repo_path("demo/pc6risk.json"), *text = t_slurp(demo, NULL);
	cJSON *root, *inputs, *el;

	cr_assert_not_null(text, "%s is missing", demo);
	root = cJSON_Parse(text);
	cr_assert_not_null(root, "%s is not JSON", demo);
	inputs = cJSON_GetObjectItemCaseSensitive(root, "inputs");
	cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(inputs, "areas")) absolute_path(el);
	cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(inputs, "indicators")) absolute_path(el);
	if (cJSON_GetObjectItemCaseSensitive(inputs, "crosswalk"))
		absolute_path(cJSON_GetObjectItemCaseSensitive(inputs, "crosswalk"));
	free(text);
	free(demo);
	return root;
}

void t_init(const char *config, const char *schema)
{
	struct t_run r = t_pc6risk((const char *[]){"init", "-c", config, "--schema", schema, NULL});

	cr_assert_eq(r.status, 0, "init: %s", r.err);
	t_run_free(&r);
}

void t_refresh(const char *config, const char *schema, const char *out, const char *draws)
{
	struct t_run r = t_pc6risk(
		(const char *[]){"refresh", "-c", config, "--schema", schema, "--out", out, "--draws", draws, NULL});

	cr_assert_eq(r.status, 0, "refresh: %s", r.err);
	t_run_free(&r);
}

void t_write_json(const char *path, cJSON *root)
{
	char *json = cJSON_Print(root);

	cr_assert_not_null(json);
	t_write(path, json);
	cJSON_free(json);
	cJSON_Delete(root);
}
