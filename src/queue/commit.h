/* commit.h — making a file durable and visible: fdatasync the data, rename
 * it into place, fsync the directory.  The directory fsync is group-committed:
 * threads that renamed files before a sync starts share that one fsync, so N
 * sessions finishing together cost one directory flush, not N.  Thread-safe;
 * called from worker threads, never on the event loop. */
#ifndef YUBIN_COMMIT_H
#define YUBIN_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct commit_dir commit_dir;

commit_dir *commit_dir_new(const char *path);
void commit_dir_free(commit_dir **d);
/* Return once a directory fsync that began after this call has finished;
 * false (errno set) if that fsync failed. */
bool commit_dir_sync(commit_dir *d);
/* fdatasync(fd), close(fd), rename(staging -> final) and commit_dir_sync.
 * fd is closed in every case.  False with errno on any failure. */
bool commit_file(int fd, const char *staging, const char *final, commit_dir *d);
/* Directory fsyncs done so far (for the benchmark report and tests). */
uint64_t commit_dir_syncs(commit_dir *d);

#endif
