#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/sha256.h"

/* The hex digest of n bytes fed to sha256_update in pieces of chunk bytes. */
static void digest_bytes(const void *data, size_t n, size_t chunk, char out[65])
{
	const char *p = data;
	struct sha256 s;

	sha256_init(&s);
	for (size_t i = 0; i < n; i += chunk)
		sha256_update(&s, p + i, n - i < chunk ? n - i : chunk);
	sha256_hex(&s, out);
}

static const char *digest(const char *text, size_t chunk)
{
	static char out[65];

	digest_bytes(text, strlen(text), chunk, out);
	return out;
}

/* splitmix64: the same bytes on every run. */
static uint64_t rng(uint64_t *s)
{
	*s += 0x9E3779B97F4A7C15ULL;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rng(&seed);
}

/* The same, fed in pieces of random sizes from 1 to max bytes. */
static void digest_pieces(const unsigned char *p, size_t n, size_t max, uint64_t seed, char out[65])
{
	struct sha256 s;

	sha256_init(&s);
	for (size_t i = 0, take; i < n; i += take) {
		take = 1 + (size_t)(rng(&seed) % max);
		if (take > n - i)
			take = n - i;
		sha256_update(&s, p + i, take);
	}
	sha256_hex(&s, out);
}

/* Whether the kernel lists flag for the CPU: -1 when /proc/cpuinfo is not there. */
static int cpu_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192];
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "flags", 5) != 0 || !colon)
			continue;
		for (char *t = strtok(colon + 1, " \n"); t; t = strtok(NULL, " \n"))
			found |= strcmp(t, flag) == 0;
		break;
	}
	fclose(f);
	return found;
}

Test(sha256, sha_ni_is_used_when_the_cpu_has_it)
{
#if defined(__x86_64__)
	int sha = cpu_flag("sha_ni"), sse41 = cpu_flag("sse4_1"), ssse3 = cpu_flag("ssse3");

	if (sha < 0)
		cr_skip_test("no /proc/cpuinfo to tell whether the CPU has the SHA extensions");
	cr_assert_str_eq(sha256_impl(), sha && sse41 && ssse3 ? "sha-ni" : "portable");
#else
	cr_assert_str_eq(sha256_impl(), "portable");
#endif
	sha256_force_portable(1);
	cr_assert_str_eq(sha256_impl(), "portable");
}

Test(sha256, fips_180_test_vectors)
{
	for (int portable = 1; portable >= 0; portable--) {
		sha256_force_portable(portable);
		cr_assert_str_eq(digest("", 1), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				 "%s", sha256_impl());
		cr_assert_str_eq(digest("abc", 1), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				 "%s", sha256_impl());
		cr_assert_str_eq(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 64),
				 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "%s", sha256_impl());
		cr_assert_str_eq(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1),
				 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "%s", sha256_impl());
	}
}

Test(sha256, chunking_does_not_change_the_digest)
{
	char text[1000];

	for (size_t i = 0; i < sizeof text - 1; i++)
		text[i] = (char)('a' + i % 26);
	text[sizeof text - 1] = '\0';
	{
		char whole[65];

		strcpy(whole, digest(text, sizeof text));
		for (size_t chunk = 1; chunk < 130; chunk += 7)
			cr_assert_str_eq(digest(text, chunk), whole, "chunk %zu", chunk);
	}
}

Test(sha256, a_million_a)
{
	static char text[1000001];

	memset(text, 'a', 1000000);
	for (int portable = 1; portable >= 0; portable--) {
		sha256_force_portable(portable);
		cr_assert_str_eq(digest(text, 4096), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
				 "%s", sha256_impl());
		cr_assert_str_eq(digest(text, 1000000),
				 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "%s", sha256_impl());
	}
}

/* Every length from 0 to 300, whole and in pieces of 7, at varying alignment. */
Test(sha256, both_paths_agree_on_every_length_to_300)
{
	unsigned char buf[303];

	fill_random(buf, sizeof buf, 1);
	for (size_t n = 0; n <= 300; n++) {
		const unsigned char *p = buf + n % 3;
		char portable[65], whole[65], pieces[65];

		sha256_force_portable(1);
		digest_bytes(p, n, n ? n : 1, portable);
		sha256_force_portable(0);
		digest_bytes(p, n, n ? n : 1, whole);
		digest_bytes(p, n, 7, pieces);
		cr_assert_str_eq(whole, portable, "%zu bytes whole, %s", n, sha256_impl());
		cr_assert_str_eq(pieces, portable, "%zu bytes in pieces of 7, %s", n, sha256_impl());
	}
}

Test(sha256, both_paths_agree_on_megabytes_in_odd_pieces)
{
	static const size_t sizes[] = {(3 << 20) + 17, (5 << 20) + 63, 4 << 20};
	static const size_t max_piece[] = {100000, 3000, 64};

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		unsigned char *buf = malloc(sizes[i]);
		char portable[65], whole[65], pieces[65];

		cr_assert_not_null(buf);
		fill_random(buf, sizes[i], 100 + i);
		sha256_force_portable(1);
		digest_pieces(buf, sizes[i], max_piece[i], 1, portable);
		sha256_force_portable(0);
		digest_bytes(buf, sizes[i], sizes[i], whole);
		digest_pieces(buf, sizes[i], max_piece[i], 2, pieces);
		cr_assert_str_eq(whole, portable, "%zu bytes whole, %s", sizes[i], sha256_impl());
		cr_assert_str_eq(pieces, portable, "%zu bytes in pieces up to %zu, %s", sizes[i], max_piece[i],
				 sha256_impl());
		free(buf);
	}
}
