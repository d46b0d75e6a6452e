#include <criterion/criterion.h>
#include <string.h>

#include "pc6risk/pgbin.h"

/* The writer's row read back field by field, as db_copy_out_binary hands a
 * row over: without its header and field count. */
Test(pgbin, a_row_reads_back_as_written)
{
	const double v[] = {1.5, 0, -2.25e10};
	const bool null[] = {false, true, false};
	const char *const words[] = {NULL, "secret", "unknown"};
	struct sbuf b = {0};
	struct pgbin_reader r, a;
	const unsigned char *f;
	size_t n;
	long len;

	pgbin_row(&b, 5);
	pgbin_text(&b, "BU05180101");
	pgbin_int2(&b, -3);
	pgbin_float8_array(&b, v, null, 3);
	pgbin_text_array(&b, words, 3);
	pgbin_null(&b);
	pgbin_read(&r, b.s + 2, b.len - 2);

	len = pgbin_field(&r, &f);
	cr_assert_eq(len, 10);
	cr_assert(memcmp(f, "BU05180101", 10) == 0);
	cr_assert_eq(pgbin_field(&r, &f), 2);
	cr_assert_eq(pgbin_get_int2(f), -3);

	len = pgbin_field(&r, &f);
	pgbin_array_open(&a, f, len, &n);
	cr_assert_eq(n, 3);
	cr_assert_eq(pgbin_array_next(&a, &f), 8);
	cr_assert_eq(pgbin_get_float8(f), 1.5);
	cr_assert_eq(pgbin_array_next(&a, &f), -1, "a NULL element");
	cr_assert_eq(pgbin_array_next(&a, &f), 8);
	cr_assert_eq(pgbin_get_float8(f), -2.25e10);
	cr_assert_not(a.bad);

	len = pgbin_field(&r, &f);
	pgbin_array_open(&a, f, len, &n);
	cr_assert_eq(n, 3);
	cr_assert_eq(pgbin_array_next(&a, &f), -1);
	cr_assert_eq(pgbin_array_next(&a, &f), 6);
	cr_assert(memcmp(f, "secret", 6) == 0);
	cr_assert_eq(pgbin_array_next(&a, &f), 7);

	cr_assert_eq(pgbin_field(&r, &f), -1, "the NULL field");
	cr_assert_null(f);
	cr_assert_not(r.bad);
	cr_assert_eq(r.p, r.end, "nothing left over");
	sbuf_free(&b);
}

Test(pgbin, an_empty_array_has_no_elements)
{
	struct sbuf b = {0};
	struct pgbin_reader r, a;
	const unsigned char *f;
	size_t n = 99;
	long len;

	pgbin_float8_array(&b, NULL, NULL, 0);
	pgbin_read(&r, b.s, b.len);
	len = pgbin_field(&r, &f);
	pgbin_array_open(&a, f, len, &n);
	cr_assert_eq(n, 0);
	cr_assert_not(a.bad);
	sbuf_free(&b);
}

/* Every cut of a row short of its end is noticed, never read past. */
Test(pgbin, a_row_cut_short_is_bad)
{
	const double v[] = {1, 2, 3, 4};
	const bool null[] = {false, false, false, false};
	struct sbuf b = {0};

	pgbin_text(&b, "2525AB");
	pgbin_float8_array(&b, v, null, 4);
	for (size_t cut = 0; cut < b.len; cut++) {
		struct pgbin_reader r, a;
		const unsigned char *f;
		size_t n;
		long len;

		pgbin_read(&r, b.s, cut);
		pgbin_field(&r, &f);
		len = pgbin_field(&r, &f);
		if (!r.bad) {
			pgbin_array_open(&a, f, len, &n);
			for (size_t i = 0; i < n; i++)
				pgbin_array_next(&a, &f);
			r.bad = a.bad;
		}
		cr_assert(r.bad, "cut at %zu of %zu", cut, b.len);
	}
	sbuf_free(&b);
}
