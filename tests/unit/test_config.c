#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pc6risk/config.h"

/* A small valid config; tests patch it with replace(). */
static const char base[] =
	"{\n"
	"  \"inputs\": {\n"
	"    \"areas\": [\n"
	"      {\"level\": \"gemeente\", \"path\": \"g.geojson\", \"code\": \"GM_CODE\", \"name\": \"GM_NAAM\"},\n"
	"      {\"level\": \"wijk\", \"path\": \"w.geojson\", \"code\": \"WK_CODE\", \"name\": \"WK_NAAM\", \"parent\": \"GM_CODE\"},\n"
	"      {\"level\": \"buurt\", \"path\": \"/abs/b.gpkg\", \"layer\": \"buurt\", \"code\": \"BU_CODE\", \"name\": \"BU_NAAM\", \"parent\": \"WK_CODE\"},\n"
	"      {\"level\": \"pc6\", \"path\": \"p.shp\", \"code\": \"PC6\", \"srs\": \"EPSG:28992\"}\n"
	"    ],\n"
	"    \"indicators\": [\n"
	"      {\"path\": \"kwb.csv\", \"level\": \"buurt\", \"key\": \"BU_CODE\", \"delimiter\": \";\",\n"
	"       \"columns\": {\"households\": \"AANTAL_HH\", \"benefit_recipients\": \"WWB_UITTOT\"}}\n"
	"    ]\n"
	"  },\n"
	"  \"scenarios\": [\n"
	"    {\"name\": \"bijstand\", \"level\": \"buurt\", \"numerator\": \"benefit_recipients\", \"denominator\": \"households\"}\n"
	"  ],\n"
	"  \"privacy\": {\"k\": 10}\n"
	"}\n";

/* base with the first occurrence of from replaced by to (static buffer). */
static const char *replace(const char *from, const char *to)
{
	static char buf[8192];
	const char *at = strstr(base, from);

	cr_assert(at != NULL, "test bug: \"%s\" not in the base config", from);
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return buf;
}

/* Insert what before the first occurrence of at in text (of size cap). */
static void insert_before(char *text, size_t cap, const char *at, const char *what)
{
	char *p = strstr(text, at);
	size_t n = strlen(what);

	cr_assert(p != NULL && strlen(text) + n < cap, "test bug: \"%s\" not in the text, or no room", at);
	memmove(p + n, p, strlen(p) + 1);
	memcpy(p, what, n);
}

/* Parse text as conf/pc6risk.json; expect failure; return the formatted error. */
static const char *fails(const char *text)
{
	static char buf[4096];
	struct err e;
	struct config *c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);

	cr_assert_null(c, "expected the config to be refused");
	cr_assert_eq(e.cls, ERR_CONFIG);
	err_format(&e, buf, sizeof buf);
	return buf;
}

Test(config, valid_config_is_read_with_defaults_and_resolved_paths)
{
	struct err e;
	struct config *c = config_parse(base, strlen(base), "conf/pc6risk.json", &e);

	cr_assert_not_null(c, "%s", e.message);
	cr_assert_str_eq(c->schema, "pc6risk");
	cr_assert_eq(c->nareas, 4);
	cr_assert_str_eq(c->areas[0].path, "conf/g.geojson");
	cr_assert_str_eq(c->areas[2].path, "/abs/b.gpkg", "absolute paths stay as they are");
	cr_assert_str_eq(c->areas[2].layer, "buurt");
	cr_assert_null(c->areas[3].parent_field, "pc6 without parent goes by overlap");
	cr_assert_str_eq(c->areas[3].srs, "EPSG:28992");
	cr_assert_eq(config_area(c, LEVEL_PC6), &c->areas[3]);
	cr_assert_eq(c->indicators[0].delimiter, ';');
	cr_assert_eq(c->indicators[0].ncolumns, 2);
	cr_assert_str_eq(c->indicators[0].columns[1].indicator, "benefit_recipients");
	cr_assert_str_eq(c->indicators[0].columns[1].column, "WWB_UITTOT");
	cr_assert(config_has_indicator(c, LEVEL_BUURT, "households"));
	cr_assert(!config_has_indicator(c, LEVEL_PC6, "households"));
	cr_assert_eq(c->scenarios[0].per, 100);
	cr_assert_str_eq(c->scenarios[0].title, "bijstand", "title defaults to the name");
	cr_assert_eq(c->k, 10);
	cr_assert_str_eq(c->k_indicator, "households");
	cr_assert_str_eq(c->out_dir, "conf/maps/out");
	cr_assert_eq(c->keep_releases, 5);
	cr_assert_eq(c->nneighbourhoods, 0);
	config_free(c);
}

Test(config, the_shipped_demo_config_is_valid)
{
	struct err e;
	struct config *c = config_load("demo/pc6risk.json", &e);

	cr_assert_not_null(c, "demo/pc6risk.json: %s", e.message);
	cr_assert_eq(c->nneighbourhoods, 3);
	cr_assert_str_eq(c->neighbourhoods[0], "Schildersbuurt");
	config_free(c);
}

