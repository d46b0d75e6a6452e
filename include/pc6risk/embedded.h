/*
 * embedded — text files compiled into the binary (scripts/embed-text.sh), so
 * an installed pc6risk needs no data directory to find them.
 */
#ifndef PC6RISK_EMBEDDED_H
#define PC6RISK_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name; /* the file name without its directory and extension */
	const char *text;
};

/* presets/ *.json, sorted by name. */
extern const struct embedded_file embedded_presets[];
extern const size_t embedded_npresets;

#endif
