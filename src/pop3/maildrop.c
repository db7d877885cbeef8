/* maildrop.c — a POP3 session's work on its mailbox, off the loop: opening
 * and locking INBOX at login (one POP3 session per mailbox, RFC 1939 8),
 * streaming a message for RETR / TOP in batches the client reads one by
 * one, and removing the deleted ones at QUIT.
 * The session is paused meanwhile and resumed with the reply. */
#include "pop3/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "delivery/local.h"
#include "delivery/maildir.h"
#include "lib/log.h"
#include "pop3/format.h"
#include "queue/qid.h"

typedef struct md_job {
	pop3_session *s;
	mbox *mb;
	char *path;
	uint32_t *uids;
	char **files;           /* their file names, for the audit trail */
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
	strlist_remove(&s->srv->pop3_locks, s->maildrop);
	free(s->maildrop);
	s->maildrop = NULL;
}

/* The audit trail's READ (RETR, TOP; the trail keeps the first) or
 * DELETED (at QUIT) record of a message local delivery stored. */
static void pop3_audit(const pop3_session *s, const char *file, bool deleted)
{
	char qid[QID_LEN + 1];
	if (!audit_is_open() || file == NULL || !local_file_qid(file, qid))
		return;
	json_t *d = json_pack("{s:o, s:s, s:s, s:o}", "mailbox", audit_str(s->account), "protocol", "pop3", "folder",
	                      "INBOX", "user", audit_str(s->account));
	audit_set(d, "app_password", s->app);
	audit_emit(deleted ? AUDIT_DELETED : AUDIT_READ, qid, s->account, d);
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

/* The reply is made in batches of about CONN_OUT_HIGH bytes, each from
 * pieces of the file read on a worker; a batch is sent, and the next one
 * made only once the client has read most of it, so a client that does
 * not read holds one batch, not a message.  The file stays open across
 * batches: another session renaming it (flags) or removing it does not
 * change what this one sends. */
#define RETR_PIECE ((size_t)64 * 1024)
#define RETR_BATCH CONN_OUT_HIGH

typedef struct retr_job {
	pop3_session *s;
	size_t i;
	char *path;
	int fd;             /* -1 until the first batch opens the file */
	pop3_format fmt;
	buf out;            /* the batch */
	bool sent_ok;       /* "+OK" is out: an error can only cut the reply */
	bool last;          /* the batch ends with ".\r\n" */
	char *err;
} retr_job;

/* The message's file, found again when an IMAP session renamed it. */
static bool retr_open(retr_job *j)
{
	j->fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (j->fd < 0 && errno == ENOENT && mbox_relocate(j->s->mb, j->i)) {
		free(j->path);
		j->path = mbox_msg_path(j->s->mb, j->i);
		j->fd = open(j->path, O_RDONLY | O_CLOEXEC);
	}
	if (j->fd < 0)
		j->err = xstrdup(strerror(errno));
	return j->fd >= 0;
}

/* One batch, on a worker: pieces of the file through the formatter until
 * the batch is full, the message ends, or TOP has its lines. */
static void retr_work(void *arg)
{
	retr_job *j = arg;
	if (j->fd < 0 && !retr_open(j))
		return;
	buf_init(&j->out, RETR_BATCH + POP3_FORMAT_MAX(RETR_PIECE));
	char *piece = xmalloc(RETR_PIECE);
	while (j->out.len < RETR_BATCH && !j->last) {
		ssize_t n = read(j->fd, piece, RETR_PIECE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			j->err = xstrdup(strerror(errno));
			break;
		}
		bool ok = pop3_format_feed(&j->fmt, piece, (size_t)n, &j->out);
		if (ok && (n == 0 || pop3_format_done(&j->fmt))) {
			ok = pop3_format_end(&j->fmt, &j->out);
			j->last = true;
		}
		if (!ok) { /* POP3_FORMAT_MAX says it fits: a bug */
			log_event(LOG_LVL_ERROR, "pop3", "sid=%s error=\"RETR batch overflow\"", j->s->sid);
			abort();
		}
	}
	free(piece);
}

static void retr_done(void *arg);

static void retr_finish(retr_job *j)
{
	pop3_session *s = j->s;
	if (j->fd >= 0)
		close(j->fd);
	buf_free(&j->out);
	free(j->path);
	free(j->err);
	free(j);
	conn_resume(s->c); /* may free s */
}

/* The client has read most of the last batch: make the next one. */
static void retr_next(void *arg)
{
	retr_job *j = arg;
	if (conn_is_closing(j->s->c)) {
		retr_finish(j);
		return;
	}
	workers_submit(j->s->srv->wk, retr_work, retr_done, j);
}

static void retr_done(void *arg)
{
	retr_job *j = arg;
	pop3_session *s = j->s;
	if (conn_is_closing(s->c)) {
		retr_finish(j); /* dropped meanwhile: nothing more to say */
		return;
	}
	if (j->err != NULL) {
		log_event(LOG_LVL_ERROR, "pop3", "sid=%s user=%s file=%s error=%s", s->sid, s->account,
		          j->path, j->err);
		if (j->sent_ok) /* the reply cannot be taken back: cut it, without its end */
			conn_close_after(s->c);
		else
			pop3_err(s, "[SYS/TEMP] Cannot read the message");
		retr_finish(j);
		return;
	}
	if (!j->sent_ok) {
		pop3_ok(s, "%llu octets", (unsigned long long)s->mb->msgs[j->i].vsize);
		j->sent_ok = true;
	}
	conn_write(s->c, j->out.data, j->out.len);
	buf_free(&j->out); /* held by the connection now; not kept while it drains */
	if (j->last)
		retr_finish(j);
	else
		conn_when_drained(s->c, retr_next, j);
}

void maildrop_send(pop3_session *s, size_t i, long lines)
{
	retr_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->i = i;
	j->fd = -1;
	j->path = mbox_msg_path(s->mb, i);
	pop3_audit(s, s->mb->msgs[i].file, false);
	pop3_format_init(&j->fmt, lines);
	conn_pause(s->c);
	workers_submit(s->srv->wk, retr_work, retr_done, j);
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
	for (size_t k = 0; k < j->n_uids; k++) {
		if (j->ok)
			pop3_audit(s, j->files[k], true);
		free(j->files[k]);
	}
	free(j->files);
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
	j->files = xcalloc(s->mb->n + 1, sizeof(char *));
	for (size_t i = 0; i < s->mb->n; i++)
		if (s->deleted[i]) {
			j->files[j->n_uids] = xstrdup(s->mb->msgs[i].file);
			j->uids[j->n_uids++] = s->mb->msgs[i].uid;
		}
	conn_pause(s->c);
	workers_submit(s->srv->wk, update_work, update_done, j);
}