Test(config, k_that_is_not_an_integer_names_the_key_path)
{
	cr_assert_str_eq(fails(replace("\"k\": 10", "\"k\": \"ten\"")),
			 "conf/pc6risk.json: privacy.k: must be an integer >= 2, got \"ten\"");
	cr_assert_str_eq(fails(replace("\"k\": 10", "\"k\": 1")),
			 "conf/pc6risk.json: privacy.k: must be an integer >= 2, got 1");
	cr_assert_str_eq(fails(replace("\"k\": 10", "\"k\": 2.5")),
			 "conf/pc6risk.json: privacy.k: must be an integer >= 2, got 2.5");
}

Test(config, syntax_errors_name_line_and_column)
{
	/* a trailing comma after the last scenario: at the comma, the end of line 15 */
	const char *msg = fails(replace("\"households\"}\n  ],", "\"households\"},\n  ],"));

	cr_assert_str_eq(msg, "conf/pc6risk.json:15:107: trailing comma before the closing bracket");
	cr_assert_str_eq(fails("{\n  \"inputs\": {\n"), "conf/pc6risk.json:3:1: unexpected end of file (a missing '}'?)");
	cr_assert_str_eq(fails("{\n  // no\n}"), "conf/pc6risk.json:2:3: comments are not allowed in JSON");
	cr_assert_str_eq(fails("{\"a\": 1\n \"b\": 2}"), "conf/pc6risk.json:2:2: missing ',' between items");
	cr_assert_str_eq(fails("{'a': 1}"), "conf/pc6risk.json:1:2: strings need double quotes");
	cr_assert_str_eq(fails("{} x"), "conf/pc6risk.json:1:4: text after the end of the top-level object");
	cr_assert_str_eq(fails(""), "conf/pc6risk.json:1:1: unexpected end of file (a value is missing)");
	cr_assert_str_eq(fails("{\n  \"k\" 10}"), "conf/pc6risk.json:2:7: expected ':' after the key");
	cr_assert_str_eq(fails("{\"k\": ten}"), "conf/pc6risk.json:1:7: unquoted text: strings need double quotes");
	cr_assert_str_eq(fails("{\"k\": \"te\nn\"}"), "conf/pc6risk.json:1:10: a line break or control character inside a string (write it as \\n)");
	cr_assert_str_eq(fails("{\"k\": [1, 2 3]}"), "conf/pc6risk.json:1:13: expected ',' or ']'");
	cr_assert_str_eq(fails("{\"k\": 01}"), "conf/pc6risk.json:1:8: expected ',' or '}'");
	cr_assert_str_eq(fails("{\"k\": -}"), "conf/pc6risk.json:1:7: invalid number");
	cr_assert_str_eq(fails("{\"k\": \"a\\qb\"}"), "conf/pc6risk.json:1:9: invalid escape in a string");
	cr_assert_str_eq(fails("{\"k\": \"open"), "conf/pc6risk.json:1:12: unexpected end of file inside a string (a missing '\"'?)");
}

Test(config, unknown_and_repeated_keys_are_refused)
{
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"kk\": 10}")),
			 "conf/pc6risk.json: privacy.kk: unknown key; expected one of: policy, k, count, round, income_min, income_round, dominance, range, bands, exact_scores, figures");
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"k\": 10, \"k\": 12}")),
			 "conf/pc6risk.json: privacy.k: key given twice");
	cr_assert_str_eq(fails(replace("\"code\": \"PC6\"", "\"code\": \"PC6\", \"pathh\": \"x\"")),
			 "conf/pc6risk.json: inputs.areas[3].pathh: unknown key; expected one of: level, path, "
			 "layer, srs, code, name, parent");
}

