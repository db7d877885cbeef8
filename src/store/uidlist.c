/* uidlist.c — the folder's UIDVALIDITY and next UID (see uidlist.h). */
#include "store/uidlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/strutil.h"

#define UIDLIST_NAME "yubin-uidlist"

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
	return fs_replace_file(folder, UIDLIST_NAME, line, (size_t)n);
}
