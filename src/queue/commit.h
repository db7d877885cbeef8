/* commit.h — making a file durable under its final name: rename it into
 * place, fdatasync the data, fsync the directory.  The directory fsync is group-committed:
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
/* rename(staging -> final), fdatasync(fd), close(fd) and commit_dir_sync:
 * when it returns true, the data and the final name are durable.  fd is
 * closed in every case.  False with errno on any failure (the caller then
 * removes the file under both names). */
bool commit_file(int fd, const char *staging, const char *final, commit_dir *d);
/* Directory fsyncs done so far (for the benchmark report and tests). */
uint64_t commit_dir_syncs(commit_dir *d);

#endif
