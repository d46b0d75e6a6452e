#include "pc6risk/fsx.h"
#include "pc6risk/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsx_mkdirs(const char *path, struct err *e)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			rc = err_set(e, ERR_SYSTEM, p, "cannot create directory: %s", strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* syncfs(2) is Linux's; declared here rather than asking for all of _GNU_SOURCE. */
int syncfs(int fd);

/* Create name in dirfd (AT_FDCWD: name is a path), write n bytes, close it;
 * messages name where/name when where is given. */
static int write_file(int dirfd, const char *where, const char *name, const char *data, size_t n, int sync,
		      struct err *e)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t done = 0;
	const char *what = NULL;
	int why = 0;

	if (fd < 0) {
		what = "cannot create file";
		why = errno;
	}
	while (!what && done < n) {
		ssize_t w = write(fd, data + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			what = "cannot write file";
			why = errno;
		}
		done += w > 0 ? (size_t)w : 0;
	}
	if (!what && sync && fsync(fd) < 0) {
		what = "cannot flush file to disk";
		why = errno;
	}
	if (fd >= 0 && close(fd) < 0 && !what) {
		what = "cannot close file";
		why = errno;
	}
	if (what) {
		char *path = where ? xasprintf("%s/%s", where, name) : xstrdup(name);

		err_set(e, ERR_SYSTEM, path, "%s: %s", what, strerror(why));
		free(path);
		return -1;
	}
	return 0;
}

int fsx_out_open(struct fsx_out *o, const char *dir, const char *name, struct err *e)
{
	int fd;

	memset(o, 0, sizeof *o);
	o->path = xasprintf("%s/%s", dir, name);
	fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		int why = errno;

		if (fd >= 0)
			close(fd);
		return err_set(e, ERR_SYSTEM, o->path, "cannot create the file: %s", strerror(why));
	}
	return 0;
}

int fsx_out_flush(struct fsx_out *o, size_t least, struct err *e)
{
	if (o->b.len == 0 || o->b.len < least)
		return 0;
	if (fwrite(o->b.s, 1, o->b.len, o->f) != o->b.len)
		return err_set(e, ERR_SYSTEM, o->path, "cannot write: %s", strerror(errno));
	sbuf_reset(&o->b);
	return 0;
}

int fsx_out_close(struct fsx_out *o, bool keep, struct err *e)
{
	int rc = 0;

	if (o->f) {
		if (keep && fsx_out_flush(o, 0, e) < 0)
			rc = -1;
		else if (keep && (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0))
			rc = err_set(e, ERR_SYSTEM, o->path, "cannot write: %s", strerror(errno));
		if (fclose(o->f) != 0 && keep && rc == 0)
			rc = err_set(e, ERR_SYSTEM, o->path, "cannot write: %s", strerror(errno));
	}
	sbuf_free(&o->b);
	free(o->path);
	memset(o, 0, sizeof *o);
	return rc;
}

int fsx_write_file(const char *path, const char *data, size_t n, struct err *e)
{
	return write_file(AT_FDCWD, NULL, path, data, n, 1, e);
}

int fsx_write_file_nosync(const char *path, const char *data, size_t n, struct err *e)
{
	return write_file(AT_FDCWD, NULL, path, data, n, 0, e);
}

int fsx_write_file_at(int dirfd, const char *where, const char *name, const char *data, size_t n, struct err *e)
{
	return write_file(dirfd, where, name, data, n, 0, e);
}

int fsx_syncfs(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return err_set(e, ERR_SYSTEM, path, "cannot open directory: %s", strerror(errno));
	if (syncfs(fd) < 0)
		rc = err_set(e, ERR_SYSTEM, path, "cannot flush the file system to disk: %s", strerror(errno));
	close(fd);
	return rc;
}

int fsx_fsync_dir(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return err_set(e, ERR_SYSTEM, path, "cannot open directory: %s", strerror(errno));
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = err_set(e, ERR_SYSTEM, path, "cannot flush directory to disk: %s", strerror(errno));
	close(fd);
	return rc;
}

int fsx_symlink_swap(const char *target, const char *linkpath, struct err *e)
{
	char *tmp = xasprintf("%s.new.%ld", linkpath, (long)getpid());
	int rc = 0;

	unlink(tmp);
	if (symlink(target, tmp) < 0)
		rc = err_set(e, ERR_SYSTEM, tmp, "cannot create symlink: %s", strerror(errno));
	else if (rename(tmp, linkpath) < 0) {
		rc = err_set(e, ERR_SYSTEM, linkpath, "cannot replace symlink: %s", strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int fsx_rmtree(const char *path, struct err *e)
{
	struct stat sb;

	if (lstat(path, &sb) < 0 && errno == ENOENT)
		return 0;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return err_set(e, ERR_SYSTEM, path, "cannot remove: %s", strerror(errno));
	return 0;
}
