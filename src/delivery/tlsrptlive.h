/* tlsrptlive.h — TLS-RPT counting in the running server: sessions are
 * noted on the event loop into an in-memory book (cheap), which a worker
 * job adds to DATA_DIR/tlsrpt.db (delivery/tlsrptdb.h).  One flush is in
 * flight at a time; what is noted meanwhile goes with the next one. */
#ifndef YUBIN_DELIVERY_TLSRPTLIVE_H
#define YUBIN_DELIVERY_TLSRPTLIVE_H

#include "delivery/tlsrpt.h"
#include "lib/workers.h"

typedef struct tlsrptlive tlsrptlive;

/* Open data_dir/tlsrpt.db; NULL with *err_r (malloc'd) when it cannot be. */
tlsrptlive *tlsrptlive_new(workers *wk, const char *data_dir, char **err_r);
/* Count one session and start a flush unless one is running. */
void tlsrptlive_note(tlsrptlive *l, const tlsrpt_session *s);
struct smtpc_job;
struct mtasts_policy;
/* Count the session a finished SMTP client job had with an MX of domain
 * at address ip:
 * its policy (DANE when the job had TLSA records, else sts when an MTA-STS
 * policy applied, else no-policy-found) and its TLS outcome.  A job that
 * did not connect, or ran on a reused connection (counted when it was
 * opened), is not a session of its own. */
void tlsrptlive_note_job(tlsrptlive *l, const struct smtpc_job *job, const char *domain,
                         const char *ip, const struct mtasts_policy *sts);
/* The same for a session whose domain announces an MTA-STS policy that
 * could not be had (fail, from mtastsget_failure; why for the
 * failure-reason-code), with no cached one: RFC 8460 4.3.2.2, counted
 * under policy-type sts, without a policy string, as a failure of that
 * type whatever the session's TLS outcome (the sender could not secure it
 * as the domain asks).  A job with TLSA records is counted by
 * tlsrptlive_note_job: DANE took precedence. */
void tlsrptlive_note_sts_failure(tlsrptlive *l, const struct smtpc_job *job, const char *domain, const char *ip,
                                 int fail, const char *why);
/* A host of domain not tried for a DNS reason (RFC 8460 4.3.2.1):
 * dnssec-invalid (a bogus MX, address or TLSA answer; mx NULL for the MX
 * look-up itself) or dane-required (DANE required by the configuration,
 * and no secure TLSA records), counted under no-policy-found: no
 * validated TLSA records could be read.  why: the failure-reason-code. */
void tlsrptlive_note_lookup(tlsrptlive *l, const char *domain, const char *mx, tlsrpt_result r, const char *why);
/* Write what is left (on the calling thread) and free; a flush still
 * running frees the rest when it completes. */
void tlsrptlive_free(tlsrptlive **lp);

#endif
