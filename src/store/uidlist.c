/* uidlist.c — the folder's UIDVALIDITY and next UID (see uidlist.h). */
#include "store/uidlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/strutil.h"

#define UIDLIST_NAME "yubin-uidlist"

#define COUNTER_NAME "yubin-uidvalidity"

/* The account's Maildir of a folder: a Maildir++ subfolder (with its
 * "maildirfolder" marker) is one level below it.  malloc'd. */
static char *account_dir(const char *folder)
{
	char *marker = xasprintf("%s/maildirfolder", folder);
	bool sub = access(marker, F_OK) == 0;
	free(marker);
	const char *slash = strrchr(folder, '/');
	if (!sub || slash == NULL)
		return xstrdup(folder);
	return xstrndup(folder, (size_t)(slash - folder));
}

uint32_t uidlist_new_validity(const char *folder)
{
	char *dir = account_dir(folder);
	char *path = xasprintf("%s/" COUNTER_NAME, dir);
	free(dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return 0;
	uint32_t v = 0;
	char text[32] = {0};
	/* one holder at a time: two folders made at once get two values */
	if (flock(fd, LOCK_EX) == 0 && pread(fd, text, sizeof text - 1, 0) >= 0) {
		unsigned long long last = strtoull(text, NULL, 10);
		unsigned long long now = (unsigned long long)time(NULL);
		unsigned long long next = now > last ? now : last + 1;
		if (next > UINT32_MAX)  /* used up (after 2106, or tampered with): wrap */
			next = 1;
		/* fixed width, written in place: one small write of one block */
		int n = snprintf(text, sizeof text, "%010llu\n", next);
		if (pwrite(fd, text, (size_t)n, 0) == n && fsync(fd) == 0)
			v = (uint32_t)next;
	}
	int err = errno;
	close(fd);
	errno = err;
	return v;
}

bool uidlist_read(const char *folder, uidlist *out)
{
	char *path = xasprintf("%s/" UIDLIST_NAME, folder);
	char *text = fs_read_file(path, 256, NULL);
	free(path);
	if (text == NULL)
		return false;
	unsigned long long v = 0, n = 0;
	int end = 0;
	bool ok = sscanf(text, "yubin-uidlist 1 %llu %llu\n%n", &v, &n, &end) == 2 && end > 0 &&
	          text[end] == '\0' && v > 0 && v <= UINT32_MAX && n > 0 && n <= UINT32_MAX;
	free(text);
	if (ok)
		*out = (uidlist){.uidvalidity = (uint32_t)v, .uidnext = (uint32_t)n};
	return ok;
}

bool uidlist_write(const char *folder, const uidlist *ul)
{
	char line[64];
	int n = snprintf(line, sizeof line, "yubin-uidlist 1 %u %u\n", ul->uidvalidity, ul->uidnext);
	if (fs_replace_file(folder, UIDLIST_NAME, line, (size_t)n))
		return true;
	if (errno != ENOSPC && errno != EDQUOT)
		return false;
	/* A full disk has no block for a new file, but the old one's block is
	 * there: write it in place, so new mail still gets its UIDs and the
	 * user can read and delete mail to make room.  One write of a few
	 * bytes at the start of a file: within one sector, which disks write
	 * whole. */
	char *path = xasprintf("%s/" UIDLIST_NAME, folder);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		errno = ENOSPC;
		return false;
	}
	bool ok = pwrite(fd, line, (size_t)n, 0) == n && ftruncate(fd, n) == 0 && fsync(fd) == 0;
	int err = errno;
	close(fd);
	errno = ok ? 0 : err;
	return ok;
}
