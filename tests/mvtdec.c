#include "mvtdec.h"

#include <stdlib.h>
#include <string.h>

struct pb {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t varint(struct pb *b)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && b->p < b->end; shift += 7) {
		unsigned char c = *b->p++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	b->bad = 1;
	return 0;
}

static struct pb sub(struct pb *b)
{
	uint64_t n = varint(b);
	struct pb s = {b->p, b->p, 0};

	if (b->bad || n > (uint64_t)(b->end - b->p)) {
		b->bad = 1;
		return s;
	}
	s.end = b->p + n;
	b->p += n;
	return s;
}

static void skip(struct pb *b, uint64_t key)
{
	switch (key & 7) {
	case 0: varint(b); break;
	case 1: b->p += 8; break;
	case 2: sub(b); break;
	case 5: b->p += 4; break;
	default: b->bad = 1;
	}
	if (b->p > b->end)
		b->bad = 1;
}

static int64_t unzig(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void geometry(struct pb g, struct mvtdec_feature *f)
{
	int64_t cx = 0, cy = 0;
	struct mvtdec_ring *r = NULL;

	while (g.p < g.end && !g.bad) {
		uint64_t cmd = varint(&g);
		unsigned id = cmd & 7;
		uint64_t count = cmd >> 3;

		if (id == 1) {
			if (count != 1)
				f->bad_commands++;
			f->rings = realloc(f->rings, (f->nrings + 1) * sizeof *f->rings);
			r = &f->rings[f->nrings++];
			memset(r, 0, sizeof *r);
		} else if (id == 2) {
			if (!r || r->n != 1)
				f->bad_commands++;
		} else if (id == 7) {
			if (!r || count != 1 || r->n < 3)
				f->bad_commands++;
			continue;
		} else {
			f->bad_commands++;
			return;
		}
		for (uint64_t k = 0; k < count && !g.bad; k++) {
			cx += unzig(varint(&g));
			cy += unzig(varint(&g));
			if (!r)
				continue;
			r->xy = realloc(r->xy, 2 * (r->n + 1) * sizeof *r->xy);
			r->xy[2 * r->n] = cx;
			r->xy[2 * r->n + 1] = cy;
			r->n++;
		}
	}
	for (size_t i = 0; i < f->nrings; i++) {
		struct mvtdec_ring *q = &f->rings[i];
		double a = 0;

		for (size_t j = 0; j < q->n; j++) {
			size_t k = (j + 1) % q->n;

			a += (double)q->xy[2 * j] * (double)q->xy[2 * k + 1] - (double)q->xy[2 * k] * (double)q->xy[2 * j + 1];
		}
		q->area = a / 2;
	}
	if (g.bad)
		f->bad_commands++;
}

static int layer(struct pb l, struct mvtdec_layer *out)
{
	memset(out, 0, sizeof *out);
	out->version = 1;
	out->extent = 4096;
	while (l.p < l.end && !l.bad) {
		uint64_t key = varint(&l);

		if (key == (15 << 3)) {
			out->version = (int)varint(&l);
		} else if (key == (5 << 3)) {
			out->extent = (int)varint(&l);
		} else if (key == (1 << 3 | 2)) {
			struct pb s = sub(&l);
			size_t n = (size_t)(s.end - s.p);

			if (n >= sizeof out->name)
				n = sizeof out->name - 1;
			memcpy(out->name, s.p, n);
		} else if (key == (3 << 3 | 2)) {
			struct pb s = sub(&l);

			out->keys = realloc(out->keys, (out->nkeys + 1) * sizeof *out->keys);
			out->keys[out->nkeys] = strndup((const char *)s.p, (size_t)(s.end - s.p));
			out->nkeys++;
		} else if (key == (4 << 3 | 2)) {
			sub(&l);
			out->nvalues++;
		} else if (key == (2 << 3 | 2)) {
			struct pb s = sub(&l);
			struct mvtdec_feature *f;

			out->feat = realloc(out->feat, (out->nfeat + 1) * sizeof *out->feat);
			f = &out->feat[out->nfeat++];
			memset(f, 0, sizeof *f);
			while (s.p < s.end && !s.bad) {
				uint64_t fk = varint(&s);

				if (fk == (2 << 3 | 2)) {
					struct pb t = sub(&s);

					while (t.p < t.end && !t.bad) {
						f->tags = realloc(f->tags, (f->ntags + 1) * sizeof *f->tags);
						f->tags[f->ntags++] = (uint32_t)varint(&t);
					}
				} else if (fk == (3 << 3)) {
					f->type = (int)varint(&s);
				} else if (fk == (4 << 3 | 2)) {
					geometry(sub(&s), f);
				} else {
					skip(&s, fk);
				}
			}
			if (s.bad)
				return -1;
		} else {
			skip(&l, key);
		}
	}
	return l.bad ? -1 : 0;
}

int mvtdec(const unsigned char *data, size_t n, struct mvtdec_layer *layers, size_t max)
{
	struct pb b = {data, data + n, 0};
	size_t nl = 0;

	while (b.p < b.end && !b.bad) {
		uint64_t key = varint(&b);

		if (key == (3 << 3 | 2)) {
			struct pb l = sub(&b);

			if (b.bad || nl == max || layer(l, &layers[nl]) < 0)
				return -1;
			nl++;
		} else {
			skip(&b, key);
		}
	}
	return b.bad ? -1 : (int)nl;
}

void mvtdec_free(struct mvtdec_layer *l)
{
	for (size_t i = 0; i < l->nkeys; i++)
		free(l->keys[i]);
	free(l->keys);
	for (size_t i = 0; i < l->nfeat; i++) {
		for (size_t j = 0; j < l->feat[i].nrings; j++)
			free(l->feat[i].rings[j].xy);
		free(l->feat[i].rings);
		free(l->feat[i].tags);
	}
	free(l->feat);
	memset(l, 0, sizeof *l);
}

double geojson_ring_area(const cJSON *ring)
{
	double a = 0;
	int n = cJSON_GetArraySize(ring);

	for (int i = 0; i + 1 < n; i++) {
		const cJSON *p = cJSON_GetArrayItem(ring, i), *q = cJSON_GetArrayItem(ring, i + 1);

		a += cJSON_GetArrayItem(p, 0)->valuedouble * cJSON_GetArrayItem(q, 1)->valuedouble -
		     cJSON_GetArrayItem(q, 0)->valuedouble * cJSON_GetArrayItem(p, 1)->valuedouble;
	}
	return a / 2;
}
