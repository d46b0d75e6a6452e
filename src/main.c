/*
 * main — the command line: argv into a subcommand, errors into exit codes.
 * The only place that prints an error record and the only place that exits.
 */
#include "pc6risk/audit.h"
#include "pc6risk/compare.h"
#include "pc6risk/config.h"
#include "pc6risk/daemon.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"
#include "pc6risk/http.h"
#include "pc6risk/log.h"
#include "pc6risk/run.h"
#include "pc6risk/signals.h"
#include "pc6risk/synth.h"
#include "pc6risk/vector.h"
#include "pc6risk/xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PC6RISK_VERSION
#define PC6RISK_VERSION "0.0.0-dev"
#endif
/* Where `make install` puts the demo data synth starts from. */
#ifndef PC6RISK_DATADIR
#define PC6RISK_DATADIR "/usr/local/share/pc6risk"
#endif

enum {
	OPT_CONFIG = 1 << 0,
	OPT_SCHEMA = 1 << 1,
	OPT_OUT = 1 << 2,
	OPT_SELECT = 1 << 3,
	OPT_LOG = 1 << 4,
	OPT_LOAD = 1 << 5,        /* --force, --max-rejects, --rejects, --encoding */
	OPT_SYNTH = 1 << 6,       /* --area, --postcodes, --seed, --data */
	OPT_SYNTH_OUT = 1 << 7,   /* --out, as synth means it */
	OPT_SCRATCH = 1 << 8,     /* --schema, as synth means it */
	OPT_COMPARE = 1 << 9,     /* --draws, --seed */
	OPT_AUDIT = 1 << 10,      /* --public, --threads */
	OPT_TILES = 1 << 11,      /* --zooms, --no-tiles */
	OPT_DAEMON = 1 << 12,     /* --listen, --now */
	OPT_PNG = 1 << 13         /* --png */
};

/* Long options without a short form. */
enum { LONG_AREA = 256, LONG_POSTCODES, LONG_SEED, LONG_DATA, LONG_DRAWS, LONG_PUBLIC, LONG_THREADS, LONG_ZOOMS,
       LONG_NO_TILES, LONG_LISTEN, LONG_NOW, LONG_PNG };

/* What the command line said. */
struct opts {
	const char *command;
	const char *config;
	const char *schema;
	const char *out;
	char **select;
	size_t nselect;
	bool force;             /* load */
	long long max_rejects;
	const char *rejects;
	bool encoding_set;
	enum encoding encoding;
	const char *draws;      /* compare */
	const char *arg;        /* presets: the one argument; audit: DIR */
	const char *public_csv; /* audit */
	const char *threads;
	const char *area;       /* synth */
	const char *postcodes;
	const char *seed;
	const char *data;
	int minzoom, maxzoom;   /* publish: --zooms, -1 = the config's */
	bool no_tiles;
	bool png;               /* publish: --png */
	const char *listen;     /* daemon */
	bool now;
};

struct command {
	const char *name;
	int (*run)(struct opts *o, struct err *e);
	unsigned accepts;
	const char *summary;
	const char *help; /* what it does, before the options */
};

