/*
 * daemon — pc6risk as a long-running service: refresh on a schedule (or on
 * SIGUSR1), serve the current publication over HTTP, tell monitoring how it
 * is doing.
 *
 * Runs in the foreground until SIGTERM or SIGINT. The refresh runs in the
 * calling thread, the HTTP server in its own threads; a failed refresh is
 * retried with backoff while the previous publication keeps being served.
 * SIGHUP reads the config again and keeps the old one when the new one is
 * bad. The run ledger (table run) is the memory across restarts: the daemon
 * keeps none of its own. Nothing here is owned by the caller after return.
 */
#ifndef PC6RISK_DAEMON_H
#define PC6RISK_DAEMON_H

#include <stdbool.h>

#include "pc6risk/err.h"

struct daemon_opts {
	const char *config_path; /* read at start and at every SIGHUP */
	const char *schema;      /* NULL: the config's database.schema */
	const char *out_dir;     /* NULL: the config's publish.dir */
	const char *listen;      /* NULL: the config's daemon.listen */
	bool now;                /* refresh at start (also done when nothing is published yet) */
};

/* Serve and refresh until told to stop. 0 after SIGTERM/SIGINT (the current
 * step rolled back); -1 with e filled when it cannot start (bad config, the
 * address is taken). */
int daemon_run(const struct daemon_opts *o, struct err *e);

#endif
