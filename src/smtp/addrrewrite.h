/* addrrewrite.h — address rewriting and SRS as the SMTP session applies
 * them (the rules and the scheme are in src/rewrite/): the envelope sender
 * at MAIL and each recipient at RCPT (before alias resolution), a RCPT to
 * one of our SRS addresses turned back into the address it stands for,
 * and, on port 25, the header fields of the message before its commit.
 * The direction is outbound for an authenticated session (our users'
 * mail), inbound otherwise. */
#ifndef YUBIN_SMTP_ADDRREWRITE_H
#define YUBIN_SMTP_ADDRREWRITE_H

#include "rewrite/canonical.h"
#include "smtp/msgauth.h"
#include "smtp/session.h"

rw_direction smtp_rewrite_direction(const smtp_session *s);

/* The address that takes the place of address for target t (malloc'd,
 * logged), or NULL when it stays. */
char *smtp_rewrite_envelope(smtp_session *s, rw_target t, const char *address);

/* A recipient that is one of our SRS addresses: RPL_RCPT_OK with the
 * address it stands for in *orig_r (malloc'd), or the refusal (forged,
 * expired: logged).  RPL_COUNT when it is no SRS address of ours. */
smtp_reply_id smtp_srs_reverse(smtp_session *s, const char *address, char **orig_r);

/* Port 25: plan the header fields' rewriting (on a worker) and put the
 * edits in the spool, then next(s, done).  The checks that follow read
 * the message as it came (the spool applies edits at the commit), so SPF,
 * DKIM and DMARC judge the original fields.  Straight to next when no
 * rule applies to inbound header fields. */
typedef void smtp_rewrite_next_fn(smtp_session *s, msgauth_done_fn *done);
void smtp_rewrite_inbound_headers(smtp_session *s, msgauth_done_fn *done, smtp_rewrite_next_fn *next);

#endif