/* Help lines for the options; `bit` says which commands take them. */
static const struct {
	unsigned bit;
	const char *flag;
	const char *text;
} option_help[] = {
	{OPT_CONFIG, "-c, --config FILE", "config file (default: $PC6RISK_CONFIG, else ./pc6risk.json)"},
	{OPT_SCHEMA, "    --schema NAME", "database schema (default: the config's database.schema, else pc6risk)"},
	{OPT_OUT, "-o, --out DIR", "output directory (default: the config's publish.dir)"},
	{OPT_SYNTH, "    --area AREA", "denhaag (the demo set) or nl (a national set); required"},
	{OPT_SYNTH, "    --postcodes N", "nl: how many PC6 (default 450000; 100 to 1000000)"},
	{OPT_SYNTH, "    --seed N", "seed of the random numbers, 0 to 2^64-1 (default 1); the same\n"
				 "                       seed gives the same files"},
	{OPT_COMPARE, "    --draws N", "Monte Carlo draws per scenario (default: compare.draws, 1000)"},
	{OPT_COMPARE, "    --seed N", "seed of the draws (default: compare.seed, 1); the same seed\n"
				   "                       gives the same intervals"},
	{OPT_SYNTH, "    --data DIR", "the real files to start from (default: ./demo/data when it\n"
				 "                       exists, else " PC6RISK_DATADIR "/demo/data)"},
	{OPT_SYNTH_OUT, "-o, --out DIR", "where the files go (default: ./AREA-synthetic); created when\n"
					"                       missing; synth's own files in it are replaced"},
	{OPT_SCRATCH, "    --schema NAME", "scratch schema for the polygon work, which must not exist; it\n"
				       "                       lives only inside synth's transaction (default: pc6risk_synth)"},
	{OPT_SELECT, "    --select LIST", "comma-separated wijk/buurt names or codes to write as\n"
				       "                       neighbourhood files (default: publish.neighbourhoods)"},
	{OPT_AUDIT, "    --public FILE", "public totals an attacker knows (level,code,variable,value,base),\n"
				       "                       such as CBS's Kerncijfers wijken en buurten"},
	{OPT_AUDIT, "    --threads N", "threads for the LPs, 1 to 8 (default: the CPUs, at most 8)"},
	{OPT_TILES, "    --zooms A-B", "write only the tiles of zooms A to B (default: publish.tiles)"},
	{OPT_TILES, "    --no-tiles", "write no tiles (everything else as usual)"},
	{OPT_PNG, "    --png", "also write png/<scenario>.png, a map per scenario for reports\n"
			      "                       (done anyway when the config has publish.png; its size,\n"
			      "                       else 1600 x 1200 pixels)"},
	{OPT_LOAD, "    --force", "load (and refresh) even when the inputs are those of the last load"},
	{OPT_LOAD, "    --max-rejects N", "skip up to N bad rows (default 0: any bad row stops the load)"},
	{OPT_LOAD, "    --rejects FILE", "where skipped rows go, with the reason (default pc6risk-rejects.csv)"},
	{OPT_LOAD, "    --encoding ENC", "encoding of every CSV: auto (default), utf-8, cp1252, latin1"},
	{OPT_DAEMON, "    --listen ADDR", "HTTP address, like 127.0.0.1:8080 or [::1]:8080; port 0 picks a\n"
				       "                       free one (default: daemon.listen, 127.0.0.1:8080)"},
	{OPT_DAEMON, "    --now", "refresh at start (done anyway when nothing is published yet)"},
	{OPT_LOG, "-q, --quiet", "log only warnings and errors"},
	{OPT_LOG, "-v, --verbose", "log debug detail too"},
};

static void report(const struct err *e)
{
	char buf[4096];

	err_format(e, buf, sizeof buf);
	log_msg(LOG_ERROR, "%s", buf);
}

static const char *config_path(const struct opts *o)
{
	const char *env = getenv("PC6RISK_CONFIG");

	if (o->config)
		return o->config;
	return env && env[0] ? env : "pc6risk.json";
}

/* Load the config, or fail with a hint when the default one is missing. */
static struct config *load_config(const struct opts *o, struct err *e)
{
	const char *path = config_path(o);
	struct config *cfg = config_load(path, e);

	if (!cfg && !o->config && access(path, F_OK) != 0)
		err_hint(e, "pass the config with -c FILE (the demo's is demo/pc6risk.json)");
	return cfg;
}

/* Connect to the schema of the command line, else of the config. */
static struct db *connect_db(const struct opts *o, const struct config *cfg, bool check, struct err *e)
{
	struct db *db = db_connect(o->schema ? o->schema : cfg ? cfg->schema : "pc6risk", e);

	if (db && check && db_check_schema(db, e) < 0) {
		db_close(db);
		return NULL;
	}
	return db;
}

static int cmd_init(struct opts *o, struct err *e)
{
	struct config *cfg = NULL;
	struct db *db;
	int applied, rc;

	/* init works without a config; it only needs to know the schema. */
	if (o->config || (!o->schema && access(config_path(o), F_OK) == 0)) {
		if (!(cfg = load_config(o, e)))
			return -1;
	}
	db = connect_db(o, cfg, false, e);
	if (!db) {
		config_free(cfg);
		return -1;
	}
	rc = db_migrate(db, &applied, e);
	if (rc == 0)
		log_msg(LOG_INFO, "schema %s is at version %d applied=%d", db_schema(db), db_latest_version(), applied);
	db_close(db);
	config_free(cfg);
	return rc;
}

/* A whole number from 0 to max, from an option value; -1 when it is not one. */
static int parse_number(const char *text, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!text[0] || text[0] == '-' || text[0] == '+' || text[0] == ' ')
		return -1;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return *end || errno == ERANGE || *out > max ? -1 : 0;
}

/* What every recorded stage command does: config, connection, a run record
 * around the stages. */
