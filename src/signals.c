#include "pc6risk/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t pending;
static void (*volatile on_interrupt)(void);

static void on_signal(int sig)
{
	if (pending) {
		/* The second one: the user wants out now. */
		signal(sig, SIG_DFL);
		raise(sig);
		_exit(128 + sig);
	}
	pending = sig;
	if (on_interrupt)
		on_interrupt();
}

void signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int signals_pending(void)
{
	return pending;
}

void signals_on_interrupt(void (*fn)(void))
{
	on_interrupt = fn;
}
