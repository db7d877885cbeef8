/* rcptquota.c — RCPT's quota check (see rcptquota.h). */
#include "smtp/rcptquota.h"

#include <stdlib.h>

#include "delivery/maildir.h"
#include "lib/log.h"
#include "lib/workers.h"
#include "store/quotabook.h"

typedef struct quota_job {
	smtp_session *s;
	quota_book *book;
	char *mail_root;
	strlist accounts;      /* the local mailboxes of this RCPT */
	uint64_t size;
	size_t first;
	char *address;
	rcpt_next_fn *next;
	bool full;             /* every one of them */
} quota_job;

/* On a worker. */
static void quota_work(void *arg)
{
	quota_job *j = arg;
	j->full = j->accounts.n > 0;
	for (size_t i = 0; i < j->accounts.n && j->full; i++) {
		char *root = maildir_path(j->mail_root, j->accounts.items[i]);
		j->full = root != NULL && quota_book_full(j->book, j->accounts.items[i], root, j->size);
		free(root);
	}
}

static void quota_done(void *arg)
{
	quota_job *j = arg;
	smtp_session *s = j->s;
	if (conn_is_closing(s->c)) {
		/* gone meanwhile: nothing to answer */
	} else if (j->full) {
		log_event(LOG_LVL_INFO, "rcpt", "sid=%s from=%s to=%s result=452 reason=\"mailbox full\" size=%llu",
		          s->sid, s->txn.sender, j->address, (unsigned long long)j->size);
		qenvelope_truncate_rcpts(&s->txn.targets, j->first);
		char *text = xasprintf("<%s>: mailbox full", j->address);
		session_reply_text(s, 452, "4.2.2", text);
		free(text);
	} else {
		j->next(s, j->first, j->address);
	}
	strlist_free(&j->accounts);
	free(j->mail_root);
	free(j->address);
	free(j);
	session_resume(s); /* after next: a pause it made holds */
}

void smtp_rcpt_quota(smtp_session *s, size_t first, const char *address, rcpt_next_fn *next)
{
	const qenvelope *t = &s->txn.targets;
	bool local_only = s->srv->quota != NULL && first < t->n_rcpts;
	for (size_t i = first; i < t->n_rcpts && local_only; i++)
		local_only = t->rcpts[i].kind == 'L';
	/* a mailbox known to have no limit has room: no worker needed */
	bool limited = false;
	for (size_t i = first; i < t->n_rcpts && local_only && !limited; i++)
		limited = !quota_book_unlimited_now(s->srv->quota, t->rcpts[i].address);
	if (!local_only || !limited) {
		next(s, first, address);
		return;
	}
	quota_job *j = xcalloc(1, sizeof(*j));
	*j = (quota_job){.s = s, .book = s->srv->quota, .mail_root = config_path_mail(s->srv->cfg),
	                 .size = s->txn.size, .first = first, .address = xstrdup(address), .next = next};
	strlist_init(&j->accounts);
	for (size_t i = first; i < t->n_rcpts; i++)
		strlist_add(&j->accounts, t->rcpts[i].address);
	session_pause(s);
	workers_submit(s->srv->wk, quota_work, quota_done, j);
}
