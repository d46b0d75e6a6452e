/*
 * text — pure helpers for names: accent- and case-folding, slugs, matching.
 *
 * Nothing here allocates except where a function says so; outputs go into
 * caller-provided buffers that are always NUL-terminated.
 */
#ifndef PC6RISK_TEXT_H
#define PC6RISK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Fold UTF-8 text for comparison: ASCII lower case, Latin letters with accents
 * reduced to their base letter ("Rijswijk-Zuid", "Café Ñ" -> "rijswijk-zuid",
 * "cafe n"), other bytes copied. Truncates to fit size. */
void text_fold(const char *in, char *out, size_t size);

/* A file-name slug: folded, runs of anything but [a-z0-9] become one '-',
 * no leading or trailing '-' ("Wijk 29 Schildersbuurt" -> "wijk-29-schildersbuurt").
 * An input with no letters or digits gives "". */
void text_slug(const char *in, char *out, size_t size);

/* Does the area name match what a user typed? True when the folded query is a
 * prefix of the folded name, or of the name without a CBS "Wijk NN " prefix
 * ("Schildersbuurt" matches "Wijk 29 Schildersbuurt"). An empty query matches
 * nothing. */
bool text_name_matches(const char *name, const char *query);

/* Like text_name_matches, but the whole (folded) name must equal the query. */
bool text_name_equals(const char *name, const char *query);

/* Number of characters (UTF-8 code points) in s, for lining up columns. */
size_t text_width(const char *s);

/* The value of one hex digit, or -1. */
int text_hexval(char c);

/* Hex text, as PostgreSQL prints bytea ("\\x0103...") or geometry ("0103..."),
 * into bytes in *buf (grown as needed; *cap its size; the caller frees it).
 * The number of bytes, or -1 for an odd length or a character that is not
 * a hex digit. */
long text_unhex(const char *hex, unsigned char **buf, size_t *cap);

#endif
