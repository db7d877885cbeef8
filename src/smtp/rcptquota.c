/* rcptquota.c — RCPT's quota check (see rcptquota.h). */
#include "smtp/rcptquota.h"

#include <stdlib.h>

#include "delivery/maildir.h"
#include "lib/log.h"
#include "store/quotabook.h"

/* Is the local mailbox address full for a message of size bytes? */
static bool mailbox_full(smtp_session *s, const char *address, uint64_t size)
{
	char *mail = config_path_mail(s->srv->cfg);
	char *root = maildir_path(mail, address);
	bool full = root != NULL && quota_book_full(s->srv->quota, address, root, size);
	free(root);
	free(mail);
	return full;
}

bool smtp_rcpt_over_quota(smtp_session *s, size_t first, const char *address)
{
	const qenvelope *t = &s->txn.targets;
	if (s->srv->quota == NULL || first >= t->n_rcpts)
		return false;
	for (size_t i = first; i < t->n_rcpts; i++)
		if (t->rcpts[i].kind != 'L' || !mailbox_full(s, t->rcpts[i].address, s->txn.size))
			return false;
	log_event(LOG_LVL_INFO, "rcpt", "sid=%s from=%s to=%s result=452 reason=\"mailbox full\" size=%llu", s->sid,
	          s->txn.sender, address, (unsigned long long)s->txn.size);
	char *text = xasprintf("<%s>: mailbox full", address);
	session_reply_text(s, 452, "4.2.2", text);
	free(text);
	return true;
}
