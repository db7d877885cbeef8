/* crlf.h — the two forms of a stored message.  Messages are stored with LF
 * line ends (Maildir) but IMAP counts and sends them with CRLF.  Every offset
 * in src/mime is an offset into the stored bytes; these helpers turn a range
 * of stored bytes into its CRLF form: its size, its line count, and the bytes
 * themselves.  A bare LF counts as CRLF; an existing CRLF stays as it is; a
 * bare CR is left alone.  Only bytes inside the range are looked at. */
#ifndef YUBIN_MIME_CRLF_H
#define YUBIN_MIME_CRLF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Octets of data[start, end) once every bare LF has become CRLF. */
size_t mime_crlf_size(const char *data, size_t start, size_t end);

/* Text lines in data[start, end): the number of LFs, plus one when the range
 * is not empty and its last line has no line end (a body cut by a boundary
 * delimiter, whose CRLF belongs to the delimiter, still counts its last
 * line).  Same in both forms. */
size_t mime_lines(const char *data, size_t start, size_t end);

/* Append the CRLF form of data[start, end) to out; false when out's maximum
 * would be passed (out then holds a prefix). */
bool mime_crlf_append(buf *out, const char *data, size_t start, size_t end);

#endif
