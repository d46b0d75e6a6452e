/*
 * csv — a streaming reader for CBS-style delimited text.
 *
 * Handles ';' or ',' (or a given) delimiter, "quoted" fields with "" escapes and
 * line breaks, CRLF, and a UTF-8 byte-order mark. Rows come one at a time; the
 * field strings belong to the reader and stay valid until the next csv_next or
 * csv_close. Every field knows the line and column where it starts, so callers
 * can say "file:line:col". csv_open returns a reader the caller frees with
 * csv_close.
 */
#ifndef PC6RISK_CSV_H
#define PC6RISK_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "pc6risk/err.h"

struct csv;

/* Text encodings of delimited files. Fields always come out as UTF-8. */
enum encoding {
	ENCODING_AUTO,   /* UTF-8 while the bytes are valid UTF-8; a file whose first
			    non-ASCII byte is not UTF-8 is read as CP1252 */
	ENCODING_UTF8,
	ENCODING_CP1252, /* Windows-1252 */
	ENCODING_LATIN1  /* ISO-8859-1 */
};

/* Parse "auto", "utf-8", "cp1252", "latin1" (and common spellings); -1 if none. */
int encoding_parse(const char *name, enum encoding *out);
const char *encoding_name(enum encoding enc);

/* Open path. delim 0 detects ';' or ',' from the first line (the one occurring
 * more often outside quotes; ',' when neither occurs). NULL on failure. */
struct csv *csv_open(const char *path, char delim, enum encoding enc, struct err *e);

/* The same over an open stream, which the reader takes over (csv_close closes
 * it); name is used in messages. For readers of memory (fmemopen) and tests. */
struct csv *csv_from_stream(FILE *f, const char *name, char delim, enum encoding enc, struct err *e);

/* The encoding in use: with ENCODING_AUTO, what was found so far. */
enum encoding csv_encoding(const struct csv *c);

/* Read the next non-empty row: 1 when a row was read, 0 at the end, -1 on an
 * error (an unterminated quote, bytes that are not text in the encoding, an
 * I/O error). */
int csv_next(struct csv *c, struct err *e);

size_t csv_nfields(const struct csv *c);
/* Field i of the current row (i < csv_nfields), without quotes. */
const char *csv_field(const struct csv *c, size_t i);
/* Line and 1-based byte column where field i starts. */
long csv_field_line(const struct csv *c, size_t i);
long csv_field_col(const struct csv *c, size_t i);
/* Line where the current row starts. */
long csv_line(const struct csv *c);
char csv_delimiter(const struct csv *c);
/* Bytes read so far, and the file's size (for progress). */
long long csv_bytes_read(const struct csv *c);
long long csv_size(const struct csv *c);
const char *csv_path(const struct csv *c);

void csv_close(struct csv *c);

#endif
