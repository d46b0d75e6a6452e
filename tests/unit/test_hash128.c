#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pc6risk/hash128.h"

static void hex(const unsigned char *b, char *out)
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

Test(hash128, known_murmurhash3_x64_128_values)
{
	unsigned char h[16];
	char s[33];

	hash128("", 0, 0, h);
	hex(h, s);
	cr_assert_str_eq(s, "00000000000000000000000000000000");
	hash128("hello", 5, 0, h);
	hex(h, s);
	cr_assert_str_eq(s, "cbd8a7b341bd9b025b1e906a48ae1d19");
	hash128("The quick brown fox jumps over the lazy dog", 43, 0, h);
	hex(h, s);
	cr_assert_str_eq(s, "e34bbc7bbc071b6c7a433ca9c49a9347");
}

Test(hash128, every_byte_and_length_counts)
{
	unsigned char a[16], b[16];
	char buf[64] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t n = 1; n < 36; n++) {
		hash128(buf, n, 0, a);
		hash128(buf, n - 1, 0, b);
		cr_assert(memcmp(a, b, 16) != 0, "length %zu", n);
		buf[n - 1] ^= 1;
		hash128(buf, n, 0, b);
		buf[n - 1] ^= 1;
		cr_assert(memcmp(a, b, 16) != 0, "byte %zu", n - 1);
	}
	hash128(buf, 10, 1, b);
	hash128(buf, 10, 0, a);
	cr_assert(memcmp(a, b, 16) != 0, "the seed counts");
}
