/* local.h — the local delivery agent: takes one committed queue file and
 * delivers each of its local recipients into their Maildir, marking each
 * done in the queue file, and removes the file when nothing is left for it.
 * Runs on a worker thread; reads the queue file afresh, so it is the same
 * code after a normal acceptance and after a crash.  For recipients that
 * asked for it (NOTIFY=SUCCESS) it builds the success report; queueing that
 * report is the loop's job (queue.c), since it needs the queue.
 *
 * A recipient whose mailbox is over its quota (store/quotabook.h) is not
 * written: it stays pending with a "defer" record (4.2.2) and is tried
 * again with the other failed local deliveries; once the message is older
 * than the lifetime it fails with 5.2.2 and a failure report (NOTIFY
 * permitting) goes back to the sender, in the same report as any success
 * reports of that run.  As with those, the queue file goes before the
 * report is committed: a crash in between loses the report (logged as
 * bounced), never a message still waiting.  After each write the
 * account's 90 % warning state is brought up to date, and a warning
 * delivered when one is due.
 *
 * When the account has an active Sieve script, the script decides where
 * the copies go and what is sent (delivery/sievedeliver.h); the copies
 * share the one file name, so a repeated run finds each of them. */
#ifndef YUBIN_LOCAL_H
#define YUBIN_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/strutil.h"

struct quota_book;
struct sieve_delivery;

/* What local delivery needs besides the queue file. */
typedef struct local_ctx {
	const char *mail_root;
	const char *hostname;
	struct quota_book *quota;  /* account quotas (store/quotabook.h); NULL: none */
	int lifetime;              /* seconds a message may wait for room in a full
	                            * mailbox before it bounces (delivery.lifetime) */
	struct sieve_delivery *sieve; /* runs the accounts' Sieve scripts
	                            * (delivery/sievedeliver.h); NULL: none run */
} local_ctx;

typedef struct local_outcome {
	size_t delivered;       /* written now */
	size_t bounced;         /* failed for good now (a mailbox full past the lifetime) */
	size_t already;         /* found delivered by an earlier run */
	size_t failed;          /* left pending after an error */
	size_t remote;          /* remote recipients still queued */
	time_t next_attempt;    /* when they are due (0: now) */
	bool removed;           /* the queue file is gone: fully delivered */
	size_t held;            /* recipients waiting because the message is held */
	char *report;           /* DSN to send (malloc'd, LF line ends), or NULL */
	const char *report_kind; /* "delivered" or "failed" (its gravest action), static */
	size_t report_len;
	size_t report_rcpts;    /* recipients it is about */
	char *report_to;        /* the envelope sender, malloc'd */
	bool report_requiretls; /* about a REQUIRETLS message: queued REQUIRETLS too */
	char *qid;              /* the message's queue id, malloc'd (when parsed) */
	const char *refused;    /* the file is damaged: why (static), else NULL */
	strlist queued;         /* files Sieve queued (redirects, replies): the
	                         * queue delivers them (queue_commit_now) */
} local_outcome;

/* Free what an outcome holds. */
void local_outcome_free(local_outcome *out);

/* Deliver the pending local recipients of the queue file qpath.  recovering
 * also looks in new/ and cur/ for a delivery that happened just before a
 * crash, so that nothing is delivered twice.  False when the file cannot be
 * read or parsed (it is then left alone and logged). */
bool local_deliver(const char *qpath, const local_ctx *ctx, bool recovering, local_outcome *out_r);

/* The queue id in the name of a Maildir file local delivery wrote
 * ("<arrival>.Y<qid>R<index>.<host>[:2,flags]"), into qid_r (QID_LEN + 1
 * bytes): how a stored message is traced back to the audit trail.  False
 * for a name of any other shape (an APPEND, a copy). */
bool local_file_qid(const char *file, char *qid_r);

#endif
