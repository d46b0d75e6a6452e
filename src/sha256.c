#include "pc6risk/sha256.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

/* The portable compression function: one 64-byte block into the state h. */
static void block(uint32_t hs[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = hs[0], b = hs[1], c = hs[2], d = hs[3], e = hs[4], f = hs[5], g = hs[6], h = hs[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
		uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	hs[0] += a, hs[1] += b, hs[2] += c, hs[3] += d;
	hs[4] += e, hs[5] += f, hs[6] += g, hs[7] += h;
}

static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
	for (; n > 0; n--, p += 64)
		block(h, p);
}

#if defined(__x86_64__)
/*
 * The same with the x86-64 SHA extensions, n blocks per call so the state
 * stays in registers between blocks. SHA256RNDS2 does two rounds on the state
 * split as {A,B,E,F} and {C,D,G,H} (A in the highest lane); after two rounds
 * the old {A,B,E,F} is the new {C,D,G,H}, so the two halves swap roles.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_shani(uint32_t h[8], const unsigned char *p, size_t n)
{
	/* Per 32-bit lane, bytes 3,2,1,0: the message words are big-endian. */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i abcd = _mm_loadu_si128((const __m128i *)&h[0]);
	__m128i efgh = _mm_loadu_si128((const __m128i *)&h[4]);
	__m128i abef, cdgh;

	/* Lanes 0..3: abcd = A,B,C,D and efgh = E,F,G,H; wanted abef = F,E,B,A and cdgh = H,G,D,C. */
	abcd = _mm_shuffle_epi32(abcd, 0xb1);
	efgh = _mm_shuffle_epi32(efgh, 0x1b);
	abef = _mm_alignr_epi8(abcd, efgh, 8);
	cdgh = _mm_blend_epi16(efgh, abcd, 0xf0);
	for (; n > 0; n--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh;
		__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

		/* Four rounds per turn with w[i..i+3] in m0; m0..m3 then move on by four words. */
		for (int i = 0; i < 64; i += 4) {
			__m128i wk = _mm_add_epi32(m0, _mm_loadu_si128((const __m128i *)&k[i]));
			__m128i next = m0;

			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
			if (i < 48) {
				/* w[i+16..i+19] = sigma0 part (msg1) + w[i+9..i+12] (alignr), then sigma1 part (msg2). */
				next = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4));
				next = _mm_sha256msg2_epu32(next, m3);
			}
			m0 = m1, m1 = m2, m2 = m3, m3 = next;
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	/* Back: abef = F,E,B,A and cdgh = H,G,D,C to A,B,C,D and E,F,G,H. */
	abef = _mm_shuffle_epi32(abef, 0x1b);
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(abef, cdgh, 0xf0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(cdgh, abef, 8));
}

/* CPUID rather than __builtin_cpu_supports("sha"), which clang 14 (Debian 12) rejects. */
static int cpu_has_shani(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

/* The compression function in use, chosen once (choose_blocks). */
static void (*blocks)(uint32_t h[8], const unsigned char *p, size_t n);
static void (*blocks_best)(uint32_t h[8], const unsigned char *p, size_t n);
static pthread_once_t blocks_once = PTHREAD_ONCE_INIT;

static void choose_blocks(void)
{
	blocks_best = blocks_portable;
#if defined(__x86_64__)
	if (cpu_has_shani())
		blocks_best = blocks_shani;
#endif
	blocks = blocks_best;
}

const char *sha256_impl(void)
{
	pthread_once(&blocks_once, choose_blocks);
	return blocks == blocks_portable ? "portable" : "sha-ni";
}

void sha256_force_portable(int on)
{
	pthread_once(&blocks_once, choose_blocks);
	blocks = on ? blocks_portable : blocks_best;
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(s->h, iv, sizeof iv);
	s->bytes = 0;
	s->used = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	pthread_once(&blocks_once, choose_blocks);
	s->bytes += n;
	if (s->used) {
		size_t take = 64 - s->used < n ? 64 - s->used : n;

		memcpy(s->buf + s->used, p, take);
		s->used += take, p += take, n -= take;
		if (s->used < 64)
			return;
		blocks(s->h, s->buf, 1);
		s->used = 0;
	}
	if (n >= 64) {
		blocks(s->h, p, n / 64);
		p += n / 64 * 64, n %= 64;
	}
	memcpy(s->buf, p, n);
	s->used = n;
}

void sha256_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->bytes * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = s->used < 56 ? 56 - s->used : 120 - s->used;

	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(s->h[i] >> (24 - 8 * j));
}

void sha256_hex(struct sha256 *s, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];

	sha256_final(s, d);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

int sha256_file(const char *path, char out[65], long long *bytes, struct err *e)
{
	FILE *f = fopen(path, "rb");
	unsigned char buf[1 << 16];
	struct sha256 s;
	size_t n;

	if (!f)
		return err_set(e, ERR_INPUT, path, "cannot open file: %s", strerror(errno));
	sha256_init(&s);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sha256_update(&s, buf, n);
	if (ferror(f)) {
		err_set(e, ERR_INPUT, path, "cannot read file: %s", strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	*bytes = (long long)s.bytes;
	sha256_hex(&s, out);
	return 0;
}
