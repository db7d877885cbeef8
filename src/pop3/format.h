/* format.h — a stored message (LF or CRLF line ends, as Maildir holds it)
 * as POP3 sends it (RFC 1939 3): CRLF line ends, a leading '.' doubled, a
 * last line without a line end given one, and the terminating ".\r\n"; for
 * TOP, the header, the blank line and the first n lines of the body.
 *
 * Incremental, so that RETR and TOP can stream a message of any size: the
 * message is fed in pieces of any length (one byte at a time works), and
 * the state carried between pieces says where the last piece left off (at
 * a line start or inside a line, behind a CR that may be the start of a
 * CRLF, in the header or the body, how many body lines TOP still sends).
 * Pure: no I/O. */
#ifndef YUBIN_POP3_FORMAT_H
#define YUBIN_POP3_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

typedef struct pop3_format {
	long body_left; /* TOP: body lines still to send; < 0 for RETR (all) */
	bool in_body;   /* the blank line that ends the header was seen */
	bool in_line;   /* a line has begun: some byte of it was seen */
	bool text;      /* ... and it holds text, not counting a CR held back */
	bool cr;        /* the last byte was a CR, held back: a CRLF's, or text? */
	bool done;      /* TOP has sent all its lines: the rest is not needed */
} pop3_format;

/* The most output that feeding len bytes, and then pop3_format_end, can
 * append (a held CR, every byte a doubled '.' or an LF made CRLF, the end). */
#define POP3_FORMAT_MAX(len) (2 * (size_t)(len) + 8)

/* body_lines < 0: the whole message (RETR); else TOP's line count. */
void pop3_format_init(pop3_format *f, long body_lines);
/* Append the wire form of the next len bytes of the message to out.  False
 * when out would pass its maximum (see POP3_FORMAT_MAX); out then holds
 * part of it, and the message cannot go on. */
bool pop3_format_feed(pop3_format *f, const char *data, size_t len, buf *out)
	__attribute__((warn_unused_result));
/* True once TOP has all it sends: what follows is not needed (and ignored
 * by pop3_format_feed).  Always false for RETR. */
bool pop3_format_done(const pop3_format *f);
/* The message has ended (or TOP is done): a last line without a line end
 * gets its CRLF, then ".\r\n".  False when out would pass its maximum. */
bool pop3_format_end(pop3_format *f, buf *out) __attribute__((warn_unused_result));

#endif
