/*
 * cbs — CBS file conventions as pure functions: cell values with secret codes
 * and decimal commas, postcodes, area codes.
 */
#ifndef PC6RISK_CBS_H
#define PC6RISK_CBS_H

#include <stdbool.h>

/* Any number at or below this is a CBS missing-value code (-99997 "geheim",
 * -99995, -99999999 in older KWB files). */
#define CBS_MISSING_CODE_MAX (-99990.0)

/* Parse one cell. On success returns 0 and sets either *value (and *missing to
 * NULL) or *missing to a static reason: "secret" for a CBS secret code,
 * "unknown" for an empty cell or a word CBS files use for it ("Onbekend", ".",
 * "x", "?"). With decimal_comma a ',' is read as the decimal point. Returns -1
 * when the text is neither a number nor a known missing marker. */
int cbs_parse_value(const char *text, bool decimal_comma, double *value, const char **missing);

/* Normalise a PC6 postcode: spaces dropped, letters upper-cased ("2525 ab" ->
 * "2525AB"), then checked: four digits not starting with 0, two letters, not
 * SA, SD or SS. Returns 0 with out[7] filled, or -1 with *why set to a static
 * explanation. */
int cbs_pc6_normalise(const char *in, char out[7], const char **why);

/* Is code a well-formed CBS area code of the level ("gemeente": GM + 4 digits,
 * "wijk": WK + 6, "buurt": BU + 8)? */
bool cbs_area_code_valid(const char *level, const char *code);

#endif
