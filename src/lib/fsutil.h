/* fsutil.h — checked file-system helpers for the durable paths: full writes,
 * fsync of a file and of the directory that names it, mkdir -p.  Every
 * function reports failure with errno set; none ignores an error. */
#ifndef YUBIN_FSUTIL_H
#define YUBIN_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* write(2) until all n bytes are written; false with errno on failure. */
bool fs_write_all(int fd, const void *data, size_t n);
/* fsync the directory at path (makes renames and links in it durable). */
bool fs_fsync_dir(const char *path);
/* mkdir -p with mode for every created component. */
bool fs_mkdir_p(const char *path, mode_t mode);
/* Read a whole file into a malloc'd NUL-terminated buffer (len_r optional);
 * NULL with errno on failure or if larger than max. */
char *fs_read_file(const char *path, size_t max, size_t *len_r);
/* Replace dir/name with data at once: write dir/name.tmp, fsync it, rename
 * over the old file, fsync dir.  False with errno. */
bool fs_replace_file(const char *dir, const char *name, const void *data, size_t len);

#endif
