/* whsend.h — the webhook sender: one thread of its own that takes due
 * deliveries from the outbox (api/outbox.h), POSTs them over HTTPS with
 * libcurl (several at once, certificates verified against the system's CAs
 * or webhooks.ca_file, connect and total time-outs, no redirects
 * followed), signed as api/whsign.h says, and settles each: a 2xx answer
 * removes it; anything else, a time-out or a connection failure is tried
 * again after webhooks.retry_base seconds, doubling up to
 * webhooks.retry_max, until webhooks.retry_for seconds after the event,
 * when it is dropped with a log line.  Every attempt is logged (event id,
 * the endpoint's host, HTTP status, attempt number), never the secret.
 * Its own thread, so a slow endpoint holds up neither the loop nor the
 * workers. */
#ifndef YUBIN_API_WHSEND_H
#define YUBIN_API_WHSEND_H

#include <stdbool.h>
#include <stdint.h>

#include "api/whconf.h"
#include "lib/config.h"

typedef struct whsend whsend;

/* Deliveries in flight at once. */
#define WHSEND_PARALLEL 8

/* Start the thread (defs must outlive it; may be NULL: the thread still
 * drops deliveries for endpoints no longer configured).  NULL with *err_r
 * when hooks.db or libcurl cannot be set up. */
whsend *whsend_start(const config *cfg, const webhook_defs *defs, char **err_r);
/* Stop it: attempts in flight are abandoned and stay due (a restart makes
 * them again), then the thread is joined and everything freed. */
void whsend_stop(whsend **w);
/* Deliveries waiting in the outbox, as last counted (about once a
 * second); any thread. */
int64_t whsend_backlog(const whsend *w);

#endif
