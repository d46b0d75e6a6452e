#include <criterion/criterion.h>
#include <string.h>

#include "pc6risk/err.h"

Test(err, formats_location_message_state_detail_hint)
{
	struct err e;
	char buf[2048];

	cr_assert_eq(err_set(&e, ERR_INPUT, "indicators.csv:1832:7", "column %s: expected a number, got \"%s\"",
			     "WWB_UITTOT", "12a"),
		     -1);
	err_format(&e, buf, sizeof buf);
	cr_assert_str_eq(buf, "indicators.csv:1832:7: column WWB_UITTOT: expected a number, got \"12a\"");

	err_set(&e, ERR_DATABASE, NULL, "relation \"x\" does not exist");
	strcpy(e.sqlstate, "42P01");
	err_detail(&e, "some detail");
	err_hint(&e, "run pc6risk init");
	err_format(&e, buf, sizeof buf);
	cr_assert_str_eq(buf, "relation \"x\" does not exist [SQLSTATE 42P01]\ndetail: some detail\nhint: run pc6risk init");
}

Test(err, set_clears_the_previous_record)
{
	struct err e;
	char buf[256];

	err_set(&e, ERR_DATABASE, "a", "first");
	err_detail(&e, "old detail");
	strcpy(e.sqlstate, "XX000");
	err_set(&e, ERR_CONFIG, NULL, "second");
	err_format(&e, buf, sizeof buf);
	cr_assert_str_eq(buf, "second");
	cr_assert_eq(e.cls, ERR_CONFIG);
}

Test(err, prefix_adds_context)
{
	struct err e;

	err_set(&e, ERR_DATABASE, NULL, "syntax error at or near \"x\"");
	err_prefix(&e, "migration %s", "002_more.sql");
	cr_assert_str_eq(e.message, "migration 002_more.sql: syntax error at or near \"x\"");
}

Test(err, formatting_truncates_safely)
{
	struct err e;
	char small[16];

	err_set(&e, ERR_INPUT, "a-long-file-name.csv:1:1", "a long message that will not fit");
	err_format(&e, small, sizeof small);
	cr_assert_eq(strlen(small), sizeof small - 1);
	cr_assert_eq(strncmp(small, "a-long-file-nam", 15), 0);
}

Test(err, every_class_has_its_own_exit_code_outside_124_to_127)
{
	enum err_class all[] = {ERR_USAGE, ERR_CONFIG, ERR_INPUT, ERR_DATABASE, ERR_SYSTEM, ERR_INTERNAL};
	int n = sizeof all / sizeof all[0];

	cr_assert_eq(err_exit_code(ERR_NONE), 0);
	cr_assert_eq(err_exit_code(ERR_USAGE), 2);
	cr_assert_eq(err_exit_code(ERR_CONFIG), 3);
	for (int i = 0; i < n; i++) {
		int code = err_exit_code(all[i]);

		cr_assert(code > 0 && (code < 124 || code > 127));
		for (int j = 0; j < i; j++)
			cr_assert_neq(code, err_exit_code(all[j]), "classes %d and %d share exit code %d", i, j, code);
		cr_assert_str_neq(err_class_name(all[i]), "none");
	}
}
