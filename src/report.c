#include "pc6risk/report.h"
#include "pc6risk/fsx.h"
#include "pc6risk/log.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many areas report.json lists per scenario. */
#define REPORT_TOP 10

/* Every released value of a scenario above PC6, with what compare found;
 * coarse levels first, then published by rank. $1 scenario. */
static const char rows_sql[] =
	"SELECT v.level, v.code, a.name, a.wijk_code, a.gemeente_code, v.status, v.reason, v.score, v.rank, v.ranked,"
	" c.median_rank, c.rank_p05, c.rank_p95, c.p_top_3, c.p_top_5, c.p_top_10, c.robust_top_3, c.robust_top_5,"
	" c.robust_top_10, c.drivers"
	" FROM protected_value v JOIN protected_area a USING (level, code)"
	" LEFT JOIN protected_compare c USING (scenario, level, code)"
	" WHERE v.scenario = $1 AND v.level <> 'pc6'"
	" ORDER BY array_position(ARRAY['gemeente', 'wijk', 'buurt'], v.level), v.status, v.rank,"
	" v.code COLLATE \"C\"";

/* Columns of rows_sql, by name. */
enum {
	C_LEVEL,
	C_CODE,
	C_NAME,
	C_WIJK,
	C_GEMEENTE,
	C_STATUS,
	C_NOTE,
	C_SCORE,
	C_RANK,
	C_RANKED,
	C_MEDIAN,
	C_P05,
	C_P95,
	C_TOP3,
	C_TOP5,
	C_TOP10,
	C_ROBUST3,
	C_ROBUST5,
	C_ROBUST10,
	C_DRIVERS,
	C_COUNT
};

static const char *const csv_header[C_COUNT] = {
	"level",   "code",     "name",       "wijk_code",  "gemeente_code", "status",       "note",
	"score",   "rank",     "ranked_of",  "median_rank", "rank_p05",     "rank_p95",     "p_top_3",
	"p_top_5", "p_top_10", "robust_top_3", "robust_top_5", "robust_top_10", "drivers"};

static bool is_bool_column(int c)
{
	return c == C_ROBUST3 || c == C_ROBUST5 || c == C_ROBUST10;
}

static void csv_rows(struct sbuf *b, const char *scenario, struct db_result *r)
{
	for (int i = 0; i < db_nrows(r); i++) {
		sbuf_csv_field(b, scenario, ',');
		for (int c = 0; c < C_COUNT; c++) {
			const char *v = db_value(r, i, c);

			sbuf_putc(b, ',');
			if (v && is_bool_column(c))
				sbuf_puts(b, v[0] == 't' ? "true" : "false");
			else
				sbuf_csv_field(b, v, ',');
		}
		sbuf_putc(b, '\n');
	}
}

/* A database number as a JSON number with at most `decimals` decimals, or null. */
static void json_num(struct sbuf *b, const char *text, int decimals)
{
	if (text)
		sbuf_json_number(b, strtod(text, NULL), decimals);
	else
		sbuf_puts(b, "null");
}

/* "key": value pairs of an area's rank and how sure it is. */
static void json_rank_fields(struct sbuf *b, struct db_result *r, int i)
{
	static const struct {
		const char *key;
		int column, decimals;
	} fields[] = {{"rank", C_RANK, 0},	   {"ranked_of", C_RANKED, 0}, {"score", C_SCORE, 1},
		      {"median_rank", C_MEDIAN, 1}, {"rank_p05", C_P05, 1},	{"rank_p95", C_P95, 1},
		      {"p_top_5", C_TOP5, 3}};

	for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
		sbuf_printf(b, "%s\"%s\": ", f ? ", " : "", fields[f].key);
		json_num(b, db_value(r, i, fields[f].column), fields[f].decimals);
	}
	sbuf_puts(b, ", \"drivers\": ");
	sbuf_json_string(b, db_value(r, i, C_DRIVERS));
}

