#include <criterion/criterion.h>

#include "pc6risk/text.h"

Test(text, folding_lowers_case_and_strips_accents)
{
	char out[64];

	text_fold("Café Ñandú ÉÈÊËéèêë ïÏ öÖ üÜ ß Łódź", out, sizeof out);
	cr_assert_str_eq(out, "cafe nandu eeeeeeee ii oo uu s lodz");
	text_fold("'s-Gravenhage", out, sizeof out);
	cr_assert_str_eq(out, "'s-gravenhage");
	text_fold("€ stays", out, sizeof out);
	cr_assert_str_eq(out, "€ stays", "characters without a base letter are copied");
	text_fold("abcdef", out, 4);
	cr_assert_str_eq(out, "abc");
}

Test(text, slugs_are_file_name_safe)
{
	char out[64];

	text_slug("Schildersbuurt", out, sizeof out);
	cr_assert_str_eq(out, "schildersbuurt");
	text_slug("  Venen, Oorden en Raden ", out, sizeof out);
	cr_assert_str_eq(out, "venen-oorden-en-raden");
	text_slug("../../etc/passwd", out, sizeof out);
	cr_assert_str_eq(out, "etc-passwd");
	text_slug("Wijk 29 Schildersbuurt", out, sizeof out);
	cr_assert_str_eq(out, "wijk-29-schildersbuurt");
	text_slug("--", out, sizeof out);
	cr_assert_str_eq(out, "");
}

Test(text, names_match_by_folded_prefix_also_after_the_wijk_number)
{
	cr_assert(text_name_matches("Wijk 29 Schildersbuurt", "Schildersbuurt"));
	cr_assert(text_name_matches("Wijk 29 Schildersbuurt", "schilders"));
	cr_assert(text_name_matches("Wijk 29 Schildersbuurt", "wijk 29"));
	cr_assert(text_name_matches("Schildersbuurt-West", "SCHILDERSBUURT"));
	cr_assert(text_name_matches("Laakkwartier-Oost", "Laakkwartier"));
	cr_assert(text_name_matches("Café-buurt", "cafe"));
	cr_assert(!text_name_matches("Wijk 38 Laakkwartier en Spoorwijk", "Spoorwijk"), "prefix, not substring");
	cr_assert(!text_name_matches("Bouwlust", ""));
	cr_assert(text_name_equals("Wijk 29 Schildersbuurt", "schildersbuurt"));
	cr_assert(!text_name_equals("Schildersbuurt-West", "schildersbuurt"));
}

Test(text, width_counts_characters_not_bytes)
{
	cr_assert_eq(text_width("abc"), 3);
	cr_assert_eq(text_width("Café"), 4);
	cr_assert_eq(text_width(""), 0);
}