static int staged(struct opts *o, struct err *e, unsigned stages)
{
	struct run_counts counts = {0};
	struct config *cfg = load_config(o, e);
	struct db *db = NULL;
	long long id = 0;
	int rc = -1;

	if (!cfg)
		return -1;
	if (!(db = connect_db(o, cfg, true, e)))
		goto out;
	if (stages == RUN_ALL) {
		int got = db_session_lock(db, "refresh", e);

		if (got == 0) {
			err_set(e, ERR_DATABASE, NULL, "another pc6risk refresh is running on schema \"%s\"", db_schema(db));
			err_hint(e, "wait for it to finish (a daemon, or cron); pc6risk.run shows the running one");
		}
		if (got != 1)
			goto out;
	}
	if (run_begin(db, o->command, NULL, &id, e) < 0)
		goto out;
	{
		struct run_opts ro = {
			.load = {
				.run_id = id,
				.force = o->force,
				.max_rejects = o->max_rejects,
				.rejects_path = o->rejects ? o->rejects : "pc6risk-rejects.csv",
				.encoding_set = o->encoding_set,
				.encoding = o->encoding,
			},
			.compare = {
				.draws = cfg->compare_draws,
				.seed = cfg->compare_seed,
				.select = (const char *const *)o->select,
				.nselect = o->nselect,
				.print = true,
			},
			.publish = {
				.out_dir = o->out,
				.select = (const char *const *)o->select,
				.nselect = o->nselect,
				.run_id = id,
				.print_ranking = true,
				.minzoom = o->minzoom,
				.maxzoom = o->maxzoom,
				.no_tiles = o->no_tiles,
				.png = o->png,
			},
		};

		unsigned long long n;

		if (o->draws && parse_number(o->draws, 100000, &n) == 0)
			ro.compare.draws = (int)n;
		if (o->seed && parse_number(o->seed, ~0ULL, &n) == 0)
			ro.compare.seed = n;
		/* options that change what is published make a refresh run even
		 * when inputs and config did not change */
		bool force = o->force || o->nselect || o->draws || o->seed || o->minzoom >= 0 || o->no_tiles ||
			     o->png;

		rc = stages == RUN_ALL ? run_refresh(db, cfg, &ro, force, &counts, e)
				       : run_stages(db, cfg, stages, &ro, &counts, e);
	}
	run_end(db, id, &counts, rc < 0 ? e : NULL);
out:
	db_close(db);
	config_free(cfg);
	return rc;
}

static int cmd_load(struct opts *o, struct err *e)
{
	return staged(o, e, RUN_LOADED);
}

static int cmd_score(struct opts *o, struct err *e)
{
	return staged(o, e, RUN_SCORED);
}

static int cmd_protect(struct opts *o, struct err *e)
{
	return staged(o, e, RUN_PROTECTED);
}

static int cmd_compare(struct opts *o, struct err *e)
{
	return staged(o, e, RUN_COMPARED);
}

static int cmd_presets(struct opts *o, struct err *e)
{
	const char *const *names = config_preset_names();

	if (o->arg) {
		const char *text = config_preset(o->arg);

		if (!text) {
			err_set(e, ERR_USAGE, NULL, "no preset \"%s\"", o->arg);
			return err_hint(e, "`pc6risk presets` lists them");
		}
		fputs(text, stdout);
		return 0;
	}
	printf("Scenario presets (pc6risk presets NAME prints one, to copy into a config):\n\n");
	for (const char *const *n = names; *n; n++)
		printf("  %s\n", *n);
	printf("\nUse one in the config as {\"preset\": \"NAME\"}, changing keys beside it:\n"
	       "  {\"preset\": \"imd-nl\", \"reference\": \"all\"}\n");
	return 0;
}

static int cmd_publish(struct opts *o, struct err *e)
{
	return staged(o, e, RUN_PUBLISHED);
}

static int cmd_refresh(struct opts *o, struct err *e)
{
	return staged(o, e, RUN_ALL);
}

static int cmd_daemon(struct opts *o, struct err *e)
{
	struct daemon_opts d = {
		.config_path = config_path(o),
		.schema = o->schema,
		.out_dir = o->out,
		.listen = o->listen,
		.now = o->now,
	};
	struct sockaddr_storage sa;
	socklen_t len;

	if (o->listen && http_parse_listen(o->listen, &sa, &len, e) < 0) {
		e->cls = ERR_USAGE;
		err_prefix(e, "--listen");
		return -1;
	}
	if (access(d.config_path, F_OK) != 0 && !o->config) {
		err_set(e, ERR_CONFIG, d.config_path, "no config file");
		return err_hint(e, "the daemon needs one: give --config FILE or set PC6RISK_CONFIG");
	}
	return daemon_run(&d, e);
}


