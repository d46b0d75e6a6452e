/*
 * signals — SIGINT and SIGTERM as a flag the long loops poll; the daemon's
 * SIGHUP and SIGUSR1 as flags its loop takes.
 *
 * The handler records the signal (and asks PostgreSQL to cancel the running
 * query, through a hook); work stops at the next check and rolls back. A
 * second signal while the first is pending ends the process at once.
 */
#ifndef PC6RISK_SIGNALS_H
#define PC6RISK_SIGNALS_H

#include <stdbool.h>

/* Install the handlers (main calls this once). */
void signals_install(void);

/* The signal received since start, or 0. */
int signals_pending(void);

/* Call fn from the handler at the first signal (it must be async-signal-safe:
 * db uses it to cancel the running query). NULL removes it. */
void signals_on_interrupt(void (*fn)(void));

/* The daemon's requests: SIGHUP (reload the config) and SIGUSR1 (refresh
 * now) each set a flag, taken (read and cleared) by the main loop. Also
 * ignores SIGPIPE and SIGXFSZ. */
void signals_install_daemon(void);
bool signals_take_hangup(void);
bool signals_take_usr1(void);

#endif