Test(config, meaning_errors_name_the_key_path)
{
	cr_assert_str_eq(fails(replace("\"level\": \"wijk\"", "\"level\": \"district\"")),
			 "conf/pc6risk.json: inputs.areas[1].level: must be one of gemeente, wijk, buurt, pc6, got \"district\"");
	cr_assert_str_eq(fails(replace(", \"parent\": \"WK_CODE\"", "")),
			 "conf/pc6risk.json: inputs.areas[2].parent: is required");
	cr_assert_str_eq(fails(replace("\"numerator\": \"benefit_recipients\"", "\"numerator\": \"benefits\"")),
			 "conf/pc6risk.json: scenarios[0].numerator: no indicator \"benefits\" is read for level buurt\n"
			 "hint: add it to inputs.indicators, or leave the scenario out");
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"count\": \"inhabitants\"}")),
			 "conf/pc6risk.json: privacy.count: no indicator \"inhabitants\" is read for level buurt, "
			 "which scenarios[0] scores");
	cr_assert_str_eq(fails(replace("\"name\": \"bijstand\"", "\"name\": \"Bijstand!\"")),
			 "conf/pc6risk.json: scenarios[0].name: must be lowercase letters, digits, '-' and '_' (at "
			 "most 40), got \"Bijstand!\"");
	cr_assert_str_eq(fails(replace("\"delimiter\": \";\"", "\"delimiter\": \"|\"")),
			 "conf/pc6risk.json: inputs.indicators[0].delimiter: must be \";\", \",\" or \"\\t\", got \"|\"");
	cr_assert_str_eq(fails(replace("\"path\": \"g.geojson\", ", "")),
			 "conf/pc6risk.json: inputs.areas[0].path: is required");
	cr_assert_str_eq(fails(replace("\"path\": \"g.geojson\"", "\"path\": 7")),
			 "conf/pc6risk.json: inputs.areas[0].path: must be a non-empty string, got 7");
	cr_assert_str_eq(fails("{\"inputs\": {\"areas\": {}}}"),
			 "conf/pc6risk.json: inputs.areas: must be a non-empty array, got an object");
	cr_assert_str_eq(fails("[]"), "conf/pc6risk.json: (top level): must be an object, got an empty array");
	cr_assert_str_eq(fails("{}"), "conf/pc6risk.json: inputs: is required");
}

Test(config, the_tree_must_be_complete_and_levels_unique)
{
	cr_assert_str_eq(
		fails(replace("{\"level\": \"gemeente\", \"path\": \"g.geojson\", \"code\": \"GM_CODE\", \"name\": \"GM_NAAM\"},\n", "")),
		"conf/pc6risk.json: inputs.areas: no gemeente polygons are given");
	cr_assert_str_eq(fails(replace("{\"level\": \"pc6\"", "{\"level\": \"buurt\", \"name\": \"X\", \"parent\": \"Y\"")),
			 "conf/pc6risk.json: inputs.areas[3].level: buurt is given twice");
	cr_assert_str_eq(fails(replace("\"level\": \"gemeente\"", "\"level\": \"gemeente\", \"parent\": \"X\"")),
			 "conf/pc6risk.json: inputs.areas[0].parent: a gemeente has no parent area");
}

Test(config, missing_file_is_a_config_error)
{
	struct err e;
	char buf[512];

	cr_assert_null(config_load("/nonexistent/pc6risk.json", &e));
	cr_assert_eq(e.cls, ERR_CONFIG);
	err_format(&e, buf, sizeof buf);
	cr_assert_str_eq(buf, "/nonexistent/pc6risk.json: cannot open config file: No such file or directory");
}

Test(config, level_names_round_trip)
{
	for (int l = 0; l < LEVEL_COUNT; l++) {
		enum level back;

		cr_assert_eq(level_parse(level_name((enum level)l), &back), 0);
		cr_assert_eq((int)back, l);
	}
	cr_assert_eq(level_parse("PC6", &(enum level){0}), -1, "level names are lowercase");
}

Test(config, columns_have_a_kind_and_a_unit)
{
	const char *text = replace("\"benefit_recipients\": \"WWB_UITTOT\"",
				   "\"benefit_recipients\": \"WWB_UITTOT\", \"low_income\": {\"column\": \"P_LINK_HH\", "
				   "\"kind\": \"share\", \"unit\": \"% of households\"}, \"woz\": {\"column\": \"WOZWONING\", "
				   "\"kind\": \"amount\"}");
	struct err e;
	struct config *c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);

	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->indicators[0].ncolumns, 4);
	cr_assert_eq(c->indicators[0].columns[0].kind, KIND_COUNT, "a bare column name is a count");
	cr_assert_null(c->indicators[0].columns[0].unit);
	cr_assert_eq(c->indicators[0].columns[2].kind, KIND_SHARE);
	cr_assert_str_eq(c->indicators[0].columns[2].column, "P_LINK_HH");
	cr_assert_str_eq(c->indicators[0].columns[2].unit, "% of households");
	cr_assert_eq(c->indicators[0].columns[3].kind, KIND_AMOUNT);
	cr_assert_eq(c->indicators[0].encoding, ENCODING_AUTO);
	config_free(c);

	cr_assert_str_eq(fails(replace("\"benefit_recipients\": \"WWB_UITTOT\"",
				       "\"benefit_recipients\": {\"column\": \"WWB_UITTOT\", \"kind\": \"rate\"}")),
			 "conf/pc6risk.json: inputs.indicators[0].columns.benefit_recipients.kind: must be \"count\", "
			 "\"share\" or \"amount\", got \"rate\"");
	cr_assert_str_eq(fails(replace("\"benefit_recipients\": \"WWB_UITTOT\"", "\"benefit_recipients\": 3")),
			 "conf/pc6risk.json: inputs.indicators[0].columns.benefit_recipients: must be a source column "
			 "name or {\"column\": ..., \"kind\": ...}, got 3");
	cr_assert_str_eq(fails(replace("\"benefit_recipients\": \"WWB_UITTOT\"",
				       "\"benefit_recipients\": {\"kind\": \"count\"}")),
			 "conf/pc6risk.json: inputs.indicators[0].columns.benefit_recipients.column: is required");
}

