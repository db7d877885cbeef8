/* maildrop.c — a POP3 session's work on its mailbox, off the loop: opening
 * and locking INBOX at login (one POP3 session per mailbox, RFC 1939 8),
 * reading a message for RETR / TOP, and removing the deleted ones at QUIT.
 * The session is paused meanwhile and resumed with the reply. */
#include "pop3/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/maildir.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "pop3/format.h"

typedef struct md_job {
	pop3_session *s;
	mbox *mb;
	char *path;
	size_t i;
	long lines;
	buf out;
	uint32_t *uids;
	size_t n_uids;
	bool ok;
	char *err;
} md_job;

static bool is_locked(server *srv, const char *path)
{
	return strlist_contains(&srv->pop3_locks, path);
}

void maildrop_release(pop3_session *s)
{
	if (s->maildrop == NULL)
		return;
	strlist *l = &s->srv->pop3_locks;
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i], s->maildrop) == 0) {
			free(l->items[i]);
			l->items[i] = l->items[--l->n];
			break;
		}
	}
	free(s->maildrop);
	s->maildrop = NULL;
}

/* ---- login ---- */

static void open_work(void *arg)
{
	md_job *j = arg;
	j->mb = mbox_open(j->path, &j->err);
}

static void open_done(void *arg)
{
	md_job *j = arg;
	pop3_session *s = j->s;
	if (j->mb == NULL) {
		log_event(LOG_LVL_ERROR, "pop3", "sid=%s user=%s error=%s", s->sid, s->account, j->err);
		maildrop_release(s);
		free(s->account);
		s->account = NULL;
		pop3_err(s, "[SYS/TEMP] Cannot open the mailbox; try again later");
	} else {
		s->mb = j->mb;
		s->deleted = xcalloc(s->mb->n + 1, sizeof(bool));
		s->state = P_TRANS;
		unsigned long long size = 0;
		for (size_t i = 0; i < s->mb->n; i++)
			size += s->mb->msgs[i].vsize;
		log_event(LOG_LVL_INFO, "pop3_login", "sid=%s user=%s messages=%zu", s->sid, s->account,
		          s->mb->n);
		pop3_ok(s, "Logged in; %zu messages (%llu octets)", s->mb->n, size);
	}
	free(j->path);
	free(j->err);
	free(j);
	conn_resume(s->c); /* may free s */
}

void maildrop_open(pop3_session *s)
{
	char *root = config_path_mail(s->srv->cfg);
	char *path = maildir_path(root, s->account);
	free(root);
	if (path == NULL || is_locked(s->srv, path)) {
		log_event(LOG_LVL_WARN, "pop3", "sid=%s user=%s refused=%s", s->sid, s->account,
		          path ? "in-use" : "no-mailbox");
		pop3_err(s, path ? "[IN-USE] The mailbox is open in another POP3 session"
		                 : "[SYS/PERM] No mailbox for this account");
		free(path);
		free(s->account);
		s->account = NULL;
		conn_resume(s->c);
		return;
	}
	strlist_add(&s->srv->pop3_locks, path);
	s->maildrop = xstrdup(path);
	md_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->path = path;
	workers_submit(s->srv->wk, open_work, open_done, j);
}

/* ---- RETR / TOP ---- */

static void send_work(void *arg)
{
	md_job *j = arg;
	size_t len;
	char *msg = fs_read_file(j->path, (size_t)1 << 31, &len);
	if (msg == NULL && mbox_relocate(j->s->mb, j->i)) { /* an IMAP session changed its flags */
		free(j->path);
		j->path = mbox_msg_path(j->s->mb, j->i);
		msg = fs_read_file(j->path, (size_t)1 << 31, &len);
	}
	if (msg == NULL) {
		j->err = xstrdup(strerror(errno));
		return;
	}
	buf_init(&j->out, len * 2 + 16);
	pop3_format_message(msg, len, j->lines, &j->out);
	free(msg);
	j->ok = true;
}

static void send_done(void *arg)
{
	md_job *j = arg;
	pop3_session *s = j->s;
	if (j->ok) {
		pop3_ok(s, "%llu octets", (unsigned long long)s->mb->msgs[j->i].vsize);
		conn_write(s->c, j->out.data, j->out.len);
	} else {
		log_event(LOG_LVL_ERROR, "pop3", "sid=%s user=%s file=%s error=%s", s->sid, s->account,
		          j->path, j->err);
		pop3_err(s, "[SYS/TEMP] Cannot read the message");
	}
	buf_free(&j->out);
	free(j->path);
	free(j->err);
	free(j);
	conn_resume(s->c);
}

void maildrop_send(pop3_session *s, size_t i, long lines)
{
	md_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->i = i;
	j->lines = lines;
	j->path = mbox_msg_path(s->mb, i);
	buf_init(&j->out, 16);
	conn_pause(s->c);
	workers_submit(s->srv->wk, send_work, send_done, j);
}

/* ---- QUIT ---- */

static void update_work(void *arg)
{
	md_job *j = arg;
	j->ok = mbox_expunge(j->mb, j->uids, j->n_uids, &j->err);
}

static void update_done(void *arg)
{
	md_job *j = arg;
	pop3_session *s = j->s;
	if (j->ok)
		log_event(LOG_LVL_INFO, "pop3_update", "sid=%s user=%s deleted=%zu", s->sid, s->account,
		          j->n_uids);
	else
		log_event(LOG_LVL_ERROR, "pop3_update", "sid=%s user=%s deleted=%zu error=%s", s->sid,
		          s->account, j->n_uids, j->err);
	if (j->ok) {
		pop3_ok(s, "Bye; %zu messages deleted", j->n_uids);
	} else {
		pop3_err(s, "[SYS/TEMP] Some deleted messages were not removed");
	}
	free(j->uids);
	free(j->err);
	free(j);
	conn_close_after(s->c);
	conn_resume(s->c);
}

void maildrop_update(pop3_session *s)
{
	md_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->mb = s->mb;
	j->uids = xcalloc(s->mb->n + 1, sizeof(uint32_t));
	for (size_t i = 0; i < s->mb->n; i++)
		if (s->deleted[i])
			j->uids[j->n_uids++] = s->mb->msgs[i].uid;
	conn_pause(s->c);
	workers_submit(s->srv->wk, update_work, update_done, j);
}
