#include "pc6risk/csv.h"
#include "pc6risk/xalloc.h"

#include <stdbool.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct field_pos {
	size_t off; /* into buf */
	long line;
	long col;
};

struct csv {
	FILE *f;
	char *path;
	char delim;
	long line; /* line of the next character */
	long col;  /* 1-based column of the next character */
	long row_line;
	char *buf; /* the current row's fields, each NUL-terminated */
	size_t len, cap;
	struct field_pos *fields;
	size_t nfields, fcap;
	char **ptrs; /* field pointers handed out, rebuilt per row */
	size_t pcap;
	enum encoding enc;
	long long size;
	char *tbuf;       /* fields transcoded to UTF-8 */
	size_t tcap;
};

static const struct {
	const char *name;
	enum encoding enc;
} encodings[] = {
	{"auto", ENCODING_AUTO},	{"utf-8", ENCODING_UTF8},	  {"utf8", ENCODING_UTF8},
	{"cp1252", ENCODING_CP1252},	{"windows-1252", ENCODING_CP1252}, {"latin1", ENCODING_LATIN1},
	{"latin-1", ENCODING_LATIN1}, {"iso-8859-1", ENCODING_LATIN1},
};

int encoding_parse(const char *name, enum encoding *out)
{
	for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
		if (strcasecmp(name, encodings[i].name) == 0) {
			*out = encodings[i].enc;
			return 0;
		}
	}
	return -1;
}

const char *encoding_name(enum encoding enc)
{
	switch (enc) {
	case ENCODING_AUTO: return "auto";
	case ENCODING_UTF8: return "utf-8";
	case ENCODING_CP1252: return "cp1252";
	case ENCODING_LATIN1: return "latin1";
	}
	return "?";
}

/* CP1252's 0x80..0x9F; 0 where the byte is not a character. */
static const unsigned short cp1252_high[32] = {
	0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

/* Length of the valid UTF-8 sequence at p (n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0)
		len = 2, cp = p[0] & 0x1F;
	else if ((p[0] & 0xF0) == 0xE0)
		len = 3, cp = p[0] & 0x0F;
	else if ((p[0] & 0xF8) == 0xF0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return len;
}

static void buf_put(struct csv *c, char ch)
{
	if (c->len + 1 >= c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->buf = xrealloc(c->buf, c->cap);
	}
	c->buf[c->len++] = ch;
}

static void field_start(struct csv *c, long col)
{
	if (c->nfields == c->fcap) {
		c->fcap = c->fcap ? c->fcap * 2 : 16;
		c->fields = xrealloc(c->fields, c->fcap * sizeof *c->fields);
	}
	c->fields[c->nfields].off = c->len;
	c->fields[c->nfields].line = c->line;
	c->fields[c->nfields].col = col;
	c->nfields++;
}

/* Next character with line/column bookkeeping; CRLF reads as '\n'. A reader
 * belongs to one thread, so the stream is read without locking it per
 * character (getc_unlocked: a third of the CSV reading time with getc). */
static int next_char(struct csv *c)
{
	int ch = getc_unlocked(c->f);

	if (ch == '\r') {
		int n = getc_unlocked(c->f);

		if (n != '\n' && n != EOF)
			ungetc(n, c->f);
		ch = '\n';
	}
	if (ch == '\n') {
		c->line++;
		c->col = 1;
	} else if (ch != EOF) {
		c->col++;
	}
	return ch;
}

static char detect_delimiter(FILE *f)
{
	char line[65536];
	size_t semis = 0, commas = 0;
	int quoted = 0;
	long start = ftell(f);

	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fseek(f, start, SEEK_SET);
	for (const char *p = line; *p && *p != '\n'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ';')
			semis++;
		else if (!quoted && *p == ',')
			commas++;
	}
	return semis > commas ? ';' : ',';
}

struct csv *csv_open(const char *path, char delim, enum encoding enc, struct err *e)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		err_set(e, ERR_INPUT, path, "cannot open file: %s", strerror(errno));
		return NULL;
	}
	return csv_from_stream(f, path, delim, enc, e);
}