Test(config, encodings_and_the_crosswalk)
{
	const char *text = replace("\"delimiter\": \";\",", "\"delimiter\": \";\", \"encoding\": \"Windows-1252\",");
	char with_cw[8192];
	struct err e;
	struct config *c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	enum encoding enc;

	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->indicators[0].encoding, ENCODING_CP1252);
	cr_assert_null(c->crosswalk);
	config_free(c);
	cr_assert_str_eq(fails(replace("\"delimiter\": \";\",", "\"encoding\": \"ebcdic\",")),
			 "conf/pc6risk.json: inputs.indicators[0].encoding: must be \"auto\", \"utf-8\", \"cp1252\" or "
			 "\"latin1\", got \"ebcdic\"");

	snprintf(with_cw, sizeof with_cw, "%s",
		 replace("\"indicators\": [", "\"crosswalk\": {\"path\": \"pc6hnr.csv\", \"pc6\": \"PC6\", \"buurt\": "
						 "\"Buurt2015\", \"encoding\": \"latin1\"},\n    \"indicators\": ["));
	c = config_parse(with_cw, strlen(with_cw), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_str_eq(c->crosswalk->path, "conf/pc6hnr.csv");
	cr_assert_str_eq(c->crosswalk->pc6_column, "PC6");
	cr_assert_str_eq(c->crosswalk->buurt_column, "Buurt2015");
	cr_assert_eq(c->crosswalk->encoding, ENCODING_LATIN1);
	cr_assert_eq(c->crosswalk->delimiter, 0);
	config_free(c);

	cr_assert_eq(encoding_parse("UTF-8", &enc), 0);
	cr_assert_eq(enc, ENCODING_UTF8);
	cr_assert_eq(encoding_parse("utf-16", &enc), -1);
	cr_assert_str_eq(kind_name(KIND_SHARE), "share");
}

/* Every figure a shipped preset reads: PC6 figures, buurt-only figures and
 * the outcome layer generatie needs. */
static const char all_figures[] =
	"{\"inputs\": {\"areas\": [\n"
	" {\"level\": \"gemeente\", \"path\": \"g.geojson\", \"code\": \"GM_CODE\", \"name\": \"GM_NAAM\"},\n"
	" {\"level\": \"wijk\", \"path\": \"w.geojson\", \"code\": \"WK_CODE\", \"name\": \"WK_NAAM\", \"parent\": \"GM_CODE\"},\n"
	" {\"level\": \"buurt\", \"path\": \"b.geojson\", \"code\": \"BU_CODE\", \"name\": \"BU_NAAM\", \"parent\": \"WK_CODE\"},\n"
	" {\"level\": \"pc6\", \"path\": \"p.geojson\", \"code\": \"PC6\"}],\n"
	" \"indicators\": [\n"
	"  {\"path\": \"pc6.csv\", \"level\": \"pc6\", \"key\": \"PC6\", \"columns\": {\"inhabitants\": \"A\",\n"
	"   \"households\": \"B\", \"children_0_17\": \"C\", \"dwellings\": \"D\", \"dwellings_before_1945\": \"E\",\n"
	"   \"inhabitants_15_24\": \"F\", \"inhabitants_25_44\": \"G\", \"inhabitants_45_64\": \"H\",\n"
	"   \"benefits_below_aow_age\": \"I\", \"one_parent_households\": \"J\", \"two_parent_households\": \"K\",\n"
	"   \"low_income_share\": {\"column\": \"L\", \"kind\": \"share\"}, \"rented_share\": {\"column\": \"M\", \"kind\": \"share\"},\n"
	"   \"woz_value\": {\"column\": \"N\", \"kind\": \"amount\"}, \"gas_use\": {\"column\": \"O\", \"kind\": \"amount\"},\n"
	"   \"income_class\": {\"column\": \"P\", \"kind\": \"amount\"}, \"mean_household_size\": {\"column\": \"Q\", \"kind\": \"amount\"}}},\n"
	"  {\"path\": \"buurt.csv\", \"level\": \"buurt\", \"key\": \"BU_CODE\", \"columns\": {\n"
	"   \"low_education_share\": {\"column\": \"R\", \"kind\": \"share\"}, \"poor_health_share\": {\"column\": \"S\", \"kind\": \"share\"},\n"
	"   \"below_110_social_minimum_share\": {\"column\": \"T\", \"kind\": \"share\"},\n"
	"   \"crimes_per_1000\": {\"column\": \"U\", \"kind\": \"amount\"},\n"
	"   \"mobility_outcome\": {\"column\": \"V\", \"kind\": \"share\"}}}]},\n"
	" \"scenarios\": [{\"preset\": \"kansarmoede-3van6\"}, {\"preset\": \"imd-nl\"}, {\"preset\": \"kinderarmoede-kern\"},\n"
	"  {\"preset\": \"generatie\"}, {\"preset\": \"data-gedreven\"}]}\n";

