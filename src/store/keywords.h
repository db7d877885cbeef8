/* keywords.h — a folder's IMAP keywords ($Forwarded, $Junk, ...) and the
 * Maildir letters that stand for them in message file names: keyword k is
 * the letter 'a' + k, so a folder holds at most 26.  The names live in
 * <folder>/yubin-keywords, a line "<k> <name>" each, written whole and
 * atomically before any file name uses a new letter; a rebuilt index reads
 * them back from there. */
#ifndef YUBIN_STORE_KEYWORDS_H
#define YUBIN_STORE_KEYWORDS_H

#include <stdbool.h>
#include <stdint.h>

#define STORE_KEYWORDS_MAX 26

typedef struct store_keywords {
	char *names[STORE_KEYWORDS_MAX];   /* NULL: letter unused */
} store_keywords;

/* Read the folder's keywords (none when the file is missing). */
void store_keywords_read(const char *folder, store_keywords *kw);
/* Write them (fs_replace_file); false with errno. */
bool store_keywords_write(const char *folder, const store_keywords *kw);
/* The letter index of name (compared without case), or -1. */
int store_keywords_find(const store_keywords *kw, const char *name);
/* The index of name, giving it a free letter when new (*added_r set); -1
 * when all 26 are taken. */
int store_keywords_add(store_keywords *kw, const char *name, bool *added_r);
void store_keywords_copy(store_keywords *dst, const store_keywords *src);
void store_keywords_free(store_keywords *kw);

#endif
