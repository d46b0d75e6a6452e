/*
 * libFuzzer target: the CSV reader and the CBS value parser on any bytes, in
 * every delimiter and encoding mode. Built and run by `make fuzz`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pc6risk/cbs.h"
#include "pc6risk/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = {0, ';', ','};
	static const enum encoding encs[] = {ENCODING_AUTO, ENCODING_UTF8, ENCODING_CP1252, ENCODING_LATIN1};

	if (size == 0)
		return 0;
	for (size_t d = 0; d < sizeof delims; d++) {
		for (size_t k = 0; k < sizeof encs / sizeof encs[0]; k++) {
			FILE *f = fmemopen((void *)data, size, "rb");
			struct err e;
			struct csv *c;
			int rc;

			if (!f)
				return 0;
			c = csv_from_stream(f, "fuzz.csv", delims[d], encs[k], &e);
			if (!c)
				continue;
			while ((rc = csv_next(c, &e)) == 1) {
				for (size_t i = 0; i < csv_nfields(c); i++) {
					const char *field = csv_field(c, i), *missing;
					double v;
					char pc6[7];
					const char *why;

					/* every field is a C string of UTF-8 */
					(void)strlen(field);
					(void)csv_field_line(c, i);
					(void)csv_field_col(c, i);
					cbs_parse_value(field, csv_delimiter(c) != ',', &v, &missing);
					cbs_pc6_normalise(field, pc6, &why);
				}
			}
			csv_close(c);
		}
	}
	return 0;
}