static int cmd_synth(struct opts *o, struct err *e)
{
	struct synth_opts so = {.postcodes = 450000, .seed = 1};
	struct synth_stats st;
	unsigned long long n;
	char *out = NULL;
	struct db *db;
	int rc;

	synth_area_parse(o->area, &so.area);
	if (o->postcodes && parse_number(o->postcodes, SYNTH_MAX_POSTCODES, &n) == 0)
		so.postcodes = (long)n;
	if (o->seed && parse_number(o->seed, ~0ULL, &n) == 0)
		so.seed = n;
	so.data_dir = o->data ? o->data : access("demo/data", F_OK) == 0 ? "demo/data" : PC6RISK_DATADIR "/demo/data";
	so.out_dir = o->out ? o->out : (out = xasprintf("%s-synthetic", synth_area_name(so.area)));
	db = db_connect(o->schema ? o->schema : "pc6risk_synth", e);
	if (!db) {
		free(out);
		return -1;
	}
	rc = synth_run(db, &so, &st, e);
	db_close(db);
	free(out);
	return rc;
}

/* Failures are the command's answer, not an error: exit 1 after listing them. */
static int cmd_audit(struct opts *o, struct err *e)
{
	struct audit_opts ao = {.public_csv = o->public_csv};
	struct audit_report r;
	unsigned long long n;
	int rc;

	if (o->threads && parse_number(o->threads, 8, &n) == 0)
		ao.threads = (int)n;
	rc = audit_dir(o->arg, &ao, &r, e);
	if (rc >= 0)
		audit_print(&r, o->arg, 50, stdout);
	audit_report_free(&r);
	return rc;
}

static int cmd_version(struct opts *o, struct err *e)
{
	int pq = db_client_version();

	(void)o, (void)e;
	printf("pc6risk %s\n", PC6RISK_VERSION);
	printf("libpq %d.%d, GDAL %s, cJSON %s, schema version %d\n", pq / 10000, pq % 100, vec_gdal_version(),
	       cJSON_Version(), db_latest_version());
	return 0;
}