struct csv *csv_from_stream(FILE *f, const char *path, char delim, enum encoding enc, struct err *e)
{
	struct csv *c;
	unsigned char bom[3] = {0};
	size_t n;

	n = fread(bom, 1, 3, f);
	if (n >= 2 && ((bom[0] == 0xFF && bom[1] == 0xFE) || (bom[0] == 0xFE && bom[1] == 0xFF))) {
		err_set(e, ERR_INPUT, path, "the file is UTF-16, which pc6risk does not read");
		err_hint(e, "save it as UTF-8 (or CP1252)");
		fclose(f);
		return NULL;
	}
	/* Skip a UTF-8 byte-order mark: it also settles the encoding. */
	if (n == 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF) {
		if (enc == ENCODING_AUTO)
			enc = ENCODING_UTF8;
	} else {
		fseek(f, 0, SEEK_SET);
	}
	c = xcalloc(1, sizeof *c);
	c->f = f;
	c->path = xstrdup(path);
	c->delim = delim ? delim : detect_delimiter(f);
	c->enc = enc;
	{
		struct stat sb;

		c->size = fstat(fileno(f), &sb) == 0 ? (long long)sb.st_size : 0;
	}
	c->line = 1;
	c->col = 1;
	return c;
}

enum encoding csv_encoding(const struct csv *c)
{
	return c->enc;
}

static void tbuf_put(struct csv *c, size_t *n, const char *bytes, size_t len)
{
	if (*n + len + 1 > c->tcap) {
		c->tcap = (*n + len + 1) * 2;
		c->tbuf = xrealloc(c->tbuf, c->tcap);
	}
	memcpy(c->tbuf + *n, bytes, len);
	*n += len;
}

/* Make the current row's fields UTF-8: check them when the file is (or may
 * be) UTF-8, else transcode. A file read as "auto" becomes UTF-8 at its first
 * valid multi-byte sequence, or CP1252 when its first non-ASCII byte is not
 * UTF-8. */
static int decode_row(struct csv *c, struct err *e)
{
	size_t n = 0;
	bool high = false;

	for (size_t i = 0; i < c->len && !high; i++)
		high = (unsigned char)c->buf[i] >= 0x80;
	if (!high)
		return 0;
	if (c->enc == ENCODING_AUTO || c->enc == ENCODING_UTF8) {
		for (size_t f = 0; f < c->nfields; f++) {
			const unsigned char *p = (const unsigned char *)c->ptrs[f];
			size_t len = strlen(c->ptrs[f]);

			for (size_t i = 0; i < len;) {
				size_t k = utf8_seq(p + i, len - i);
				char where[600];

				if (k > 1 && c->enc == ENCODING_AUTO)
					c->enc = ENCODING_UTF8;
				if (k > 0) {
					i += k;
					continue;
				}
				if (c->enc == ENCODING_AUTO) {
					c->enc = ENCODING_CP1252;
					goto transcode;
				}
				snprintf(where, sizeof where, "%s:%ld:%ld", c->path, c->fields[f].line, c->fields[f].col);
				err_set(e, ERR_INPUT, where, "byte 0x%02X is not valid UTF-8", p[i]);
				return err_hint(e, "set \"encoding\" for this file (\"cp1252\" or \"latin1\"), or --encoding");
			}
		}
		return 0;
	}
transcode:
	for (size_t f = 0; f < c->nfields; f++) {
		const unsigned char *p = (const unsigned char *)c->ptrs[f];
		size_t start = n;

		for (; *p; p++) {
			unsigned cp = *p;
			char u[3];

			if (cp < 0x80) {
				tbuf_put(c, &n, (const char *)p, 1);
				continue;
			}
			if (c->enc == ENCODING_CP1252 && cp < 0xA0) {
				cp = cp1252_high[cp - 0x80];
				if (cp == 0) {
					char where[600];

					snprintf(where, sizeof where, "%s:%ld:%ld", c->path, c->fields[f].line,
						 c->fields[f].col);
					return err_set(e, ERR_INPUT, where, "byte 0x%02X is not a character in CP1252", *p);
				}
			}
			if (cp < 0x800) {
				u[0] = (char)(0xC0 | cp >> 6);
				u[1] = (char)(0x80 | (cp & 0x3F));
				tbuf_put(c, &n, u, 2);
			} else {
				u[0] = (char)(0xE0 | cp >> 12);
				u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
				u[2] = (char)(0x80 | (cp & 0x3F));
				tbuf_put(c, &n, u, 3);
			}
		}
		tbuf_put(c, &n, "", 1);
		c->fields[f].off = start; /* now into tbuf */
	}
	for (size_t f = 0; f < c->nfields; f++)
		c->ptrs[f] = c->tbuf + c->fields[f].off;
	return 0;
}

