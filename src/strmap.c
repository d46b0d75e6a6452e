#include "pc6risk/strmap.h"
#include "pc6risk/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A slot: the key's hash (to skip most string compares) and index + 1 (0: empty). */
struct slot {
	uint32_t hash;
	uint32_t index;
};

struct strmap {
	struct slot *slots;
	size_t nslots;  /* a power of two */
	char **keys;    /* by index, pointing into the arena */
	size_t n, cap;
	char *arena;    /* current arena block */
	size_t arena_used, arena_cap;
	char **blocks;  /* every arena block, to free */
	size_t nblocks;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ^ (h >> 29);
}

struct strmap *strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof *m);

	m->nslots = 1024;
	m->slots = xcalloc(m->nslots, sizeof *m->slots);
	return m;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nblocks; i++)
		free(m->blocks[i]);
	free(m->blocks);
	free(m->slots);
	free(m->keys);
	free(m);
}

static char *arena_copy(struct strmap *m, const char *s)
{
	size_t n = strlen(s) + 1;

	if (m->arena_used + n > m->arena_cap) {
		m->arena_cap = n > 65536 ? n : 65536;
		m->arena = xmalloc(m->arena_cap);
		m->arena_used = 0;
		m->blocks = xrealloc(m->blocks, (m->nblocks + 1) * sizeof *m->blocks);
		m->blocks[m->nblocks++] = m->arena;
	}
	memcpy(m->arena + m->arena_used, s, n);
	m->arena_used += n;
	return m->arena + m->arena_used - n;
}

static void grow(struct strmap *m)
{
	size_t nslots = m->nslots * 2;
	struct slot *slots = xcalloc(nslots, sizeof *slots);

	for (size_t i = 0; i < m->nslots; i++) {
		size_t s;

		if (!m->slots[i].index)
			continue;
		for (s = m->slots[i].hash & (nslots - 1); slots[s].index; s = (s + 1) & (nslots - 1))
			;
		slots[s] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
}

long strmap_get(const struct strmap *m, const char *key)
{
	uint32_t h = (uint32_t)hash(key);

	for (size_t s = h & (m->nslots - 1); m->slots[s].index; s = (s + 1) & (m->nslots - 1))
		if (m->slots[s].hash == h && strcmp(m->keys[m->slots[s].index - 1], key) == 0)
			return (long)(m->slots[s].index - 1);
	return -1;
}

size_t strmap_put(struct strmap *m, const char *key, bool *added)
{
	uint32_t h;
	size_t s;

	if ((m->n + 1) * 2 > m->nslots)
		grow(m);
	h = (uint32_t)hash(key);
	for (s = h & (m->nslots - 1); m->slots[s].index; s = (s + 1) & (m->nslots - 1)) {
		if (m->slots[s].hash == h && strcmp(m->keys[m->slots[s].index - 1], key) == 0) {
			if (added)
				*added = false;
			return m->slots[s].index - 1;
		}
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->keys = xrealloc(m->keys, m->cap * sizeof *m->keys);
	}
	m->keys[m->n] = arena_copy(m, key);
	m->slots[s].hash = h;
	m->slots[s].index = (uint32_t)++m->n;
	if (added)
		*added = true;
	return m->n - 1;
}

size_t strmap_size(const struct strmap *m)
{
	return m->n;
}

const char *strmap_key(const struct strmap *m, size_t i)
{
	return i < m->n ? m->keys[i] : NULL;
}
