#include <criterion/criterion.h>
#include <string.h>

#include "pc6risk/cbs.h"

static double value_of(const char *text, bool comma)
{
	double v;
	const char *missing;

	cr_assert_eq(cbs_parse_value(text, comma, &v, &missing), 0, "\"%s\" should parse", text);
	cr_assert_null(missing, "\"%s\" should be a value", text);
	return v;
}

static const char *missing_of(const char *text)
{
	double v;
	const char *missing;

	cr_assert_eq(cbs_parse_value(text, true, &v, &missing), 0, "\"%s\" should parse", text);
	cr_assert_not_null(missing, "\"%s\" should be missing", text);
	return missing;
}

Test(cbs, values_with_decimal_points_and_commas)
{
	cr_assert_eq(value_of("40", false), 40);
	cr_assert_eq(value_of(" 1.9 ", false), 1.9);
	cr_assert_eq(value_of("1,9", true), 1.9);
	cr_assert_eq(value_of("-12.5", true), -12.5);
	cr_assert_eq(value_of("0", true), 0);
	cr_assert_eq(value_of("-99989", true), -99989, "just above the secret codes is a value");
	cr_assert_eq(value_of("+7", true), 7);
	cr_assert_eq(value_of("007", true), 7);
	cr_assert_eq(value_of("123456789012345", true), 123456789012345.0);
	cr_assert_eq(value_of("1234567890123456789", true), 1234567890123456789.0, "long ones go through strtod");
}

Test(cbs, secret_codes_and_unknown_words_are_missing_with_a_reason)
{
	cr_assert_str_eq(missing_of("-99997"), "secret");
	cr_assert_str_eq(missing_of("-99995"), "secret");
	cr_assert_str_eq(missing_of("-99999999"), "secret");
	cr_assert_str_eq(missing_of("-99997,0"), "secret");
	cr_assert_str_eq(missing_of("Onbekend"), "unknown");
	cr_assert_str_eq(missing_of("ONBEKEND"), "unknown");
	cr_assert_str_eq(missing_of(""), "unknown");
	cr_assert_str_eq(missing_of("  "), "unknown");
	cr_assert_str_eq(missing_of("."), "unknown");
	cr_assert_str_eq(missing_of("-"), "unknown");
	cr_assert_str_eq(missing_of("x"), "unknown");
}

Test(cbs, other_text_is_refused)
{
	static const char *const bad[] = {"12a", "1.2.3", "nan", "inf", "0x10", "1 000", "--1", "1,2,3", "1,2.3", NULL};
	double v;
	const char *missing;

	for (const char *const *b = bad; *b; b++)
		cr_assert_eq(cbs_parse_value(*b, true, &v, &missing), -1, "\"%s\" should be refused", *b);
	cr_assert_eq(cbs_parse_value("1,9", false, &v, &missing), -1, "a comma is no decimal point in a ',' file");
}

Test(cbs, postcodes_are_normalised_and_checked)
{
	char out[7];
	const char *why;

	cr_assert_eq(cbs_pc6_normalise("2525 ab", out, &why), 0);
	cr_assert_str_eq(out, "2525AB");
	cr_assert_eq(cbs_pc6_normalise("2541SV", out, &why), 0);
	cr_assert_str_eq(out, "2541SV");
	cr_assert_eq(cbs_pc6_normalise("0525AB", out, &why), -1);
	cr_assert_str_eq(why, "a postcode does not start with 0");
	cr_assert_eq(cbs_pc6_normalise("2525SS", out, &why), -1);
	cr_assert_str_eq(why, "the letters SA, SD and SS are not used in postcodes");
	cr_assert_eq(cbs_pc6_normalise("2525SA", out, &why), -1);
	cr_assert_eq(cbs_pc6_normalise("2525SD", out, &why), -1);
	cr_assert_eq(cbs_pc6_normalise("2525SE", out, &why), 0);
	cr_assert_eq(cbs_pc6_normalise("2525A", out, &why), -1);
	cr_assert_eq(cbs_pc6_normalise("2525ABC", out, &why), -1);
	cr_assert_eq(cbs_pc6_normalise("25X5AB", out, &why), -1);
	cr_assert_eq(cbs_pc6_normalise("2525A1", out, &why), -1);
	cr_assert_str_eq(why, "a postcode has 4 digits and 2 letters");
}

Test(cbs, area_codes_by_level)
{
	cr_assert(cbs_area_code_valid("gemeente", "GM0518"));
	cr_assert(cbs_area_code_valid("wijk", "WK051829"));
	cr_assert(cbs_area_code_valid("buurt", "BU05182915"));
	cr_assert(!cbs_area_code_valid("buurt", "WK051829"));
	cr_assert(!cbs_area_code_valid("buurt", "BU0518291"));
	cr_assert(!cbs_area_code_valid("wijk", "WK05182X"));
	cr_assert(!cbs_area_code_valid("pc6", "2525AB"), "postcodes are checked by cbs_pc6_normalise");
}
