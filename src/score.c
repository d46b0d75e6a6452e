#include "pc6risk/score.h"
#include "pc6risk/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* %s is the level's table, named from enum level, never from user text. */
static const char rate_sql[] =
	"INSERT INTO score (scenario, level, code, numerator, denominator, value, reason)"
	" SELECT $1, $2, code, n, d, CASE WHEN why IS NULL THEN n / d * $5::float8 END, why FROM ("
	"  SELECT a.code, n.value AS n, d.value AS d, CASE"
	"   WHEN n.code IS NULL THEN format('no %%s figure', $3::text)"
	"   WHEN n.value IS NULL THEN format('%%s is %%s', $3::text, n.missing)"
	"   WHEN d.code IS NULL THEN format('no %%s figure', $4::text)"
	"   WHEN d.value IS NULL THEN format('%%s is %%s', $4::text, d.missing)"
	"   WHEN d.value <= 0 THEN format('%%s is 0', $4::text)"
	"  END AS why"
	"  FROM %s a"
	"  LEFT JOIN indicator n ON n.level = $2 AND n.code = a.code AND n.name = $3"
	"  LEFT JOIN indicator d ON d.level = $2 AND d.code = a.code AND d.name = $4) s";

int score_run(struct db *db, const struct config *cfg, struct score_stats *st, struct err *e)
{
	memset(st, 0, sizeof *st);
	if (db_begin(db, e) < 0)
		return -1;
	if (db_lock(db, "score", false, e) < 0 || db_exec(db, "TRUNCATE score", e) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const struct config_scenario *s = &cfg->scenarios[i];
		char sql[sizeof rate_sql + 16], per[32];
		const char *params[5] = {s->name, level_name(s->level), s->numerator, s->denominator, per};
		struct db_result *r;
		long long n, scored;

		snprintf(per, sizeof per, "%.17g", s->per);
		snprintf(sql, sizeof sql, rate_sql, level_name(s->level));
		if ((n = db_execp(db, sql, 5, params, e)) < 0)
			goto fail;
		r = db_query(db, "SELECT count(value) FROM score WHERE scenario = $1", 1, params, e);
		if (!r)
			goto fail;
		scored = atoll(db_value(r, 0, 0));
		db_result_free(r);
		st->scored += scored;
		st->unscored += n - scored;
		log_msg(LOG_INFO, "scored scenario=%s level=%s areas=%lld without_value=%lld", s->name,
			level_name(s->level), n, n - scored);
		if (n == 0) {
			err_set(e, ERR_INPUT, NULL, "scenario %s: there are no %s areas to score", s->name,
				level_name(s->level));
			err_hint(e, "run `pc6risk load` first");
			goto fail;
		}
	}
	if (db_commit(db, e) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return -1;
}
