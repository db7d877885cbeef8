/* queue.h — the durable queue as the event loop sees it.  A spool is one
 * message being received: its envelope and bytes go to a staging file as
 * they arrive; spool_commit makes it durable on a worker (commit.c) and only
 * then calls back, so the 250 can be sent.  After the commit the queue hands
 * the file to local delivery.  At start, queue_open purges staging (never
 * acknowledged) and queue_recover finishes what was accepted before a stop
 * or crash.  Layout: queue/staging/<qid>, queue/active/<qid>, queue/corrupt/. */
#ifndef YUBIN_QUEUE_H
#define YUBIN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/config.h"
#include "lib/workers.h"
#include "queue/qfile.h"

typedef struct queue queue;
typedef struct spool spool;

/* Create the queue folders and purge staging.  NULL with *err_r on failure. */
queue *queue_open(const config *cfg, workers *w, char **err_r);
void queue_close(queue **q);
/* Deliver every local recipient still pending in active/ (after a restart). */
void queue_recover(queue *q);

/* True when a message of size bytes (0: size not declared) can be taken
 * without going below the free-space reserve (queue/space.h); the answer
 * may be up to a second old.  Loop thread. */
bool queue_has_room(queue *q, uint64_t size);

/* Move a damaged queue file (torn, or its checksum does not match) to
 * queue/corrupt/, where it is never delivered and `yubin queue list` shows
 * it with its reason; logged with reason.  Thread-safe. */
void queue_quarantine(queue *q, const char *path, const char *reason);

/* A held message may go: its file says so, and its local recipients get
 * it now (its remote ones when the outbound scheduler is told too).  NULL,
 * or why not.  Loop thread. */
const char *queue_release(queue *q, const char *qid);
/* Hold a message in its file, for whoever reads it next (the outbound
 * scheduler, a local delivery): for a message the scheduler has no entry
 * for at the moment.  NULL, or why not.  Loop thread. */
const char *queue_hold(queue *q, const char *qid);

/* Seconds between retries of local deliveries that failed. */
#define QUEUE_RETRY_AGE 60
/* Retry the local deliveries that failed since the last call (for example
 * on a full disk or a full mailbox): called every QUEUE_RETRY_AGE seconds
 * by the server, and by `yubin queue flush`.  Recipients already
 * delivered are never delivered again.  The number of files retried. */
size_t queue_retry_deferred(queue *q);

/* Who takes files that still have remote recipients after local delivery
 * (the outbound scheduler): fn(arg, path, due) on the loop thread. */
typedef void queue_remote_fn(void *arg, const char *path, time_t due);
void queue_set_remote_handler(queue *q, queue_remote_fn *fn, void *arg);

/* Who sends the reports that local delivery builds (NOTIFY=SUCCESS, and
 * the failures of a mailbox that stayed full; delivery/report.c): fn(arg,
 * about_qid, sender, kind ("delivered" or "failed"), recipients, msg, len,
 * requiretls (the report is about a REQUIRETLS message)) on the loop
 * thread.  Without a handler no report is sent. */
typedef void queue_report_fn(void *arg, const char *about_qid, const char *sender, const char *kind,
                             size_t recipients, const char *msg, size_t len, bool requiretls);
void queue_set_report_handler(queue *q, queue_report_fn *fn, void *arg);

/* The account quotas local delivery enforces (store/quotabook.h; the
 * book must outlive the queue).  Without one, nothing is limited. */
struct quota_book;
void queue_set_quota(queue *q, struct quota_book *book);

/* What runs the accounts' Sieve scripts at local delivery
 * (delivery/sievedeliver.h; must outlive the queue).  Without it no
 * script runs. */
struct sieve_delivery;
void queue_set_sieve(queue *q, struct sieve_delivery *sd);

/* Queue a message made here (a bounce): env as for spool_begin, body with
 * LF line ends.  It is committed and delivered like any other; false (and
 * logged) if it could not be queued. */
bool queue_inject(queue *q, const qenvelope *env, const char *body, size_t len);

/* queue_inject for a worker thread (Sieve's redirects and replies made
 * during a local delivery): the message is committed, durable, before it
 * returns.  The active file's path (malloc'd), which the local delivery's
 * outcome brings back to the loop to be delivered (local_outcome.queued);
 * NULL (logged) when it could not be queued.  A crash before that hand-off
 * leaves the file for queue_recover. */
char *queue_commit_now(queue *q, const qenvelope *env, const char *body, size_t len);

/* Start a message: env must have id, time, sender, client, helo, auth and
 * recipients set.  NULL (errno set) if the staging file cannot be made. */
spool *spool_begin(queue *q, const qenvelope *env);
/* Append message bytes (LF line ends).  Buffered; errors are remembered and
 * reported by spool_commit, so callers may ignore the result. */
bool spool_write(spool *s, const char *data, size_t n);
/* The first write error (an errno, for example ENOSPC), 0 if none. */
int spool_error(const spool *s);
/* Bytes of message written so far. */
size_t spool_size(const spool *s);
/* Look at the message spooled so far: work(arg, msg, len) runs on a worker
 * with its bytes (valid during the call; msg NULL when they cannot be read
 * back), then done(arg) on the loop.  No spool_write meanwhile. */
void spool_inspect(spool *s, void (*work)(void *arg, const char *msg, size_t len),
                   void (*done)(void *arg), void *arg);
/* Put text (whole header fields, LF line ends) before the message, as part
 * of it (DKIM-Signature, Authentication-Results); before spool_commit. */
void spool_prepend(spool *s, const char *text, size_t len);
/* Leave msg[start, end) out (a header field of the message as written:
 * an Authentication-Results field that claims to be ours); before
 * spool_commit (see spool_replace for the order). */
void spool_drop(spool *s, size_t start, size_t end);
/* Put text[0, len) (LF line ends) in place of msg[start, end); start ==
 * end inserts (header fields after our Received field).  Shares one list
 * with spool_drop, kept in order of start whatever the order of the calls
 * (an insertion at an offset comes before a range that starts there;
 * insertions at one offset keep their order); an edit that overlaps one
 * given before is left out (the first wins), so that two parts of the
 * server editing the same field never corrupt the message. */
typedef struct spool_edit {
	size_t start, end;
	char *text;
	size_t len;
} spool_edit;
void spool_replace(spool *s, size_t start, size_t end, const char *text, size_t len);
/* Local recipients get the message in their Junk folder (a quarantine). */
void spool_mark_junk(spool *s);
/* The message waits in the queue, delivered to no one, until `yubin queue
 * release` (or bounce, or delete). */
void spool_mark_hold(spool *s);
/* Write env (its recipients changed: a policy's BCC or redirect) in place
 * of the envelope given to spool_begin; same id and time. */
void spool_set_envelope(spool *s, const qenvelope *env);
/* Finish and make durable.  done(arg, error) runs on the loop thread once
 * the message is durable (error 0) or has failed (error is the errno, for
 * example ENOSPC; the file is removed under both names).  The spool is
 * consumed. */
void spool_commit(spool *s, void (*done)(void *arg, int error), void *arg);
/* Throw the message away (unlink staging). */
void spool_abort(spool **s);

#endif
