/* usage.c — an account's mail in bytes and messages (see usage.h): the
 * folders of the account's Maildir, each summed from its file names and
 * remembered until its directories change. */
#include "store/usage.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/strutil.h"
#include "store/mdname.h"

/* A change this close (seconds) to the count may share a clock tick with
 * one made just after it: not remembered. */
#define USAGE_SETTLE_SECS 2

typedef struct folder_sum {
	char *path;
	struct timespec cur_m, new_m;
	uint64_t bytes, messages;
	bool seen;               /* found by this look */
} folder_sum;

struct store_usage {
	folder_sum *f;
	size_t n, cap;
};

store_usage *store_usage_new(void)
{
	return xcalloc(1, sizeof(store_usage));
}

void store_usage_free(store_usage **up)
{
	store_usage *u = *up;
	if (u == NULL)
		return;
	for (size_t i = 0; i < u->n; i++)
		free(u->f[i].path);
	free(u->f);
	free(u);
	*up = NULL;
}

/* Add the messages in dir (new/ or cur/) to *bytes and *messages. */
static void sum_dir(const char *dir, uint64_t *bytes, uint64_t *messages)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		mdname n;
		if (!mdname_parse(e->d_name, &n))
			continue;
		struct stat st;
		if (!n.has_vsize) {
			if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
				continue; /* gone meanwhile */
			n.vsize = (uint64_t)st.st_size;
		}
		*bytes += n.vsize;
		(*messages)++;
	}
	closedir(d);
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static folder_sum *entry(store_usage *u, const char *path)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->f[i].path, path) == 0)
			return &u->f[i];
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 16;
		u->f = xrealloc(u->f, u->cap * sizeof(folder_sum));
	}
	folder_sum *f = &u->f[u->n++];
	*f = (folder_sum){.path = xstrdup(path), .cur_m = {-1, 0}};
	return f;
}

/* The sums of the Maildir folder at path, counted again when it changed. */
static void sum_folder(store_usage *u, const char *path, uint64_t *bytes, uint64_t *messages)
{
	char *cur = xasprintf("%s/cur", path), *nw = xasprintf("%s/new", path);
	struct stat sc, sn;
	if (stat(cur, &sc) == 0 && S_ISDIR(sc.st_mode)) {
		if (stat(nw, &sn) != 0)
			sn = (struct stat){0};
		folder_sum *f = entry(u, path);
		f->seen = true;
		time_t now = time(NULL);
		bool settled = sc.st_mtim.tv_sec + USAGE_SETTLE_SECS < now &&
		               sn.st_mtim.tv_sec + USAGE_SETTLE_SECS < now;
		if (!settled || !same_time(&f->cur_m, &sc.st_mtim) || !same_time(&f->new_m, &sn.st_mtim)) {
			f->bytes = f->messages = 0;
			sum_dir(cur, &f->bytes, &f->messages);
			sum_dir(nw, &f->bytes, &f->messages);
			f->cur_m = sc.st_mtim;
			f->new_m = sn.st_mtim;
		}
		*bytes += f->bytes;
		*messages += f->messages;
	}
	free(cur);
	free(nw);
}

bool store_usage_get(store_usage *u, const char *root, uint64_t *bytes_r, uint64_t *messages_r)
{
	DIR *d = opendir(root);
	if (d == NULL)
		return false;
	for (size_t i = 0; i < u->n; i++)
		u->f[i].seen = false;
	uint64_t bytes = 0, messages = 0;
	sum_folder(u, root, &bytes, &messages);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		/* Maildir++ folders: ".name", each a Maildir */
		if (e->d_name[0] != '.' || e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0)
			continue;
		char *path = xasprintf("%s/%s", root, e->d_name);
		sum_folder(u, path, &bytes, &messages);
		free(path);
	}
	closedir(d);
	/* forget the folders that are gone */
	size_t k = 0;
	for (size_t i = 0; i < u->n; i++) {
		if (u->f[i].seen)
			u->f[k++] = u->f[i];
		else
			free(u->f[i].path);
	}
	u->n = k;
	*bytes_r = bytes;
	*messages_r = messages;
	return true;
}
