#include "pc6risk/csv.h"
#include "pc6risk/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

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

/* Next character with line/column bookkeeping; CRLF reads as '\n'. */
static int next_char(struct csv *c)
{
	int ch = getc(c->f);

	if (ch == '\r') {
		int n = getc(c->f);

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

struct csv *csv_open(const char *path, char delim, struct err *e)
{
	struct csv *c;
	FILE *f = fopen(path, "rb");
	unsigned char bom[3];

	if (!f) {
		err_set(e, ERR_INPUT, path, "cannot open file: %s", strerror(errno));
		return NULL;
	}
	/* Skip a UTF-8 byte-order mark. */
	if (fread(bom, 1, 3, f) != 3 || bom[0] != 0xEF || bom[1] != 0xBB || bom[2] != 0xBF)
		fseek(f, 0, SEEK_SET);
	c = xcalloc(1, sizeof *c);
	c->f = f;
	c->path = xstrdup(path);
	c->delim = delim ? delim : detect_delimiter(f);
	c->line = 1;
	c->col = 1;
	return c;
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
	return 1;
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
	free(c);
}