/* The level a scenario's ranking is shown at: buurt when it scores buurten. */
static const char *shown_level(const struct config_scenario *s)
{
	return level_name(s->outputs[LEVEL_BUURT] ? LEVEL_BUURT : s->level);
}

static void json_scenarios(struct sbuf *b, const struct config *cfg, struct db_result **rows)
{
	sbuf_puts(b, "  \"scenarios\": [");
	for (size_t s = 0; s < cfg->nscenarios; s++) {
		const struct config_scenario *sc = &cfg->scenarios[s];
		int published = 0, suppressed = 0;

		for (int i = 0; i < db_nrows(rows[s]); i++) {
			if (strcmp(db_value(rows[s], i, C_LEVEL), shown_level(sc)) != 0)
				continue;
			if (strcmp(db_value(rows[s], i, C_STATUS), "published") == 0)
				published++;
			else
				suppressed++;
		}
		sbuf_printf(b, "%s\n    {\"name\": ", s ? "," : "");
		sbuf_json_string(b, sc->name);
		sbuf_puts(b, ", \"title\": ");
		sbuf_json_string(b, sc->title);
		sbuf_puts(b, ", \"preset\": ");
		sbuf_json_string(b, sc->preset);
		sbuf_printf(b, ", \"level\": \"%s\", \"published\": %d, \"suppressed\": %d,\n     \"about\": ",
			    shown_level(sc), published, suppressed);
		sbuf_json_string(b, sc->about);
		sbuf_puts(b, "}");
	}
	sbuf_puts(b, "\n  ],\n");
}

static int json_agreement(struct sbuf *b, struct db *db, struct err *e)
{
	struct db_result *r = db_query(db,
				       "SELECT level, a, b, areas, spearman, kendall, jaccard_3, jaccard_5, jaccard_10"
				       " FROM protected_agreement"
				       " ORDER BY level = 'pc6', a COLLATE \"C\", b COLLATE \"C\"",
				       0, NULL, e);

	if (!r)
		return -1;
	sbuf_puts(b, "  \"agreement\": [");
	for (int i = 0; i < db_nrows(r); i++) {
		sbuf_printf(b, "%s\n    {\"level\": ", i ? "," : "");
		sbuf_json_string(b, db_value(r, i, 0));
		sbuf_puts(b, ", \"a\": ");
		sbuf_json_string(b, db_value(r, i, 1));
		sbuf_puts(b, ", \"b\": ");
		sbuf_json_string(b, db_value(r, i, 2));
		sbuf_printf(b, ", \"areas\": %s, \"spearman\": ", db_value(r, i, 3));
		json_num(b, db_value(r, i, 4), 4);
		sbuf_puts(b, ", \"kendall\": ");
		json_num(b, db_value(r, i, 5), 4);
		sbuf_puts(b, ", \"top_3\": ");
		json_num(b, db_value(r, i, 6), 4);
		sbuf_puts(b, ", \"top_5\": ");
		json_num(b, db_value(r, i, 7), 4);
		sbuf_puts(b, ", \"top_10\": ");
		json_num(b, db_value(r, i, 8), 4);
		sbuf_putc(b, '}');
	}
	sbuf_puts(b, db_nrows(r) ? "\n  ],\n" : "],\n");
	db_result_free(r);
	return 0;
}

