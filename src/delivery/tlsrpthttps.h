/* tlsrpthttps.h — TLS reports delivered over HTTPS (RFC 8460 5.4): the
 * rows of tlsrpt.db's posts table (tlsrptsend.c adds one per https: rua
 * address of a report) are POSTed when due: the host resolved with
 * yubin's resolver, the report rebuilt from the day's counts
 * (tlsrptsend_report_gz), the POST on this module's own worker thread
 * (tlsrptpost.c).  A 2xx forgets the row; anything else, or no answer
 * within tlsrpt.https_timeout, tries again after tlsrpt.https_retry
 * seconds, doubling each time up to six hours, tlsrpt.https_tries times
 * at most.  The rows outlive a restart.  Bounded: TLSRPTHTTPS_MAX POSTs
 * in flight; the rest wait for the next round (a round every
 * min(https_retry, 60) seconds, and at once after a report is added). */
#ifndef YUBIN_DELIVERY_TLSRPTHTTPS_H
#define YUBIN_DELIVERY_TLSRPTHTTPS_H

#include <event2/event.h>

#include "dns/resolver.h"
#include "lib/config.h"

#define TLSRPTHTTPS_MAX 4

typedef struct tlsrpthttps tlsrpthttps;

tlsrpthttps *tlsrpthttps_new(struct event_base *base, const config *cfg, dns_resolver *dns);
/* A round now: rows were added. */
void tlsrpthttps_kick(tlsrpthttps *h);
/* POSTs in flight stop (their rows stay due for the next start). */
void tlsrpthttps_free(tlsrpthttps **h);

#endif
