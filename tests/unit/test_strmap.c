#include <criterion/criterion.h>
#include <stdio.h>

#include "pc6risk/strmap.h"

Test(strmap, keys_get_dense_indexes_in_order)
{
	struct strmap *m = strmap_new();
	bool added;

	cr_assert_eq(strmap_put(m, "2525AB", &added), 0);
	cr_assert(added);
	cr_assert_eq(strmap_put(m, "2525AC", &added), 1);
	cr_assert_eq(strmap_put(m, "2525AB", &added), 0);
	cr_assert(!added);
	cr_assert_eq(strmap_get(m, "2525AC"), 1);
	cr_assert_eq(strmap_get(m, "9999ZZ"), -1);
	cr_assert_eq(strmap_size(m), 2);
	cr_assert_str_eq(strmap_key(m, 1), "2525AC");
	strmap_free(m);
	strmap_free(NULL);
}

Test(strmap, holds_a_national_set)
{
	struct strmap *m = strmap_new();
	char key[32];

	for (int i = 0; i < 500000; i++) {
		snprintf(key, sizeof key, "%04dX%d", 1000 + i % 9000, i);
		cr_assert_eq(strmap_put(m, key, NULL), (size_t)i);
	}
	for (int i = 0; i < 500000; i += 997) {
		snprintf(key, sizeof key, "%04dX%d", 1000 + i % 9000, i);
		cr_assert_eq(strmap_get(m, key), i);
		cr_assert_str_eq(strmap_key(m, (size_t)i), key);
	}
	cr_assert_eq(strmap_size(m), 500000);
	strmap_free(m);
}
