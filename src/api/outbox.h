/* outbox.h — the webhook outbox in data_dir/hooks.db (api/hooksdb.h): one
 * row per delivery still to make (an event for one endpoint), with its
 * body built once, its attempts and the time of its next try.  Durable, so
 * a restart resumes retries; bounded per endpoint (the oldest is dropped
 * at the bound, so a dead endpoint cannot grow it without limit).
 * Blocking SQLite calls: the trail follower (a worker) adds rows, the
 * sender thread (api/whsend.c) claims and settles them, each on its own
 * connection.  No HTTP, no logging here: callers log. */
#ifndef YUBIN_API_OUTBOX_H
#define YUBIN_API_OUTBOX_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct outbox_row {
	int64_t id;
	char *event_id;
	char *url;
	char *body;
	int64_t created;   /* unix seconds: when the event was queued */
	int attempts;      /* made so far */
} outbox_row;
void outbox_row_free(outbox_row *r);

/* Queue body for url (due at once), unless that event is queued for it
 * already.  When url then has more than max_pending rows, its oldest are
 * removed: *dropped_r (may be NULL) gets their count.  False on error. */
bool outbox_add(sqlite3 *db, const char *event_id, const char *url, const char *body, int64_t now,
                int max_pending, int64_t *dropped_r);

/* Claim up to max rows due at now (next_try <= now), soonest first: each
 * gets next_try = now + lease, so that it is not claimed again while its
 * attempt runs (and is tried again after a crash).  *v_r / *n_r: free each
 * row with outbox_row_free, then the array.  False on error. */
bool outbox_claim(sqlite3 *db, int64_t now, int64_t lease, size_t max, outbox_row **v_r, size_t *n_r);
/* The delivery is done (delivered or dropped): remove it. */
bool outbox_remove(sqlite3 *db, int64_t id);
/* It failed: attempts made so far and the next try. */
bool outbox_reschedule(sqlite3 *db, int64_t id, int attempts, int64_t next_try);
/* Rows waiting (the backlog); -1 on error. */
int64_t outbox_count(sqlite3 *db);

#endif
