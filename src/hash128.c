#include "pc6risk/hash128.h"

#include <string.h>

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static uint64_t load64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void hash128(const void *data, size_t n, uint64_t seed, unsigned char out[16])
{
	const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
	const unsigned char *p = data;
	uint64_t h1 = seed, h2 = seed, k1, k2;
	size_t blocks = n / 16, i;

	for (i = 0; i < blocks; i++) {
		k1 = load64(p + 16 * i);
		k2 = load64(p + 16 * i + 8);
		k1 *= c1, k1 = rotl(k1, 31), k1 *= c2, h1 ^= k1;
		h1 = rotl(h1, 27), h1 += h2, h1 = h1 * 5 + 0x52dce729;
		k2 *= c2, k2 = rotl(k2, 33), k2 *= c1, h2 ^= k2;
		h2 = rotl(h2, 31), h2 += h1, h2 = h2 * 5 + 0x38495ab5;
	}
	p += 16 * blocks;
	k1 = k2 = 0;
	switch (n & 15) {
	case 15: k2 ^= (uint64_t)p[14] << 48; /* fall through */
	case 14: k2 ^= (uint64_t)p[13] << 40; /* fall through */
	case 13: k2 ^= (uint64_t)p[12] << 32; /* fall through */
	case 12: k2 ^= (uint64_t)p[11] << 24; /* fall through */
	case 11: k2 ^= (uint64_t)p[10] << 16; /* fall through */
	case 10: k2 ^= (uint64_t)p[9] << 8; /* fall through */
	case 9:
		k2 ^= (uint64_t)p[8];
		k2 *= c2, k2 = rotl(k2, 33), k2 *= c1, h2 ^= k2;
		/* fall through */
	case 8: k1 ^= (uint64_t)p[7] << 56; /* fall through */
	case 7: k1 ^= (uint64_t)p[6] << 48; /* fall through */
	case 6: k1 ^= (uint64_t)p[5] << 40; /* fall through */
	case 5: k1 ^= (uint64_t)p[4] << 32; /* fall through */
	case 4: k1 ^= (uint64_t)p[3] << 24; /* fall through */
	case 3: k1 ^= (uint64_t)p[2] << 16; /* fall through */
	case 2: k1 ^= (uint64_t)p[1] << 8; /* fall through */
	case 1:
		k1 ^= (uint64_t)p[0];
		k1 *= c1, k1 = rotl(k1, 31), k1 *= c2, h1 ^= k1;
	}
	h1 ^= (uint64_t)n, h2 ^= (uint64_t)n;
	h1 += h2, h2 += h1;
	h1 = fmix(h1), h2 = fmix(h2);
	h1 += h2, h2 += h1;
	/* h1 then h2, most significant byte first, as the hash is usually printed */
	for (int b = 0; b < 8; b++) {
		out[b] = (unsigned char)(h1 >> (56 - 8 * b));
		out[8 + b] = (unsigned char)(h2 >> (56 - 8 * b));
	}
}
