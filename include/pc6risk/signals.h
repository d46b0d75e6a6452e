/*
 * signals — SIGINT and SIGTERM as a flag the long loops poll.
 *
 * The handler only records the signal; work stops at the next check and rolls
 * back. A second signal while the first is pending ends the process at once.
 */
#ifndef PC6RISK_SIGNALS_H
#define PC6RISK_SIGNALS_H

/* Install the handlers (main calls this once). */
void signals_install(void);

/* The signal received since start, or 0. */
int signals_pending(void);

#endif
