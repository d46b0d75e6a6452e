/*
 * support — what the integration tests share: running the pc6risk binary and
 * capturing what it says, temporary directories and schemas, reading files.
 *
 * Everything returned is the caller's to free (t_run_free for a t_run).
 * PC6RISK_BIN and PC6RISK_ROOT (set by tests/run.sh) say where the binary and
 * the repository are; the database comes from the libpq environment.
 */
#ifndef PC6RISK_TEST_SUPPORT_H
#define PC6RISK_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "pc6risk/db.h"

struct cJSON;

struct t_run {
	int status; /* exit code, or 128 + signal */
	char *out;
	char *err;
};

/* Run the pc6risk binary with args (NULL-terminated) and capture its output. */
struct t_run t_pc6risk(const char *const *args);
/* Run any program (argv[0] searched in PATH). */
struct t_run t_run(const char *const *argv);
void t_run_free(struct t_run *r);
/* Start the pc6risk binary with args in the background, output discarded; its pid. */
pid_t t_spawn_pc6risk(const char *const *args);

/* The same with stdout and stderr appended to the file log. */
pid_t t_spawn_pc6risk_log(const char *const *args, const char *log);
/* Wait up to ms for a child to end: its exit code, 128 + signal, or -1 when
 * it is still running. */
int t_wait_exit(pid_t pid, int ms);

/* The repository root, and a path inside it (to free). */
const char *t_root(void);
char *t_repo_path(const char *rel);

/* A new empty directory under /tmp (to free; remove with t_rmtree). */
char *t_tmpdir(void);
void t_rmtree(const char *path);

/* A schema name no other test process uses: prefix_<pid>_<n>. */
char *t_schema(const char *prefix);
/* A connection to the database with search_path on schema; aborts the test on failure. */
struct db *t_db(const char *schema);
/* DROP SCHEMA ... CASCADE. */
void t_drop_schema(const char *schema);
/* The first column of the first row of a query, as a new string ("" for NULL). */
char *t_query1(struct db *db, const char *sql);

/* How many connections of pc6risk wait for a lock on the table rel
 * ("schema.table"); *pid (when not NULL) gets the first one's backend pid, or 0. */
int t_lock_waiters(struct db *db, const char *rel, long *pid);

/* Sleep for ms milliseconds. */
void t_sleep_ms(int ms);

/* A whole file (NUL-terminated, to free) or NULL; *len gets its size when not NULL. */
char *t_slurp(const char *path, size_t *len);
/* Write text to path, replacing it. */
void t_write(const char *path, const char *text);

/* GeoJSON in EPSG:28992 for hand-made area trees: an axis-parallel square
 * polygon (to free), a feature of props (the inside of a JSON object) around a
 * geometry it takes over, and a FeatureCollection file of NULL-terminated
 * features. */
char *t_square(double x0, double y0, double x1, double y1);
char *t_feature(const char *props, char *geometry);
void t_write_layer(const char *path, const char *const *features);

/* Assert that every file under a/rel (but release.json) has identical bytes
 * under b/rel. */
void t_compare_trees(const char *a, const char *b, const char *rel);
/* Where <out>/current points ("releases/<id>"; to free). */
char *t_link_target(const char *out);

/* `pc6risk init` of config into schema; the test fails when it does. */
void t_init(const char *config, const char *schema);
/* `pc6risk refresh` of config into schema, publishing into out, with draws
 * Monte Carlo draws; the test fails when it does. */
void t_refresh(const char *config, const char *schema, const char *out, const char *draws);

/* Write root as JSON to path, and cJSON_Delete it. */
void t_write_json(const char *path, struct cJSON *root);

/* demo/pc6risk.json parsed, with its input paths made absolute so that a
 * test can write it anywhere (to cJSON_Delete). */
struct cJSON *t_demo_config(void);

#endif
