/* folders.c — IMAP mailbox names over the account's Maildir++ folders:
 * INBOX is the Maildir itself, "Sent" is <maildir>/.Sent, "a.b" is
 * <maildir>/.a.b (the hierarchy delimiter is "."), and LIST / LSUB with
 * their wildcards ("*" anything, "%" anything but the delimiter), with the
 * special-use attributes of RFC 6154; RENAME; SUBSCRIBE and UNSUBSCRIBE,
 * kept in <maildir>/subscriptions (one name a line; until the first
 * change every folder counts as subscribed). */
#include "imap/session.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "imap/args.h"
#include "imap/mailbox.h"
#include "lib/fsutil.h"
#include "lib/log.h"
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

/* The subscribed names; false when nothing was ever changed (then every
 * folder counts as subscribed). */
static bool read_subscriptions(const imap_session *s, strlist *out)
{
	char *path = xasprintf("%s/subscriptions", s->maildir);
	char *text = fs_read_file(path, (size_t)1 << 20, NULL);
	free(path);
	if (text == NULL)
		return false;
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (*line != '\0' && !strlist_contains(out, line))
			strlist_add(out, line);
	free(text);
	return true;
}

static bool write_subscriptions(const imap_session *s, const strlist *names)
{
	char *tmp = xasprintf("%s/subscriptions.tmp", s->maildir);
	char *path = xasprintf("%s/subscriptions", s->maildir);
	buf b;
	buf_init(&b, (size_t)1 << 20);
	for (size_t i = 0; i < names->n; i++)
		buf_printf(&b, "%s\n", names->items[i]);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && fs_write_all(fd, b.data, b.len);
	if (fd >= 0)
		close(fd);
	ok = ok && rename(tmp, path) == 0;
	buf_free(&b);
	free(tmp);
	free(path);
	return ok;
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
	strlist subscribed;
	strlist_init(&subscribed);
	bool kept = lsub && read_subscriptions(s, &subscribed);
	buf *out = conn_out(s->c);
	for (size_t i = 0; i < names.n; i++) {
		const char *name = names.items[i];
		if (!matches(i == 0 ? full_inbox : full, name) || (kept && !strlist_contains(&subscribed, name)))
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
	strlist_free(&subscribed);
	free(full);
	free(full_inbox);
	imap_tagged(s, tag, "OK", "%s completed", verb);
}

void imap_subscribe(imap_session *s, const imap_command *c, bool on)
{
	char *name = NULL;
	const char *err = NULL;
	if (c->nargs != 1 || !imap_mailbox_parse(c->args, false, &name, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "A mailbox name is needed");
		free(name);
		return;
	}
	strlist names;
	strlist_init(&names);
	if (!read_subscriptions(s, &names))
		folder_names(s, &names); /* the first change: start from every folder */
	char *path = imap_folder_path(s, name);
	if (on && (path == NULL || !imap_folder_exists(s, path))) {
		imap_tagged(s, c->tag, "NO", "[NONEXISTENT] No such mailbox");
	} else {
		strlist next;
		strlist_init(&next);
		for (size_t i = 0; i < names.n; i++)
			if (strcmp(names.items[i], name) != 0)
				strlist_add(&next, names.items[i]);
		if (on)
			strlist_add(&next, name);
		if (write_subscriptions(s, &next))
			imap_tagged(s, c->tag, "OK", "%s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
		else
			imap_tagged(s, c->tag, "NO", "[SERVERBUG] The subscriptions could not be saved");
		strlist_free(&next);
	}
	strlist_free(&names);
	free(path);
	free(name);
}

/* RENAME: the folder and every folder below it ("a" takes "a.b" along). */
void imap_rename(imap_session *s, const imap_command *c)
{
	char *from = NULL, *to = NULL;
	const char *err = NULL;
	if (c->nargs != 2 || !imap_mailbox_parse(c->args, false, &from, &err) ||
	    !imap_mailbox_parse(c->args->next, false, &to, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "RENAME needs two mailbox names");
		free(from);
		free(to);
		return;
	}
	char *src = imap_folder_path(s, from), *dst = imap_folder_path(s, to);
	if (strcasecmp(from, "INBOX") == 0) {
		imap_tagged(s, c->tag, "NO", "[CANNOT] Renaming INBOX is not supported");
	} else if (src == NULL || !imap_folder_exists(s, src)) {
		imap_tagged(s, c->tag, "NO", "[NONEXISTENT] No such mailbox");
	} else if (dst == NULL || strcasecmp(to, "INBOX") == 0) {
		imap_tagged(s, c->tag, "NO", "[CANNOT] That cannot be a mailbox name");
	} else if (imap_folder_exists(s, dst)) {
		imap_tagged(s, c->tag, "NO", "[ALREADYEXISTS] The target mailbox exists");
	} else if (s->selected != NULL && (strcmp(s->selected, from) == 0 ||
	                                   (strncmp(s->selected, from, strlen(from)) == 0 &&
	                                    s->selected[strlen(from)] == '.'))) {
		imap_tagged(s, c->tag, "NO", "[INUSE] The mailbox is selected");
	} else {
		strlist names;
		strlist_init(&names);
		folder_names(s, &names);
		size_t n = strlen(from);
		bool ok = rename(src, dst) == 0;
		for (size_t i = 1; ok && i < names.n; i++) {
			const char *old = names.items[i];
			if (strncmp(old, from, n) != 0 || old[n] != '.')
				continue;
			char *a = xasprintf("%s/.%s", s->maildir, old);
			char *b = xasprintf("%s/.%s%s", s->maildir, to, old + n);
			ok = rename(a, b) == 0;
			free(a);
			free(b);
		}
		if (ok) {
			imap_tagged(s, c->tag, "OK", "RENAME completed");
		} else {
			log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s rename_error=%s", s->sid, s->account,
			          strerror(errno));
			imap_tagged(s, c->tag, "NO", "[SERVERBUG] The mailbox could not be renamed");
		}
		strlist_free(&names);
	}
	free(src);
	free(dst);
	free(from);
	free(to);
}
