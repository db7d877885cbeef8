/* dotstream.h — the DATA decoder (RFC 5321 4.1.1.4, 4.5.2): finds the one
 * and only end of data, <CRLF>.<CRLF>, removes dot-stuffing, turns CRLF into
 * LF for the spool, and notices bare CR and bare LF.  A bare CR or LF never
 * starts a new line, so "<LF>.<LF>", "<LF>.<CRLF>", "<CR>.<CR>" and the rest
 * of the smuggling family cannot end the message early.  Incremental: input
 * may arrive in pieces of any size, down to one byte. */
#ifndef YUBIN_SMTP_DOTSTREAM_H
#define YUBIN_SMTP_DOTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dotstream {
	int state;
	uint64_t wire_bytes;   /* bytes consumed, including the end sequence */
	bool bare_eol;         /* a bare CR or bare LF was seen */
} dotstream;

void dotstream_init(dotstream *d);
/* Decode in[0..n).  Writes the decoded bytes to out (capacity >= n + 2) and
 * sets *out_len_r.  Returns the number of input bytes consumed: all of them,
 * or fewer when the end of data was found (then *end_r is true and the rest
 * of the input belongs to the next command). */
size_t dotstream_feed(dotstream *d, const char *in, size_t n, char *out,
                      size_t *out_len_r, bool *end_r);

/* The same line-ending rules for BDAT chunks, which carry no dot-stuffing:
 * CRLF becomes LF, bare CR / LF set bare_eol.  Never ends by itself. */
void dotstream_init_raw(dotstream *d);

/* End of the last BDAT chunk: a CR still waiting for its LF is a bare CR. */
void dotstream_finish_raw(dotstream *d);

#endif
