/* local.h — the local delivery agent: takes one committed queue file and
 * delivers each of its local recipients into their Maildir, marking each
 * done in the queue file, and removes the file when nothing is left for it.
 * Runs on a worker thread; reads the queue file afresh, so it is the same
 * code after a normal acceptance and after a crash.  For recipients that
 * asked for it (NOTIFY=SUCCESS) it builds the success report; queueing that
 * report is the loop's job (queue.c), since it needs the queue. */
#ifndef YUBIN_LOCAL_H
#define YUBIN_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct local_outcome {
	size_t delivered;       /* written now */
	size_t already;         /* found delivered by an earlier run */
	size_t failed;          /* left pending after an error */
	size_t remote;          /* remote recipients still queued */
	time_t next_attempt;    /* when they are due (0: now) */
	bool removed;           /* the queue file is gone: fully delivered */
	size_t held;            /* recipients waiting because the message is held */
	char *report;           /* success DSN to send (malloc'd, LF line ends), or NULL */
	size_t report_len;
	size_t report_rcpts;    /* recipients it is about */
	char *report_to;        /* the envelope sender, malloc'd */
	char *qid;              /* the message's queue id, malloc'd (when parsed) */
	const char *refused;    /* the file is damaged: why (static), else NULL */
} local_outcome;

/* Free what an outcome holds. */
void local_outcome_free(local_outcome *out);

/* Deliver the pending local recipients of the queue file qpath.  recovering
 * also looks in new/ and cur/ for a delivery that happened just before a
 * crash, so that nothing is delivered twice.  False when the file cannot be
 * read or parsed (it is then left alone and logged). */
bool local_deliver(const char *qpath, const char *mail_root, const char *hostname,
                   bool recovering, local_outcome *out_r);

/* The queue id in the name of a Maildir file local delivery wrote
 * ("<arrival>.Y<qid>R<index>.<host>[:2,flags]"), into qid_r (QID_LEN + 1
 * bytes): how a stored message is traced back to the audit trail.  False
 * for a name of any other shape (an APPEND, a copy). */
bool local_file_qid(const char *file, char *qid_r);

#endif
