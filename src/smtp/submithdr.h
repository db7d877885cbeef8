/* submithdr.h — the header of a message an authenticated user submits, as
 * the submission server must look at it (RFC 6409 8, RFC 5322 3.6): who it
 * claims to be from (the From mailboxes and the Sender mailbox, which must
 * all be the user's to send as), the Bcc fields to remove (as Postfix's
 * cleanup does), and whether Date, Message-ID and From are there (the MSA
 * adds what is missing, RFC 6409 8.2 and 8.3).  Pure: reads the bytes, no
 * account look-ups (the caller asks the account store), no I/O. */
#ifndef YUBIN_SMTP_SUBMITHDR_H
#define YUBIN_SMTP_SUBMITHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/strutil.h"

typedef enum submithdr_status {
	SUBMITHDR_OK,
	SUBMITHDR_FIELDS,        /* more than one From field, or more than one Sender */
	SUBMITHDR_NO_MAILBOX,    /* a From without a mailbox (an empty group, an
	                          * address without a domain), or a Sender with
	                          * other than exactly one mailbox */
	SUBMITHDR_NEEDS_SENDER,  /* several From mailboxes and no Sender field
	                          * (RFC 5322 3.6.2 requires one then) */
} submithdr_status;

typedef struct submithdr {
	submithdr_status status;
	/* On OK: every mailbox of the From field (group members count; a
	 * quoted local part is unquoted), then the Sender's, as local@domain;
	 * the user must be allowed to send as each.  n_from of them are From's. */
	strlist authors;
	size_t n_from;
	bool has_from;
	bool has_sender;
	bool has_date;
	bool has_message_id;
	/* The Bcc and Resent-Bcc fields (whole, with their continuation
	 * lines) as byte ranges of the message, top down. */
	size_t (*bcc)[2];
	size_t n_bcc;
} submithdr;

/* Scan the header block of msg[0, len) (LF or CRLF line ends) into h (which
 * it initialises; free it with submithdr_free). */
void submithdr_scan(const char *msg, size_t len, submithdr *h);
void submithdr_free(submithdr *h);

/* The fields an MSA adds to a message that lacks them (LF line ends), onto
 * out: From with the envelope sender (a message without From is given the
 * address the user authenticated for, rather than refused; RFC 5322 3.6
 * requires a From), Date (now, UTC, RFC 5322 3.3) and Message-ID
 * (<qid.random@hostname>: the queue id is unique on this host, 64 random
 * bits make it unique across hosts sharing a name by mistake; RFC 5322
 * 3.6.4, RFC 6409 8.3).  False when out is full (cut back to its length). */
bool submithdr_missing_fields(const submithdr *h, const char *sender, const char *hostname,
                              const char *qid, time_t now, buf *out);

#endif
