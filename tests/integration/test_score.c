/*
 * score and compare against PostGIS on a tiny hand-made city whose answers are
 * worked out by hand below: the 3-of-6 rule, weighted aggregation to the
 * buurt, shrinkage of small areas, agreement of identical and reversed
 * scenarios, and the report files (golden). The Monte Carlo's repeatability
 * is tested on the demo (test_demo.c), where there are enough buurten for
 * draws to differ.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/config.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"
#include "support.h"

#define X0 80000
#define Y0 450000

/* The ten PC6, five in buurt West (9999AA-AE) and five in Oost (9999BA-BE). */
static const char *const codes[10] = {"9999AA", "9999AB", "9999AC", "9999AD", "9999AE",
				      "9999BA", "9999BB", "9999BC", "9999BD", "9999BE"};

/* Each PC6's rank (1-10) on each of six domains: every column is 1..10 once.
 * A domain is flagged at P80: ranks 8, 9 and 10. So AA has 3 flags (d1-d3),
 * AB 2, BA 4 (d3-d6), BE 3 (d4-d6), the others 1: at risk are AA, BA, BE. */
static const int ranks[10][6] = {
	{10, 10, 10, 1, 1, 1}, /* AA */
	{9, 9, 1, 2, 2, 2},    /* AB */
	{1, 1, 2, 8, 3, 3},    /* AC */
	{2, 2, 3, 3, 8, 4},    /* AD */
	{3, 3, 4, 4, 4, 9},    /* AE */
	{4, 4, 9, 10, 10, 10}, /* BA */
	{8, 5, 5, 5, 5, 5},    /* BB */
	{5, 8, 6, 6, 6, 6},    /* BC */
	{6, 6, 8, 7, 7, 7},    /* BD */
	{7, 7, 7, 9, 9, 8},    /* BE */
};
static const int flags[10] = {3, 2, 1, 1, 1, 4, 1, 1, 1, 3};

/* Children 0-17: West has 30 of its 100 in at-risk AA, Oost 40 of 100 (BA,
 * BE), so the 3-of-6 buurt index is 30 and 40. */
static const int children[10] = {30, 10, 10, 10, 40, 20, 20, 20, 20, 20};

/* Benefits per inhabitant: AA is large (1000) at 10 %, AB tiny (10) at 50 %. */
static const int inhabitants[10] = {1000, 10, 100, 100, 100, 100, 100, 100, 100, 100};
static const int benefits[10] = {100, 5, 5, 10, 15, 20, 25, 10, 15, 20};

