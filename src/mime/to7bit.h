/* to7bit.h — turning a message with 8-bit content into pure 7-bit MIME for
 * a server that does not offer 8BITMIME (RFC 6152 3, RFC 1652 3): every
 * leaf whose body has 8-bit bytes in an identity encoding (7bit, 8bit,
 * binary or none) is re-encoded, quoted-printable for text that is mostly
 * ASCII, base64 for the rest; its Content-Transfer-Encoding is replaced.
 * Multiparts are walked (boundaries, and every part without 8-bit bytes,
 * are copied byte for byte), and a message/rfc822 with 8-bit content is
 * converted inside and marked 7bit.  Pure: bytes in, bytes out, LF line
 * ends in and out (the spool's convention; the decoded content of an
 * encoded part is the CRLF wire form, as it would have arrived).
 *
 * Not convertible (the caller returns the message, RFC 3463 5.6.3): 8-bit
 * bytes in any header field (RFC 2047 words cannot say which charset raw
 * bytes were, and an address must not be rewritten), and 8-bit content in
 * a part that may carry no encoding but 7bit/8bit/binary (RFC 2046 5:
 * a multipart whose boundary cannot be found, message/partial,
 * message/external-body...) or that already claims an encoding we do not
 * know. */
#ifndef YUBIN_MIME_TO7BIT_H
#define YUBIN_MIME_TO7BIT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

typedef enum to7bit_status {
	TO7BIT_CLEAN,       /* no 8-bit byte anywhere: nothing to do, out untouched */
	TO7BIT_CONVERTED,   /* out holds the 7-bit message */
	TO7BIT_HEADER,      /* 8-bit bytes in a header field */
	TO7BIT_STRUCTURE,   /* 8-bit content where no encoding may be applied */
	TO7BIT_TOO_BIG,     /* out's maximum was reached */
} to7bit_status;

/* Quoted-printable lines are at most this long, the soft break included
 * (RFC 2045 6.7 rule 5), and so are base64 lines. */
#define TO7BIT_LINE 76


/* Convert msg[0, len) (LF line ends) into out (appended).  On anything but
 * TO7BIT_CONVERTED out is as it was.  *why_r (static text) names the part
 * that could not be converted, for the bounce. */
to7bit_status to7bit_convert(const char *msg, size_t len, buf *out, const char **why_r);

/* The encoders, for tests and for other writers of MIME: body[0, len)
 * with LF line ends, appended to out with LF line ends.  Quoted-printable
 * keeps the line structure (each LF a hard line break), encodes '=',
 * controls, bytes >= 0x80 and white space at a line end, breaks long lines
 * with soft breaks and never starts a continuation line with '-' (so no
 * encoded line can look like a boundary delimiter) nor any line with
 * "From ".  Base64 encodes the CRLF form of body (each LF as CR LF) in
 * lines of TO7BIT_LINE characters, ending with an LF when body does.
 * False when out's maximum is reached. */
bool to7bit_qp(const char *body, size_t len, buf *out);
bool to7bit_base64(const char *body, size_t len, buf *out);

#endif
