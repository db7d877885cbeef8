/* workers.h — a small thread pool for work that must not run on the event
 * loop (password hashing, fsync, Maildir writes).  A job's work function runs
 * on a worker thread; its done function then runs on the loop thread.  All
 * jobs that finished while the loop was busy are completed in one batch, so
 * their replies leave together (the group-commit half that the loop owns).
 *
 * Two lanes.  Most jobs wait on the disk (fsync, Maildir writes) or are
 * deliberately slow (password hashing); under load every general thread
 * can be inside an fsync.  Short jobs a client is waiting for that never
 * wait on the disk (reading back a just-written spool file, DKIM signing,
 * turning API JSON into a message) go in the quick lane: the general
 * threads take them first, and a few threads of the pool's own take only
 * them, so they never queue behind the commits. */
#ifndef YUBIN_WORKERS_H
#define YUBIN_WORKERS_H

#include <event2/event.h>

typedef struct workers workers;
typedef void workers_fn(void *arg);

/* Start n general threads and n_quick quick-lane threads (0 for none) that
 * report completions into base. */
workers *workers_new(struct event_base *base, int n, int n_quick);
/* Queue a job.  work runs on a worker thread, then done (may be NULL) on
 * the loop thread.  arg belongs to the caller throughout. */
void workers_submit(workers *w, workers_fn *work, workers_fn *done, void *arg);
/* The same in the quick lane: for work that is short, waited for by a
 * client, and never blocks on the disk, the network or a lock held long. */
void workers_submit_quick(workers *w, workers_fn *work, workers_fn *done, void *arg);
/* Jobs submitted and not yet completed on the loop. */
unsigned workers_pending(const workers *w);
/* Finish every queued job (running their done functions), stop the threads
 * and free the pool. */
void workers_free(workers **w);

#endif
