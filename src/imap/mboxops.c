/* mboxops.c — IMAP commands on whole mailboxes while the session is
 * paused: STATUS (counted from the folder's shared view), CREATE and
 * DELETE (on workers).  APPEND is in cmd_append.c. */
#include "imap/session.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/args.h"
#include "imap/folders.h"
#include "imap/names.h"
#include "imap/notify.h"
#include "imap/status.h"
#include "lib/log.h"
#include "mime/imapfmt.h"
#include "store/folders.h"
#include "store/mdname.h"

typedef struct box_job {
	imap_session *s;
	char *tag;
	char *name;
	char *path;
	unsigned items;       /* STATUS: IMAP_STATUS_*; CREATE / DELETE: 1 for DELETE */
	char *data;           /* APPEND: the message, LF line ends */
	size_t len;
	time_t when;
	unsigned md_flags;
	strlist keywords;
	store_view *v;        /* APPEND: the folder */
	uint32_t uidvalidity, uid;
	uint64_t vsize;       /* APPEND: the message's size with CRLF line ends */
	bool over, full;      /* APPEND: refused: past the quota; the disk is full */
	const char *no;       /* the NO to answer, or NULL */
	char *err;
} box_job;

static void job_free(box_job *j)
{
	store_view_close(&j->v);
	strlist_free(&j->keywords);
	free(j->tag);
	free(j->name);
	free(j->path);
	free(j->data);
	free(j->err);
	free(j);
}

bool imap_folder_exists(const imap_session *s, const char *path)
{
	struct stat st;
	char *cur = xasprintf("%s/cur", path);
	bool ok = strcmp(path, s->maildir) == 0 || stat(cur, &st) == 0;
	free(cur);
	return ok;
}

/* The folder of a mailbox argument; NULL after a reply.  create: a trailing
 * hierarchy delimiter only says that names below will follow, and is not
 * part of the name (RFC 9051 6.3.4). */
static char *folder_arg(imap_session *s, const imap_command *c, const imap_arg *a, char **name_r,
                        bool must_exist, bool create)
{
	if (!imap_name_arg(s, c->tag, a, name_r))
		return NULL;
	size_t len = strlen(*name_r);
	if (create && len > 1 && (*name_r)[len - 1] == '.' && (*name_r)[len - 2] != '.')
		(*name_r)[len - 1] = '\0';
	char *path = imap_folder_path(s, *name_r);
	if (path == NULL) {
		imap_tagged(s, c->tag, "NO", "[CANNOT] That cannot be a mailbox name");
	} else if (must_exist && !imap_folder_exists(s, path)) {
		imap_tagged(s, c->tag, "NO", "[NONEXISTENT] No such mailbox");
		free(path);
		path = NULL;
	}
	if (path == NULL) {
		free(*name_r);
		*name_r = NULL;
	}
	return path;
}

static void submit(imap_session *s, box_job *j, workers_fn *work, workers_fn *done)
{
	conn_pause(s->c);
	workers_submit(s->srv->wk, work, done, j);
}

/* ---- STATUS ---- */

void imap_status_reply(imap_session *s, const char *name, unsigned items,
                       const imap_status_counts *counts)
{
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	BUF_PUTS(&out, "* STATUS ");
	if (imap_name_out(s, &out, name)) {
		BUF_PUTC(&out, ' ');
		imap_status_write_items(&out, items, counts);
		BUF_PUTS(&out, "\r\n");
		conn_write(s->c, out.data, out.len);
	}
	buf_free(&out);
}

static void status_counted(void *arg, const imap_status_counts *counts)
{
	box_job *j = arg;
	imap_session *s = j->s;
	if (counts == NULL) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s mailbox=%s status_error=\"cannot read it\"",
		          s->sid, s->account, j->name);
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Cannot open the mailbox");
	} else {
		imap_status_reply(s, j->name, j->items, counts);
		imap_tagged(s, j->tag, "OK", "STATUS completed");
	}
	job_free(j);
	conn_resume(s->c);
}

