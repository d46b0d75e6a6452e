#include "pc6risk/run.h"
#include "pc6risk/log.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"
#include "pc6risk/xalloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The input files as the last load recorded them, as a JSON array. */
#define RUN_INPUTS_SQL                                                                                           \
	"(SELECT coalesce(jsonb_agg(jsonb_build_object('path', path, 'role', role, 'bytes', bytes,"                \
	" 'sha256', sha256) ORDER BY role, path), '[]') FROM load_input)"

int run_begin(struct db *db, const char *command, const char *trigger, long long *id, struct err *e)
{
	char host[256], who[320];
	const char *params[3] = {command, who, trigger};
	struct db_result *r;
	long long closed;

	/* A run still "running" whose session is gone never ends by itself: its
	 * process died or lost the database (restart, kill -9, lost network). */
	closed = db_execp(db,
			  "UPDATE run SET status = 'failed', finished_at = clock_timestamp(), error_class = 'system',"
			  " error_message = 'abandoned: its database session ended before it recorded an end"
			  " (database restart, lost connection or a killed process); nothing it did was published'"
			  " WHERE status = 'running' AND backend_pid IS NOT NULL"
			  " AND backend_pid NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)",
			  0, NULL, e);
	if (closed < 0)
		return -1;
	if (closed > 0)
		log_msg(LOG_WARN, "closed %lld abandoned run(s) as failed (their sessions are gone)", closed);
	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "?");
	host[sizeof host - 1] = '\0';
	snprintf(who, sizeof who, "%s:%ld", host, (long)getpid());
	r = db_query(db, "INSERT INTO run (command, host, trigger) VALUES ($1, $2, $3) RETURNING id", 3, params, e);
	if (!r)
		return -1;
	*id = atoll(db_value(r, 0, 0));
	db_result_free(r);
	/* the daemon's runs say everything in their end line: a nightly "nothing
	 * changed" is one line in the journal */
	log_msg(trigger ? LOG_DEBUG : LOG_INFO, "run %lld started command=%s trigger=%s", *id, command,
		trigger ? trigger : "command");
	return 0;
}

char *run_counts_json(const struct run_counts *c)
{
	struct sbuf b = {0};
	const char *sep = "";

	sbuf_putc(&b, '{');
	if (c->skipped) {
		sbuf_puts(&b, "\"skipped\": ");
		sbuf_json_string(&b, c->skip_reason);
		sep = ", ";
	}
	if (c->done & RUN_LOADED) {
		sbuf_puts(&b, sep);
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
	const char *release = counts->release[0] ? counts->release : NULL;
	const char *fp = counts->load.fingerprint[0] ? counts->load.fingerprint : NULL;
	const char *cfg_hash = counts->config_hash[0] ? counts->config_hash : NULL;
	struct err e;

	snprintf(sid, sizeof sid, "%lld", id);
	db_rollback(db);
	if (failure) {
		const char *params[10] = {sid,
					  json,
					  release,
					  err_class_name(failure->cls),
					  failure->where[0] ? failure->where : NULL,
					  failure->sqlstate[0] ? failure->sqlstate : NULL,
					  failure->message[0] ? failure->message : "unknown error",
					  failure->detail[0] ? failure->detail : NULL,
					  fp,
					  cfg_hash};

		if (db_execp(db,
			     "UPDATE run SET finished_at = clock_timestamp(), status = 'failed', counts = $2::jsonb,"
			     " release = $3, error_class = $4, error_where = $5, error_sqlstate = $6,"
			     " error_message = $7, error_detail = $8, input_fingerprint = $9, config_hash = $10,"
			     " inputs = CASE WHEN $9::text IS NULL THEN NULL ELSE " RUN_INPUTS_SQL " END"
			     " WHERE id = $1::bigint",
			     10, params, &e) < 0)
			log_msg(LOG_WARN, "cannot record the failure of run %lld: %s", id, e.message);
		else
			log_msg(LOG_INFO, "run %lld failed class=%s", id, err_class_name(failure->cls));
	} else {
		const char *status = counts->skipped ? "skipped" : "succeeded";
		const char *params[6] = {sid, json, release, fp, cfg_hash, status};

		if (db_execp(db,
			     "UPDATE run SET finished_at = clock_timestamp(), status = $6, counts = $2::jsonb,"
			     " release = $3, input_fingerprint = $4, config_hash = $5,"
			     " inputs = CASE WHEN $4::text IS NULL THEN NULL ELSE " RUN_INPUTS_SQL " END"
			     " WHERE id = $1::bigint",
			     6, params, &e) < 0)
			log_msg(LOG_WARN, "cannot record the end of run %lld: %s", id, e.message);
		else if (counts->skipped)
			log_msg(LOG_INFO, "run %lld skipped: %s", id, counts->skip_reason);
		else
			log_msg(LOG_INFO, "run %lld %s %s", id, status, json);
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
		if (stage == RUN_PUBLISHED)
			snprintf(c->release, sizeof c->release, "%s", c->publish.release);
	}
	return 0;
}

/* The release `current` points to in out_dir, or "" when there is none. */
static void current_release(const char *out_dir, char *id, size_t n)
{
	char *link = xasprintf("%s/current", out_dir), target[PATH_MAX];
	ssize_t len = readlink(link, target, sizeof target - 1);
	const char *base;

	id[0] = '\0';
	free(link);
	if (len <= 0)
		return;
	target[len] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) < n)
		memcpy(id, base, strlen(base) + 1);
}

