/* auditrec.h — what an SMTP session tells the audit trail (audit/audit.h):
 * RECEIVED at the commit (with the Subject and Message-ID read from the
 * header as it streams by), the policy's verdicts, and journaling (a copy
 * to audit.journal as a hidden recipient, and its JOURNALED record). */
#ifndef YUBIN_SMTP_AUDITREC_H
#define YUBIN_SMTP_AUDITREC_H

#include "smtp/session.h"

/* The client's header as it is stored (decoded bytes, any pieces): kept
 * up to a bound while the trail is open. */
void smtp_audit_header(smtp_session *s, const char *data, size_t n);
/* The message is durable: RECEIVED (and JOURNALED when a copy went). */
void smtp_audit_received(smtp_session *s);
/* A verdict of the policy layer (logged in smtp/policy.c).  In a
 * transaction it waits and goes right after RECEIVED, or when the
 * transaction ends without a message (with the queue id when DATA had
 * begun); at connect and HELO it goes at once. */
void smtp_audit_policy(smtp_session *s, policy_stage st, const char *rcpt, const policy_verdict *v,
                       int code, const char *status, const char *text);
/* The transaction ends (txn_reset): what waits goes out, the rest is freed. */
void smtp_audit_txn_end(smtp_session *s);
/* Before the commit: add audit.journal as a recipient (NOTIFY=NEVER) when
 * the message matches audit.journal_match.  False when the journal
 * address cannot be resolved for now (the caller answers 451). */
bool smtp_journal_add(smtp_session *s);

#endif
