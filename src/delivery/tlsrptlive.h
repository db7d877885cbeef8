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
/* Write what is left (on the calling thread) and free; a flush still
 * running frees the rest when it completes. */
void tlsrptlive_free(tlsrptlive **lp);

#endif
