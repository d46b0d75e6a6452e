/*
 * fsx — file-system steps for writing releases safely: create directories,
 * write a file durably, swap a symlink atomically, remove a tree.
 *
 * Failures are ERR_SYSTEM errors naming the path and the OS reason (a full
 * disk reads "No space left on device").
 */
#ifndef PC6RISK_FSX_H
#define PC6RISK_FSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pc6risk/err.h"
#include "pc6risk/sbuf.h"

/* mkdir -p. */
int fsx_mkdirs(const char *path, struct err *e);

/* Create path (which must not exist), write n bytes, fsync and close it. */
int fsx_write_file(const char *path, const char *data, size_t n, struct err *e);

/* The same without the fsync, for many small files: call fsx_syncfs once
 * after the last (and fsync their directories) before they count as written. */
int fsx_write_file_nosync(const char *path, const char *data, size_t n, struct err *e);
/* fsx_write_file_nosync of name in an open directory (dirfd), where the path
 * would be resolved again for each of many files; where is the directory's
 * path, for messages. */
int fsx_write_file_at(int dirfd, const char *where, const char *name, const char *data, size_t n, struct err *e);

/* A file written as it grows: append to b, flush now and then; close fsyncs it. */
struct fsx_out {
	char *path;
	FILE *f;
	struct sbuf b;
};

/* Callers append rows to b and flush at this size: memory stays flat. */
#define FSX_OUT_BATCH (1u << 20)

/* Create dir/name (which must not exist). */
int fsx_out_open(struct fsx_out *o, const char *dir, const char *name, struct err *e);
/* Write b out once it holds at least least bytes (0: whatever it holds). */
int fsx_out_flush(struct fsx_out *o, size_t least, struct err *e);
/* Finish (keep: write the rest, fsync, check) or give up (the caller removes
 * the file, or the staging directory holding it). Frees o's members. */
int fsx_out_close(struct fsx_out *o, bool keep, struct err *e);

/* Flush everything written to the file system holding path (syncfs(2)). */
int fsx_syncfs(const char *path, struct err *e);

/* fsync a directory, so renames and new entries in it survive a crash. */
int fsx_fsync_dir(const char *path, struct err *e);

/* Point the symlink at linkpath to target, replacing any old link in one
 * rename(2), so readers see the old or the new target, never neither. */
int fsx_symlink_swap(const char *target, const char *linkpath, struct err *e);

/* rm -rf path, without following symlinks. A missing path is fine. */
int fsx_rmtree(const char *path, struct err *e);

#endif
