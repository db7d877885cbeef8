/* commit.c — durable commit with a group-committed directory fsync (see
 * commit.h).  Tickets: every caller takes the next ticket after its rename;
 * a sync started when the highest ticket was T makes tickets <= T durable.
 * One caller at a time runs the fsync; the others wait for a sync that
 * covers their ticket. */
#include "queue/commit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/strutil.h"

struct commit_dir {
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t issued;      /* last ticket handed out */
	uint64_t durable;     /* every ticket <= durable is synced */
	uint64_t failed_upto; /* tickets <= this saw a failed sync */
	int failed_errno;
	bool running;         /* a sync is in progress */
	uint64_t syncs;
};

commit_dir *commit_dir_new(const char *path)
{
	commit_dir *d = xcalloc(1, sizeof(*d));
	d->path = xstrdup(path);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	return d;
}

void commit_dir_free(commit_dir **dp)
{
	commit_dir *d = *dp;
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d->path);
	free(d);
	*dp = NULL;
}

bool commit_dir_sync(commit_dir *d)
{
	pthread_mutex_lock(&d->lock);
	uint64_t ticket = ++d->issued;
	while (d->durable < ticket && d->failed_upto < ticket) {
		if (d->running) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		/* become the leader for everything issued so far */
		uint64_t upto = d->issued;
		d->running = true;
		pthread_mutex_unlock(&d->lock);
		bool ok = fs_fsync_dir(d->path);
		int err = errno;
		pthread_mutex_lock(&d->lock);
		d->running = false;
		d->syncs++;
		if (ok) {
			d->durable = upto;
		} else {
			d->failed_upto = upto;
			d->failed_errno = err;
		}
		pthread_cond_broadcast(&d->cond);
	}
	bool ok = d->durable >= ticket;
	int err = d->failed_errno;
	pthread_mutex_unlock(&d->lock);
	if (!ok)
		errno = err;
	return ok;
}

bool commit_file(int fd, const char *staging, const char *final, commit_dir *d)
{
	/* Rename first, then flush: the file's flush then commits the rename in
	 * the same journal transaction (ext4 data=ordered), and the directory
	 * fsync after it, which POSIX needs, finds little left to do.  A crash
	 * before the flush completes can leave a torn file under its final
	 * name; that file was never acknowledged, and its missing end record
	 * makes recovery set it aside instead of delivering it. */
	if (rename(staging, final) != 0) {
		int err = errno;
		close(fd);
		errno = err;
		return false;
	}
	bool ok = fdatasync(fd) == 0;
	int err = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (ok)
		return commit_dir_sync(d);
	errno = err;
	return false;
}

uint64_t commit_dir_syncs(commit_dir *d)
{
	pthread_mutex_lock(&d->lock);
	uint64_t n = d->syncs;
	pthread_mutex_unlock(&d->lock);
	return n;
}