static const char config_text[] =
	"{\"inputs\": {\"areas\": [\n"
	" {\"level\": \"gemeente\", \"path\": \"gemeente.geojson\", \"code\": \"GM_CODE\", \"name\": \"GM_NAAM\"},\n"
	" {\"level\": \"wijk\", \"path\": \"wijk.geojson\", \"code\": \"WK_CODE\", \"name\": \"WK_NAAM\", \"parent\": \"GM_CODE\"},\n"
	" {\"level\": \"buurt\", \"path\": \"buurt.geojson\", \"code\": \"BU_CODE\", \"name\": \"BU_NAAM\", \"parent\": \"WK_CODE\"},\n"
	" {\"level\": \"pc6\", \"path\": \"pc6.geojson\", \"code\": \"PC6\"}],\n"
	" \"indicators\": [{\"path\": \"pc6.csv\", \"level\": \"pc6\", \"key\": \"PC6\", \"columns\": {\n"
	"  \"inhabitants\": \"INWONER\", \"households\": \"AANTAL_HH\", \"children_0_17\": \"INW_017\",\n"
	"  \"benefits\": \"UITK\",\n"
	"  \"d1\": {\"column\": \"D1\", \"kind\": \"share\"}, \"d2\": {\"column\": \"D2\", \"kind\": \"share\"},\n"
	"  \"d3\": {\"column\": \"D3\", \"kind\": \"share\"}, \"d4\": {\"column\": \"D4\", \"kind\": \"share\"},\n"
	"  \"d5\": {\"column\": \"D5\", \"kind\": \"share\"}, \"d6\": {\"column\": \"D6\", \"kind\": \"share\"}}}]},\n"
	" \"scenarios\": [\n"
	"  {\"name\": \"drie-van-zes\", \"level\": \"pc6\", \"outputs\": [\"pc6\", \"buurt\", \"wijk\"],"
	"   \"normalise\": \"rank\", \"shrink\": false, \"combine\": \"flags\","
	"   \"flags\": {\"percentile\": 80, \"needed\": 3}, \"weight\": \"children_0_17\", \"indicators\": [\n"
	"    {\"name\": \"d1\", \"value\": \"d1\", \"direction\": \"up\"}, {\"name\": \"d2\", \"value\": \"d2\", \"direction\": \"up\"},\n"
	"    {\"name\": \"d3\", \"value\": \"d3\", \"direction\": \"up\"}, {\"name\": \"d4\", \"value\": \"d4\", \"direction\": \"up\"},\n"
	"    {\"name\": \"d5\", \"value\": \"d5\", \"direction\": \"up\"}, {\"name\": \"d6\", \"value\": \"d6\", \"direction\": \"up\"}]},\n"
	"  {\"name\": \"gemiddeld\", \"level\": \"pc6\", \"outputs\": [\"pc6\", \"buurt\"], \"normalise\": \"z\","
	"   \"shrink\": false, \"combine\": \"mean\", \"weight\": \"children_0_17\", \"indicators\": [\n"
	"    {\"name\": \"d1\", \"value\": \"d1\", \"direction\": \"up\"}, {\"name\": \"d4\", \"value\": \"d4\", \"direction\": \"up\"}]},\n"
	"  {\"name\": \"kopie\", \"level\": \"pc6\", \"outputs\": [\"pc6\", \"buurt\"], \"normalise\": \"z\","
	"   \"shrink\": false, \"combine\": \"mean\", \"weight\": \"children_0_17\", \"indicators\": [\n"
	"    {\"name\": \"d1\", \"value\": \"d1\", \"direction\": \"up\"}, {\"name\": \"d4\", \"value\": \"d4\", \"direction\": \"up\"}]},\n"
	"  {\"name\": \"omgekeerd\", \"level\": \"pc6\", \"outputs\": [\"pc6\", \"buurt\"], \"normalise\": \"z\","
	"   \"shrink\": false, \"combine\": \"mean\", \"weight\": \"children_0_17\", \"indicators\": [\n"
	"    {\"name\": \"d1\", \"value\": \"d1\", \"direction\": \"down\"}, {\"name\": \"d4\", \"value\": \"d4\", \"direction\": \"down\"}]},\n"
	"  {\"name\": \"uitkering\", \"level\": \"pc6\", \"outputs\": [\"pc6\", \"buurt\"], \"normalise\": \"z\","
	"   \"combine\": \"mean\", \"indicators\": [\n"
	"    {\"name\": \"benefit_rate\", \"numerator\": \"benefits\", \"denominator\": \"inhabitants\", \"direction\": \"up\"}]}],\n"
	" \"compare\": {\"draws\": 40, \"seed\": 3},\n"
	" \"privacy\": {\"k\": 10, \"count\": \"households\"},\n"
	" \"publish\": {\"dir\": \"out\", \"neighbourhoods\": [\"West\"]}}\n";

struct city {
	char *dir;
	char *schema;
	char *config;
	struct db *db;
};

