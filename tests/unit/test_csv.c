#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pc6risk/cbs.h"
#include "pc6risk/csv.h"

static char path[64];

static void write_file(const char *bytes, size_t n)
{
	FILE *f;

	snprintf(path, sizeof path, "/tmp/pc6csv.%ld.csv", (long)getpid());
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	fwrite(bytes, 1, n, f);
	fclose(f);
}

static void cleanup(void)
{
	unlink(path);
}

TestSuite(csv, .fini = cleanup);

Test(csv, reads_cbs_style_semicolons_with_bom_crlf_and_quotes)
{
	static const char text[] = "\xEF\xBB\xBFPC6;INWONER;NAAM\r\n"
				   "2525AB;40;\"Van der Vennestraat; oost\"\r\n"
				   "\r\n"
				   "2525AC;-99997;\"with \"\"quotes\"\" and\r\na line break\"\r\n"
				   "2525AD;15;last line without newline";
	struct err e;
	struct csv *c;

	write_file(text, sizeof text - 1);
	c = csv_open(path, 0, ENCODING_AUTO, &e);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(csv_delimiter(c), ';');

	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_nfields(c), 3);
	cr_assert_str_eq(csv_field(c, 0), "PC6", "the byte-order mark is not part of the first name");
	cr_assert_eq(csv_field_col(c, 0), 1);
	cr_assert_eq(csv_field_col(c, 1), 5);

	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_str_eq(csv_field(c, 2), "Van der Vennestraat; oost");
	cr_assert_eq(csv_line(c), 2);
	cr_assert_eq(csv_field_line(c, 1), 2);
	cr_assert_eq(csv_field_col(c, 1), 8);

	cr_assert_eq(csv_next(c, &e), 1, "empty lines are skipped");
	cr_assert_eq(csv_line(c), 4);
	cr_assert_str_eq(csv_field(c, 1), "-99997");
	cr_assert_str_eq(csv_field(c, 2), "with \"quotes\" and\na line break");

	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_line(c), 6, "a quoted line break counts as a line");
	cr_assert_str_eq(csv_field(c, 2), "last line without newline");
	cr_assert_eq(csv_next(c, &e), 0);
	csv_close(c);
}

Test(csv, detects_commas_and_keeps_empty_fields)
{
	static const char text[] = "a,b,c\n1,,3\n,,\n";
	struct err e;
	struct csv *c;

	write_file(text, sizeof text - 1);
	c = csv_open(path, 0, ENCODING_AUTO, &e);
	cr_assert_eq(csv_delimiter(c), ',');
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_nfields(c), 3);
	cr_assert_str_eq(csv_field(c, 1), "");
	cr_assert_eq(csv_field_col(c, 2), 4);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_nfields(c), 3);
	cr_assert_eq(csv_next(c, &e), 0);
	csv_close(c);
}

Test(csv, an_unclosed_quote_names_where_it_opened)
{
	static const char text[] = "a;b\n1;2\n3;\"never closed\n4;5\n";
	struct err e;
	struct csv *c;
	char where[128];

	write_file(text, sizeof text - 1);
	c = csv_open(path, ';', ENCODING_AUTO, &e);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_next(c, &e), -1);
	cr_assert_eq(e.cls, ERR_INPUT);
	snprintf(where, sizeof where, "%s:3:3", path);
	cr_assert_str_eq(e.where, where);
	cr_assert_str_eq(e.message, "quoted field is not closed before the end of the file");
	csv_close(c);
}

Test(csv, a_missing_file_is_an_input_error)
{
	struct err e;

	cr_assert_null(csv_open("/nonexistent/x.csv", 0, ENCODING_AUTO, &e));
	cr_assert_eq(e.cls, ERR_INPUT);
	cr_assert_str_eq(e.where, "/nonexistent/x.csv");
	cr_assert_str_eq(e.message, "cannot open file: No such file or directory");
}

static struct csv *open_bytes(const char *bytes, enum encoding enc)
{
	struct err e;
	struct csv *c;

	write_file(bytes, strlen(bytes));
	c = csv_open(path, ';', enc, &e);
	cr_assert_not_null(c, "%s", e.message);
	return c;
}

