#include "pc6risk/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t pending, hangup, usr1;
static void (*volatile on_interrupt)(void);

static void on_request(int sig)
{
	if (sig == SIGHUP)
		hangup = 1;
	else
		usr1 = 1;
}

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

void signals_install_daemon(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_request;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	/* a client that goes away mid-response must not end the daemon, nor a
	 * file-size limit: the write fails (EFBIG) and the refresh with it */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
}

bool signals_take_hangup(void)
{
	bool was = hangup;

	hangup = 0;
	return was;
}

bool signals_take_usr1(void)
{
	bool was = usr1;

	usr1 = 0;
	return was;
}
