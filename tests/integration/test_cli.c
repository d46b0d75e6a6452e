/* The command line: usage errors, help, exit codes per error class. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pc6risk/xalloc.h"
#include "support.h"

static const char *const all_commands[] = {"init",  "load",  "score", "protect", "publish", "refresh",
					   "daemon", "audit", "synth", "version", NULL};

Test(cli, no_command_is_a_usage_error)
{
	struct t_run r = t_pc6risk((const char *[]){NULL});

	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk: missing command\nTry 'pc6risk --help'.\n");
	t_run_free(&r);
}

Test(cli, unknown_command_and_option_give_one_line_and_a_hint)
{
	struct t_run r = t_pc6risk((const char *[]){"frobnicate", NULL});

	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk: unknown command 'frobnicate'\nTry 'pc6risk --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"publish", "--frobnicate", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk publish: unknown option '--frobnicate'\nTry 'pc6risk publish --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"load", "--out", "x", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk load: option '--out' does not apply to this command\nTry 'pc6risk load --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"refresh", "--config", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk refresh: option '--config' needs a value\nTry 'pc6risk refresh --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"score", "extra", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk score: unexpected argument 'extra'\nTry 'pc6risk score --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"publish", "--zooms", "14-9", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk publish: --zooms: expected A-B with 0 <= A <= B <= 18, or one zoom, got '14-9'\n"
				"Try 'pc6risk publish --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"daemon", "--listen", "localhost:8080", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--listen: "), "%s", r.err);
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"refresh", "--listen", "127.0.0.1:8080", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk refresh: option '--listen' does not apply to this command\nTry 'pc6risk refresh --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"score", "--zooms", "12", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "pc6risk score: option '--zooms' does not apply to this command\nTry 'pc6risk score --help'.\n");
	t_run_free(&r);

	r = t_pc6risk((const char *[]){"init", "--schema", "Bad-Name", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "pc6risk init: --schema: ") == r.err, "%s", r.err);
	t_run_free(&r);
}

Test(cli, every_command_has_help)
{
	struct t_run r = t_pc6risk((const char *[]){"--help", NULL});

	cr_assert_eq(r.status, 0);
	for (const char *const *c = all_commands; *c; c++) {
		char line[64];
		struct t_run h = t_pc6risk((const char *[]){*c, "--help", NULL});

		snprintf(line, sizeof line, "\n  %s ", *c);
		cr_assert(strstr(r.out, line), "pc6risk --help does not list %s", *c);
		cr_assert_eq(h.status, 0, "%s --help", *c);
		snprintf(line, sizeof line, "Usage: pc6risk %s", *c);
		cr_assert(strncmp(h.out, line, strlen(line)) == 0, "%s --help starts with: %s", *c, h.out);
		cr_assert(strstr(h.out, "-h, --help"), "%s --help lists --help", *c);
		cr_assert_str_eq(h.err, "");
		t_run_free(&h);
	}
	cr_assert(strstr(r.out, "Exit codes: 0 success, 1 audit found a disclosure, 2 usage, 3 config, 4 input,\n"
				"5 database, 6 system"));
	t_run_free(&r);
}

Test(cli, version_names_the_libraries)
{
	struct t_run r = t_pc6risk((const char *[]){"version", NULL});

	cr_assert_eq(r.status, 0);
	cr_assert(strncmp(r.out, "pc6risk ", 8) == 0);
	cr_assert(strstr(r.out, "libpq ") && strstr(r.out, "GDAL ") && strstr(r.out, "cJSON "), "%s", r.out);
	t_run_free(&r);
}

Test(cli, a_bad_config_exits_3_naming_the_key)
{
	char *dir = t_tmpdir();
	char *path = xasprintf("%s/pc6risk.json", dir);
	struct t_run r;

	t_write(path, "{\"inputs\": {\"areas\": []}, \"privacy\": {\"k\": \"ten\"}}");
	r = t_pc6risk((const char *[]){"load", "-c", path, NULL});
	cr_assert_eq(r.status, 3, "%s", r.err);
	cr_assert(strstr(r.err, "pc6risk.json: inputs.areas: must be a non-empty array, got an empty array"), "%s", r.err);
	t_run_free(&r);

	t_write(path, "{\"inputs\": {\"areas\": [{}]},\n \"privacy\": {\"k\": \"ten\"},}");
	r = t_pc6risk((const char *[]){"refresh", "--config", path, NULL});
	cr_assert_eq(r.status, 3);
	cr_assert(strstr(r.err, "pc6risk.json:2:25: trailing comma before the closing bracket"), "%s", r.err);
	t_run_free(&r);
	t_rmtree(dir);
	free(path);
	free(dir);
}

Test(cli, an_unreachable_database_exits_5_with_a_hint)
{
	struct t_run r = t_run((const char *[]){"env", "PGHOST=/nonexistent-socket-dir", "PGSERVICE=",
						getenv("PC6RISK_BIN"), "init", "--schema", "x", NULL});

	cr_assert_eq(r.status, 5, "%s", r.err);
	cr_assert(strstr(r.err, "error cannot connect to PostgreSQL: "), "%s", r.err);
	cr_assert(strstr(r.err, "hint: point PGHOST and PGDATABASE"), "%s", r.err);
	t_run_free(&r);
}

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/disclosure/%s", dir, name);
	FILE *f = fopen(path, "w");

	cr_assert(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* audit: 0 with a certificate, 1 listing the failures, 4 naming the bad line, 2 without DIR. */
