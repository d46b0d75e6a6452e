/*
 * sha256 — SHA-256 (FIPS 180-4), for content hashes of inputs and outputs.
 *
 * A struct sha256 is a plain value on the caller's stack; nothing to free.
 * The compression function uses the x86-64 SHA extensions (SHA-NI) where the
 * CPU has them, chosen once at run time, and portable C elsewhere.
 */
#ifndef PC6RISK_SHA256_H
#define PC6RISK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "pc6risk/err.h"

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char buf[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Finish: the 32-byte digest, or the same as 64 lowercase hex digits and a NUL. */
void sha256_final(struct sha256 *s, unsigned char out[32]);
void sha256_hex(struct sha256 *s, char out[65]);

/* The digest of a whole file, read in chunks; *bytes gets its size. */
int sha256_file(const char *path, char out[65], long long *bytes, struct err *e);

/* The block code in use: "sha-ni" or "portable" (a static string). */
const char *sha256_impl(void);
/* For tests and measurements: use the portable code even where SHA-NI is
 * there (on != 0), or go back to the run-time choice (on == 0). Not
 * thread-safe: call it while no thread is hashing. */
void sha256_force_portable(int on);

#endif
