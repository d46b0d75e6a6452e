/*
 * hash128 — a fast 128-bit non-cryptographic hash (MurmurHash3 x64 128), for
 * telling whether loaded content changed. Not for security: inputs are trusted,
 * and a collision only means a change goes unnoticed in the change counts.
 */
#ifndef PC6RISK_HASH128_H
#define PC6RISK_HASH128_H

#include <stddef.h>
#include <stdint.h>

/* Hash n bytes with a seed into out[16]. */
void hash128(const void *data, size_t n, uint64_t seed, unsigned char out[16]);

#endif
