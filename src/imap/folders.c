/* folders.c — IMAP mailbox names over the account's Maildir++ folders:
 * INBOX is the Maildir itself, "Sent" is <maildir>/.Sent, "a.b" is
 * <maildir>/.a.b (the hierarchy delimiter is "."), and LIST / LSUB with
 * their wildcards ("*" anything, "%" anything but the delimiter), with the
 * special-use attributes of RFC 6154.  Every folder counts as subscribed
 * for now. */
#include "imap/session.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "imap/mailbox.h"
#include "lib/strutil.h"
#include "mime/imapfmt.h"
#include "store/folders.h"
#include "store/mdname.h"

char *imap_folder_path(const imap_session *s, const char *name)
{
	if (strcasecmp(name, "INBOX") == 0)
		return xstrdup(s->maildir);
	/* no empty levels, nothing that walks out of the folder */
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL || strstr(name, "..") != NULL ||
	    name[strlen(name) - 1] == '.')
		return NULL;
	return xasprintf("%s/.%s", s->maildir, name);
}

#define PATTERN_MAX 1024

/* IMAP wildcard match (RFC 9051 6.3.9): '*' matches anything, '%' anything
 * but the delimiter.  Dynamic programming over the name, so no pattern
 * can make it slow: ok[j] says the pattern so far matches name[0, j). */
static bool matches(const char *p, const char *name)
{
	size_t m = strlen(name);
	bool ok[MDNAME_MAX + 2], next[MDNAME_MAX + 2];
	if (m > MDNAME_MAX)
		return false;
	ok[0] = true;
	for (size_t j = 1; j <= m; j++)
		ok[j] = false;
	for (; *p != '\0'; p++) {
		bool run = false;
		for (size_t j = 0; j <= m; j++) {
			if (*p == '*') {
				run = run || ok[j];
				next[j] = run;
			} else if (*p == '%') {
				if (j > 0 && name[j - 1] == '.')
					run = false;
				run = run || ok[j];
				next[j] = run;
			} else {
				next[j] = j > 0 && ok[j - 1] && name[j - 1] == *p;
			}
		}
		memcpy(ok, next, (m + 1) * sizeof(bool));
	}
	return ok[m];
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The account's folder names: INBOX and every ".name" folder. */
static void folder_names(const imap_session *s, strlist *out)
{
	strlist_add(out, "INBOX");
	DIR *d = opendir(s->maildir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0)
			continue;
		char *cur = xasprintf("%s/%s/cur", s->maildir, e->d_name);
		struct stat st;
		if (stat(cur, &st) == 0 && S_ISDIR(st.st_mode))
			strlist_add(out, e->d_name + 1);
		free(cur);
	}
	closedir(d);
	qsort(out->items + 1, out->n - 1, sizeof(char *), by_name);
}

static const char *special_use(const char *name)
{
	for (int i = 0; i < store_n_default_folders; i++)
		if (store_default_folders[i].special != NULL && strcmp(store_default_folders[i].name, name) == 0)
			return store_default_folders[i].special;
	return NULL;
}

static bool has_children(const strlist *names, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < names->n; i++)
		if (strncmp(names->items[i], name, n) == 0 && names->items[i][n] == '.')
			return true;
	return false;
}

void imap_list(imap_session *s, const char *tag, const char *ref, const char *pattern, bool lsub)
{
	const char *verb = lsub ? "LSUB" : "LIST";
	if (pattern[0] == '\0') {
		/* the delimiter and the root (RFC 9051 6.3.9) */
		imap_untagged(s, "%s (\\Noselect) \".\" \"\"", verb);
		imap_tagged(s, tag, "OK", "%s completed", verb);
		return;
	}
	char *full = xasprintf("%s%s", ref, pattern);
	if (strlen(full) > PATTERN_MAX) {
		imap_tagged(s, tag, "BAD", "Pattern too long");
		free(full);
		return;
	}
	/* INBOX is INBOX in any case */
	char *full_inbox = xstrdup(full);
	if (strncasecmp(full_inbox, "INBOX", 5) == 0)
		memcpy(full_inbox, "INBOX", 5);
	strlist names;
	strlist_init(&names);
	folder_names(s, &names);
	buf *out = conn_out(s->c);
	for (size_t i = 0; i < names.n; i++) {
		const char *name = names.items[i];
		if (!matches(i == 0 ? full_inbox : full, name))
			continue;
		const char *use = special_use(name);
		buf_printf(out, "* %s (%s%s%s) \".\" ", verb,
		           has_children(&names, name) ? "\\HasChildren" : "\\HasNoChildren",
		           use && !lsub ? " " : "", use && !lsub ? use : "");
		char *enc = imap_mailbox_encode(name, false);
		imap_write_string(out, enc, strlen(enc));
		free(enc);
		buf_puts(out, "\r\n");
	}
	strlist_free(&names);
	free(full);
	free(full_inbox);
	imap_tagged(s, tag, "OK", "%s completed", verb);
}
