/* dotstream.c — DATA / BDAT byte decoder (see dotstream.h).  A five-state
 * machine; only a CRLF (never a bare CR or LF) returns it to
 * beginning-of-line, the only state in which a dot can end the data. */
#include "smtp/dotstream.h"

enum {
	S_BOL,      /* just after CRLF (or at the start of data) */
	S_DOT,      /* "." at the beginning of a line */
	S_DOT_CR,   /* ".\r" at the beginning of a line */
	S_MID,      /* inside a line */
	S_CR,       /* "\r" inside a line */
	S_RAW_MID,  /* BDAT: inside a line */
	S_RAW_CR,   /* BDAT: "\r" seen */
};

void dotstream_init(dotstream *d)
{
	d->state = S_BOL;
	d->wire_bytes = 0;
	d->bare_eol = false;
}

void dotstream_init_raw(dotstream *d)
{
	dotstream_init(d);
	d->state = S_RAW_MID;
}

size_t dotstream_feed(dotstream *d, const char *in, size_t n, char *out,
                      size_t *out_len_r, bool *end_r)
{
	size_t o = 0, i;
	*end_r = false;
	for (i = 0; i < n; i++) {
		char c = in[i];
		switch (d->state) {
		case S_BOL:
			if (c == '.') {
				d->state = S_DOT;
				break;
			}
			/* fall through: the rest of the line is ordinary */
			d->state = S_MID;
			/* FALLTHROUGH */
		case S_MID:
		case S_RAW_MID:
			if (c == '\r') {
				d->state = d->state == S_RAW_MID ? S_RAW_CR : S_CR;
			} else {
				if (c == '\n')
					d->bare_eol = true; /* kept as data; never a line end */
				out[o++] = c;
			}
			break;
		case S_DOT:
			if (c == '\r') {
				d->state = S_DOT_CR;
			} else {
				/* dot-stuffed line: drop the leading dot (4.5.2) */
				if (c == '\n')
					d->bare_eol = true;
				out[o++] = c;
				d->state = S_MID;
			}
			break;
		case S_DOT_CR:
			if (c == '\n') {
				d->wire_bytes += i + 1;
				*out_len_r = o;
				*end_r = true;
				d->state = S_BOL;
				return i + 1;
			}
			/* ".\r" then not LF: a bare CR after a stuffing dot */
			d->bare_eol = true;
			out[o++] = '\r';
			d->state = S_MID;
			i--; /* re-read c inside the line */
			break;
		case S_CR:
		case S_RAW_CR:
			if (c == '\n') {
				out[o++] = '\n';
				d->state = d->state == S_RAW_CR ? S_RAW_MID : S_BOL;
			} else {
				d->bare_eol = true;
				out[o++] = '\r';
				d->state = d->state == S_RAW_CR ? S_RAW_MID : S_MID;
				i--; /* re-read c inside the line */
			}
			break;
		}
	}
	d->wire_bytes += n;
	*out_len_r = o;
	return n;
}

void dotstream_finish_raw(dotstream *d)
{
	if (d->state == S_RAW_CR)
		d->bare_eol = true;
	d->state = S_RAW_MID;
}
