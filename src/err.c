#include "pc6risk/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
	memset(e, 0, sizeof *e);
}

int err_set(struct err *e, enum err_class cls, const char *where, const char *fmt, ...)
{
	va_list ap;

	err_clear(e);
	e->cls = cls;
	if (where)
		snprintf(e->where, sizeof e->where, "%s", where);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

int err_detail(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof e->detail, fmt, ap);
	va_end(ap);
	return -1;
}

int err_hint(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof e->hint, fmt, ap);
	va_end(ap);
	return -1;
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	char old[sizeof e->message];
	size_t n;
	va_list ap;

	memcpy(old, e->message, sizeof old);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	n = strlen(e->message);
	if (n + 2 < sizeof e->message) {
		memcpy(e->message + n, ": ", 2);
		n += 2;
		strncpy(e->message + n, old, sizeof e->message - n - 1);
		e->message[sizeof e->message - 1] = '\0';
	}
}

void err_format(const struct err *e, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
#define PUT(...)                                                                 \
	do {                                                                     \
		if (n < size) {                                                  \
			int w = snprintf(buf + n, size - n, __VA_ARGS__);        \
			n += w > 0 ? (size_t)w : 0;                              \
		}                                                                \
	} while (0)
	if (e->where[0])
		PUT("%s: ", e->where);
	PUT("%s", e->message[0] ? e->message : "unknown error");
	if (e->sqlstate[0])
		PUT(" [SQLSTATE %s]", e->sqlstate);
	if (e->detail[0])
		PUT("\ndetail: %s", e->detail);
	if (e->hint[0])
		PUT("\nhint: %s", e->hint);
#undef PUT
}

int err_exit_code(enum err_class cls)
{
	switch (cls) {
	case ERR_NONE: return 0;
	case ERR_USAGE: return 2;
	case ERR_CONFIG: return 3;
	case ERR_INPUT: return 4;
	case ERR_DATABASE: return 5;
	case ERR_SYSTEM: return 6;
	case ERR_INTERNAL: return 7;
	}
	return 7;
}

const char *err_class_name(enum err_class cls)
{
	switch (cls) {
	case ERR_NONE: return "none";
	case ERR_USAGE: return "usage";
	case ERR_CONFIG: return "config";
	case ERR_INPUT: return "input";
	case ERR_DATABASE: return "database";
	case ERR_SYSTEM: return "system";
	case ERR_INTERNAL: return "internal";
	}
	return "internal";
}
