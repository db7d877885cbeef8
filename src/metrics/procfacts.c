/* procfacts.c — process facts from /proc (see procfacts.h).  Linux only,
 * like the rest of the server; it must not keep anything between calls. */
#include "metrics/procfacts.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

bool procfacts_resident_bytes(uint64_t *bytes_r)
{
	FILE *f = fopen("/proc/self/statm", "re");
	if (f == NULL)
		return false;
	unsigned long long size, resident;
	int n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	if (n != 2 || page <= 0)
		return false;
	*bytes_r = (uint64_t)resident * (uint64_t)page;
	return true;
}

bool procfacts_open_fds(uint64_t *n_r)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return false;
	uint64_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	*n_r = n > 0 ? n - 1 : 0; /* the directory's own descriptor */
	return true;
}

bool procfacts_max_fds(uint64_t *n_r)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return false;
	*n_r = (uint64_t)rl.rlim_cur;
	return true;
}
