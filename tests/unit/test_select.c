#include <criterion/criterion.h>

#include "pc6risk/publish.h"

static const struct area_ref areas[] = {
	{"wijk", "WK051829", "Wijk 29 Schildersbuurt"},
	{"wijk", "WK051833", "Wijk 33 Bouwlust en Vrederust"},
	{"wijk", "WK051838", "Wijk 38 Laakkwartier en Spoorwijk"},
	{"wijk", "WK051839", "Wijk 39 Binckhorst"},
	{"buurt", "BU05182915", "Schildersbuurt-West"},
	{"buurt", "BU05182916", "Schildersbuurt-Noord"},
	{"buurt", "BU05183824", "Laakkwartier-West"},
	{"buurt", "BU05183825", "Laakkwartier-Oost"},
	{"buurt", "BU05183823", "Spoorwijk"},
	{"buurt", "BU05183960", "Binckhorst"},
	{"buurt", "BU05180101", "Duinoord"},
	{"buurt", "BU05180102", "Duinzigt"},
};
static const size_t n = sizeof areas / sizeof areas[0];

static size_t pick(const char *query)
{
	size_t found = 999;
	struct err e;

	cr_assert_eq(publish_select(areas, n, query, &found, &e), 0, "\"%s\": %s", query, e.message);
	return found;
}

Test(select, wijk_names_win_over_buurt_names)
{
	cr_assert_eq(pick("Schildersbuurt"), 0);
	cr_assert_eq(pick("laakkwartier"), 2);
	cr_assert_eq(pick("BOUWLUST"), 1);
}

Test(select, codes_match_exactly)
{
	cr_assert_eq(pick("BU05183824"), 6);
	cr_assert_eq(pick("wk051833"), 1);
}

Test(select, buurten_when_no_wijk_matches)
{
	cr_assert_eq(pick("Spoorwijk"), 8);
	cr_assert_eq(pick("Schildersbuurt-N"), 5);
}

Test(select, an_exact_name_settles_a_tie)
{
	/* wijk "Binckhorst" (after its number) equals the query; the buurt is never reached */
	cr_assert_eq(pick("binckhorst"), 3);
}

Test(select, ambiguity_lists_the_candidates)
{
	size_t found;
	struct err e;

	cr_assert_eq(publish_select(areas, n, "Duin", &found, &e), -1);
	cr_assert_eq(e.cls, ERR_INPUT);
	cr_assert_str_eq(e.message, "\"Duin\" matches 2 buurt areas");
	cr_assert_str_eq(e.detail, "the matches are:\n  buurt BU05180101 \"Duinoord\"\n  buurt BU05180102 \"Duinzigt\"");
	cr_assert_str_eq(e.hint, "give the code, or more of the name");
}

Test(select, no_match_says_so)
{
	size_t found;
	struct err e;

	cr_assert_eq(publish_select(areas, n, "Nergenshuizen", &found, &e), -1);
	cr_assert_str_eq(e.message, "no wijk or buurt is named like \"Nergenshuizen\"");
}