Test(config, every_shipped_preset_runs_when_its_figures_are_read)
{
	struct err e;
	struct config *c = config_parse(all_figures, strlen(all_figures), "p.json", &e);
	const struct config_scenario *s;
	double imd[7] = {22.5, 22.5, 13.5, 13.5, 9.3, 9.3, 9.3};
	size_t n = 0;

	cr_assert_not_null(c, "%s", e.message);
	for (const char *const *name = config_preset_names(); *name; name++)
		n++;
	cr_assert_eq(c->nscenarios, n, "the config uses every shipped preset");
	s = &c->scenarios[0];
	cr_assert_str_eq(s->preset, "kansarmoede-3van6");
	cr_assert_eq(s->combine, COMBINE_FLAGS);
	cr_assert_eq(s->ndomains, 6, "income, work, family, housing, education, health");
	cr_assert_float_eq(s->flag_percentile, 0.8, 1e-12);
	cr_assert_eq(s->flags_needed, 3);
	for (size_t j = 0; j < s->nterms; j++)
		if (strcmp(s->terms[j].domain, "education") == 0 || strcmp(s->terms[j].domain, "health") == 0)
			cr_assert_eq(s->terms[j].level, LEVEL_BUURT, "%s is inherited from the buurt", s->terms[j].name);
	s = &c->scenarios[1];
	cr_assert_eq(s->combine, COMBINE_IMD);
	cr_assert_eq(s->ndomains, 7);
	for (size_t d = 0; d < 7; d++)
		cr_assert_float_eq(s->domains[d].weight, imd[d], 1e-12, "IMD domain %zu", d);
	cr_assert_eq(c->scenarios[3].combine, COMBINE_GEOMEAN);
	cr_assert_eq(c->scenarios[4].combine, COMBINE_PCA);
	for (size_t i = 0; i < c->nscenarios; i++)
		for (size_t j = 0; j < c->scenarios[i].nterms; j++)
			cr_assert_null(strstr(c->scenarios[i].terms[j].name, "migra"),
				       "no preset uses migration background (%s)", c->scenarios[i].name);
	config_free(c);
}

Test(config, generatie_without_an_outcome_layer_says_it_cannot_run)
{
	static char text[sizeof all_figures];
	const char *cut = ",\n   \"mobility_outcome\": {\"column\": \"V\", \"kind\": \"share\"}";
	const char *at = strstr(all_figures, cut);

	cr_assert_not_null(at);
	snprintf(text, sizeof text, "%.*s%s", (int)(at - all_figures), all_figures, at + strlen(cut));
	cr_assert_str_eq(fails(text),
			 "conf/pc6risk.json: scenarios[3].indicators[3] (outcome, from preset generatie): no indicator "
			 "\"mobility_outcome\" is read for level pc6 or coarser\n"
			 "hint: add it to inputs.indicators, or leave the scenario out (generatie cannot run without an "
			 "outcome or mobility layer, such as the Kansenkaart's)");
}

/* generatie needs an outcome layer; read per buurt, each PC6 inherits it. */
Test(config, generatie_runs_on_an_outcome_layer_read_per_buurt)
{
	char text[8192];
	struct err e;
	struct config *c;
	const struct config_scenario *s;

	snprintf(text, sizeof text, "%s",
		 replace("\"benefit_recipients\": \"WWB_UITTOT\"}}",
			 "\"benefit_recipients\": \"WWB_UITTOT\", \"mobility_outcome\": {\"column\": \"P_KIND_LAAGINK\","
			 " \"kind\": \"share\"}}},\n"
			 "      {\"path\": \"pc6.csv\", \"level\": \"pc6\", \"key\": \"PC6\", \"delimiter\": \";\",\n"
			 "       \"columns\": {\"households\": \"AANTAL_HH\", \"children_0_17\": \"INW_017\","
			 " \"low_income_share\": {\"column\": \"P_LINK_HH\", \"kind\": \"share\"},"
			 " \"benefits_below_aow_age\": \"UITKMINAOW\", \"inhabitants_15_24\": \"INW_1524\","
			 " \"inhabitants_25_44\": \"INW_2544\", \"inhabitants_45_64\": \"INW_4564\","
			 " \"one_parent_households\": \"HH_EENOUD\", \"two_parent_households\": \"HH_TWEEOUD\"}}"));
	insert_before(text, sizeof text, "{\"name\": \"bijstand\"", "{\"preset\": \"generatie\"},\n    ");
	c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->nscenarios, 2);
	s = &c->scenarios[0];
	cr_assert_str_eq(s->name, "generatie");
	cr_assert_eq(s->level, LEVEL_PC6);
	for (size_t j = 0; j < s->nterms; j++) {
		cr_assert(s->terms[j].present, "%s is read", s->terms[j].name);
		cr_assert_eq(s->terms[j].level, strcmp(s->terms[j].name, "outcome") == 0 ? LEVEL_BUURT : LEVEL_PC6, "%s",
			     s->terms[j].name);
	}
	config_free(c);
}

