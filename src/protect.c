#include "pc6risk/protect.h"
#include "pc6risk/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char areas_sql[] =
	"TRUNCATE protected_compare, protected_agreement, protected_compare_run, protected_value, protected_area;"
	"INSERT INTO protected_area (level, code, name, buurt_code, wijk_code, gemeente_code, geom)"
	" SELECT 'gemeente', code, name, NULL, NULL, code, geom FROM gemeente"
	" UNION ALL SELECT 'wijk', code, name, NULL, code, gemeente_code, geom FROM wijk"
	" UNION ALL SELECT 'buurt', b.code, b.name, b.code, b.wijk_code, w.gemeente_code, b.geom"
	"  FROM buurt b JOIN wijk w ON w.code = b.wijk_code"
	" UNION ALL SELECT 'pc6', p.code, NULL, p.buurt_code, b.wijk_code, w.gemeente_code, p.geom"
	"  FROM pc6 p JOIN buurt b ON b.code = p.buurt_code JOIN wijk w ON w.code = b.wijk_code";

/* $1 scenario, $2 level, $3 size indicator (for messages), $4 k. A unit is
 * published when its size is known and at least k and it has a ranked score;
 * published scores are rounded to one decimal and ranked again among the
 * published units of the same reference area. */
static const char values_sql[] =
	"INSERT INTO protected_value (scenario, level, code, status, reason, score, rank, ranked)"
	" SELECT $1, $2, code, CASE WHEN why IS NULL THEN 'published' ELSE 'suppressed' END, why,"
	"  CASE WHEN why IS NULL THEN shown END,"
	"  CASE WHEN why IS NULL THEN rank() OVER (PARTITION BY why IS NULL, reference ORDER BY shown DESC) END,"
	"  CASE WHEN why IS NULL THEN count(*) FILTER (WHERE why IS NULL) OVER (PARTITION BY reference) END"
	" FROM ("
	"  SELECT s.code, s.reference, round(s.value::numeric, 1)::float8 AS shown, CASE"
	"   WHEN s.size IS NULL THEN format('size unknown: no %s figure', $3::text)"
	"   WHEN s.size < $4::int THEN format('fewer than %s %s', $4::int, $3::text)"
	"   WHEN s.value IS NULL OR s.rank IS NULL THEN s.reason"
	"  END AS why"
	"  FROM score s"
	"  WHERE s.scenario = $1 AND s.level = $2) j";

/* What compare found, for published areas only. The rank columns stay
 * NULL unless every area compare ranked in that reference area is published
 * (score.ranked_of = protected_value.ranked): otherwise a gap in the ranks
 * would show where a hidden area lies. The agreement statistics are over
 * many areas and released as they are. */
static const char compare_sql[] =
	"INSERT INTO protected_agreement SELECT * FROM compare_pair;"
	"INSERT INTO protected_compare_run SELECT * FROM compare_run;"
	"INSERT INTO protected_compare (scenario, level, code, median_rank, rank_p05, rank_p95, p_top_3, p_top_5,"
	" p_top_10, robust_top_3, robust_top_5, robust_top_10, drivers)"
	" SELECT c.scenario, c.level, c.code, CASE WHEN all_shown THEN c.median_rank END,"
	"  CASE WHEN all_shown THEN c.rank_p05 END, CASE WHEN all_shown THEN c.rank_p95 END,"
	"  CASE WHEN all_shown THEN c.p_top_3 END, CASE WHEN all_shown THEN c.p_top_5 END,"
	"  CASE WHEN all_shown THEN c.p_top_10 END, CASE WHEN all_shown THEN c.robust_top_3 END,"
	"  CASE WHEN all_shown THEN c.robust_top_5 END, CASE WHEN all_shown THEN c.robust_top_10 END, c.drivers"
	" FROM (SELECT c.*, v.ranked IS NOT DISTINCT FROM s.ranked_of AS all_shown"
	"  FROM compare_area c"
	"  JOIN protected_value v ON v.scenario = c.scenario AND v.level = c.level AND v.code = c.code"
	"  JOIN score s ON s.scenario = c.scenario AND s.level = c.level AND s.code = c.code"
	"  WHERE v.status = 'published') c";

int protect_run(struct db *db, const struct config *cfg, struct protect_stats *st, struct err *e)
{
	char k[16];

	memset(st, 0, sizeof *st);
	snprintf(k, sizeof k, "%d", cfg->k);
	if (db_begin(db, e) < 0)
		return -1;
	if (db_lock(db, "protect", false, e) < 0 || db_exec(db, areas_sql, e) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const struct config_scenario *s = &cfg->scenarios[i];
		const char *params[4] = {s->name, NULL, cfg->k_indicator, k};
		struct db_result *r;
		long long published, suppressed;

		/* PC6 scores wait for protect to band and merge them (they are not
		 * released one by one); the coarser levels go through the k rule */
		for (int l = LEVEL_GEMEENTE; l <= LEVEL_BUURT; l++) {
			if (!s->outputs[l])
				continue;
			params[1] = level_name((enum level)l);
			if (db_execp(db, values_sql, 4, params, e) < 0)
				goto fail;
		}
		r = db_query(db,
			     "SELECT count(*) FILTER (WHERE status = 'published'),"
			     " count(*) FILTER (WHERE status = 'suppressed')"
			     " FROM protected_value WHERE scenario = $1",
			     1, params, e);
		if (!r)
			goto fail;
		published = atoll(db_value(r, 0, 0));
		suppressed = atoll(db_value(r, 0, 1));
		db_result_free(r);
		if (published + suppressed == 0) {
			err_set(e, ERR_INPUT, NULL, "scenario %s has no scores to protect", s->name);
			err_hint(e, "run `pc6risk score` first");
			goto fail;
		}
		st->published += published;
		st->suppressed += suppressed;
		log_msg(LOG_INFO, "protected scenario=%s k=%d count=%s published=%lld suppressed=%lld", s->name,
			cfg->k, cfg->k_indicator, published, suppressed);
	}
	if (db_exec(db, compare_sql, e) < 0 || db_commit(db, e) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return -1;
}
