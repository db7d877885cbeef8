/* autoreply.h — the messages a Sieve script sends in the recipient's name:
 * the vacation reply (RFC 5230 4, 6; RFC 3834 3) and the refusal of the
 * reject action, a message disposition notification (RFC 5429 2.2, RFC
 * 8098).  (ereject's refusal is a delivery status notification: dsn.c.)
 * Pure: bytes out with LF line ends (the spool's convention); who gets
 * them, and whether one is due, are sievedeliver.c's business. */
#ifndef YUBIN_DELIVERY_AUTOREPLY_H
#define YUBIN_DELIVERY_AUTOREPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "sieve/sieve.h"

typedef struct autoreply_info {
	const char *hostname;   /* for the Message-ID and the Reporting-UA */
	const char *user;       /* whose script it is: the default From, the Final-Recipient */
	const char *to;         /* the envelope sender, who gets it */
	time_t now;
} autoreply_info;

/* The reply for v to the message msg[0, len): From (:from or the user),
 * To, Subject (:subject, else "Auto: " and the original's subject
 * decoded), Date, Message-ID, In-Reply-To and References (RFC 3834 3.1.5),
 * Auto-Submitted: auto-replied (vacation), then the reason: as the whole
 * MIME entity with :mime, else text/plain in UTF-8 (quoted-printable when
 * not plain ASCII).  Header text that is not ASCII as RFC 2047 words. */
void autoreply_vacation(const autoreply_info *i, const sieve_vacation *v, const char *msg, size_t len,
                        buf *out);

/* The refusal of reject: multipart/report; report-type=disposition-notification
 * with the reason for people, the message/disposition-notification part
 * (Reporting-UA, Final-Recipient, Original-Message-ID, Disposition:
 * automatic-action/MDN-sent-automatically; deleted) and the original's
 * header (text/rfc822-headers), From the MAILER-DAEMON of hostname. */
void autoreply_refusal(const autoreply_info *i, const char *reason, const char *msg, size_t len, buf *out);

#endif