/* privacy: the public policy refuses settings weaker than CBS's, names the
 * key, and reads its defaults; internal takes k households; figures must be
 * counts read per PC6. */
Test(config, privacy_policies_and_their_limits)
{
	struct err e;
	struct config *c;
	const char *text;

	text = replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"policy\": \"public\"}");
	c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->privacy.policy, POLICY_PUBLIC);
	cr_assert_eq(c->k, 5);
	cr_assert_eq(c->privacy.income_min, 100);
	cr_assert_eq(c->privacy.income_round, 100);
	cr_assert_float_eq(c->privacy.dominance, 0.3, 1e-12);
	cr_assert_eq(c->privacy.bands, 10);
	cr_assert_not(c->privacy.exact_scores);
	config_free(c);

	text = replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"policy\": \"internal\"}");
	c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->k, 10);
	cr_assert_eq(c->privacy.nsize, 1);
	cr_assert_str_eq(c->privacy.size[0].name, "households");
	config_free(c);

	cr_assert(strstr(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"k\": 3}")),
			 "conf/pc6risk.json: privacy.k: may not be weaker than CBS's rules under the public policy"));
	cr_assert(strstr(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"dominance\": 0.5}")),
			 "privacy.dominance: may not be weaker than CBS's rules"));
	cr_assert(strstr(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"income_round\": 10}")),
			 "privacy.income_round: may not be weaker than CBS's rules"));
	cr_assert(strstr(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"exact_scores\": true}")),
			 "privacy.exact_scores: must be false under the public policy"));
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"policy\": \"open\"}")),
			 "conf/pc6risk.json: privacy.policy: \"public\" or \"internal\", got \"open\"");
	cr_assert_str_eq(
		fails(replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"figures\": {\"benefit_recipients\": \"income\"}}")),
		"conf/pc6risk.json: privacy.figures.benefit_recipients: must name a count indicator read for level pc6, "
		"got \"income\"");
	text = replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"policy\": \"internal\", \"round\": 1, \"exact_scores\": true}");
	c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "internal may publish exact counts and scores: %s", e.message);
	config_free(c);
}

Test(config, tile_zooms_default_narrow_and_refuse_overlaps)
{
	struct err e;
	struct config *c = config_parse(base, strlen(base), "conf/pc6risk.json", &e);

	cr_assert_not_null(c, "%s", e.message);
	cr_assert(c->tiles.enabled && !c->tiles.pbf);
	cr_assert_eq(c->tiles.zoom[LEVEL_WIJK][0], 8);
	cr_assert_eq(c->tiles.zoom[LEVEL_BUURT][1], 13);
	cr_assert_eq(c->tiles.zoom[LEVEL_PC6][1], 16);
	cr_assert_eq(c->tiles.zoom[LEVEL_GEMEENTE][0], -1, "gemeenten are not tiled");
	config_free(c);

	c = config_parse(replace("\"privacy\": {\"k\": 10}",
				 "\"privacy\": {\"k\": 10}, \"publish\": {\"tiles\": {\"wijk\": null, \"pc6\": [14, 18],"
				 " \"pbf\": true}}"),
			 strlen(replace("\"privacy\": {\"k\": 10}",
					"\"privacy\": {\"k\": 10}, \"publish\": {\"tiles\": {\"wijk\": null, \"pc6\": [14, 18],"
					" \"pbf\": true}}")),
			 "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->tiles.zoom[LEVEL_WIJK][0], -1);
	cr_assert_eq(c->tiles.zoom[LEVEL_PC6][1], 18);
	cr_assert(c->tiles.pbf);
	config_free(c);

	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}",
				       "\"privacy\": {\"k\": 10}, \"publish\": {\"tiles\": {\"buurt\": [10, 14]}}")),
			 "conf/pc6risk.json: publish.tiles.buurt: overlaps the zooms of another level: each zoom shows "
			 "one level, got an array");
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}",
				       "\"privacy\": {\"k\": 10}, \"publish\": {\"tiles\": {\"pc6\": [16, 14]}}")),
			 "conf/pc6risk.json: publish.tiles.pc6: must be [min, max] zooms, whole numbers with 0 <= min "
			 "<= max <= 18, or null, got an array");
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}",
				       "\"privacy\": {\"k\": 10}, \"publish\": {\"tiles\": {\"png\": true}}")),
			 "conf/pc6risk.json: publish.tiles.png: unknown key; expected one of: enabled, wijk, buurt, pc6, pbf");
}

