/* dsn.h — delivery status notifications (RFC 3464, RFC 3462 multipart/report,
 * RFC 6522): the bounce, delay-warning or success report that goes back to
 * the envelope sender.  Pure: builds bytes from facts; deciding when to send one
 * is the scheduler's job. */
#ifndef YUBIN_DSN_H
#define YUBIN_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

/* The Action field (RFC 3464 2.3.3). */
typedef enum dsn_action {
	DSN_ACTION_FAILED = 0,    /* given up */
	DSN_ACTION_DELAYED,       /* still trying */
	DSN_ACTION_DELIVERED,     /* in the recipient's mailbox (NOTIFY=SUCCESS) */
	DSN_ACTION_RELAYED,       /* handed to a server that sends no DSNs (NOTIFY=SUCCESS) */
} dsn_action;

typedef struct dsn_rcpt {
	const char *address;      /* final recipient (rfc822;...) */
	const char *orig;         /* original recipient (ORCPT), NULL if none */
	dsn_action action;
	const char *status;       /* RFC 3463 code, e.g. "5.1.1" */
	const char *remote_mta;   /* host name that answered, NULL if none */
	const char *diagnostic;   /* what a remote server replied, e.g. "550 5.1.1 No such
	                           * user"; NULL when no server said anything (RFC 3464
	                           * 2.3.6: the Diagnostic-Code is the transport's own) */
	const char *reason;       /* our own explanation (a DNS failure, a refused
	                           * connection, the queue lifetime over...): it goes
	                           * in the human-readable part only; NULL if none */
	time_t last_attempt;      /* 0 if never attempted */
	time_t will_retry_until;  /* for delayed recipients: when we give up */
} dsn_rcpt;

typedef struct dsn_info {
	const char *reporting_mta;   /* our host name */
	const char *qid;             /* queue id of the original message */
	const char *envid;           /* ENVID (RFC 3461), decoded; NULL if none */
	const char *sender;          /* envelope sender: the To: of the report */
	time_t arrival;              /* when we accepted the original */
	time_t now;                  /* Date: of the report */
	bool headers_only;           /* attach only the headers: RET=HDRS or no RET, and
	                              * every report that is not about a failure */
} dsn_info;

/* Append t as an RFC 5322 date-time in UTC ("Sun, 06 Dec 2026 14:46:02
 * +0000"), with English names whatever the locale.  False when out is full. */
bool dsn_put_date(buf *out, time_t t);

/* Build the whole report message into out, with LF line ends (the spool's
 * convention): From: MAILER-DAEMON@reporting_mta, To: sender, Subject (by
 * the gravest action: failed, then delayed, then delivered / relayed),
 * Date, Message-ID, Auto-Submitted: auto-replied, MIME-Version, a
 * multipart/report; report-type=delivery-status body with (1) a text/plain
 * part a person can read (the recipients grouped by action, the remote
 * server's exact reply and our own reason), (2) message/delivery-status
 * (per-message and per-recipient fields; "Diagnostic-Code: smtp; ..." only
 * for a remote reply, our reasons are told by the Status code), (3) text/rfc822-headers with the original
 * header block, or message/rfc822 with the whole original when
 * !headers_only.  original is the message as queued (LF line ends).
 * False when out's maximum is reached. */
bool dsn_build(const dsn_info *info, const dsn_rcpt *rcpts, size_t n_rcpts,
               const char *original, size_t original_len, buf *out);

#endif
