/* rcptquota.h — the quota check of RCPT (RFC 3463 X.2.2, RFC 1870 SIZE):
 * a recipient whose every local mailbox is full is refused for now with
 * "452 4.2.2 <address>: mailbox full", so that the sender keeps the
 * message and tries again.  Owns that decision only; the limits and
 * usage are store/quotabook.h's. */
#ifndef YUBIN_SMTP_RCPTQUOTA_H
#define YUBIN_SMTP_RCPTQUOTA_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp/session.h"

/* The targets added to the transaction from index first on were this
 * RCPT's.  When they are local mailboxes only, and each one's usage plus
 * the MAIL's SIZE= (txn.size, 0 when not given) is over its quota, answer
 * the 452, log it, and return true (the caller drops those targets).  A
 * RCPT with a remote target, or one mailbox with room, is not refused:
 * a full mailbox among them waits in the queue. */
bool smtp_rcpt_over_quota(smtp_session *s, size_t first, const char *address);

#endif
