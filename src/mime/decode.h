/* decode.h — Content-Transfer-Encoding decoders (RFC 2045 6.7 and 6.8) for
 * IMAP BINARY (RFC 3516).  Input is a range of stored bytes; output is
 * appended to a buf.  Decoding is tolerant, as RFC 2045 asks: characters
 * outside the base64 alphabet are ignored, a "=" that starts no valid
 * escape in quoted-printable is kept as it is. */
#ifndef YUBIN_MIME_DECODE_H
#define YUBIN_MIME_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

typedef enum mime_cte {
	MIME_CTE_IDENTITY,   /* absent, 7bit, 8bit, binary */
	MIME_CTE_BASE64,
	MIME_CTE_QP,
	MIME_CTE_UNKNOWN,    /* IMAP answers [UNKNOWN-CTE] */
} mime_cte;

/* The encoding named by a lower-cased Content-Transfer-Encoding (or NULL). */
mime_cte mime_cte_of(const char *encoding);

/* Append the decoded bytes of data[start, end); false when out is full. */
bool mime_base64_decode(buf *out, const char *data, size_t start, size_t end);

/* Quoted-printable: soft line breaks removed, blanks before a line end
 * removed, every remaining line end written as CRLF. */
bool mime_qp_decode(buf *out, const char *data, size_t start, size_t end);

#endif
