/*
 * pgbin — rows in PostgreSQL's binary COPY format, appended to an sbuf.
 *
 * Binary COPY saves the server from parsing text: numbers and arrays arrive as
 * they are stored. A stream is pgbin_header, then per row pgbin_row(n) and n
 * fields, then pgbin_trailer. Nothing here allocates beyond the sbuf.
 */
#ifndef PC6RISK_PGBIN_H
#define PC6RISK_PGBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pc6risk/sbuf.h"

void pgbin_header(struct sbuf *b);
void pgbin_trailer(struct sbuf *b);
/* Start a row of n fields. */
void pgbin_row(struct sbuf *b, int n);

void pgbin_null(struct sbuf *b);
void pgbin_text(struct sbuf *b, const char *s);
/* Raw bytes: bytea, or geometry as (E)WKB. */
void pgbin_bytes(struct sbuf *b, const void *data, size_t n);
void pgbin_int2(struct sbuf *b, int16_t v);
void pgbin_int4(struct sbuf *b, int32_t v);
void pgbin_int8(struct sbuf *b, int64_t v);
void pgbin_float8(struct sbuf *b, double v);

/* A one-dimensional float8[] (null[i] marks NULL elements) and text[] (NULL
 * pointers are NULL elements). */
void pgbin_float8_array(struct sbuf *b, const double *v, const bool *null, size_t n);
void pgbin_text_array(struct sbuf *b, const char *const *v, size_t n);

/*
 * Reading: one row of a binary COPY TO STDOUT (db_copy_out_binary hands them
 * over one at a time). pgbin_field takes the next field: its bytes and
 * length, or -1 for NULL. An array field is read with pgbin_array_open and
 * then pgbin_array_next per element (-1 for a NULL element). A row or array
 * shorter than it says marks the reader bad (and reads as NULLs), so a caller
 * checks bad once at the end instead of at every step.
 */
struct pgbin_reader {
	const unsigned char *p, *end;
	bool bad;
};

void pgbin_read(struct pgbin_reader *r, const void *data, size_t len);
long pgbin_field(struct pgbin_reader *r, const unsigned char **data);
/* Big-endian numbers as binary COPY stores them (the bytes of a field). */
int16_t pgbin_get_int2(const unsigned char *p);
int32_t pgbin_get_int4(const unsigned char *p);
double pgbin_get_float8(const unsigned char *p);
/* Open a one-dimensional array (or an empty one); *n gets its length. */
void pgbin_array_open(struct pgbin_reader *a, const unsigned char *data, long len, size_t *n);
#define pgbin_array_next pgbin_field

#endif