static const struct command commands[] = {
	{"init", cmd_init, OPT_CONFIG | OPT_SCHEMA | OPT_LOG, "create or upgrade the database schema",
	 "Create the schema (database.schema, default pc6risk) and apply the migrations it\n"
	 "lacks, each in its own transaction. Running it again changes nothing. Needs a\n"
	 "role that may create the postgis extension the first time.\n"},
	{"load", cmd_load, OPT_CONFIG | OPT_SCHEMA | OPT_LOAD | OPT_LOG, "read the config's inputs into the database",
	 "Read the polygons (inputs.areas), figures (inputs.indicators) and PC6 crosswalk\n"
	 "(inputs.crosswalk) the config names, check them, and replace the loaded data in one\n"
	 "transaction. On any error nothing changes and the error names the file, line and\n"
	 "column (or feature id). When the input files and their settings are those of the\n"
	 "last load, nothing is read again and nothing changes.\n"},
	{"score", cmd_score, OPT_CONFIG | OPT_SCHEMA | OPT_LOG, "compute every scenario's scores",
	 "Compute the scores of every scenario in the config for the loaded data.\n"},
	{"compare", cmd_compare, OPT_CONFIG | OPT_SCHEMA | OPT_COMPARE | OPT_SELECT | OPT_LOG,
	 "compare the scenarios: agreement, robust picks, rank intervals",
	 "Compare every pair of scenarios (Spearman rho, Kendall tau, overlap of the top 3, 5\n"
	 "and 10 buurten), find the robust top N (in the top N of all scenarios but at most\n"
	 "one), and run a Monte Carlo of each scenario's uncertain choices (weights, flag\n"
	 "percentile and count, normalisation, shrinkage) for every buurt's rank interval.\n"
	 "Writes tables compare_pair and compare_area and prints the agreement, the robust\n"
	 "picks and a panel of the selected neighbourhoods (--select, else\n"
	 "publish.neighbourhoods). refresh runs it between score and protect.\n"},
	{"protect", cmd_protect, OPT_CONFIG | OPT_SCHEMA | OPT_LOG, "decide what may be published",
	 "Apply privacy.policy (public: CBS's rules; internal: k households). PC6 below\n"
	 "the size rules are merged into groups inside their buurt, small buurten into\n"
	 "units inside their wijk; every count of every group, unit, wijk and gemeente is\n"
	 "published rounded or hidden, also where it would let a hidden one (or a small\n"
	 "buurt next to one CBS publishes) be recomputed. PC6 scores only as their\n"
	 "group's band; a buurt below the rules shows its wijk's score. Without PC6, a\n"
	 "unit smaller than k (privacy.count) is suppressed. What compare found is\n"
	 "released for published units only. Writes the only tables publish reads;\n"
	 "docs/disclosure.md is the whole contract.\n"},
	{"publish", cmd_publish, OPT_CONFIG | OPT_SCHEMA | OPT_OUT | OPT_SELECT | OPT_TILES | OPT_PNG | OPT_LOG,
	 "write GeoJSON, tiles, GeoPackage, CSV and the ranked table from what protect allowed",
	 "Write a new release under <dir>/releases/<id>/: buurten.geojson (every buurt)\n"
	 "with QGIS styles beside it (buurten.qml, buurten.<scenario>.qml),\n"
	 "pc6risk.gpkg (EPSG:28992, a styled layer per level and scenario),\n"
	 "wijken.csv, buurten.csv and pc6.csv (no geometry),\n"
	 "neighbourhoods/<name>.geojson per selected wijk or buurt (with its PC6),\n"
	 "report.csv and report.json (the comparison of the scenarios, docs/report.md),\n"
	 "disclosure/ (groups, every count, the policy: docs/disclosure.md),\n"
	 "tiles/<scenario>/{z}/{x}/{y}.geojson and tiles/<scenario>.mbtiles (vector\n"
	 "tiles from one tiling pass, publish.tiles), png/<scenario>.png (a map per\n"
	 "scenario for reports, with publish.png or --png), areas.json and viewer/ (the\n"
	 "map viewer and what it reads beside the tiles, docs/viewer.md) and release.json;\n"
	 "audit it (as `pc6risk audit` does) and only then point <dir>/current at it. A\n"
	 "failure, or a release that fails its audit, leaves the previous release in place.\n"
	 "Prints each scenario's ranked table on standard output.\n"},
	{"refresh", cmd_refresh,
	 OPT_CONFIG | OPT_SCHEMA | OPT_OUT | OPT_SELECT | OPT_LOAD | OPT_COMPARE | OPT_TILES | OPT_PNG | OPT_LOG,
	 "load, score, compare, protect and publish as one recorded run",
	 "Run load, score, compare, protect and publish in turn as one run, recorded in the\n"
	 "run table with its counts, or with its error when a stage fails. When the input\n"
	 "files (by size and modification time, then by content), the config and the\n"
	 "pc6risk version are those of the last refresh that succeeded and its release is\n"
	 "still current, nothing runs: one log line, and a run recorded as skipped.\n"
	 "--force runs every stage anyway, as do --select, --zooms, --no-tiles, --png,\n"
	 "--draws and --seed. One refresh of a schema runs at a time (an advisory lock):\n"
	 "a second one fails at once. The daemon command runs this on a schedule.\n"},
	{"daemon", cmd_daemon, OPT_CONFIG | OPT_SCHEMA | OPT_OUT | OPT_DAEMON | OPT_LOG,
	 "refresh on a schedule and serve the tiles, health and metrics over HTTP",
	 "Run in the foreground (systemd Type=notify or simple; contrib/ has a unit) until\n"
	 "SIGTERM. Refreshes as `pc6risk refresh` does at daemon.schedule (\"03:00\" daily in\n"
	 "Europe/Amsterdam time, or \"every 6h\") and at SIGUSR1, skipping when nothing\n"
	 "changed; a failed refresh is retried with backoff while the previous release\n"
	 "stays served. SIGHUP reads the config again (a bad one is logged and the old one\n"
	 "kept); SIGTERM rolls back the current step and exits 0, a second one at once.\n"
	 "HTTP (read-only, daemon.listen, default 127.0.0.1:8080):\n"
	 "  /tiles/<scenario>/tiles.json              TileJSON naming the release's tile URLs\n"
	 "  /tiles/<scenario>/{z}/{x}/{y}.pbf|.geojson the current release's tiles\n"
	 "  /releases/<id>/tiles/...                  one release's, cacheable for a year\n"
	 "  /neighbourhoods/<name>.geojson            the selected neighbourhoods\n"
	 "  /                                         the map viewer (to /releases/<id>/viewer/)\n"
	 "  /<file>, /releases/<id>/<file>            a release's other files: areas.json,\n"
	 "                                            report.json, viewer/, png/, disclosure/ ...\n"
	 "  /healthz /readyz /metrics /runs           alive, fresh, Prometheus, run history\n"
	 "See the README's \"Daemon\" section and docs/config.md (daemon).\n"},
	{"presets", cmd_presets, 0, "list the shipped scenario presets, or print one",
	 "Without an argument, list the scenario presets; with a NAME, print that preset's\n"
	 "JSON, ready to copy into a config's scenarios and change. docs/scenarios.md\n"
	 "explains each.\n"},
	{"synth", cmd_synth, OPT_SYNTH | OPT_SYNTH_OUT | OPT_SCRATCH | OPT_LOG,
	 "write a synthetic input set to try or benchmark",
	 "Write a SYNTHETIC input set in the formats load reads: a GeoPackage (gemeente,\n"
	 "wijk, buurt, pc6), a CBS-style PC6 CSV, a CBS postcode-huisnummer crosswalk, a\n"
	 "CSV of buurt-only figures, synthetic.json and a pc6risk.json that loads them.\n"
	 "--area denhaag: the real Den Haag buurten (2015) with PC6 polygons (real in\n"
	 "Zuid-West, generated elsewhere) and PC6 figures drawn to add up to the real\n"
	 "buurt totals. --area nl: a nested synthetic country of --postcodes PC6.\n"
	 "Polygon work runs in PostGIS (the libpq environment), in a scratch schema that\n"
	 "is never committed. Every file says it is synthetic. See docs/synth.md.\n"},
	{"audit", cmd_audit, OPT_AUDIT | OPT_LOG, "prove from the published files that nothing is disclosive",
	 "Re-read the disclosure files of a release, DIR/disclosure/{groups.csv, figures.csv,\n"
	 "policy.json} (DIR such as maps/out/current), never the database, and check them\n"
	 "as docs/disclosure.md says: size minimums, rounding and bands, the income rule,\n"
	 "that no suppressed count is a linear combination of published and public figures\n"
	 "(exact), and that every suppressed count's feasible interval is wide enough\n"
	 "(linear programming, GLPK). Prints a certificate when everything passes.\n"
	 "\n"
	 "Exit codes: 0 every check passed; 1 a check failed (each failure is listed, the\n"
	 "first 50 and a count of the rest); 2 usage; 4 a file is unreadable or malformed\n"
	 "(file:line:column and what was expected); 7 internal error.\n"},
	{"version", cmd_version, 0, "print the version of pc6risk and its libraries",
	 "Print the version of pc6risk, of the libraries it uses and of its schema.\n"},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: pc6risk <command> [options]\n\n"
		   "Privacy-preserving postcode (PC6) risk maps: load CBS figures and polygons into\n"
		   "PostGIS, score them, protect small areas, publish GeoJSON.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-9s  %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'pc6risk <command> --help' for its options.\n"
		   "The database comes from the libpq environment (PGHOST, PGDATABASE, PGUSER, ...\n"
		   "or PGSERVICE); passwords belong in ~/.pgpass, never in the config.\n\n"
		   "Exit codes: 0 success, 1 audit found a disclosure, 2 usage, 3 config, 4 input,\n"
		   "5 database, 6 system (I/O, disk full, interrupted), 7 internal error.\n");
}

