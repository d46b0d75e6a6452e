#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(struct sbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	while (b->cap < need)
		b->cap = b->cap ? b->cap * 2 : 64;
	b->s = xrealloc(b->s, b->cap);
}

void sbuf_append(struct sbuf *b, const char *data, size_t n)
{
	reserve(b, n);
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_append(b, s, strlen(s));
}

void sbuf_putc(struct sbuf *b, char c)
{
	sbuf_append(b, &c, 1);
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* Format once into the room there is; only when it does not fit, grow
	 * and format again. */
	reserve(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n <= 0) {
		b->s[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void sbuf_hex(struct sbuf *b, const unsigned char *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *p;

	reserve(b, 2 * n);
	p = b->s + b->len;
	for (size_t i = 0; i < n; i++) {
		*p++ = digits[data[i] >> 4];
		*p++ = digits[data[i] & 15];
	}
	b->len += 2 * n;
	b->s[b->len] = '\0';
}

void sbuf_number(struct sbuf *b, double v)
{
	char tmp[32];

	/* Whole numbers (most CBS figures) without the cost of %g. */
	if (v == floor(v) && fabs(v) < 1e15) {
		long long i = (long long)v;
		unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
		char *p = tmp + sizeof tmp;

		*--p = '\0';
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (i < 0)
			*--p = '-';
		sbuf_puts(b, p);
		return;
	}
	snprintf(tmp, sizeof tmp, "%.17g", v);
	sbuf_puts(b, tmp);
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

char *sbuf_take(struct sbuf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void sbuf_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void sbuf_json_string(struct sbuf *b, const char *s)
{
	const unsigned char *p;

	if (!s) {
		sbuf_puts(b, "null");
		return;
	}
	sbuf_putc(b, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': sbuf_puts(b, "\\\""); break;
		case '\\': sbuf_puts(b, "\\\\"); break;
		case '\n': sbuf_puts(b, "\\n"); break;
		case '\r': sbuf_puts(b, "\\r"); break;
		case '\t': sbuf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20)
				sbuf_printf(b, "\\u%04x", *p);
			else
				sbuf_putc(b, (char)*p);
		}
	}
	sbuf_putc(b, '"');
}

void sbuf_json_number(struct sbuf *b, double v, int decimals)
{
	char tmp[64];
	size_t n;

	if (!isfinite(v)) {
		sbuf_puts(b, "null");
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 15)
		decimals = 15;
	snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
	n = strlen(tmp);
	if (memchr(tmp, '.', n)) {
		while (n > 0 && tmp[n - 1] == '0')
			n--;
		if (n > 0 && tmp[n - 1] == '.')
			n--;
	}
	tmp[n] = '\0';
	/* "-0" after rounding is still zero. */
	if (strcmp(tmp, "-0") == 0)
		strcpy(tmp, "0");
	sbuf_puts(b, tmp);
}

void sbuf_csv_field(struct sbuf *b, const char *s, char delim)
{
	const char special[] = {delim, '"', '\r', '\n', '\0'};

	if (!s)
		return;
	if (!strpbrk(s, special)) {
		sbuf_puts(b, s);
		return;
	}
	sbuf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			sbuf_putc(b, '"');
		sbuf_putc(b, *s);
	}
	sbuf_putc(b, '"');
}