Test(csv, cp1252_and_latin1_come_out_as_utf8)
{
	struct err e;
	struct csv *c = open_bytes("NAAM;WOZ\n\xC9\xE9n \x80 caf\xE9;250\n", ENCODING_AUTO);

	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_encoding(c), ENCODING_AUTO, "ASCII so far decides nothing");
	cr_assert_eq(csv_next(c, &e), 1, "%s", e.message);
	cr_assert_eq(csv_encoding(c), ENCODING_CP1252);
	cr_assert_str_eq(csv_field(c, 0), "Één € café");
	cr_assert_str_eq(csv_field(c, 1), "250");
	csv_close(c);

	c = open_bytes("a\n\x80\xE9\n", ENCODING_LATIN1);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_str_eq(csv_field(c, 0), "\xC2\x80\xC3\xA9");
	csv_close(c);

	c = open_bytes("a\nx\x81y\n", ENCODING_CP1252);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_next(c, &e), -1);
	cr_assert_str_eq(e.message, "byte 0x81 is not a character in CP1252");
}

Test(csv, utf8_is_checked)
{
	struct err e;
	struct csv *c = open_bytes("a;b\ncaf\xC3\xA9;ok\nx;caf\xE9\n", ENCODING_AUTO);
	char where[128];

	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_encoding(c), ENCODING_UTF8, "a valid multi-byte sequence settles it");
	cr_assert_str_eq(csv_field(c, 0), "café");
	cr_assert_eq(csv_next(c, &e), -1, "a later CP1252 byte is an error, not a silent switch");
	snprintf(where, sizeof where, "%s:3:3", path);
	cr_assert_str_eq(e.where, where);
	cr_assert_str_eq(e.message, "byte 0xE9 is not valid UTF-8");
	csv_close(c);

	c = open_bytes("a\n\xC0\xAF\n", ENCODING_UTF8);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_next(c, &e), -1, "overlong forms are not UTF-8");
	csv_close(c);
}

Test(csv, utf16_is_refused_and_a_utf8_bom_settles_the_encoding)
{
	struct err e;
	struct csv *c;

	write_file("\xFF\xFE" "a\0;\0", 6);
	cr_assert_null(csv_open(path, 0, ENCODING_AUTO, &e));
	cr_assert_str_eq(e.message, "the file is UTF-16, which pc6risk does not read");
	c = open_bytes("\xEF\xBB\xBF" "a\n", ENCODING_AUTO);
	cr_assert_eq(csv_encoding(c), ENCODING_UTF8);
	csv_close(c);
}

/* The real CBS PC4 file: a byte-order mark, ';', and -99997 for secret. */
Test(csv, reads_the_real_cbs_pc4_file)
{
	struct err e;
	struct csv *c = csv_open("demo/data/PC4_CBS_2019_urbanization_index.csv", 0, ENCODING_AUTO, &e);
	long rows = 0, secret = 0, sum_sted = 0;
	int rc;

	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(csv_next(c, &e), 1);
	cr_assert_eq(csv_delimiter(c), ';');
	cr_assert_eq(csv_encoding(c), ENCODING_UTF8, "the byte-order mark says UTF-8");
	cr_assert_str_eq(csv_field(c, 0), "PC4");
	cr_assert_str_eq(csv_field(c, 2), "STED");
	while ((rc = csv_next(c, &e)) == 1) {
		double v;
		const char *missing;

		rows++;
		cr_assert_eq(csv_nfields(c), 3);
		cr_assert_eq(cbs_parse_value(csv_field(c, 2), true, &v, &missing), 0, "line %ld", csv_line(c));
		if (missing) {
			cr_assert_str_eq(missing, "secret");
			cr_assert(strcmp(csv_field(c, 0), "3370") == 0 || strcmp(csv_field(c, 0), "3382") == 0);
			secret++;
		} else {
			cr_assert(v >= 1 && v <= 5, "STED is 1 to 5, line %ld", csv_line(c));
			sum_sted += (long)v;
		}
	}
	cr_assert_eq(rc, 0, "%s", e.message);
	cr_assert_eq(rows, 4068);
	cr_assert_eq(secret, 2);
	cr_assert_gt(sum_sted, 4066);
	csv_close(c);
}
