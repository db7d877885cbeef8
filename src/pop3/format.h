/* format.h — a stored message (LF line ends, as Maildir holds it) as POP3
 * sends it (RFC 1939 3): CRLF line ends, a leading '.' doubled, and the
 * terminating ".\r\n"; for TOP, the header, the blank line and the first n
 * lines of the body.  Pure. */
#ifndef YUBIN_POP3_FORMAT_H
#define YUBIN_POP3_FORMAT_H

#include <stddef.h>

#include "lib/buf.h"

/* body_lines < 0: the whole message (RETR); else TOP's line count. */
void pop3_format_message(const char *msg, size_t len, long body_lines, buf *out);

#endif
