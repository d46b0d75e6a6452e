#include "pc6risk/cbs.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const unknown_words[] = {"onbekend", "unknown", ".", "x", "?", "-", "NA", NULL};

int cbs_parse_value(const char *text, bool decimal_comma, double *value, const char **missing)
{
	char buf[64];
	size_t a = 0, b = strlen(text), n;
	char *end;
	double v;

	*missing = NULL;
	*value = 0;
	while (a < b && isspace((unsigned char)text[a]))
		a++;
	while (b > a && isspace((unsigned char)text[b - 1]))
		b--;
	n = b - a;
	if (n == 0) {
		*missing = "unknown";
		return 0;
	}
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, text + a, n);
	buf[n] = '\0';
	/* Whole numbers, most CBS cells, without strtod. */
	{
		size_t i = buf[0] == '-' ? 1 : 0;
		long long whole = 0;

		if (i < n && n - i <= 15) {
			for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
				whole = whole * 10 + (buf[i] - '0');
			if (i == n && n > (size_t)(buf[0] == '-')) {
				v = (double)(buf[0] == '-' ? -whole : whole);
				if (v <= CBS_MISSING_CODE_MAX)
					*missing = "secret";
				else
					*value = v;
				return 0;
			}
		}
	}
	if (!isdigit((unsigned char)buf[0]) && !isdigit((unsigned char)buf[1])) {
		for (const char *const *w = unknown_words; *w; w++) {
			if (strcasecmp(buf, *w) == 0) {
				*missing = "unknown";
				return 0;
			}
		}
	}
	if (decimal_comma) {
		char *comma = strchr(buf, ',');

		if (comma) {
			if (strchr(buf, '.') || strchr(comma + 1, ','))
				return -1;
			*comma = '.';
		}
	}
	/* strtod would also take "inf", "nan" and hex; CBS cells are plain decimals. */
	for (const char *p = buf; *p; p++) {
		if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' ||
		      *p == 'e' || *p == 'E'))
			return -1;
	}
	errno = 0;
	v = strtod(buf, &end);
	if (*end != '\0' || end == buf || errno == ERANGE || !isfinite(v))
		return -1;
	if (v <= CBS_MISSING_CODE_MAX) {
		*missing = "secret";
		return 0;
	}
	*value = v;
	return 0;
}

int cbs_pc6_normalise(const char *in, char out[7], const char **why)
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (n == 6) {
			*why = "a postcode has 4 digits and 2 letters";
			return -1;
		}
		out[n++] = (char)toupper((unsigned char)*p);
	}
	out[n] = '\0';
	if (n != 6) {
		*why = "a postcode has 4 digits and 2 letters";
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		if (out[i] < '0' || out[i] > '9') {
			*why = "a postcode has 4 digits and 2 letters";
			return -1;
		}
	}
	if (out[0] == '0') {
		*why = "a postcode does not start with 0";
		return -1;
	}
	for (int i = 4; i < 6; i++) {
		if (out[i] < 'A' || out[i] > 'Z') {
			*why = "a postcode has 4 digits and 2 letters";
			return -1;
		}
	}
	if (out[4] == 'S' && (out[5] == 'A' || out[5] == 'D' || out[5] == 'S')) {
		*why = "the letters SA, SD and SS are not used in postcodes";
		return -1;
	}
	return 0;
}

bool cbs_area_code_valid(const char *level, const char *code)
{
	const char *prefix;
	size_t digits;

	if (strcmp(level, "gemeente") == 0)
		prefix = "GM", digits = 4;
	else if (strcmp(level, "wijk") == 0)
		prefix = "WK", digits = 6;
	else if (strcmp(level, "buurt") == 0)
		prefix = "BU", digits = 8;
	else
		return false;
	if (strncmp(code, prefix, 2) != 0 || strlen(code) != 2 + digits)
		return false;
	for (size_t i = 2; i < 2 + digits; i++)
		if (!isdigit((unsigned char)code[i]))
			return false;
	return true;
}
