/*
 * libFuzzer target: the config reader (its JSON syntax check and the meaning
 * checks) on any bytes. Built and run by `make fuzz`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct err e;
	struct config *c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = config_parse(text, strlen(text), "fuzz/pc6risk.json", &e);
	config_free(c);
	free(text);
	return 0;
}