static void write_city(const char *dir)
{
	char *g[2] = {t_feature("\"GM_CODE\":\"GM9999\",\"GM_NAAM\":\"Testgemeente\"", t_square(X0, Y0, X0 + 1000, Y0 + 1000)),
		      NULL};
	char *w[2] = {t_feature("\"WK_CODE\":\"WK999901\",\"WK_NAAM\":\"Wijk 01\",\"GM_CODE\":\"GM9999\"",
				t_square(X0, Y0, X0 + 1000, Y0 + 1000)),
		      NULL};
	char *b[3] = {t_feature("\"BU_CODE\":\"BU99990101\",\"BU_NAAM\":\"West\",\"WK_CODE\":\"WK999901\"",
				t_square(X0, Y0, X0 + 500, Y0 + 1000)),
		      t_feature("\"BU_CODE\":\"BU99990102\",\"BU_NAAM\":\"Oost\",\"WK_CODE\":\"WK999901\"",
				t_square(X0 + 500, Y0, X0 + 1000, Y0 + 1000)),
		      NULL};
	char *p[11] = {NULL};
	char *path;
	struct sbuf csv = {0};

	for (int i = 0; i < 10; i++) {
		char *props = xasprintf("\"PC6\":\"%s\"", codes[i]);
		double x = X0 + (i >= 5 ? 500 : 0) + 10 + (i % 5) * 95;

		p[i] = t_feature(props, t_square(x, Y0 + 100, x + 80, Y0 + 180));
		free(props);
	}
	sbuf_puts(&csv, "PC6;INWONER;AANTAL_HH;INW_017;UITK;D1;D2;D3;D4;D5;D6\n");
	for (int i = 0; i < 10; i++) {
		sbuf_printf(&csv, "%s;%d;20;%d;%d", codes[i], inhabitants[i], children[i], benefits[i]);
		for (int d = 0; d < 6; d++)
			sbuf_printf(&csv, ";%d", 5 * ranks[i][d]);
		sbuf_putc(&csv, '\n');
	}
	path = xasprintf("%s/pc6.csv", dir);
	t_write(path, csv.s);
	free(path);
	path = xasprintf("%s/gemeente.geojson", dir);
	t_write_layer(path, (const char *const *)g);
	free(path);
	path = xasprintf("%s/wijk.geojson", dir);
	t_write_layer(path, (const char *const *)w);
	free(path);
	path = xasprintf("%s/buurt.geojson", dir);
	t_write_layer(path, (const char *const *)b);
	free(path);
	path = xasprintf("%s/pc6.geojson", dir);
	t_write_layer(path, (const char *const *)p);
	free(path);
	free(g[0]);
	free(w[0]);
	free(b[0]);
	free(b[1]);
	for (int i = 0; i < 10; i++)
		free(p[i]);
	sbuf_free(&csv);
}

/* The tiny city loaded, scored, compared, protected and published. */
static void city_start(struct city *c)
{
	struct t_run r;

	c->dir = t_tmpdir();
	c->schema = t_schema("t_score");
	c->config = xasprintf("%s/pc6risk.json", c->dir);
	write_city(c->dir);
	t_write(c->config, config_text);
	r = t_pc6risk((const char *[]){"init", "-q", "-c", c->config, "--schema", c->schema, NULL});
	cr_assert_eq(r.status, 0, "init: %s", r.err);
	t_run_free(&r);
	r = t_pc6risk((const char *[]){"refresh", "-q", "-c", c->config, "--schema", c->schema, NULL});
	cr_assert_eq(r.status, 0, "refresh: %s", r.err);
	t_run_free(&r);
	c->db = t_db(c->schema);
}

static void city_end(struct city *c)
{
	db_close(c->db);
	t_drop_schema(c->schema);
	t_rmtree(c->dir);
	free(c->dir);
	free(c->schema);
	free(c->config);
}

