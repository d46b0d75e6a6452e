#include "pc6risk/run.h"
#include "pc6risk/log.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int run_begin(struct db *db, const char *command, long long *id, struct err *e)
{
	const char *params[1] = {command};
	struct db_result *r = db_query(db, "INSERT INTO run (command) VALUES ($1) RETURNING id", 1, params, e);

	if (!r)
		return -1;
	*id = atoll(db_value(r, 0, 0));
	db_result_free(r);
	log_msg(LOG_INFO, "run %lld started command=%s", *id, command);
	return 0;
}

char *run_counts_json(const struct run_counts *c)
{
	struct sbuf b = {0};
	const char *sep = "";

	sbuf_putc(&b, '{');
	if (c->done & RUN_LOADED) {
		for (int l = 0; l < LEVEL_COUNT; l++)
			sbuf_printf(&b, "%s\"areas_%s\": %lld", l ? ", " : "", level_name((enum level)l),
				    c->load.areas[l]);
		sbuf_printf(&b, ", \"values_loaded\": %lld, \"values_missing\": %lld, \"polygons_repaired\": %lld",
			    c->load.values, c->load.missing, c->load.repaired);
		sbuf_printf(&b, ", \"pc6_added\": %lld, \"pc6_changed\": %lld, \"pc6_removed\": %lld, \"pc6_outside\": %lld",
			    c->load.pc6_added, c->load.pc6_changed, c->load.pc6_removed, c->load.outside);
		sbuf_printf(&b, ", \"rows_rejected\": %lld, \"inputs_unchanged\": %s, \"input_fingerprint\": \"%s\"",
			    c->load.rejected, c->load.unchanged ? "true" : "false", c->load.fingerprint);
		sep = ", ";
	}
	if (c->done & RUN_SCORED) {
		sbuf_printf(&b, "%s\"scored\": %lld, \"without_score\": %lld, \"too_small_to_rank\": %lld", sep,
			    c->score.scored, c->score.unscored, c->score.too_small);
		sep = ", ";
	}
	if (c->done & RUN_COMPARED) {
		sbuf_printf(&b, "%s\"compared_pairs\": %lld, \"monte_carlo_draws\": %lld, \"monte_carlo_seconds\": %.3f", sep,
			    c->compare.pairs, c->compare.draws, c->compare.draw_seconds);
		sep = ", ";
	}
	if (c->done & RUN_PROTECTED) {
		sbuf_printf(&b,
			    "%s\"published_values\": %lld, \"suppressed_values\": %lld, \"groups\": %lld,"
			    " \"merged_pc6\": %lld, \"merged_buurten\": %lld, \"figures_published\": %lld,"
			    " \"figures_suppressed_primary\": %lld, \"figures_suppressed_secondary\": %lld",
			    sep, c->protect.published, c->protect.suppressed, c->protect.groups, c->protect.merged_pc6,
			    c->protect.merged_buurten, c->protect.figures_published, c->protect.figures_primary,
			    c->protect.figures_secondary);
		sep = ", ";
	}
	if (c->done & RUN_PUBLISHED)
		sbuf_printf(&b,
			    "%s\"files_written\": %lld, \"features_written\": %lld, \"audited_figures\": %lld,"
			    " \"audit_lp_solves\": %lld, \"tiles_written\": %lld, \"tiles_reused\": %lld",
			    sep, c->publish.files, c->publish.features, c->publish.audited_figures,
			    c->publish.audit_lp_solves, c->publish.tiles, c->publish.tiles_reused);
	sbuf_putc(&b, '}');
	return sbuf_take(&b);
}

void run_end(struct db *db, long long id, const struct run_counts *counts, const struct err *failure)
{
	char sid[32], *json = run_counts_json(counts);
	const char *release = counts->done & RUN_PUBLISHED ? counts->publish.release : NULL;
	struct err e;

	snprintf(sid, sizeof sid, "%lld", id);
	db_rollback(db);
	if (failure) {
		const char *params[8] = {sid,
					 json,
					 release,
					 err_class_name(failure->cls),
					 failure->where[0] ? failure->where : NULL,
					 failure->sqlstate[0] ? failure->sqlstate : NULL,
					 failure->message[0] ? failure->message : "unknown error",
					 failure->detail[0] ? failure->detail : NULL};

		if (db_execp(db,
			     "UPDATE run SET finished_at = clock_timestamp(), status = 'failed', counts = $2::jsonb,"
			     " release = $3, error_class = $4, error_where = $5, error_sqlstate = $6,"
			     " error_message = $7, error_detail = $8 WHERE id = $1::bigint",
			     8, params, &e) < 0)
			log_msg(LOG_WARN, "cannot record the failure of run %lld: %s", id, e.message);
		else
			log_msg(LOG_INFO, "run %lld failed class=%s", id, err_class_name(failure->cls));
	} else {
		const char *params[3] = {sid, json, release};

		if (db_execp(db,
			     "UPDATE run SET finished_at = clock_timestamp(), status = 'succeeded', counts = $2::jsonb,"
			     " release = $3 WHERE id = $1::bigint",
			     3, params, &e) < 0)
			log_msg(LOG_WARN, "cannot record the end of run %lld: %s", id, e.message);
		else
			log_msg(LOG_INFO, "run %lld succeeded %s", id, json);
	}
	free(json);
}

int run_stages(struct db *db, const struct config *cfg, unsigned stages, const struct run_opts *opts,
	       struct run_counts *c, struct err *e)
{
	for (unsigned stage = RUN_LOADED; stage <= RUN_PUBLISHED; stage <<= 1) {
		int rc = 0, sig = signals_pending();

		if (!(stages & stage))
			continue;
		if (sig)
			return err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d", sig);
		switch (stage) {
		case RUN_LOADED: rc = load_run(db, cfg, &opts->load, &c->load, e); break;
		case RUN_SCORED: rc = score_run(db, cfg, &c->score, e); break;
		case RUN_COMPARED: rc = compare_run(db, cfg, &opts->compare, &c->compare, e); break;
		case RUN_PROTECTED: rc = protect_run(db, cfg, &c->protect, e); break;
		case RUN_PUBLISHED: rc = publish_run(db, cfg, &opts->publish, &c->publish, e); break;
		}
		if (rc < 0)
			return -1;
		c->done |= stage;
	}
	return 0;
}
