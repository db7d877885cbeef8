/* hooks.h — the server's part of the suppression list, GET /v1/events and
 * webhooks: what hangs off struct server as srv->hooks.  At start it opens
 * data_dir/hooks.db, starts the audit-trail follower (api/follow.h: a job
 * on srv->wk every second, or at once again after a full batch) and the
 * webhook sender thread (api/whsend.h).  The HTTP handlers
 * (api/events.c, api/suppress_api.c, api/webhooks_api.c) and the API send
 * path reach hooks.db through it. */
#ifndef YUBIN_API_HOOKS_H
#define YUBIN_API_HOOKS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/suppress.h"
#include "api/whconf.h"

struct server;
typedef struct hooks hooks;

/* Open hooks.db and start the follower and the sender.  defs (the
 * configured endpoints, may be NULL) must outlive it.  NULL with *err_r. */
hooks *hooks_open(struct server *srv, const webhook_defs *defs, char **err_r);
/* Stop the follower's timer and the sender thread (before the workers are
 * freed: a follower step in flight still finishes). */
void hooks_stop(hooks *h);
/* Free everything (after the workers). */
void hooks_free(hooks **h);

/* The suppression list's connection, serialized: single statements from
 * the loop or any worker (api/suppress.h). */
sqlite3 *hooks_db(hooks *h);

/* For the API send path: is address on the suppression list?  As
 * suppress_lookup (api/suppress.h): false on a database error (a
 * temporary failure for the caller, 503), else *suppressed_r; *e_r (may
 * be NULL) gets the entry when listed.  One indexed read: fine on the
 * loop. */
bool hooks_suppressed(hooks *h, const char *address, bool *suppressed_r, suppress_entry *e_r, char **err_r);

/* Webhook deliveries waiting in the outbox (for GET /metrics). */
int64_t hooks_webhook_backlog(const hooks *h);

#endif