Test(config, png_maps_on_when_publish_png_is_given)
{
	struct err e;
	struct config *c = config_parse(base, strlen(base), "conf/pc6risk.json", &e);
	const char *text;

	cr_assert_not_null(c, "%s", e.message);
	cr_assert(!c->png.enabled);
	cr_assert_eq(c->png.width, 1600, "--png uses the default size");
	cr_assert_eq(c->png.height, 1200);
	config_free(c);

	text = replace("\"privacy\": {\"k\": 10}", "\"privacy\": {\"k\": 10}, \"publish\": {\"png\": {}}");
	c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert(c->png.enabled);
	cr_assert_eq(c->png.width, 1600);
	config_free(c);

	text = replace("\"privacy\": {\"k\": 10}",
		       "\"privacy\": {\"k\": 10}, \"publish\": {\"png\": {\"width\": 2400, \"height\": 3000}}");
	c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert(c->png.enabled);
	cr_assert_eq(c->png.width, 2400);
	cr_assert_eq(c->png.height, 3000);
	config_free(c);

	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}",
				       "\"privacy\": {\"k\": 10}, \"publish\": {\"png\": {\"width\": 300}}")),
			 "conf/pc6risk.json: publish.png.width: must be an integer from 400 to 8000, got 300");
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}",
				       "\"privacy\": {\"k\": 10}, \"publish\": {\"png\": {\"height\": 8001.5}}")),
			 "conf/pc6risk.json: publish.png.height: must be an integer from 400 to 8000, got 8001.5");
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}",
				       "\"privacy\": {\"k\": 10}, \"publish\": {\"png\": true}")),
			 "conf/pc6risk.json: publish.png: must be an object, got true");
	cr_assert_str_eq(fails(replace("\"privacy\": {\"k\": 10}",
				       "\"privacy\": {\"k\": 10}, \"publish\": {\"png\": {\"dpi\": 300}}")),
			 "conf/pc6risk.json: publish.png.dpi: unknown key; expected one of: width, height");
}

/* base with a top-level section name set to section (static buffer). */
static const char *with_section(const char *name, const char *section)
{
	static char buf[8192];
	char what[1024];

	snprintf(what, sizeof what, "\"privacy\": {\"k\": 10}, \"%s\": %s", name, section);
	snprintf(buf, sizeof buf, "%s", replace("\"privacy\": {\"k\": 10}", what));
	return buf;
}

static const char *with_daemon(const char *section)
{
	return with_section("daemon", section);
}

Test(config, daemon_defaults_durations_and_refusals)
{
	struct err e;
	struct config *c = config_parse(base, strlen(base), "conf/pc6risk.json", &e);
	const char *text;
	char hash[65];

	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->daemon.schedule.kind, SCHEDULE_DAILY);
	cr_assert_eq(c->daemon.schedule.hour, 3);
	cr_assert_str_eq(c->daemon.listen, "127.0.0.1:8080", "localhost unless told otherwise");
	cr_assert_null(c->daemon.cors_origin);
	cr_assert_eq(c->daemon.ready_max_age, 26 * 3600);
	cr_assert_eq(c->daemon.retry_min, 30);
	cr_assert_eq(c->daemon.retry_max, 1800);
	cr_assert_eq(c->daemon.stop_timeout, 60);
	cr_assert_eq(strlen(c->hash), 64);
	memcpy(hash, c->hash, sizeof hash);
	config_free(c);

	text = with_daemon("{\"schedule\": \"every 1h30m\", \"listen\": \"[::1]:0\", \"cors_origin\": \"*\","
			   " \"ready_max_age\": \"2d\", \"retry_min\": \"5s\", \"retry_max\": \"1h30m\","
			   " \"stop_timeout\": \"90s\", \"threads\": 4}");
	c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(c->daemon.schedule.kind, SCHEDULE_INTERVAL);
	cr_assert_eq(c->daemon.schedule.every, 5400);
	cr_assert_eq(c->daemon.ready_max_age, 2 * 86400);
	cr_assert_eq(c->daemon.retry_min, 5);
	cr_assert_eq(c->daemon.retry_max, 5400);
	cr_assert_eq(c->daemon.stop_timeout, 90);
	cr_assert_eq(c->daemon.threads, 4);
	cr_assert_str_neq(c->hash, hash, "another text, another hash");
	config_free(c);

	cr_assert_str_eq(fails(with_daemon("{\"schedule\": \"25:00\"}")),
			 "conf/pc6risk.json: daemon.schedule: expected \"HH:MM\" (daily, Europe/Amsterdam time) or \"every "
			 "6h\", got \"25:00\"");
	cr_assert(strstr(fails(with_daemon("{\"listen\": \"localhost:8080\"}")), "daemon.listen: "));
	cr_assert(strstr(fails(with_daemon("{\"listen\": \"127.0.0.1:99999\"}")), "daemon.listen: "));
	cr_assert_str_eq(fails(with_daemon("{\"retry_min\": \"30m1h\"}")),
			 "conf/pc6risk.json: daemon.retry_min: must be a duration from 1s to 86400s, like \"30s\", \"90m\", "
			 "\"26h\" or \"1h30m\", got \"30m1h\"");
	cr_assert(strstr(fails(with_daemon("{\"retry_min\": \"10m\", \"retry_max\": \"1m\"}")),
			 "daemon.retry_max: must be at least daemon.retry_min"));
	cr_assert(strstr(fails(with_daemon("{\"stop_timeout\": 60}")), "daemon.stop_timeout: must be a duration"));
	cr_assert(strstr(fails(with_daemon("{\"cors_origin\": \"kaart.example.nl\\r\\nX-Evil: 1\"}")),
			 "daemon.cors_origin: must be \"*\" or one origin"));
	cr_assert(strstr(fails(with_daemon("{\"public_url\": \"https://tiles.example.nl/path\"}")),
			 "daemon.public_url: must be a base URL"));
	cr_assert(strstr(fails(with_daemon("{\"port\": 8080}")), "daemon.port: unknown key"));
}

