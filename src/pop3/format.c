/* format.c — messages on the POP3 wire, piece by piece (see format.h).
 * A line is everything up to an LF; a CR right before the LF belongs to
 * the line end (CRLF stays one line end), any other CR is text.  A CR at
 * the end of a piece is held back until the next byte tells which it is. */
#include "pop3/format.h"

void pop3_format_init(pop3_format *f, long body_lines)
{
	*f = (pop3_format){.body_left = body_lines < 0 ? -1 : body_lines};
}

bool pop3_format_done(const pop3_format *f)
{
	return f->done;
}

/* A new line begins with byte c: TOP may be done; a leading '.' is
 * doubled.  False when out is full. */
static bool line_start(pop3_format *f, char c, buf *out)
{
	if (f->in_body && f->body_left >= 0 && f->body_left-- == 0) {
		f->done = true;
		return true;
	}
	f->in_line = true;
	return c != '.' || buf_putc(out, '.');
}

static bool line_end(pop3_format *f, buf *out)
{
	if (!f->in_body && !f->text)
		f->in_body = true; /* the blank line after the header */
	f->in_line = f->text = f->cr = false;
	return buf_append(out, "\r\n", 2);
}

bool pop3_format_feed(pop3_format *f, const char *data, size_t len, buf *out)
{
	const char *p = data, *end = data + len;
	while (p < end && !f->done) {
		if (!f->in_line) {
			if (!line_start(f, *p, out))
				return false;
			if (f->done)
				break;
		}
		if (*p == '\n') {
			if (!line_end(f, out))
				return false;
			p++;
			continue;
		}
		if (f->cr) { /* the CR held back was text */
			if (!buf_putc(out, '\r'))
				return false;
			f->cr = false;
			f->text = true;
		}
		if (*p == '\r') {
			f->cr = true;
			p++;
			continue;
		}
		const char *q = p;
		while (q < end && *q != '\n' && *q != '\r')
			q++;
		if (!buf_append(out, p, (size_t)(q - p)))
			return false;
		f->text = true;
		p = q;
	}
	return true;
}

bool pop3_format_end(pop3_format *f, buf *out)
{
	/* a last line without LF: a CR held back is its line end's */
	if (f->in_line && !line_end(f, out))
		return false;
	f->done = true;
	return buf_append(out, ".\r\n", 3);
}
