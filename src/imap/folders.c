/* folders.c — IMAP mailbox names over the account's Maildir++ folders:
 * INBOX is the Maildir itself, "Sent" is <maildir>/.Sent, "a.b" is
 * <maildir>/.a.b (the hierarchy delimiter is "."); which folders there are,
 * with the special-use attributes of RFC 6154 (LIST, in list.c, shows
 * them); RENAME; SUBSCRIBE and UNSUBSCRIBE, kept in <maildir>/subscriptions
 * (one name a line; until the first change every folder counts as
 * subscribed). */
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
#include "imap/folders.h"
#include "imap/names.h"
#include "imap/notify.h"
#include "lib/utf8.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "store/folders.h"

char *imap_folder_path(const imap_session *s, const char *name)
{
	return store_folder_path(s->maildir, name);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void imap_folder_names(const imap_session *s, strlist *out)
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
		if (stat(cur, &st) == 0 && S_ISDIR(st.st_mode) && imap_utf8_valid(e->d_name, strlen(e->d_name)))
			strlist_add(out, e->d_name + 1);
		free(cur);
	}
	closedir(d);
	qsort(out->items + 1, out->n - 1, sizeof(char *), by_name);
}

bool imap_folders_full(const imap_session *s)
{
	strlist names;
	strlist_init(&names);
	imap_folder_names(s, &names);
	bool full = names.n >= (size_t)s->srv->cfg->limits.imap_max_folders;
	strlist_free(&names);
	return full;
}

const char *imap_folder_special_use(const char *name)
{
	for (int i = 0; i < store_n_default_folders; i++)
		if (store_default_folders[i].special != NULL && strcmp(store_default_folders[i].name, name) == 0)
			return store_default_folders[i].special;
	return NULL;
}

bool imap_subscriptions_read(const imap_session *s, strlist *out)
{
	char *path = xasprintf("%s/subscriptions", s->maildir);
	char *text = fs_read_file(path, (size_t)1 << 20, NULL);
	free(path);
	if (text == NULL)
		return false;
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (*line != '\0' && imap_utf8_valid(line, strlen(line)) && !strlist_contains(out, line))
			strlist_add(out, line);
	free(text);
	return true;
}

static bool write_subscriptions(const imap_session *s, const strlist *names)
{
	char *tmp = xasprintf("%s/subscriptions.tmp", s->maildir);
	char *path = xasprintf("%s/subscriptions", s->maildir);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (size_t i = 0; i < names->n; i++)
		BUF_PRINTF(&b, "%s\n", names->items[i]);
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

void imap_subscribe(imap_session *s, const imap_command *c, bool on)
{
	char *name = NULL;
	if (c->nargs != 1) {
		imap_tagged(s, c->tag, "BAD", "%s needs one mailbox name", c->name);
		return;
	}
	if (!imap_name_arg(s, c->tag, c->args, &name))
		return;
	strlist names;
	strlist_init(&names);
	if (!imap_subscriptions_read(s, &names))
		imap_folder_names(s, &names); /* the first change: start from every folder */
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
		if (write_subscriptions(s, &next)) {
			imap_tagged(s, c->tag, "OK", "%s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
			imap_notify_mailbox(s, IMAP_NOTIFY_SUBSCRIPTION_CHANGE, name, NULL, on);
		}
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
	if (c->nargs != 2) {
		imap_tagged(s, c->tag, "BAD", "RENAME needs two mailbox names");
		return;
	}
	if (!imap_name_arg(s, c->tag, c->args, &from))
		return;
	if (!imap_name_arg(s, c->tag, c->args->next, &to)) {
		free(from);
		return;
	}
	char *src = imap_folder_path(s, from), *dst = imap_folder_path(s, to);
	if (src == NULL || !imap_folder_exists(s, src)) {
		imap_tagged(s, c->tag, "NO", "[NONEXISTENT] No such mailbox");
	} else if (dst == NULL || strcasecmp(to, "INBOX") == 0) {
		imap_tagged(s, c->tag, "NO", "[CANNOT] That cannot be a mailbox name");
	} else if (imap_folder_exists(s, dst)) {
		imap_tagged(s, c->tag, "NO", "[ALREADYEXISTS] The target mailbox exists");
	} else if (strcasecmp(from, "INBOX") == 0 && imap_folders_full(s)) {
		imap_tagged(s, c->tag, "NO", "[LIMIT] Too many mailboxes; delete one first");
	} else if (strcasecmp(from, "INBOX") == 0) {
		/* RFC 9051 6.3.6: INBOX's messages move to the new folder; INBOX stays */
		char *err_text = NULL;
		if (store_make_maildir(dst, true, &err_text)) {
			imap_rename_inbox(s, c->tag, dst);
		} else {
			log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s rename_error=%s", s->sid, s->account,
			          err_text);
			imap_tagged(s, c->tag, "NO", "[SERVERBUG] The mailbox could not be created");
		}
		free(err_text);
	} else if (s->selected != NULL && (strcmp(s->selected, from) == 0 ||
	                                   (strncmp(s->selected, from, strlen(from)) == 0 &&
	                                    s->selected[strlen(from)] == '.'))) {
		imap_tagged(s, c->tag, "NO", "[INUSE] The mailbox is selected");
	} else {
		strlist names;
		strlist_init(&names);
		imap_folder_names(s, &names);
		size_t n = strlen(from);
		/* open views of the old names must not be handed out again */
		store_views_forget(s->srv->views, s->maildir, imap_folder_key(s, src));
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
			imap_notify_mailbox(s, IMAP_NOTIFY_MAILBOX_NAME, to, from, true);
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
