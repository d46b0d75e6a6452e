/* db: the pieces that need no server. */
#include <criterion/criterion.h>

#include "pc6risk/db.h"
#include "pc6risk/sbuf.h"

Test(db, a_text_array_quotes_and_escapes_each_string)
{
	const char *v[] = {"protected_area", "a \"b\"", "c\\d", ""};
	struct sbuf b = {0};

	db_text_array(&b, v, 4);
	cr_assert_str_eq(b.s, "{\"protected_area\",\"a \\\"b\\\"\",\"c\\\\d\",\"\"}");
	sbuf_reset(&b);
	db_text_array(&b, v, 0);
	cr_assert_str_eq(b.s, "{}");
	sbuf_free(&b);
}