/* The buurten in the robust top 3, 5 and 10. */
static int json_robust(struct sbuf *b, struct db *db, struct err *e)
{
	static const char *const tops[3] = {"3", "5", "10"};

	sbuf_puts(b, "  \"robust_top\": {");
	for (int k = 0; k < 3; k++) {
		char *sql = xasprintf("SELECT c.code, a.name FROM protected_compare c JOIN protected_area a"
				      " USING (level, code) WHERE c.level = 'buurt'"
				      " GROUP BY c.code, a.name HAVING bool_or(c.robust_top_%s)"
				      " ORDER BY c.code COLLATE \"C\"",
				      tops[k]);
		struct db_result *r = db_query(db, sql, 0, NULL, e);

		free(sql);
		if (!r)
			return -1;
		sbuf_printf(b, "%s\n    \"%s\": [", k ? "," : "", tops[k]);
		for (int i = 0; i < db_nrows(r); i++) {
			sbuf_puts(b, i ? ", {\"code\": " : "{\"code\": ");
			sbuf_json_string(b, db_value(r, i, 0));
			sbuf_puts(b, ", \"name\": ");
			sbuf_json_string(b, db_value(r, i, 1));
			sbuf_putc(b, '}');
		}
		sbuf_putc(b, ']');
		db_result_free(r);
	}
	sbuf_puts(b, "\n  },\n");
	return 0;
}

static void json_tops(struct sbuf *b, const struct config *cfg, struct db_result **rows)
{
	sbuf_puts(b, "  \"top\": [");
	for (size_t s = 0; s < cfg->nscenarios; s++) {
		const struct config_scenario *sc = &cfg->scenarios[s];
		int shown = 0;

		sbuf_printf(b, "%s\n    {\"scenario\": ", s ? "," : "");
		sbuf_json_string(b, sc->name);
		sbuf_printf(b, ", \"level\": \"%s\", \"areas\": [", shown_level(sc));
		for (int i = 0; i < db_nrows(rows[s]) && shown < REPORT_TOP; i++) {
			if (strcmp(db_value(rows[s], i, C_LEVEL), shown_level(sc)) != 0 ||
			    strcmp(db_value(rows[s], i, C_STATUS), "published") != 0)
				continue;
			sbuf_puts(b, shown++ ? ",\n      {\"code\": " : "\n      {\"code\": ");
			sbuf_json_string(b, db_value(rows[s], i, C_CODE));
			sbuf_puts(b, ", \"name\": ");
			sbuf_json_string(b, db_value(rows[s], i, C_NAME));
			sbuf_puts(b, ", ");
			json_rank_fields(b, rows[s], i);
			sbuf_putc(b, '}');
		}
		sbuf_puts(b, shown ? "\n    ]}" : "]}");
	}
	sbuf_puts(b, "\n  ],\n");
}

/* Each selected neighbourhood: its buurten and where they stand in every
 * scenario that ranks buurten. */
static void json_picks(struct sbuf *b, const struct config *cfg, struct db_result **rows,
		       const struct report_pick *picks, size_t npicks)
{
	sbuf_puts(b, "  \"neighbourhoods\": [");
	for (size_t p = 0; p < npicks; p++) {
		const struct report_pick *k = &picks[p];
		struct db_result *ref = NULL;
		size_t ref_s = 0;
		int listed = 0;

		sbuf_printf(b, "%s\n    {\"query\": ", p ? "," : "");
		sbuf_json_string(b, k->query);
		sbuf_printf(b, ", \"level\": \"%s\", \"code\": ", k->level);
		sbuf_json_string(b, k->code);
		sbuf_puts(b, ", \"name\": ");
		sbuf_json_string(b, k->name);
		sbuf_puts(b, ", \"buurten\": [");
		/* the buurten come from the first scenario that ranks buurten */
		for (size_t s = 0; s < cfg->nscenarios && !ref; s++)
			if (cfg->scenarios[s].outputs[LEVEL_BUURT])
				ref = rows[s], ref_s = s;
		for (int i = 0; ref && i < db_nrows(ref); i++) {
			const char *code = db_value(ref, i, C_CODE), *wijk = db_value(ref, i, C_WIJK);
			bool in = strcmp(k->level, "wijk") == 0 ? wijk && strcmp(wijk, k->code) == 0
								: strcmp(code, k->code) == 0;

			if (strcmp(db_value(ref, i, C_LEVEL), "buurt") != 0 || !in)
				continue;
			sbuf_puts(b, listed++ ? ",\n      {\"code\": " : "\n      {\"code\": ");
			sbuf_json_string(b, code);
			sbuf_puts(b, ", \"name\": ");
			sbuf_json_string(b, db_value(ref, i, C_NAME));
			sbuf_puts(b, ", \"scenarios\": {");
			for (size_t s = ref_s, n = 0; s < cfg->nscenarios; s++) {
				struct db_result *r = rows[s];

				if (!cfg->scenarios[s].outputs[LEVEL_BUURT])
					continue;
				for (int j = 0; j < db_nrows(r); j++) {
					if (strcmp(db_value(r, j, C_LEVEL), "buurt") != 0 || strcmp(db_value(r, j, C_CODE), code) != 0)
						continue;
					sbuf_puts(b, n++ ? ",\n        " : "\n        ");
					sbuf_json_string(b, cfg->scenarios[s].name);
					if (strcmp(db_value(r, j, C_STATUS), "published") == 0) {
						sbuf_puts(b, ": {");
						json_rank_fields(b, r, j);
						sbuf_putc(b, '}');
					} else {
						sbuf_puts(b, ": {\"status\": \"suppressed\", \"note\": ");
						sbuf_json_string(b, db_value(r, j, C_NOTE));
						sbuf_putc(b, '}');
					}
					break;
				}
			}
			sbuf_puts(b, "}}");
		}
		sbuf_puts(b, listed ? "\n    ]}" : "]}");
	}
	sbuf_puts(b, npicks ? "\n  ]\n" : "]\n");
}