static void command_usage(const struct command *c)
{
	printf("Usage: pc6risk %s%s%s%s\n\n%s", c->name, strcmp(c->name, "audit") == 0 ? " DIR" : "",
	       c->accepts ? " [options]" : "", strcmp(c->name, "presets") == 0 ? " [NAME]" : "", c->help);
	printf("\nOptions:\n");
	for (size_t i = 0; i < sizeof option_help / sizeof option_help[0]; i++)
		if (c->accepts & option_help[i].bit)
			printf("  %-19s  %s\n", option_help[i].flag, option_help[i].text);
	printf("  %-19s  %s\n", "-h, --help", "show this help");
}

/* Split "a, b,c" into trimmed non-empty parts. */
static void split_list(const char *arg, struct opts *o)
{
	char *copy = xstrdup(arg), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t n;

		while (*t == ' ')
			t++;
		n = strlen(t);
		while (n > 0 && t[n - 1] == ' ')
			t[--n] = '\0';
		if (n == 0)
			continue;
		o->select = xrealloc(o->select, (o->nselect + 1) * sizeof *o->select);
		o->select[o->nselect++] = xstrdup(t);
	}
	free(copy);
}

/* Parse a command's options. Returns -1 to go on, or an exit code. */
static int parse_options(const struct command *c, int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'}, {"schema", required_argument, NULL, 'S'},
		{"out", required_argument, NULL, 'o'},    {"select", required_argument, NULL, 's'},
		{"quiet", no_argument, NULL, 'q'},        {"verbose", no_argument, NULL, 'v'},
		{"force", no_argument, NULL, 'F'},        {"max-rejects", required_argument, NULL, 'M'},
		{"rejects", required_argument, NULL, 'R'}, {"encoding", required_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},         {"area", required_argument, NULL, LONG_AREA},
		{"postcodes", required_argument, NULL, LONG_POSTCODES},
		{"seed", required_argument, NULL, LONG_SEED},
		{"data", required_argument, NULL, LONG_DATA},
		{"draws", required_argument, NULL, LONG_DRAWS},
		{"public", required_argument, NULL, LONG_PUBLIC},
		{"threads", required_argument, NULL, LONG_THREADS},
		{"zooms", required_argument, NULL, LONG_ZOOMS},
		{"no-tiles", no_argument, NULL, LONG_NO_TILES},
		{"listen", required_argument, NULL, LONG_LISTEN},
		{"now", no_argument, NULL, LONG_NOW},
		{"png", no_argument, NULL, LONG_PNG},
		{NULL, 0, NULL, 0},
	};
	char cmdname[64];
	int ch;

	snprintf(cmdname, sizeof cmdname, "%s ", c->name);
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":c:o:qvh", longs, NULL)) != -1) {
		unsigned need = 0;
		const char *name = "";

		switch (ch) {
		case 'c': need = OPT_CONFIG, name = "--config"; o->config = optarg; break;
		case 'S': need = OPT_SCHEMA | OPT_SCRATCH, name = "--schema"; o->schema = optarg; break;
		case 'o': need = OPT_OUT | OPT_SYNTH_OUT, name = "--out"; o->out = optarg; break;
		case LONG_AREA: need = OPT_SYNTH, name = "--area"; o->area = optarg; break;
		case LONG_POSTCODES: need = OPT_SYNTH, name = "--postcodes"; o->postcodes = optarg; break;
		case LONG_SEED: need = OPT_SYNTH | OPT_COMPARE, name = "--seed"; o->seed = optarg; break;
		case LONG_DRAWS: need = OPT_COMPARE, name = "--draws"; o->draws = optarg; break;
		case LONG_DATA: need = OPT_SYNTH, name = "--data"; o->data = optarg; break;
		case LONG_PUBLIC: need = OPT_AUDIT, name = "--public"; o->public_csv = optarg; break;
		case LONG_THREADS: need = OPT_AUDIT, name = "--threads"; o->threads = optarg; break;
		case LONG_NO_TILES: need = OPT_TILES, name = "--no-tiles"; o->no_tiles = true; break;
		case LONG_LISTEN: need = OPT_DAEMON, name = "--listen"; o->listen = optarg; break;
		case LONG_NOW: need = OPT_DAEMON, name = "--now"; o->now = true; break;
		case LONG_PNG: need = OPT_PNG, name = "--png"; o->png = true; break;
		case LONG_ZOOMS: {
			int a, b, len = 0;

			need = OPT_TILES, name = "--zooms";
			if (sscanf(optarg, "%d-%d%n", &a, &b, &len) != 2 || optarg[len] || a < 0 || b > 18 || a > b) {
				if (sscanf(optarg, "%d%n", &a, &len) == 1 && !optarg[len] && a >= 0 && a <= 18) {
					b = a;
				} else {
					fprintf(stderr, "pc6risk %s: --zooms: expected A-B with 0 <= A <= B <= 18, or one zoom,"
							" got '%s'\nTry 'pc6risk %s--help'.\n", c->name, optarg, cmdname);
					return 2;
				}
			}
			o->minzoom = a;
			o->maxzoom = b;
			break;
		}
		case 's': need = OPT_SELECT, name = "--select"; split_list(optarg, o); break;
		case 'F': need = OPT_LOAD, name = "--force"; o->force = true; break;
		case 'M': {
			char *end;

			need = OPT_LOAD, name = "--max-rejects";
			o->max_rejects = strtoll(optarg, &end, 10);
			if (*end || end == optarg || o->max_rejects < 0) {
				fprintf(stderr, "pc6risk %s: --max-rejects: expected a whole number >= 0, got '%s'\n"
						"Try 'pc6risk %s--help'.\n", c->name, optarg, cmdname);
				return 2;
			}
			break;
		}
		case 'R': need = OPT_LOAD, name = "--rejects"; o->rejects = optarg; break;
		case 'E':
			need = OPT_LOAD, name = "--encoding";
			if (encoding_parse(optarg, &o->encoding) < 0) {
				fprintf(stderr, "pc6risk %s: --encoding: expected auto, utf-8, cp1252 or latin1, got '%s'\n"
						"Try 'pc6risk %s--help'.\n", c->name, optarg, cmdname);
				return 2;
			}
			o->encoding_set = true;
			break;
		case 'q': need = OPT_LOG, name = "--quiet"; log_set_level(LOG_WARN); break;
		case 'v': need = OPT_LOG, name = "--verbose"; log_set_level(LOG_DEBUG); break;
		case 'h': command_usage(c); return 0;
		case ':':
			fprintf(stderr, "pc6risk %s: option '%s' needs a value\nTry 'pc6risk %s--help'.\n", c->name,
				argv[optind - 1], cmdname);
			return 2;
		default:
			fprintf(stderr, "pc6risk %s: unknown option '%s'\nTry 'pc6risk %s--help'.\n", c->name,
				argv[optind - 1], cmdname);
			return 2;
		}
		if (!(c->accepts & need)) {
			fprintf(stderr, "pc6risk %s: option '%s' does not apply to this command\nTry 'pc6risk %s--help'.\n",
				c->name, name, cmdname);
			return 2;
		}
	}
	if (optind < argc && strcmp(c->name, "presets") == 0 && optind + 1 == argc)
		o->arg = argv[optind++];
	if (c->accepts & OPT_AUDIT) {
		unsigned long long n;
		const char *bad = NULL;

		if (optind < argc)
			o->arg = argv[optind++];
		if (!o->arg)
			bad = "missing DIR, the release to audit (such as maps/out/current)";
		else if (o->threads && (parse_number(o->threads, 8, &n) < 0 || n < 1))
			bad = "--threads: must be a whole number from 1 to 8";
		if (bad) {
			fprintf(stderr, "pc6risk %s: %s\nTry 'pc6risk %s--help'.\n", c->name, bad, cmdname);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pc6risk %s: unexpected argument '%s'\nTry 'pc6risk %s--help'.\n", c->name,
			argv[optind], cmdname);
		return 2;
	}
	if (o->schema && !config_schema_name_ok(o->schema)) {
		fprintf(stderr,
			"pc6risk %s: --schema: must be lowercase letters, digits and _, starting with a letter\n"
			"Try 'pc6risk %s--help'.\n",
			c->name, cmdname);
		return 2;
	}
	if (c->accepts & OPT_SYNTH) {
		enum synth_area area;
		unsigned long long n;
		const char *bad = NULL;

		if (!o->area)
			bad = "--area is required: denhaag or nl";
		else if (synth_area_parse(o->area, &area) < 0)
			bad = "--area: must be denhaag or nl";
		else if (o->postcodes && area != SYNTH_NL)
			bad = "--postcodes applies to --area nl only";
		else if (o->postcodes && (parse_number(o->postcodes, SYNTH_MAX_POSTCODES, &n) < 0 || n < SYNTH_MIN_POSTCODES))
			bad = "--postcodes: must be a whole number from 100 to 1000000";
		else if (o->seed && parse_number(o->seed, ~0ULL, &n) < 0)
			bad = "--seed: must be a whole number from 0 to 18446744073709551615";
		else if (o->out && !o->out[0])
			bad = "--out: must not be empty";
		if (bad) {
			fprintf(stderr, "pc6risk %s: %s\nTry 'pc6risk %s--help'.\n", c->name, bad, cmdname);
			return 2;
		}
	}
	if (c->accepts & OPT_COMPARE) {
		unsigned long long n;
		const char *bad = NULL;

		if (o->draws && parse_number(o->draws, 100000, &n) < 0)
			bad = "--draws: must be a whole number from 0 to 100000";
		else if (o->seed && parse_number(o->seed, ~0ULL, &n) < 0)
			bad = "--seed: must be a whole number from 0 to 18446744073709551615";
		if (bad) {
			fprintf(stderr, "pc6risk %s: %s\nTry 'pc6risk %s--help'.\n", c->name, bad, cmdname);
			return 2;
		}
	}
	if (o->select && o->nselect == 0) {
		fprintf(stderr, "pc6risk %s: --select needs at least one name\nTry 'pc6risk %s--help'.\n", c->name,
			cmdname);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct command *c;
	struct opts o = {.minzoom = -1, .maxzoom = -1};
	struct err e;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "pc6risk: missing command\nTry 'pc6risk --help'.\n");
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(&o, &e);
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "pc6risk: unknown %s '%s'\nTry 'pc6risk --help'.\n",
			argv[1][0] == '-' ? "option" : "command", argv[1]);
		return 2;
	}
	o.command = c->name;
	rc = parse_options(c, argc - 1, argv + 1, &o);
	if (rc < 0) {
		signals_install();
		err_clear(&e);
		/* a command returns -1 on an error, else its exit code (audit: 1
		 * when a check fails) */
		rc = c->run(&o, &e);
		if (rc < 0) {
			rc = err_exit_code(e.cls == ERR_NONE ? ERR_INTERNAL : e.cls);
			report(&e);
		}
	}
	for (size_t i = 0; i < o.nselect; i++)
		free(o.select[i]);
	free(o.select);
	return rc;
}
