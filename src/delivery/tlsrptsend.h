/* tlsrptsend.h — sending TLS-RPT reports (RFC 8460 5.3) from the running
 * server: once a day, after 00:00 UTC plus a random delay of up to an hour
 * (to spread the load, 4.1), once within ten minutes of the start, and when an admin asks (`yubin tlsrpt
 * send-now`, through the control socket).  For each policy domain with
 * counts in tlsrpt.db for the day and no report yet, it looks up
 * _smtp._tls.DOMAIN, builds the report (delivery/tlsrpt.h), DKIM-signs it
 * with the submitter domain's keys and queues it to the mailto: rua
 * addresses; each https: rua address gets a row in tlsrpt.db's posts
 * table, which delivery/tlsrpthttps.h POSTs and retries. */
#ifndef YUBIN_DELIVERY_TLSRPTSEND_H
#define YUBIN_DELIVERY_TLSRPTSEND_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "dns/resolver.h"
#include "lib/config.h"
#include "queue/queue.h"

typedef struct tlsrptsend tlsrptsend;

/* Arm the daily timer.  Never fails; errors are logged when they happen. */
tlsrptsend *tlsrptsend_new(struct event_base *base, const config *cfg, dns_resolver *dns, queue *q,
                           accounts *acc);
/* Send the reports of the UTC day that starts at day (Unix seconds) that
 * are not sent yet; the work goes on in the background.  The number of
 * policy domains to look at, or -1 (with *err_r) when tlsrpt.db fails. */
int tlsrptsend_day(tlsrptsend *s, int64_t day, char **err_r);
void tlsrptsend_free(tlsrptsend **sp);

/* The gzip'd RFC 8460 4 JSON of one day and policy domain from db's
 * counts, as the config's tlsrpt block describes the sender; false with
 * *err_r (malloc'd, may be NULL: no counts) when there is none.  *gz_r is
 * malloc'd. */
struct tlsrptdb;
bool tlsrptsend_report_gz(const config *cfg, struct tlsrptdb *db, int64_t day, const char *domain,
                          unsigned char **gz_r, size_t *n_r, char **err_r);

#endif
