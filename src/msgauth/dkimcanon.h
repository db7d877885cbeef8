/* dkimcanon.h — the canonicalization algorithms of RFC 6376 3.4: "simple"
 * and "relaxed", for one header field and for a body.  Input is the message
 * as stored, with LF or CRLF line ends; output always has CRLF.  Pure: no
 * hashing here (the body goes to a sink, so the hasher can count and cut
 * at l=). */
#ifndef YUBIN_MSGAUTH_DKIMCANON_H
#define YUBIN_MSGAUTH_DKIMCANON_H

#include <stddef.h>

#include "lib/buf.h"
#include "msgauth/dkimtags.h"

/* Append the canonical form of one header field to out, with its CRLF.
 * field[0, len) runs from the field name to the end of its last line,
 * without that line's line end.  False only when out is full. */
bool dkim_canon_header(buf *out, const char *field, size_t len, dkim_canon c);

/* Receives the canonical body in pieces. */
typedef void dkim_sink(void *arg, const char *data, size_t n);

/* Canonicalize body[0, len) into sink: line ends become CRLF, trailing
 * empty lines go, an unterminated last line gets a CRLF; simple turns an
 * empty body into one CRLF, relaxed also drops blanks at line ends and
 * folds runs of blanks into one space. */
void dkim_canon_body(const char *body, size_t len, dkim_canon c, dkim_sink *sink, void *arg);

#endif
