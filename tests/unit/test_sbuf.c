#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "pc6risk/sbuf.h"

Test(sbuf, json_strings_are_escaped)
{
	struct sbuf b = {0};

	sbuf_json_string(&b, "a\"b\\c\nd\te\x01 é");
	cr_assert_str_eq(b.s, "\"a\\\"b\\\\c\\nd\\te\\u0001 é\"");
	sbuf_reset(&b);
	sbuf_json_string(&b, NULL);
	cr_assert_str_eq(b.s, "null");
	sbuf_free(&b);
}

Test(sbuf, json_numbers_have_no_trailing_zeros)
{
	static const struct {
		double v;
		int decimals;
		const char *want;
	} cases[] = {
		{12.5, 1, "12.5"}, {3, 1, "3"}, {-0.25, 2, "-0.25"}, {34.15, 1, "34.1"},
		{0.04, 1, "0"},    {-0.04, 1, "0"}, {4.3727093, 6, "4.372709"}, {100, 0, "100"},
	};
	struct sbuf b = {0};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sbuf_reset(&b);
		sbuf_json_number(&b, cases[i].v, cases[i].decimals);
		cr_assert_str_eq(b.s, cases[i].want, "%g with %d decimals", cases[i].v, cases[i].decimals);
	}
	sbuf_reset(&b);
	sbuf_json_number(&b, NAN, 1);
	cr_assert_str_eq(b.s, "null");
	sbuf_free(&b);
}

Test(sbuf, grows_and_hands_over_its_buffer)
{
	struct sbuf b = {0};
	char *s;

	for (int i = 0; i < 1000; i++)
		sbuf_printf(&b, "%d,", i % 10);
	cr_assert_eq(b.len, 2000);
	s = sbuf_take(&b);
	cr_assert_eq(b.s, NULL);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(s[1999], ',');
	free(s);
	s = sbuf_take(&b);
	cr_assert_str_eq(s, "", "taking an empty buffer gives an empty string");
	free(s);
}