int report_write(struct db *db, const struct config *cfg, const char *dir, const struct report_pick *picks,
		 size_t npicks, long long *files, struct err *e)
{
	struct db_result **rows = xcalloc(cfg->nscenarios ? cfg->nscenarios : 1, sizeof *rows);
	struct db_result *run = NULL;
	struct sbuf csv = {0}, json = {0};
	char *path = NULL;
	int rc = -1;

	sbuf_puts(&csv, "scenario");
	for (int c = 0; c < C_COUNT; c++)
		sbuf_printf(&csv, ",%s", csv_header[c]);
	sbuf_putc(&csv, '\n');
	for (size_t s = 0; s < cfg->nscenarios; s++) {
		const char *params[1] = {cfg->scenarios[s].name};

		if (!(rows[s] = db_query(db, rows_sql, 1, params, e)))
			goto out;
		csv_rows(&csv, cfg->scenarios[s].name, rows[s]);
	}

	if (!(run = db_query(db, "SELECT draws, seed FROM protected_compare_run", 0, NULL, e)))
		goto out;
	sbuf_puts(&json, "{\n  \"monte_carlo\": ");
	if (db_nrows(run) == 1)
		sbuf_printf(&json, "{\"draws_per_scenario\": %s, \"seed\": %s}", db_value(run, 0, 0), db_value(run, 0, 1));
	else
		sbuf_puts(&json, "null");
	sbuf_puts(&json, ",\n");
	json_scenarios(&json, cfg, rows);
	if (json_agreement(&json, db, e) < 0 || json_robust(&json, db, e) < 0)
		goto out;
	json_tops(&json, cfg, rows);
	json_picks(&json, cfg, rows, picks, npicks);
	sbuf_puts(&json, "}\n");

	path = xasprintf("%s/report.csv", dir);
	if (fsx_write_file(path, csv.s, csv.len, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/report.json", dir);
	if (fsx_write_file(path, json.s, json.len, e) < 0)
		goto out;
	*files += 2;
	log_msg(LOG_DEBUG, "wrote report.csv bytes=%zu report.json bytes=%zu", csv.len, json.len);
	rc = 0;
out:
	for (size_t s = 0; s < cfg->nscenarios; s++)
		db_result_free(rows[s]);
	free(rows);
	db_result_free(run);
	sbuf_free(&csv);
	sbuf_free(&json);
	free(path);
	return rc;
}