static const char *with_publish(const char *section)
{
	return with_section("publish", section);
}

static struct config *parse_ok(const char *text)
{
	struct err e;
	struct config *c = config_parse(text, strlen(text), "conf/pc6risk.json", &e);

	cr_assert_not_null(c, "%s", e.message);
	return c;
}

Test(config, synthetic_data_is_marked_by_the_attribution_unless_said_otherwise)
{
	struct config *c = parse_ok(base);

	cr_assert(!c->synthetic, "no attribution: not synthetic");
	cr_assert(c->viewer, "the viewer is copied by default");
	cr_assert_null(c->viewer_dir);
	cr_assert_null(c->basemap_url, "no online basemap unless configured");
	config_free(c);

	c = parse_ok(with_publish("{\"attribution\": \"CBS; PC6 figures are SYNTHETIC\"}"));
	cr_assert(c->synthetic);
	config_free(c);
	c = parse_ok(with_publish("{\"attribution\": \"SYNTHETISCHE gegevens (pc6risk synth)\"}"));
	cr_assert(c->synthetic, "the Dutch word counts too");
	config_free(c);
	c = parse_ok(with_publish("{\"attribution\": \"Bron: CBS\"}"));
	cr_assert(!c->synthetic);
	config_free(c);
	c = parse_ok(with_publish("{\"attribution\": \"Bron: CBS\", \"synthetic\": true}"));
	cr_assert(c->synthetic, "said so");
	config_free(c);
	c = parse_ok(with_publish("{\"attribution\": \"synthetic sounding\", \"synthetic\": false}"));
	cr_assert(!c->synthetic, "the config's word wins");
	config_free(c);
	cr_assert_str_eq(fails(with_publish("{\"synthetic\": \"yes\"}")),
			 "conf/pc6risk.json: publish.synthetic: must be true or false, got \"yes\"");
}

Test(config, the_viewer_folder_and_an_optional_basemap)
{
	struct config *c = parse_ok(with_publish("{\"viewer\": false}"));

	cr_assert(!c->viewer);
	config_free(c);
	c = parse_ok(with_publish("{\"viewer\": \"web/viewer\"}"));
	cr_assert(c->viewer);
	cr_assert_str_eq(c->viewer_dir, "conf/web/viewer", "resolved against the config's folder");
	config_free(c);
	c = parse_ok(with_publish("{\"basemap\": {\"url\": \"https://tiles.example.nl/{z}/{x}/{y}.png\","
				  " \"attribution\": \"Kaartgegevens: Kadaster\"}}"));
	cr_assert_str_eq(c->basemap_url, "https://tiles.example.nl/{z}/{x}/{y}.png");
	cr_assert_str_eq(c->basemap_attribution, "Kaartgegevens: Kadaster");
	config_free(c);

	cr_assert_str_eq(fails(with_publish("{\"basemap\": {\"url\": \"https://tiles.example.nl/tile.png\"}}")),
			 "conf/pc6risk.json: publish.basemap.url: must be an http(s) URL template with {z}, {x} and "
			 "{y}, got \"https://tiles.example.nl/tile.png\"");
	cr_assert_str_eq(fails(with_publish("{\"basemap\": {\"url\": \"file:///{z}/{x}/{y}.png\"}}")),
			 "conf/pc6risk.json: publish.basemap.url: must be an http(s) URL template with {z}, {x} and "
			 "{y}, got \"file:///{z}/{x}/{y}.png\"");
	cr_assert_str_eq(fails(with_publish("{\"basemap\": {}}")), "conf/pc6risk.json: publish.basemap.url: is required");
	cr_assert_str_eq(fails(with_publish("{\"viewer\": 3}")),
			 "conf/pc6risk.json: publish.viewer: must be a folder, true or false, got 3");
}
