/* qscan.c — the queue folder as it is on disk (see qscan.h). */
#include "queue/qscan.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "queue/qid.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void qscan_ids(const char *root, const char *sub, strlist *ids)
{
	char *dir = xasprintf("%s/%s", root, sub);
	DIR *d = opendir(dir);
	size_t first = ids->n;
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (qid_valid(e->d_name))
				strlist_add(ids, e->d_name);
		closedir(d);
	}
	free(dir);
	if (ids->n > first)
		qsort(ids->items + first, ids->n - first, sizeof(char *), cmp_str);
}

const char *qscan_read(const char *path, size_t *len_r, char **data_r, qenvelope *env,
                       size_t *body_len_r)
{
	const char *body, *err;
	*data_r = fs_read_file(path, QSCAN_FILE_MAX, len_r);
	if (*data_r == NULL) {
		*len_r = 0;
		return strerror(errno);
	}
	return qfile_parse(*data_r, *len_r, env, &body, body_len_r, &err) ? NULL : err;
}
