/* rcptquota.h — the quota check of RCPT (RFC 3463 X.2.2, RFC 1870 SIZE):
 * a recipient whose every local mailbox is full is refused for now with
 * "452 4.2.2 <address>: mailbox full", so that the sender keeps the
 * message and tries again.  Owns that decision only; the limits and
 * usage are store/quotabook.h's, read on a worker (an account-store
 * query and a count of the Maildir: never on the event loop). */
#ifndef YUBIN_SMTP_RCPTQUOTA_H
#define YUBIN_SMTP_RCPTQUOTA_H

#include <stddef.h>

#include "smtp/session.h"

/* What RCPT does when the recipient is not refused for its quota. */
typedef void rcpt_next_fn(smtp_session *s, size_t first, const char *address);

/* The targets added to the transaction from index first on were this
 * RCPT's (for address).  When they are local mailboxes only, the session
 * pauses while a worker looks at each one: if every one's usage plus the
 * MAIL's SIZE= (txn.size, 0 when not given) is over its quota, the 452 is
 * answered and logged and those targets are dropped; else next runs.
 * Without quotas, or with a remote target, next runs at once.  A mailbox
 * with room among them, or a remote target, is never refused: a full
 * mailbox then waits in the queue. */
void smtp_rcpt_quota(smtp_session *s, size_t first, const char *address, rcpt_next_fn *next);

#endif
