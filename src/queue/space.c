/* space.c — the queue's free-space reserve, with a one-second cache of
 * statvfs (see space.h).  It only measures; the SMTP session chooses the
 * reply. */
#include "queue/space.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strutil.h"

/* Files a message needs (staging, then active; Maildir is elsewhere or
 * after), with room for bounces: below this many free inodes, refuse. */
#define SPACE_MIN_INODES 64

struct queue_space {
	char *dir;
	uint64_t reserve;
	struct timespec measured;   /* CLOCK_MONOTONIC of the last statvfs */
	bool known;                 /* the figures below are valid */
	bool complained;            /* a statvfs failure was logged */
	uint64_t avail;             /* bytes an unprivileged writer may use */
	uint64_t inodes;            /* inodes free, UINT64_MAX when not counted */
};

queue_space *queue_space_new(const char *dir, const config *cfg)
{
	queue_space *sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	uint64_t by_size = (uint64_t)cfg->limits.message_size + (uint64_t)cfg->limits.message_size / 2;
	uint64_t min_free = (uint64_t)cfg->queue.min_free;
	sp->reserve = min_free > by_size ? min_free : by_size;
	return sp;
}

void queue_space_free(queue_space **spp)
{
	if (*spp == NULL)
		return;
	free((*spp)->dir);
	free(*spp);
	*spp = NULL;
}

uint64_t queue_space_reserve(const queue_space *sp)
{
	return sp->reserve;
}

/* statvfs again when the last figures are a second old or more. */
static void measure(queue_space *sp)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (sp->known && now.tv_sec - sp->measured.tv_sec < 1)
		return;
	struct statvfs st;
	sp->measured = now;
	if (statvfs(sp->dir, &st) != 0) {
		if (!sp->complained)
			log_event(LOG_LVL_ERROR, "queue_space", "dir=%s error=%s", sp->dir, strerror(errno));
		sp->complained = true;
		sp->known = false;
		return;
	}
	sp->known = true;
	sp->avail = (uint64_t)st.f_bavail * (uint64_t)st.f_frsize;
	sp->inodes = st.f_files == 0 ? UINT64_MAX : (uint64_t)st.f_favail;
}

bool queue_space_ok(queue_space *sp, uint64_t size)
{
	measure(sp);
	if (!sp->known)
		return true;
	return sp->avail >= sp->reserve && sp->avail - sp->reserve >= size &&
	       sp->inodes >= SPACE_MIN_INODES;
}
