#include "pc6risk/pgbin.h"

#include <string.h>

/* PostgreSQL's type OIDs for array elements (pg_type.h, stable across releases). */
#define FLOAT8OID 701
#define TEXTOID 25

static void be32(struct sbuf *b, uint32_t v)
{
	char x[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

	sbuf_append(b, x, 4);
}

static void be64(struct sbuf *b, uint64_t v)
{
	be32(b, (uint32_t)(v >> 32));
	be32(b, (uint32_t)v);
}

void pgbin_header(struct sbuf *b)
{
	sbuf_append(b, "PGCOPY\n\377\r\n\0", 11);
	be32(b, 0); /* flags */
	be32(b, 0); /* header extension length */
}

void pgbin_trailer(struct sbuf *b)
{
	sbuf_append(b, "\377\377", 2);
}

void pgbin_row(struct sbuf *b, int n)
{
	char x[2] = {(char)(n >> 8), (char)n};

	sbuf_append(b, x, 2);
}

void pgbin_null(struct sbuf *b)
{
	be32(b, 0xFFFFFFFFu);
}

void pgbin_bytes(struct sbuf *b, const void *data, size_t n)
{
	be32(b, (uint32_t)n);
	sbuf_append(b, data, n);
}

void pgbin_text(struct sbuf *b, const char *s)
{
	pgbin_bytes(b, s, strlen(s));
}

void pgbin_int2(struct sbuf *b, int16_t v)
{
	char x[2] = {(char)((uint16_t)v >> 8), (char)v};

	be32(b, 2);
	sbuf_append(b, x, 2);
}

void pgbin_int4(struct sbuf *b, int32_t v)
{
	be32(b, 4);
	be32(b, (uint32_t)v);
}

void pgbin_int8(struct sbuf *b, int64_t v)
{
	be32(b, 8);
	be64(b, (uint64_t)v);
}

void pgbin_float8(struct sbuf *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof u);
	be32(b, 8);
	be64(b, u);
}

/* The array header: one dimension of n elements starting at 1. */
static void array_head(struct sbuf *b, size_t len, bool has_null, uint32_t oid, size_t n)
{
	be32(b, (uint32_t)len);
	be32(b, 1);
	be32(b, has_null ? 1 : 0);
	be32(b, oid);
	be32(b, (uint32_t)n);
	be32(b, 1);
}

void pgbin_float8_array(struct sbuf *b, const double *v, const bool *null, size_t n)
{
	size_t len = 20, nulls = 0;

	for (size_t i = 0; i < n; i++) {
		len += null[i] ? 4 : 12;
		nulls += null[i];
	}
	array_head(b, len, nulls > 0, FLOAT8OID, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t u;

		if (null[i]) {
			be32(b, 0xFFFFFFFFu);
			continue;
		}
		memcpy(&u, &v[i], sizeof u);
		be32(b, 8);
		be64(b, u);
	}
}

void pgbin_text_array(struct sbuf *b, const char *const *v, size_t n)
{
	size_t len = 20, nulls = 0;

	for (size_t i = 0; i < n; i++) {
		len += v[i] ? 4 + strlen(v[i]) : 4;
		nulls += v[i] == NULL;
	}
	array_head(b, len, nulls > 0, TEXTOID, n);
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			be32(b, 0xFFFFFFFFu);
		else
			pgbin_text(b, v[i]);
	}
}

void pgbin_read(struct pgbin_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
	r->bad = false;
}

int32_t pgbin_get_int4(const unsigned char *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

int16_t pgbin_get_int2(const unsigned char *p)
{
	return (int16_t)((uint16_t)(p[0] << 8 | p[1]));
}

double pgbin_get_float8(const unsigned char *p)
{
	uint64_t u = (uint64_t)(uint32_t)pgbin_get_int4(p) << 32 | (uint32_t)pgbin_get_int4(p + 4);
	double v;

	memcpy(&v, &u, sizeof v);
	return v;
}

long pgbin_field(struct pgbin_reader *r, const unsigned char **data)
{
	int32_t len;

	*data = NULL;
	if (r->bad || r->end - r->p < 4) {
		r->bad = true;
		return -1;
	}
	len = pgbin_get_int4(r->p);
	r->p += 4;
	if (len < 0)
		return -1;
	if (r->end - r->p < len) {
		r->bad = true;
		return -1;
	}
	*data = r->p;
	r->p += len;
	return len;
}

void pgbin_array_open(struct pgbin_reader *a, const unsigned char *data, long len, size_t *n)
{
	int32_t ndim;

	*n = 0;
	pgbin_read(a, data, len > 0 ? (size_t)len : 0);
	if (len < 12) {
		a->bad = true;
		return;
	}
	ndim = pgbin_get_int4(data);
	if (ndim == 0) {
		a->p += 12;
		return;
	}
	if (ndim != 1 || len < 20 || pgbin_get_int4(data + 12) < 0) {
		a->bad = true;
		return;
	}
	*n = (size_t)pgbin_get_int4(data + 12);
	a->p += 20;
}
