/*
 * run — the run ledger, and refresh: every stage as one recorded run.
 *
 * Each state-changing command records itself in table run: started, then
 * succeeded or failed with its counts and its error. A struct run_counts is a
 * plain value; run_counts_json returns a string the caller frees.
 */
#ifndef PC6RISK_RUN_H
#define PC6RISK_RUN_H

#include "pc6risk/compare.h"
#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"
#include "pc6risk/load.h"
#include "pc6risk/protect.h"
#include "pc6risk/publish.h"
#include "pc6risk/score.h"

/* The stages, as bits: which to run, and which finished. */
enum {
	RUN_LOADED = 1,
	RUN_SCORED = 2,
	RUN_COMPARED = 4,
	RUN_PROTECTED = 8,
	RUN_PUBLISHED = 16,
	RUN_ALL = 31
};

/* What a run did, stage by stage; `done` says which stages finished. */
struct run_counts {
	unsigned done;
	bool skipped;            /* a refresh that found nothing to do */
	char skip_reason[240];
	char release[64];        /* what it published, or (skipped) what stays current */
	char config_hash[65];    /* the config's hash (config.h), for the next refresh to compare */
	struct load_stats load;
	struct score_stats score;
	struct compare_stats compare;
	struct protect_stats protect;
	struct publish_stats publish;
};

/* Record the start of a command; *id is its run id. trigger says what started
 * it ("schedule", "signal", "retry", "start"; NULL: a command line). Runs whose
 * database session is gone are closed as failed first. */
int run_begin(struct db *db, const char *command, const char *trigger, long long *id, struct err *e);

/* Record the end: succeeded when failure is NULL, else failed with its error.
 * Rolls back any open transaction first. Problems writing the record are
 * logged, not returned: the run's own outcome is what the caller reports. */
void run_end(struct db *db, long long id, const struct run_counts *counts, const struct err *failure);

/* The counts of the finished stages as a JSON object. */
char *run_counts_json(const struct run_counts *c);

/* The command-line choices the stages take. */
struct run_opts {
	struct load_opts load;
	struct compare_opts compare;
	struct publish_opts publish;
};

/* Run the stages named in `stages` (RUN_* bits) in pipeline order, stopping at
 * the first failure or signal; refresh is RUN_ALL. c->done says which finished. */
int run_stages(struct db *db, const struct config *cfg, unsigned stages, const struct run_opts *opts,
	       struct run_counts *c, struct err *e);

/* refresh: every stage, unless the inputs and the config are those of the last
 * refresh that succeeded and its release is still current; then nothing runs
 * and c->skipped says why. The inputs are first compared by size and
 * modification time only; when those changed, load hashes the files and a
 * change of dates alone still skips the rest. force runs everything. The
 * caller holds db_session_lock(db, "refresh") around the run, so that one
 * refresh of a schema runs at a time across processes and hosts. */
int run_refresh(struct db *db, const struct config *cfg, const struct run_opts *opts, bool force,
		struct run_counts *c, struct err *e);

#endif
