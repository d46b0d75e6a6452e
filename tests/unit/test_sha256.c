#include <criterion/criterion.h>
#include <string.h>

#include "pc6risk/sha256.h"

static const char *digest(const char *text, size_t chunk)
{
	static char out[65];
	struct sha256 s;
	size_t n = strlen(text);

	sha256_init(&s);
	for (size_t i = 0; i < n; i += chunk)
		sha256_update(&s, text + i, n - i < chunk ? n - i : chunk);
	sha256_hex(&s, out);
	return out;
}

Test(sha256, fips_180_test_vectors)
{
	cr_assert_str_eq(digest("", 1), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_assert_str_eq(digest("abc", 1), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert_str_eq(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 64),
			 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
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
	cr_assert_str_eq(digest(text, 4096), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
