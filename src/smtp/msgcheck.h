/* msgcheck.h — the checks of a message that arrived on port 25 (issue 5):
 * SPF for the MAIL FROM identity (the HELO identity for a null sender),
 * every DKIM signature, and the From domain's DMARC policy, all at once
 * and bounded by msgauth.timeout; then one Authentication-Results field at
 * the top (fields claiming our authserv-id are removed first, RFC 8601 5)
 * and the DMARC action (msgauth.dmarc_action). */
#ifndef YUBIN_SMTP_MSGCHECK_H
#define YUBIN_SMTP_MSGCHECK_H

#include "smtp/msgauth.h"

/* Start on s->txn.sp; done as for msgauth_before_commit. */
void msgcheck_start(smtp_session *s, msgauth_done_fn *done);
/* The session ends (or its transaction is reset) while checks run: stop
 * them; done never runs. */
void msgcheck_cancel(smtp_session *s);

#endif
