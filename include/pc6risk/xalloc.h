/*
 * xalloc — allocation that never returns NULL.
 *
 * pc6risk treats running out of memory as fatal: these print one line and
 * abort(). Everything they return is freed with free().
 */
#ifndef PC6RISK_XALLOC_H
#define PC6RISK_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* xstrdup of NULL is NULL. */
char *xstrdup_or_null(const char *s);
/* A newly allocated printf result. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
