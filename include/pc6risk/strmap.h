/*
 * strmap — a map from short strings (area codes) to dense indexes 0, 1, 2, ...
 *
 * The map copies its keys into an arena it owns; the caller keeps whatever it
 * wants per key in its own array indexed by what strmap_put returns. A map
 * from strmap_new is freed with strmap_free.
 */
#ifndef PC6RISK_STRMAP_H
#define PC6RISK_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);

/* The index of key, adding it (as the next index) when absent; *added says which. */
size_t strmap_put(struct strmap *m, const char *key, bool *added);

/* The index of key, or -1 when absent. */
long strmap_get(const struct strmap *m, const char *key);

/* The number of keys, and the key with index i (valid while the map lives). */
size_t strmap_size(const struct strmap *m);
const char *strmap_key(const struct strmap *m, size_t i);

#endif
