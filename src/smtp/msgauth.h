/* msgauth.h — message authentication at the end of DATA / BDAT, before the
 * message is committed (issue 5): mail submitted by an authenticated user
 * goes through submission hygiene and is DKIM-signed (submit.h); mail
 * arriving on port 25 is checked (SPF, DKIM, DMARC) and gets one
 * Authentication-Results field; either loses the Authentication-Results
 * fields that claim our authserv-id.  The
 * result is either "go on and commit" or a refusal to send instead of 250. */
#ifndef YUBIN_SMTP_MSGAUTH_H
#define YUBIN_SMTP_MSGAUTH_H

#include "smtp/session.h"

/* done(s, refuse) on the loop: refuse is RPL_COUNT to commit s->txn.sp
 * (which may have had header fields prepended), else the reply to send
 * instead (the caller aborts the spool).  s stays paused meanwhile. */
typedef void msgauth_done_fn(smtp_session *s, smtp_reply_id refuse);
void msgauth_before_commit(smtp_session *s, msgauth_done_fn *done);

/* The name in our Authentication-Results fields (msgauth.authserv_id, else
 * the hostname). */
const char *msgauth_authserv_id(const config *cfg);

#endif
