/* keywords.c — a folder's keyword names and their letters (see
 * keywords.h).  Malformed lines in the file are skipped, never fatal. */
#include "store/keywords.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/strutil.h"

#define KEYWORDS_FILE "yubin-keywords"
#define KEYWORDS_FILE_MAX 65536

void store_keywords_read(const char *folder, store_keywords *kw)
{
	*kw = (store_keywords){0};
	char *path = xasprintf("%s/" KEYWORDS_FILE, folder);
	char *text = fs_read_file(path, KEYWORDS_FILE_MAX, NULL);
	free(path);
	for (char *line = text, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		char *end;
		long k = strtol(line, &end, 10);
		if (end == line || *end != ' ' || k < 0 || k >= STORE_KEYWORDS_MAX || end[1] == '\0' ||
		    kw->names[k] != NULL || store_keywords_find(kw, end + 1) >= 0)
			continue;
		kw->names[k] = xstrdup(end + 1);
	}
	free(text);
}

bool store_keywords_write(const char *folder, const store_keywords *kw)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (int k = 0; k < STORE_KEYWORDS_MAX; k++)
		if (kw->names[k] != NULL)
			BUF_PRINTF(&b, "%d %s\n", k, kw->names[k]);
	bool ok = fs_replace_file(folder, KEYWORDS_FILE, b.data, b.len);
	buf_free(&b);
	return ok;
}

int store_keywords_find(const store_keywords *kw, const char *name)
{
	for (int k = 0; k < STORE_KEYWORDS_MAX; k++)
		if (kw->names[k] != NULL && str_ascii_ieq(kw->names[k], name))
			return k;
	return -1;
}

int store_keywords_add(store_keywords *kw, const char *name, bool *added_r)
{
	*added_r = false;
	int k = store_keywords_find(kw, name);
	for (int f = 0; k < 0 && f < STORE_KEYWORDS_MAX; f++) {
		if (kw->names[f] == NULL) {
			kw->names[f] = xstrdup(name);
			*added_r = true;
			k = f;
		}
	}
	return k;
}

void store_keywords_copy(store_keywords *dst, const store_keywords *src)
{
	for (int k = 0; k < STORE_KEYWORDS_MAX; k++)
		dst->names[k] = src->names[k] ? xstrdup(src->names[k]) : NULL;
}

void store_keywords_free(store_keywords *kw)
{
	for (int k = 0; k < STORE_KEYWORDS_MAX; k++) {
		free(kw->names[k]);
		kw->names[k] = NULL;
	}
}
