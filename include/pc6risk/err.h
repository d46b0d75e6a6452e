/*
 * err — the error record every fallible function fills.
 *
 * A struct err is a plain value the caller owns (usually on its stack); it holds
 * no pointers, so there is nothing to free. Functions return 0 on success and -1
 * after filling the record; only main prints it and turns its class into an exit
 * code.
 */
#ifndef PC6RISK_ERR_H
#define PC6RISK_ERR_H

#include <stddef.h>

/* Error classes; each has its own exit code (see err_exit_code and the README). */
enum err_class {
	ERR_NONE = 0,
	ERR_USAGE,    /* bad command line */
	ERR_CONFIG,   /* the config file is unreadable or says something wrong */
	ERR_INPUT,    /* an input file is unreadable or holds bad data */
	ERR_DATABASE, /* PostgreSQL refused, failed or is unreachable */
	ERR_SYSTEM,   /* the operating system failed us: I/O, disk full, a signal */
	ERR_INTERNAL  /* a bug in pc6risk */
};

struct err {
	enum err_class cls;
	char where[256];   /* "file:line:col", "layer#fid=77", "pc6risk.json", or "" */
	char sqlstate[6];  /* from PostgreSQL, or "" */
	char message[512]; /* one lowercase line, no final period */
	char detail[1024]; /* optional, may span lines */
	char hint[512];    /* optional: what the user can do */
};

/* Reset e to "no error". */
void err_clear(struct err *e);

/* Fill e with a class, a location (NULL or "" for none) and a printf-style
 * message; clears sqlstate, detail and hint. Returns -1 so callers can write
 * `return err_set(...)`. */
int err_set(struct err *e, enum err_class cls, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Set the detail or hint of an already filled record. Return -1. */
int err_detail(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_hint(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Put "prefix: " in front of e->message, to add context on the way up. */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Render e as the lines main prints: "where: message [SQLSTATE x]", then
 * "detail: ..." and "hint: ..." when set. Always NUL-terminates buf. */
void err_format(const struct err *e, char *buf, size_t size);

/* The process exit code for a class: 0 none, 2 usage, 3 config, 4 input,
 * 5 database, 6 system, 7 internal. */
int err_exit_code(enum err_class cls);

/* A short name for a class ("config", "input", ...), for logs and run records. */
const char *err_class_name(enum err_class cls);

#endif
