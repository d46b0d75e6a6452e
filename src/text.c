#include "pc6risk/text.h"
#include "pc6risk/xalloc.h"

#include <string.h>

/* Base letters for U+00C0..U+00FF; 0 where the code point is not a letter
 * with an obvious base (×, ÷) and is copied as is. */
static const char latin1_base[64] = {
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
	'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   's',
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
	'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y',
};

/* Latin Extended-A (U+0100..U+017F) in pairs of upper/lower case; enough to
 * fold the letters Dutch and neighbouring place names use. */
static const char latin_ext_a_base[128] = {
	'a', 'a', 'a', 'a', 'a', 'a', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'd', 'd',
	'd', 'd', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'g', 'g', 'g', 'g',
	'g', 'g', 'g', 'g', 'h', 'h', 'h', 'h', 'i', 'i', 'i', 'i', 'i', 'i', 'i', 'i',
	'i', 'i', 0,   0,   'j', 'j', 'k', 'k', 'k', 'l', 'l', 'l', 'l', 'l', 'l', 'l',
	'l', 'l', 'l', 'n', 'n', 'n', 'n', 'n', 'n', 'n', 'n', 'n', 'o', 'o', 'o', 'o',
	'o', 'o', 0,   0,   'r', 'r', 'r', 'r', 'r', 'r', 's', 's', 's', 's', 's', 's',
	's', 's', 't', 't', 't', 't', 't', 't', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'w', 'w', 'y', 'y', 'y', 'z', 'z', 'z', 'z', 'z', 'z', 's',
};

void text_fold(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;

	if (size == 0)
		return;
	while (*p && n + 1 < size) {
		unsigned cp = 0;
		int len = 0;
		char base = 0;

		if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
			cp = ((unsigned)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
			len = 2;
			if (cp >= 0xC0 && cp <= 0xFF)
				base = latin1_base[cp - 0xC0];
			else if (cp >= 0x100 && cp <= 0x17F)
				base = latin_ext_a_base[cp - 0x100];
		}
		if (base) {
			out[n++] = base;
			p += len;
		} else if (len == 2) {
			if (n + 2 >= size)
				break;
			out[n++] = (char)p[0];
			out[n++] = (char)p[1];
			p += 2;
		} else {
			unsigned char c = *p++;
			out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
		}
	}
	out[n] = '\0';
}

void text_slug(const char *in, char *out, size_t size)
{
	char folded[512];
	size_t n = 0;
	bool dash = false;

	if (size == 0)
		return;
	text_fold(in, folded, sizeof folded);
	for (const char *p = folded; *p && n + 1 < size; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');

		if (alnum) {
			if (dash && n > 0 && n + 2 < size)
				out[n++] = '-';
			out[n++] = *p;
			dash = false;
		} else {
			dash = true;
		}
	}
	out[n] = '\0';
}

/* Skip a leading "wijk <digits> " in folded text. */
static const char *skip_wijk_prefix(const char *s)
{
	const char *p = s;

	if (strncmp(p, "wijk ", 5) != 0)
		return s;
	p += 5;
	if (*p < '0' || *p > '9')
		return s;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p != ' ')
		return s;
	return p + 1;
}

bool text_name_matches(const char *name, const char *query)
{
	char fn[512], fq[512];
	size_t lq;

	text_fold(name, fn, sizeof fn);
	text_fold(query, fq, sizeof fq);
	lq = strlen(fq);
	if (lq == 0)
		return false;
	return strncmp(fn, fq, lq) == 0 || strncmp(skip_wijk_prefix(fn), fq, lq) == 0;
}

bool text_name_equals(const char *name, const char *query)
{
	char fn[512], fq[512];

	text_fold(name, fn, sizeof fn);
	text_fold(query, fq, sizeof fq);
	if (fq[0] == '\0')
		return false;
	return strcmp(fn, fq) == 0 || strcmp(skip_wijk_prefix(fn), fq) == 0;
}

size_t text_width(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			n++;
	return n;
}

int text_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long text_unhex(const char *hex, unsigned char **buf, size_t *cap)
{
	size_t len;

	if (hex[0] == '\\' && hex[1] == 'x')
		hex += 2;
	len = strlen(hex);
	if (len % 2)
		return -1;
	if (len / 2 + 1 > *cap) {
		*cap = len / 2 + 1;
		*buf = xrealloc(*buf, *cap);
	}
	for (size_t i = 0; i < len / 2; i++) {
		int hi = text_hexval(hex[2 * i]), lo = text_hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		(*buf)[i] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(len / 2);
}