/* Is there nothing to do: inputs fingerprinted fp, this config, and the last
 * good refresh's release still current? */
static int nothing_changed(struct db *db, const struct config *cfg, const char *out_dir, const char *fp,
			   struct run_counts *c, struct err *e)
{
	struct db_result *r;
	char current[64];
	int same;

	r = db_query(db,
		     "SELECT input_fingerprint, config_hash, release, id FROM run"
		     " WHERE command = 'refresh' AND status IN ('succeeded', 'skipped') ORDER BY id DESC LIMIT 1",
		     0, NULL, e);
	if (!r)
		return -1;
	current_release(out_dir, current, sizeof current);
	same = db_nrows(r) == 1 && db_value(r, 0, 0) && strcmp(db_value(r, 0, 0), fp) == 0 && db_value(r, 0, 1) &&
	       strcmp(db_value(r, 0, 1), cfg->hash) == 0 && db_value(r, 0, 2) && current[0] &&
	       strcmp(db_value(r, 0, 2), current) == 0;
	if (same) {
		snprintf(c->release, sizeof c->release, "%s", current);
		snprintf(c->skip_reason, sizeof c->skip_reason,
			 "inputs and config unchanged since run %s; release %s stays current", db_value(r, 0, 3), current);
	}
	db_result_free(r);
	return same;
}

int run_refresh(struct db *db, const struct config *cfg, const struct run_opts *opts, bool force,
		struct run_counts *c, struct err *e)
{
	const char *out_dir = opts->publish.out_dir ? opts->publish.out_dir : cfg->out_dir;
	int rc;

	snprintf(c->config_hash, sizeof c->config_hash, "%s", cfg->hash);
	if (!force) {
		char fp[65];

		rc = load_quick_check(db, cfg, &opts->load, fp, e);
		if (rc == 1)
			rc = nothing_changed(db, cfg, out_dir, fp, c, e);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			memcpy(c->load.fingerprint, fp, sizeof fp);
			c->skipped = true;
			return 0;
		}
	}
	if (run_stages(db, cfg, RUN_LOADED, opts, c, e) < 0)
		return -1;
	/* touched files with the same contents: load read them again (or found
	 * its own fingerprint unchanged), but nothing after it has to run */
	if (!force) {
		rc = nothing_changed(db, cfg, out_dir, c->load.fingerprint, c, e);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			c->skipped = true;
			snprintf(c->skip_reason + strlen(c->skip_reason), sizeof c->skip_reason - strlen(c->skip_reason),
				 " (the files' dates changed, their contents did not)");
			return 0;
		}
	}
	return run_stages(db, cfg, RUN_ALL & ~RUN_LOADED, opts, c, e);
}
