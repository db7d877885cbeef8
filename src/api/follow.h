/* follow.h — the audit-trail follower: reads the records stored after its
 * cursor (kept in data_dir/hooks.db) and, in one transaction with the
 * cursor's advance,
 *   - adds to the suppression list every recipient whose BOUNCED record
 *     says the address is bad (api/suppress.h decides which), and
 *   - queues a webhook delivery (api/outbox.h) of every event an endpoint
 *     asked for;
 * then emits an AUDIT_SUPPRESSED record for each address it added.  So a
 * crash never skips a record nor handles one twice.  Blocking (SQLite):
 * run follow_step on a worker, one step at a time.  No HTTP here. */
#ifndef YUBIN_API_FOLLOW_H
#define YUBIN_API_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "api/whconf.h"
#include "lib/config.h"

typedef struct follower follower;

/* defs (may be NULL: no webhooks) must outlive the follower. */
follower *follower_new(const config *cfg, const webhook_defs *defs);
void follower_free(follower **f);

/* Handle the next batch of records (at most FOLLOW_BATCH).  *more_r is
 * true when the batch was full (call again soon).  False with *err_r
 * (malloc'd) when the trail or hooks.db cannot be read or written: the
 * cursor has not moved, the next step tries again. */
#define FOLLOW_BATCH 500
bool follow_step(follower *f, bool *more_r, char **err_r);

#endif