int csv_next(struct csv *c, struct err *e)
{
	int ch;

	for (;;) {
		c->len = 0;
		c->nfields = 0;
		c->row_line = c->line;
		ch = next_char(c);
		if (ch == EOF)
			goto eof;
		if (ch != '\n')
			break; /* skip empty lines */
	}
	field_start(c, c->col - 1); /* ch, already read, is its first character */
	for (;;) {
		if (ch == '"' && c->len == c->fields[c->nfields - 1].off) {
			long qline = c->line, qcol = c->col - 1;

			for (;;) {
				ch = next_char(c);
				if (ch == EOF) {
					char where[300];

					if (ferror(c->f))
						goto ioerr;
					snprintf(where, sizeof where, "%s:%ld:%ld", c->path, qline, qcol);
					return err_set(e, ERR_INPUT, where,
						       "quoted field is not closed before the end of the file");
				}
				if (ch == '"') {
					ch = next_char(c);
					if (ch != '"')
						break;
				}
				buf_put(c, (char)ch);
			}
			/* text after a closing quote is kept, as most readers do */
			continue;
		}
		if (ch == EOF || ch == '\n') {
			buf_put(c, '\0');
			break;
		}
		if (ch == c->delim) {
			buf_put(c, '\0');
			field_start(c, c->col); /* starts at the next character */
		} else {
			buf_put(c, (char)ch);
		}
		ch = next_char(c);
	}
	if (ferror(c->f))
		goto ioerr;
	if (c->nfields > c->pcap) {
		c->pcap = c->nfields;
		c->ptrs = xrealloc(c->ptrs, c->pcap * sizeof *c->ptrs);
	}
	for (size_t i = 0; i < c->nfields; i++)
		c->ptrs[i] = c->buf + c->fields[i].off;
	return decode_row(c, e) < 0 ? -1 : 1;
eof:
	if (ferror(c->f))
		goto ioerr;
	return 0;
ioerr:
	return err_set(e, ERR_INPUT, c->path, "cannot read file: %s", strerror(errno));
}

size_t csv_nfields(const struct csv *c)
{
	return c->nfields;
}

const char *csv_field(const struct csv *c, size_t i)
{
	return i < c->nfields ? c->ptrs[i] : "";
}

long csv_field_line(const struct csv *c, size_t i)
{
	return i < c->nfields ? c->fields[i].line : c->row_line;
}

long csv_field_col(const struct csv *c, size_t i)
{
	return i < c->nfields ? c->fields[i].col : 1;
}

long csv_line(const struct csv *c)
{
	return c->row_line;
}

long long csv_bytes_read(const struct csv *c)
{
	return (long long)ftell(c->f);
}

long long csv_size(const struct csv *c)
{
	return c->size;
}

char csv_delimiter(const struct csv *c)
{
	return c->delim;
}

const char *csv_path(const struct csv *c)
{
	return c->path;
}

void csv_close(struct csv *c)
{
	if (!c)
		return;
	if (c->f)
		fclose(c->f);
	free(c->path);
	free(c->buf);
	free(c->fields);
	free(c->ptrs);
	free(c->tbuf);
	free(c);
}
