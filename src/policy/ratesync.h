/* ratesync.h — the server's rate-limit counters (policy/ratelimit.h) and
 * their trip to disk: loaded from data_dir/ratelimit.db at start, what
 * changed saved on a worker thread every RATE_SYNC_SECONDS, and the rest
 * on stop.  A database that fails is logged and the counting goes on in
 * memory: a database error never refuses mail.  Loop thread only. */
#ifndef YUBIN_POLICY_RATESYNC_H
#define YUBIN_POLICY_RATESYNC_H

#include <event2/event.h>

#include "lib/workers.h"
#include "policy/ratelimit.h"

/* Seconds between saves. */
#define RATE_SYNC_SECONDS 5

typedef struct rate_sync rate_sync;

/* Counters for rules[0..n), restored from path; saves run on w. */
rate_sync *rate_sync_open(struct event_base *base, workers *w, const rate_rule *rules, size_t n,
                          const char *path);
/* The counters the policy step checks and charges. */
rate_table *rate_sync_table(rate_sync *rs);
/* Save now if no save is running (also what the timer does). */
void rate_sync_flush(rate_sync *rs);
/* Save what is left, on this thread, and free.  Call after the workers
 * have stopped (no save in flight) and before the event base goes. */
void rate_sync_close(rate_sync **rs);

#endif
