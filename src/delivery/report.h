/* report.h — sending a delivery report (a DSN that dsn.c has built) back
 * to the envelope sender of the message it is about.  The report is queued
 * as a new message with the null sender, so it can never cause a report of
 * its own: to the sender's mailboxes when the sender's domain is local
 * (through its aliases), to the sender's address otherwise.  Deciding
 * whether a report is due, and its bytes, are the callers' business. */
#ifndef YUBIN_REPORT_H
#define YUBIN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "auth/accounts.h"
#include "queue/queue.h"

typedef struct report_ctx {
	queue *q;
	accounts *acc;
	const char *hostname;     /* our HELO in the report's envelope */
	bool requiretls;          /* the report is about a REQUIRETLS message: it
	                           * is queued with REQUIRETLS too (RFC 8689 5) */
} report_ctx;

/* Queue msg (LF line ends) to sender, about the message about_qid; kind
 * ("failed", "delayed", "delivered"...) and recipients are for the log
 * line.  Logs the outcome; false when nothing was queued (no sender, a
 * sender that does not resolve, or a queue failure). */
bool report_send(const report_ctx *ctx, const char *about_qid, const char *sender, const char *kind,
                 size_t recipients, const char *msg, size_t len);

/* The queue's report handler (queue_set_report_handler): arg is a report_ctx. */
void report_on_queue(void *arg, const char *about_qid, const char *sender, const char *kind, size_t recipients,
                     const char *msg, size_t len, bool requiretls);

#endif
