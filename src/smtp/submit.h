/* submit.h — submission hygiene (RFC 6409) for a message an authenticated
 * user sent, before it is committed: the From and Sender mailboxes must be
 * the user's to send as (550 5.7.1 otherwise, nothing queued); Bcc and
 * Resent-Bcc fields and Authentication-Results fields claiming our
 * authserv-id are removed; From, Date and Message-ID are added when
 * missing; then the message is DKIM-signed (msgauth.sign) as it will be
 * queued. */
#ifndef YUBIN_SMTP_SUBMIT_H
#define YUBIN_SMTP_SUBMIT_H

#include "smtp/msgauth.h"

/* Start on s->txn.sp; done as for msgauth_before_commit (RPL_LOCAL_ERROR
 * when the message cannot be read back or the account store fails: the
 * client tries again later).  s stays paused; the connection is not freed
 * while paused, so there is nothing to cancel. */
void submit_start(smtp_session *s, msgauth_done_fn *done);

#endif
