/* format.c — messages on the POP3 wire (see format.h). */
#include "pop3/format.h"

#include <string.h>

void pop3_format_message(const char *msg, size_t len, long body_lines, buf *out)
{
	const char *p = msg, *end = msg + len;
	bool in_body = false;
	long body_left = body_lines;
	while (p < end) {
		if (in_body && body_lines >= 0 && body_left-- <= 0)
			break;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t text = n > 0 && p[n - 1] == '\r' ? n - 1 : n; /* CRLF kept as one end */
		if (text > 0 && p[0] == '.')
			buf_putc(out, '.');
		buf_append(out, p, text);
		buf_append(out, "\r\n", 2);
		if (!in_body && text == 0)
			in_body = true; /* the blank line after the header */
		p += n + (nl ? 1 : 0);
	}
	buf_append(out, ".\r\n", 3);
}