static double num(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static double num(struct db *db, const char *fmt, ...)
{
	va_list ap;
	char sql[1024], *v;
	double x;

	va_start(ap, fmt);
	cr_assert_lt(vsnprintf(sql, sizeof sql, fmt, ap), (int)sizeof sql);
	va_end(ap);
	v = t_query1(db, sql);
	cr_assert(v[0], "NULL from %s", sql);
	x = strtod(v, NULL);
	free(v);
	return x;
}

Test(score, three_of_six_flags_and_the_share_of_children_at_risk, .timeout = 120)
{
	struct city c;

	city_start(&c);
	for (int i = 0; i < 10; i++) {
		char *sql = xasprintf("SELECT flags || ' ' || at_risk FROM score"
				      " WHERE scenario = 'drie-van-zes' AND level = 'pc6' AND code = '%s'",
				      codes[i]);
		char *got = t_query1(c.db, sql), *want = xasprintf("%d %s", flags[i], flags[i] >= 3 ? "true" : "false");

		cr_assert_str_eq(got, want, "%s: flags and at_risk", codes[i]);
		free(sql);
		free(got);
		free(want);
	}
	/* the buurt index: the share (%) of children living in an at-risk PC6 */
	cr_assert_float_eq(num(c.db, "SELECT value FROM score WHERE scenario = 'drie-van-zes' AND code = 'BU99990101'"),
			   30.0, 1e-9);
	cr_assert_float_eq(num(c.db, "SELECT value FROM score WHERE scenario = 'drie-van-zes' AND code = 'BU99990102'"),
			   40.0, 1e-9);
	cr_assert_float_eq(num(c.db, "SELECT value FROM score WHERE scenario = 'drie-van-zes' AND code = 'WK999901'"),
			   35.0, 1e-9);
	cr_assert_float_eq(num(c.db, "SELECT rank FROM score WHERE scenario = 'drie-van-zes' AND code = 'BU99990102'"),
			   1.0, 0);
	city_end(&c);
}

Test(score, a_buurt_is_the_children_weighted_mean_of_its_pc6, .timeout = 120)
{
	struct city c;
	double z1[10], z4[10], mean1 = 0, mean4 = 0, sd1 = 0, sd4 = 0, west = 0, oost = 0;

	city_start(&c);
	/* z-scores of d1 and d4 (sample sd, as R's scale()), by hand */
	for (int i = 0; i < 10; i++)
		mean1 += 5.0 * ranks[i][0] / 10, mean4 += 5.0 * ranks[i][3] / 10;
	for (int i = 0; i < 10; i++) {
		sd1 += pow(5.0 * ranks[i][0] - mean1, 2) / 9;
		sd4 += pow(5.0 * ranks[i][3] - mean4, 2) / 9;
	}
	for (int i = 0; i < 10; i++) {
		z1[i] = (5.0 * ranks[i][0] - mean1) / sqrt(sd1);
		z4[i] = (5.0 * ranks[i][3] - mean4) / sqrt(sd4);
	}
	for (int i = 0; i < 10; i++) {
		double v = num(c.db, "SELECT value FROM score WHERE scenario = 'gemiddeld' AND code = '%s'", codes[i]);

		cr_assert_float_eq(v, (z1[i] + z4[i]) / 2, 1e-9, "%s", codes[i]);
		if (i < 5)
			west += children[i] * v;
		else
			oost += children[i] * v;
	}
	cr_assert_float_eq(num(c.db, "SELECT value FROM score WHERE scenario = 'gemiddeld' AND code = 'BU99990101'"),
			   west / 100, 1e-9, "never a plain mean of the PC6 scores");
	cr_assert_float_eq(num(c.db, "SELECT value FROM score WHERE scenario = 'gemiddeld' AND code = 'BU99990102'"),
			   oost / 100, 1e-9);
	city_end(&c);
}

Test(score, shrinkage_pulls_a_small_pc6_and_leaves_a_large_one, .timeout = 120)
{
	struct city c;
	const char *rate = "(SELECT position FROM rate_part WHERE level = 'pc6' AND definition = 'benefits / inhabitants')";
	double raw_aa, raw_ab, aa, ab, w_aa, w_ab;

	city_start(&c);
	raw_aa = num(c.db, "SELECT raw[%s] FROM rate WHERE code = '9999AA'", rate);
	raw_ab = num(c.db, "SELECT raw[%s] FROM rate WHERE code = '9999AB'", rate);
	aa = num(c.db, "SELECT shrunk[%s] FROM rate WHERE code = '9999AA'", rate);
	ab = num(c.db, "SELECT shrunk[%s] FROM rate WHERE code = '9999AB'", rate);
	w_aa = num(c.db, "SELECT weight[%s] FROM rate WHERE code = '9999AA'", rate);
	w_ab = num(c.db, "SELECT weight[%s] FROM rate WHERE code = '9999AB'", rate);
	cr_assert_float_eq(raw_aa, 0.10, 1e-12, "the raw rate is kept");
	cr_assert_float_eq(raw_ab, 0.50, 1e-12);
	cr_assert_gt(w_aa, 0.9, "1000 inhabitants: kept nearly as read (weight %g)", w_aa);
	cr_assert_lt(fabs(aa - raw_aa), 0.01, "AA moved from %g to %g", raw_aa, aa);
	cr_assert_lt(w_ab, 0.5, "10 inhabitants: shrunk hard (weight %g)", w_ab);
	cr_assert_lt(ab, raw_ab - 0.15, "AB pulled from %g only to %g", raw_ab, ab);
	cr_assert_gt(ab, 0.10, "but not past the buurt's rate");
	cr_assert_gt(num(c.db, "SELECT sd[%s] FROM rate WHERE code = '9999AB'", rate),
		     num(c.db, "SELECT sd[%s] FROM rate WHERE code = '9999AA'", rate), "the small area is less sure");
	city_end(&c);
}

Test(score, identical_scenarios_agree_fully_and_reversed_ones_not_at_all, .timeout = 120)
{
	struct city c;

	city_start(&c);
	for (int l = 0; l < 2; l++) {
		const char *level = l ? "buurt" : "pc6";

		cr_assert_float_eq(num(c.db, "SELECT spearman FROM compare_pair WHERE level = '%s' AND a = 'gemiddeld'"
					     " AND b = 'kopie'", level), 1.0, 1e-12, "%s", level);
		cr_assert_float_eq(num(c.db, "SELECT kendall FROM compare_pair WHERE level = '%s' AND a = 'gemiddeld'"
					     " AND b = 'kopie'", level), 1.0, 1e-12, "%s", level);
		cr_assert_float_eq(num(c.db, "SELECT spearman FROM compare_pair WHERE level = '%s' AND a = 'gemiddeld'"
					     " AND b = 'omgekeerd'", level), -1.0, 1e-12, "%s", level);
		cr_assert_float_eq(num(c.db, "SELECT kendall FROM compare_pair WHERE level = '%s' AND a = 'gemiddeld'"
					     " AND b = 'omgekeerd'", level), -1.0, 1e-12, "%s", level);
	}
	cr_assert_float_eq(num(c.db, "SELECT jaccard_3 FROM compare_pair WHERE level = 'pc6' AND a = 'gemiddeld'"
				     " AND b = 'kopie'"), 1.0, 1e-12);
	cr_assert_float_eq(num(c.db, "SELECT count(*) FROM compare_pair WHERE level = 'buurt'"), 10, 0,
			   "every pair of the five scenarios");
	city_end(&c);
}

/* The report files of the tiny city, byte for byte (tests/golden/score-report.*). */
Test(score, the_report_files_match_their_golden_copies, .timeout = 120)
{
	struct city c;
	const char *files[2] = {"report.csv", "report.json"};

	city_start(&c);
	for (int i = 0; i < 2; i++) {
		char *got_path = xasprintf("%s/out/current/%s", c.dir, files[i]);
		char *want_rel = xasprintf("tests/golden/score-%s", files[i]);
		char *want_path = t_repo_path(want_rel);
		char *got = t_slurp(got_path, NULL), *want = t_slurp(want_path, NULL);

		cr_assert_not_null(got, "%s was not written", got_path);
		if (getenv("PC6RISK_UPDATE_GOLDEN")) {
			t_write(want_path, got);
			free(want);
			want = t_slurp(want_path, NULL);
		}
		cr_assert_not_null(want, "%s is missing (PC6RISK_UPDATE_GOLDEN=1 writes it)", want_rel);
		cr_assert_str_eq(got, want, "%s differs from %s", files[i], want_rel);
		free(got);
		free(want);
		free(got_path);
		free(want_path);
		free(want_rel);
	}
	city_end(&c);
}