void imap_status(imap_session *s, const imap_command *c)
{
	unsigned items = 0;
	const char *err = NULL;
	if (c->nargs != 2) {
		imap_tagged(s, c->tag, "BAD", "STATUS needs a mailbox and a list of items");
		return;
	}
	if (!imap_status_items_parse(c->args->next, (s->enabled & IMAP_ENABLED_REV2) != 0, &items, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err);
		return;
	}
	if (items & IMAP_STATUS_HIGHESTMODSEQ)
		s->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
	char *name = NULL;
	char *path = folder_arg(s, c, c->args, &name, true, false);
	if (path == NULL)
		return;
	box_job *j = xcalloc(1, sizeof(*j));
	*j = (box_job){.s = s, .tag = xstrdup(c->tag), .name = name, .path = path, .items = items};
	conn_pause(s->c);
	imap_status_count(s->srv->views, s->maildir, path, true, status_counted, j);
}

/* ---- CREATE / DELETE ---- */

static void create_work(void *arg)
{
	box_job *j = arg;
	if (!store_make_maildir(j->path, true, &j->err))
		j->no = "[SERVERBUG] The mailbox could not be created";
}

/* Remove a folder: its files, then tmp/ new/ cur/, then itself. */
static void delete_work(void *arg)
{
	box_job *j = arg;
	static const char *const subs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < 3; i++) {
		char *dir = xasprintf("%s/%s", j->path, subs[i]);
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL)
			if (e->d_name[0] != '.' || (e->d_name[1] != '\0' && strcmp(e->d_name, "..") != 0))
				unlinkat(dirfd(d), e->d_name, 0);
		if (d != NULL)
			closedir(d);
		rmdir(dir);
		free(dir);
	}
	DIR *d = opendir(j->path);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_type != DT_DIR)
			unlinkat(dirfd(d), e->d_name, 0); /* maildirfolder, yubin-uidlist, yubin-lock */
	if (d != NULL)
		closedir(d);
	if (rmdir(j->path) != 0) {
		j->err = xasprintf("%s: %s", j->path, strerror(errno));
		j->no = "[INUSE] The mailbox could not be removed";
	}
}

static void box_done(void *arg)
{
	box_job *j = arg;
	imap_session *s = j->s;
	const char *verb = j->items ? "DELETE" : "CREATE";
	if (j->no != NULL) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s %s_error=%s", s->sid, s->account, verb, j->err);
		imap_tagged(s, j->tag, "NO", "%s", j->no);
	} else {
		imap_tagged(s, j->tag, "OK", "%s completed", verb);
		imap_notify_mailbox(s, IMAP_NOTIFY_MAILBOX_NAME, j->name, NULL, !j->items);
	}
	job_free(j);
	conn_resume(s->c);
}

void imap_create_delete(imap_session *s, const imap_command *c, bool create)
{
	char *name = NULL;
	char *path = c->nargs == 1 ? folder_arg(s, c, c->args, &name, !create, create) : NULL;
	if (c->nargs != 1) {
		imap_tagged(s, c->tag, "BAD", "%s needs one mailbox name", c->name);
		return;
	}
	if (path == NULL)
		return;
	if (strcasecmp(name, "INBOX") == 0) {
		imap_tagged(s, c->tag, "NO", create ? "[ALREADYEXISTS] INBOX always exists" : "[CANNOT] INBOX cannot be deleted");
	} else if (create && imap_folder_exists(s, path)) {
		imap_tagged(s, c->tag, "NO", "[ALREADYEXISTS] The mailbox exists");
	} else if (create && imap_folders_full(s)) {
		imap_tagged(s, c->tag, "NO", "[LIMIT] Too many mailboxes; delete one first");
	} else if (!create && s->selected != NULL && strcmp(s->selected, name) == 0) {
		imap_tagged(s, c->tag, "NO", "[INUSE] The mailbox is selected");
	} else {
		if (!create) /* its open view, if any, must not be handed out again */
			store_views_forget(s->srv->views, s->maildir, imap_folder_key(s, path));
		box_job *j = xcalloc(1, sizeof(*j));
		*j = (box_job){.s = s, .tag = xstrdup(c->tag), .name = name, .path = path, .items = !create};
		submit(s, j, create ? create_work : delete_work, box_done);
		return;
	}
	free(path);
	free(name);
}
