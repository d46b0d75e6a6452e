/*
 * radix — a stable sort of (key, value) pairs by a 64-bit unsigned key.
 *
 * Pure code, no allocation: the caller owns both arrays. For the many large
 * sorts of numbers (Monte Carlo normalisations, border segments by hash)
 * where qsort's comparisons and glibc's merge-sort copies cost most.
 */
#ifndef PC6RISK_RADIX_H
#define PC6RISK_RADIX_H

#include <stddef.h>
#include <stdint.h>

struct radix_item {
	uint64_t key;
	uint64_t val;
};

/* Sort (*a)[0..m) by key, ascending and stable, with (*tmp)[0..m) as room;
 * afterwards *a points at the sorted items and *tmp at the room (the two may
 * have swapped). An LSD radix sort a byte at a time that skips the bytes all
 * keys share; up to 32 items go by insertion, which costs less than clearing
 * the counts. */
void radix_sort(struct radix_item **a, struct radix_item **tmp, size_t m);

#endif