Test(cli, audit_exit_codes)
{
	char *dir = t_tmpdir(), *disc = xasprintf("%s/disclosure", dir);
	const char *figs_head = "level,region,variable,kind,status,value,base,reason\n"
				"group,GA1,inhabitants,person,published,100,5,\n"
				"group,GA2,inhabitants,person,suppressed,,5,primary: fewer than 5 inhabitants\n";
	char *figs;
	struct t_run r;

	cr_assert_eq(mkdir(disc, 0700), 0);
	put(dir, "groups.csv", "group,buurt,wijk,gemeente,members\nGA1,BU1,WK1,GM1,1000AA\nGA2,BU1,WK1,GM1,1000AB\n");
	put(dir, "policy.json", "{\"policy\": \"public\", \"size\": [{\"variable\": \"inhabitants\", \"min\": 5}],"
				" \"kinds\": {\"person\": {\"base\": 5, \"k\": 5}}, \"range\": 0.5, \"bands\": 10}\n");
	put(dir, "figures.csv", figs_head);
	r = t_pc6risk((const char *[]){"audit", dir, NULL});
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "passed"), "%s", r.out);
	cr_assert(strstr(r.out, "smallest group     GA1 with inhabitants 100"), "%s", r.out);
	cr_assert(strstr(r.out, "dominance"), "%s", r.out);
	t_run_free(&r);

	figs = xasprintf("%sbuurt,BU1,inhabitants,person,published,105,5,\n", figs_head);
	put(dir, "figures.csv", figs);
	r = t_pc6risk((const char *[]){"audit", dir, NULL});
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "differencing  group GA2 inhabitants"), "%s", r.out);
	t_run_free(&r);
	free(figs);

	figs = xasprintf("%sgroup,GA9,inhabitants,person,published,100,5,\n", figs_head);
	put(dir, "figures.csv", figs);
	r = t_pc6risk((const char *[]){"audit", dir, NULL});
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "disclosure/figures.csv:4:7: group \"GA9\" is not in groups.csv"), "%s", r.err);
	t_run_free(&r);
	free(figs);

	r = t_pc6risk((const char *[]){"audit", NULL});
	cr_assert_eq(r.status, 2);
	t_run_free(&r);
	t_rmtree(dir);
	free(dir);
	free(disc);
}
