/*
 * sbuf — a growable byte string, and JSON text written into one.
 *
 * A struct sbuf is owned by whoever declared it; its buffer `s` is always
 * NUL-terminated (once anything was appended) and freed with sbuf_free, or
 * taken over with sbuf_take. Zero-initialise before use: struct sbuf b = {0}.
 */
#ifndef PC6RISK_SBUF_H
#define PC6RISK_SBUF_H

#include <stddef.h>

struct sbuf {
	char *s;
	size_t len;
	size_t cap;
};

void sbuf_append(struct sbuf *b, const char *data, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n bytes as lowercase hex. */
void sbuf_hex(struct sbuf *b, const unsigned char *data, size_t n);
/* Append a number exactly (%.17g; whole numbers as integers). */
void sbuf_number(struct sbuf *b, double v);
/* Empty the string, keeping its buffer. */
void sbuf_reset(struct sbuf *b);
/* Hand the buffer to the caller (free() it) and reset b to empty; never NULL. */
char *sbuf_take(struct sbuf *b);
void sbuf_free(struct sbuf *b);

/* Append s as a JSON string literal with quotes (RFC 8259 escaping; bytes are
 * copied as they are, so s must be UTF-8). NULL appends null. */
void sbuf_json_string(struct sbuf *b, const char *s);

/* Append v as a JSON number with at most `decimals` digits after the point and
 * no trailing zeros ("12.5", "3", "-0.25"). NaN and infinities append null. */
void sbuf_json_number(struct sbuf *b, double v, int decimals);

/* Append s as a CSV field for a file separated by delim (RFC 4180): quoted,
 * with quotes doubled, when it holds delim, a quote or a line break. NULL
 * appends nothing (an empty field). */
void sbuf_csv_field(struct sbuf *b, const char *s, char delim);

#endif
