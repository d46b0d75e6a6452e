/* DT_DIR and d_type, to tell directories from files without a stat of each */
#define _DEFAULT_SOURCE
#include "pc6risk/fsx.h"
#include "pc6risk/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

struct entry {
	ino_t ino;
	bool dir;
	char *name;
};

static int by_inode(const void *a, const void *b)
{
	const struct entry *p = a, *q = b;

	return p->ino < q->ino ? -1 : p->ino > q->ino;
}

/* Remove what the directory dirfd holds (and close it), depth first. A
 * release holds millions of tile files: each is removed by its name in its
 * open directory (no whole path resolved again, no stat of each as nftw
 * does), in the order of their inode numbers as rm -r does (the inode table
 * is then written front to back). path is for messages. */
static int remove_contents(int dirfd, const char *path, struct err *e)
{
	DIR *d = fdopendir(dirfd);
	struct entry *list = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d) {
		rc = err_set(e, ERR_SYSTEM, path, "cannot read the directory: %s", strerror(errno));
		close(dirfd);
		return rc;
	}
	for (;;) {
		struct dirent *de;
		const char *name;
		struct entry en;

		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				rc = err_set(e, ERR_SYSTEM, path, "cannot read the directory: %s", strerror(errno));
			break;
		}
		name = de->d_name;
		if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
			continue;
		en = (struct entry){de->d_ino, de->d_type == DT_DIR, NULL};
		if (de->d_type == DT_UNKNOWN) {
			struct stat sb;

			if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue;
				rc = err_set(e, ERR_SYSTEM, path, "cannot look at %s: %s", name, strerror(errno));
				break;
			}
			en.dir = S_ISDIR(sb.st_mode);
		}
		en.name = xstrdup(name);
		if (n % 1024 == 0)
			list = xrealloc(list, (n + 1024) * sizeof *list);
		list[n++] = en;
	}
	if (n > 1) /* an empty directory has no list to sort */
		qsort(list, n, sizeof *list, by_inode);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *name = list[i].name;

		if (list[i].dir) {
			char *sub = xasprintf("%s/%s", path, name);
			int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0)
				rc = err_set(e, ERR_SYSTEM, sub, "cannot open the directory: %s", strerror(errno));
			else
				rc = remove_contents(fd, sub, e);
			if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				rc = err_set(e, ERR_SYSTEM, sub, "cannot remove: %s", strerror(errno));
			free(sub);
		} else if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
			rc = err_set(e, ERR_SYSTEM, path, "cannot remove %s: %s", name, strerror(errno));
		}
	}
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
	closedir(d);
	return rc;
}

int fsx_rmtree(const char *path, struct err *e)
{
	struct stat sb;
	int fd;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : err_set(e, ERR_SYSTEM, path, "cannot remove: %s", strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return err_set(e, ERR_SYSTEM, path, "cannot remove: %s", strerror(errno));
		return 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_SYSTEM, path, "cannot open the directory: %s", strerror(errno));
	if (remove_contents(fd, path, e) < 0)
		return -1;
	if (rmdir(path) < 0 && errno != ENOENT)
		return err_set(e, ERR_SYSTEM, path, "cannot remove: %s", strerror(errno));
	return 0;
}
