/* outbound.h — remote delivery: the scheduler that owns every queue file
 * with remote recipients.  For each due file it groups the recipients by
 * domain (one transaction per domain), finds the MX hosts (RFC 5321 5.1),
 * tries them in order with the SMTP client, records each recipient's
 * result in the queue file, retries deferred ones on the configured
 * schedule (kept in the file, so it survives restarts), and sends the
 * delay warning and the bounce (RFC 3464) to the envelope sender. */
#ifndef YUBIN_OUTBOUND_H
#define YUBIN_OUTBOUND_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <time.h>

#include "auth/accounts.h"
#include "dns/resolver.h"
#include "lib/config.h"
#include "lib/workers.h"
#include "queue/queue.h"

typedef struct outbound outbound;

/* NULL with *err_r when the client TLS context cannot be made. */
outbound *outbound_new(struct event_base *base, const config *cfg, dns_resolver *dns,
                       workers *w, queue *q, accounts *acc, char **err_r);
void outbound_free(outbound **o);
/* TLS-RPT (tlsrpt.enable): send the reports of the UTC day starting at day
 * now (delivery/tlsrptsend.h).  Domains to look at, or -1 with *err_r
 * (malloc'd) when reporting is off or tlsrpt.db fails. */
int outbound_tlsrpt_send(outbound *o, int64_t day, char **err_r);
/* Take charge of the queue file at path; try it at due (0: now).  A file
 * already known keeps its place. */
void outbound_schedule(outbound *o, const char *path, time_t due);
/* Try the message with queue id qid (or every message when qid is NULL)
 * now instead of at its scheduled time.  Returns how many were rescheduled
 * (0 when qid is unknown or an attempt is already running). */
size_t outbound_flush(outbound *o, const char *qid);
/* Hold (no attempts) or release the message qid; recorded in its queue
 * file, so it lasts across restarts.  Bounce: return its pending remote
 * recipients to the sender now (5.0.0).  Each returns NULL on success or a
 * sentence saying why not. */
const char *outbound_hold(outbound *o, const char *qid, bool hold);
const char *outbound_bounce(outbound *o, const char *qid);
/* Delete the message qid from the queue (`queue delete`): its file goes and
 * it is no longer scheduled, so a later flush does not look for it.  A
 * delivery attempt already running for it finishes (what it sent is sent)
 * and is then forgotten.  NULL on success or a sentence saying why not. */
const char *outbound_delete(outbound *o, const char *qid);
/* SRS for mail sent on to other domains (rewrite.srs.enable): rw must
 * outlive o; NULL: senders go as they are. */
struct rewrite_state;
void outbound_set_rewrite(outbound *o, const struct rewrite_state *rw);
/* The queue's remote handler (queue_set_remote_handler). */
void outbound_on_remote(void *o, const char *path, time_t due);

#endif
