/* compose.h — a correct MIME message (RFC 5322, 2045-2047, 2231) built
 * from a checked api_msg (api/msgjson.h).  Pure: bytes out, LF line ends
 * (the spool's convention; the SMTP client sends CRLF).
 *
 * What it writes:
 *   - the header: From, Sender-less; To, Cc (never Bcc: those recipients
 *     are envelope-only), Reply-To, Subject, Date (UTC), Message-ID
 *     (<32 hex random@hostname>), MIME-Version, then the extra fields,
 *     X-Yubin-Tags and X-Yubin-Meta-<key> fields;
 *   - display names, the subject and extra values that are not plain
 *     printable ASCII as RFC 2047 encoded-words (UTF-8, B encoding), each
 *     at most 75 characters, split between whole characters, folded one
 *     per line when they do not fit; plain ASCII folded at blanks; header
 *     lines at most 78 characters where the text allows (a quoted name or
 *     a word longer than a line stays whole), never more than 998;
 *   - the body: text/plain alone; text/plain and text/html in
 *     multipart/alternative (a text alternative made from the html when
 *     only html is given: compose_html_to_text); multipart/mixed around it
 *     when there are attachments.  Text parts are as they are
 *     (7bit, US-ASCII) when they are printable ASCII in lines of at most
 *     76 without white space at the end and without "=_", else UTF-8 in
 *     quoted-printable (lines of at most 76); attachments are base64 in
 *     lines of 76, named with filename= or, for names that are not plain
 *     ASCII, RFC 2231 filename*= (continued in parts of a line each);
 *   - boundaries "=_yubin_" + 32 random hex digits: "=_" cannot occur in
 *     our 7bit, quoted-printable or base64 text, nor in our header lines,
 *     so no boundary can appear in a part. */
#ifndef YUBIN_API_COMPOSE_H
#define YUBIN_API_COMPOSE_H

#include <stddef.h>
#include <time.h>

#include "api/msgjson.h"
#include "lib/buf.h"

typedef struct compose_opts {
	const char *hostname;           /* for the Message-ID */
	time_t now;                     /* for the Date */
	const unsigned char *random;    /* 16 bytes for the Message-ID and the
	                                 * boundaries (tests); NULL: RAND_bytes */
} compose_opts;

/* Append the message to out (unbounded); *message_id_r gets the
 * Message-ID with its angle brackets (malloc'd). */
void compose_message(const api_msg *m, const compose_opts *o, buf *out, char **message_id_r);

/* ---- the pieces, for tests ---- */

/* A text for a text/plain alternative to html: tags dropped (with the
 * contents of <script>, <style> and <head>), <br>, </p>, </div>, </li>,
 * </tr>, </h1..6> as line ends, runs of blanks as one space, the five XML
 * entities, &nbsp; and numeric character references decoded (others kept
 * as written), at most two line ends in a row. */
void compose_html_to_text(const char *html, buf *out);
/* data[0, len) in base64, lines of 76, each ending with LF. */
void compose_base64(buf *out, const char *data, size_t len);
/* A parameter "; name=value" on lines of its own: quoted when value is
 * plain ASCII that fits, else RFC 2231 name*=UTF-8''... (name*0*=,
 * name*1*=, ... when it takes more than one line). */
void compose_param(buf *out, const char *name, const char *value);

#endif
