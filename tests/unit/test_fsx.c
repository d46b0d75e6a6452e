/*
 * fsx_out: a file written as it grows holds exactly what was appended, in
 * pieces flushed at any size; an existing file is never overwritten, also not
 * by a file written into an open directory.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pc6risk/fsx.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

static char *scratch(void)
{
	char *dir = xstrdup("/tmp/pc6risk-fsx-XXXXXX");

	cr_assert(mkdtemp(dir), "mkdtemp");
	return dir;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct sbuf b = {0};
	char chunk[4096];
	size_t got;

	cr_assert(f, "cannot read %s", path);
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_append(&b, chunk, got);
	fclose(f);
	*n = b.len;
	return b.s ? sbuf_take(&b) : xstrdup("");
}

static void cleanup(char *dir)
{
	struct err e;

	cr_assert_eq(fsx_rmtree(dir, &e), 0, "%s", e.message);
	free(dir);
}

Test(fsx, out_holds_every_piece_whatever_the_flush_threshold)
{
	static const size_t least[] = {0, 1, 7, 100, 1u << 20};

	for (size_t t = 0; t < sizeof least / sizeof least[0]; t++) {
		char *dir = scratch(), *path = xasprintf("%s/rows.csv", dir), *got;
		struct sbuf want = {0};
		struct fsx_out o;
		struct err e;
		size_t n;

		cr_assert_eq(fsx_out_open(&o, dir, "rows.csv", &e), 0, "%s", e.message);
		for (int i = 0; i < 5000; i++) {
			sbuf_printf(&o.b, "%d,row %d\n", i, i * 7);
			sbuf_printf(&want, "%d,row %d\n", i, i * 7);
			cr_assert_eq(fsx_out_flush(&o, least[t], &e), 0, "%s", e.message);
			if (least[t] <= 1)
				cr_assert_eq(o.b.len, 0, "a flush at least %zu leaves nothing behind", least[t]);
			else
				cr_assert_lt(o.b.len, least[t] + 32, "flushed once it held %zu bytes", least[t]);
		}
		cr_assert_eq(fsx_out_close(&o, true, &e), 0, "%s", e.message);
		cr_assert_null(o.path, "close frees and clears");
		got = slurp(path, &n);
		cr_assert_eq(n, want.len, "threshold %zu: %zu bytes, want %zu", least[t], n, want.len);
		cr_assert_eq(memcmp(got, want.s, n), 0, "threshold %zu: the bytes differ", least[t]);
		free(got);
		sbuf_free(&want);
		free(path);
		cleanup(dir);
	}
}

Test(fsx, out_refuses_an_existing_file_and_names_it)
{
	char *dir = scratch(), *path = xasprintf("%s/figures.csv", dir), *got;
	struct fsx_out o;
	struct err e;
	FILE *f = fopen(path, "w");
	size_t n;

	cr_assert(f);
	fputs("kept\n", f);
	fclose(f);
	cr_assert_lt(fsx_out_open(&o, dir, "figures.csv", &e), 0);
	cr_assert_eq(e.cls, ERR_SYSTEM);
	cr_assert_str_eq(e.where, path, "the error names the file");
	cr_assert(strstr(e.message, "cannot create the file"), "%s", e.message);
	cr_assert(strstr(e.message, "File exists"), "%s", e.message);
	cr_assert_eq(fsx_out_close(&o, false, &e), 0);
	got = slurp(path, &n);
	cr_assert_str_eq(got, "kept\n", "the existing file is untouched");
	free(got);
	free(path);
	cleanup(dir);
}

Test(fsx, out_given_up_writes_nothing_more)
{
	char *dir = scratch(), *path = xasprintf("%s/groups.csv", dir), *got;
	struct fsx_out o;
	struct err e;
	size_t n;

	cr_assert_eq(fsx_out_open(&o, dir, "groups.csv", &e), 0, "%s", e.message);
	sbuf_puts(&o.b, "flushed\n");
	cr_assert_eq(fsx_out_flush(&o, 0, &e), 0, "%s", e.message);
	sbuf_puts(&o.b, "never written\n");
	cr_assert_eq(fsx_out_close(&o, false, &e), 0);
	got = slurp(path, &n);
	cr_assert_str_eq(got, "flushed\n", "giving up drops what was not flushed");
	free(got);
	free(path);
	cleanup(dir);
}

Test(fsx, write_at_writes_into_the_open_directory_and_names_the_whole_path)
{
	char *dir = scratch(), *path = xasprintf("%s/5384.geojson", dir), *got;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	struct err e;
	size_t n;

	cr_assert_geq(fd, 0, "open %s", dir);
	cr_assert_eq(fsx_write_file_at(fd, dir, "5384.geojson", "{}", 2, &e), 0, "%s", e.message);
	got = slurp(path, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(got, "{}", 2), 0);
	free(got);
	cr_assert_lt(fsx_write_file_at(fd, dir, "5384.geojson", "[]", 2, &e), 0, "an existing tile is not overwritten");
	cr_assert_eq(e.cls, ERR_SYSTEM);
	cr_assert_str_eq(e.where, path, "the error names the directory and the file");
	cr_assert(strstr(e.message, "cannot create file: File exists"), "%s", e.message);
	got = slurp(path, &n);
	cr_assert_eq(memcmp(got, "{}", 2), 0, "the file keeps its bytes");
	free(got);
	close(fd);
	free(path);
	cleanup(dir);
}

Test(fsx, rmtree_removes_a_nested_tree_but_not_what_a_link_in_it_points_at)
{
	char *dir = scratch(), *outside = scratch(), *kept = xasprintf("%s/kept.txt", outside);
	char path[512];
	struct err e;
	struct stat sb;
	FILE *f = fopen(kept, "w");

	cr_assert(f);
	fputs("kept\n", f);
	fclose(f);
	/* a release's shape: tiles/<scenario>/<z>/<x>/<y>.geojson, hard links, a symlink */
	for (int x = 0; x < 5; x++) {
		snprintf(path, sizeof path, "%s/tiles/s/16/%d", dir, x);
		cr_assert_eq(fsx_mkdirs(path, &e), 0, "%s", e.message);
		for (int y = 0; y < 40; y++) {
			snprintf(path, sizeof path, "%s/tiles/s/16/%d/%d.geojson", dir, x, y);
			cr_assert_eq(fsx_write_file_nosync(path, "{}", 2, &e), 0, "%s", e.message);
		}
	}
	snprintf(path, sizeof path, "%s/tiles/linked.txt", dir);
	cr_assert_eq(link(kept, path), 0, "link");
	snprintf(path, sizeof path, "%s/tiles/elsewhere", dir);
	cr_assert_eq(symlink(outside, path), 0, "symlink");
	snprintf(path, sizeof path, "%s/empty", dir);
	cr_assert_eq(fsx_mkdirs(path, &e), 0, "%s", e.message);

	cr_assert_eq(fsx_rmtree(dir, &e), 0, "%s", e.message);
	cr_assert_lt(lstat(dir, &sb), 0, "the tree is gone");
	cr_assert_eq(stat(kept, &sb), 0, "the file a symlink and a hard link in the tree led to is still there");
	cr_assert_eq(sb.st_nlink, 1, "its hard link in the tree went");
	cr_assert_eq(fsx_rmtree(dir, &e), 0, "removing what is not there is no error");
	free(kept);
	cleanup(outside);
	free(dir);
}
