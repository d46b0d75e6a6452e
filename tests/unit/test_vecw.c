/* vecw: GeoPackages written twice are the same bytes, and GDAL reads them back. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pc6risk/sbuf.h"
#include "pc6risk/vecw.h"
#include "pc6risk/xalloc.h"

/* A square polygon in RD New, as little-endian hex WKB. */
static char *square_wkb(double x, double y, double side)
{
	double pts[10] = {x, y, x + side, y, x + side, y + side, x, y + side, x, y};
	unsigned char wkb[9 + 4 + 80];
	struct sbuf hex = {0};
	unsigned int one = 1, rings = 1, n = 5;

	wkb[0] = 1;
	memcpy(wkb + 1, &(unsigned int){3}, 4);
	memcpy(wkb + 5, &rings, 4);
	memcpy(wkb + 9, &n, 4);
	memcpy(wkb + 13, pts, sizeof pts);
	(void)one;
	for (size_t i = 0; i < sizeof wkb; i++)
		sbuf_printf(&hex, "%02x", wkb[i]);
	return sbuf_take(&hex);
}

static void write_gpkg(const char *path)
{
	static const char *const meta[] = {"SYNTHETIC=yes", "DESCRIPTION=test data", NULL};
	static const char *const fields[] = {"CODE", "NAME", NULL};
	struct err e;
	struct vecw *w = vecw_create(path, meta, &e);

	cr_assert_not_null(w, "%s", e.message);
	cr_assert_eq(vecw_layer(w, "buurt", "synthetic buurten", fields, &e), 0, "%s", e.message);
	for (int i = 0; i < 50; i++) {
		char code[16], *wkb = square_wkb(80000 + 100 * i, 450000, 100);

		snprintf(code, sizeof code, "BU%08d", i);
		cr_assert_eq(vecw_add(w, (const char *const[]){code, i % 2 ? "oneven" : NULL}, wkb, &e), 0, "%s", e.message);
		free(wkb);
	}
	cr_assert_eq(vecw_layer(w, "pc6", "synthetic PC6", (const char *const[]){"PC6", NULL}, &e), 0, "%s", e.message);
	{
		char *wkb = square_wkb(80000, 450000, 10);

		cr_assert_eq(vecw_add(w, (const char *const[]){"2525AB"}, wkb, &e), 0, "%s", e.message);
		free(wkb);
	}
	cr_assert_eq(vecw_close(w, &e), 0, "%s", e.message);
}

Test(vecw, the_same_layers_give_the_same_bytes)
{
	char dir[] = "/tmp/pc6vecw.XXXXXX";
	char *a, *b, *ta, *tb;
	size_t la = 0, lb = 0;
	FILE *f;
	struct err e;

	cr_assert_not_null(mkdtemp(dir));
	a = xasprintf("%s/a.gpkg", dir);
	b = xasprintf("%s/b.gpkg", dir);
	write_gpkg(a);
	sleep(1); /* a time stamp would now differ */
	write_gpkg(b);
	f = fopen(a, "rb");
	ta = xcalloc(1, 1 << 20);
	la = fread(ta, 1, 1 << 20, f);
	fclose(f);
	f = fopen(b, "rb");
	tb = xcalloc(1, 1 << 20);
	lb = fread(tb, 1, 1 << 20, f);
	fclose(f);
	cr_assert_gt(la, 0);
	cr_assert(la == lb && memcmp(ta, tb, la) == 0, "two writes differ");
	cr_assert_null(vecw_create(a, NULL, &e), "an existing file is not overwritten");
	cr_assert_eq(e.cls, ERR_SYSTEM);
	unlink(a);
	unlink(b);
	rmdir(dir);
	free(a);
	free(b);
	free(ta);
	free(tb);
}
