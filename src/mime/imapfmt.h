/* imapfmt.h — what an IMAP4rev2 server (RFC 9051) says about a parsed
 * message: strings, ENVELOPE, BODY and BODYSTRUCTURE, BODY[section] and
 * BINARY[section] (RFC 3516) bytes.  Everything is appended to a buf; a
 * function returns false (or IMAP_FETCH_TOO_BIG) when the buf's maximum
 * would be passed, and then the buf holds a prefix the caller must discard.
 * Sizes, line counts and section bytes are in the CRLF form (see crlf.h).
 *
 * Case.  BODYSTRUCTURE shows media types, subtypes, parameter names,
 * encodings and disposition types upper-cased, as RFC 9051's own examples
 * and Cyrus do (Dovecot keeps them as written); values are as written.  A
 * part without Content-Type is ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") ...),
 * without Content-Transfer-Encoding "7BIT".  An RFC 2231 charset-tagged
 * parameter is shown as "NAME*" "charset'lang'%XX.." with its continuations
 * joined; other parameters with their continuations joined.  An opaque part
 * (mime.h) is shown as TEXT/PLAIN. */
#ifndef YUBIN_MIME_IMAPFMT_H
#define YUBIN_MIME_IMAPFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/strutil.h"
#include "mime/mime.h"

/* Quoted strings longer than this are sent as literals. */
#define IMAP_QUOTED_MAX 1024

/* ---- strings (imapfmt.c) ---- */

/* s[0, n) as an IMAP string: a quoted string when it is at most
 * IMAP_QUOTED_MAX bytes of 7-bit text without CR, LF, '"' or '\\';
 * otherwise a literal "{n}\r\n" + bytes, or a literal8 "~{n}\r\n" + bytes
 * when it holds a NUL (only valid in BINARY answers). */
bool imap_write_string(buf *out, const char *s, size_t n);
/* A C string as an IMAP string, or NIL when s is NULL. */
bool imap_write_nstring(buf *out, const char *s);
/* An upper-cased copy of s as an IMAP string (s must not be NULL). */
bool imap_write_upper(buf *out, const char *s);

/* ---- ENVELOPE (envelope.c) ---- */

/* The ENVELOPE of a message part: the root, or a part's `message`.
 * (date subject from sender reply-to to cc bcc in-reply-to message-id);
 * sender and reply-to are from's value when absent or empty. */
bool imap_write_envelope(buf *out, const mime_message *m, const mime_part *msg);

/* ---- BODY / BODYSTRUCTURE (bodystruct.c) ---- */

/* The body structure of part p (the root for the FETCH item); extension
 * data only when `extended` (BODYSTRUCTURE rather than BODY). */
bool imap_write_body(buf *out, const mime_message *m, const mime_part *p, bool extended);

/* ---- BODY[section] and BINARY[section] (section.c, fetch.c) ---- */

/* Section part numbers beyond this many are refused as nonexistent. */
#define MIME_SECTION_MAX_PARTS (2 * MIME_MAX_DEPTH + 2)

typedef enum imap_section_kind {
	MIME_SECTION_BODY,              /* "" (whole message) or "1.2" (a body) */
	MIME_SECTION_HEADER,
	MIME_SECTION_HEADER_FIELDS,
	MIME_SECTION_HEADER_FIELDS_NOT,
	MIME_SECTION_TEXT,
	MIME_SECTION_MIME,
} imap_section_kind;

typedef struct imap_section {
	unsigned part[MIME_SECTION_MAX_PARTS];
	size_t nparts;
	imap_section_kind kind;
	strlist fields;                 /* HEADER.FIELDS[.NOT] names */
} imap_section;

typedef enum imap_fetch_status {
	IMAP_FETCH_OK,
	IMAP_FETCH_SYNTAX,       /* the section text is malformed: BAD */
	IMAP_FETCH_NO_PART,      /* no such part: the server sends "" (or NIL) */
	IMAP_FETCH_NOT_MESSAGE,  /* HEADER / TEXT of a part that is not
	                          * message/rfc822: the server sends "" */
	IMAP_FETCH_UNKNOWN_CTE,  /* BINARY of an unknown encoding: NO [UNKNOWN-CTE] */
	IMAP_FETCH_TOO_BIG,      /* the output buf's maximum was reached */
} imap_fetch_status;

/* Parse the text between the brackets of BODY[...] / BINARY[...]:
 * "", "HEADER", "TEXT", "HEADER.FIELDS (A B)", "HEADER.FIELDS.NOT (A)",
 * "1.2", "1.2.MIME", "3.HEADER", ...  Keywords and field names are
 * case-insensitive; field names may be atoms or quoted strings.  On
 * IMAP_FETCH_SYNTAX nothing needs freeing; otherwise imap_section_free. */
imap_fetch_status imap_section_parse(const char *spec, imap_section *sec_r);
void imap_section_free(imap_section *sec);

/* Append the bytes of BODY[section] in CRLF form (RFC 9051 6.4.5).  "1" of a
 * message that is not multipart is its body; numbers after a message/rfc822
 * part count in the encapsulated message; MIME is a part's own header;
 * HEADER.FIELDS[.NOT] lists the matching fields in message order and then a
 * blank line. */
imap_fetch_status imap_section_fetch(buf *out, const mime_message *m, const imap_section *sec);

/* Append the bytes of BINARY[section] (RFC 3516): the body with its
 * Content-Transfer-Encoding undone (base64, quoted-printable; 7bit, 8bit and
 * binary as they are, in CRLF form).  Only MIME_SECTION_BODY sections. */
imap_fetch_status imap_binary_fetch(buf *out, const mime_message *m, const imap_section *sec);

/* Apply <offset.count> to fetched bytes in place (RFC 9051 6.4.5: an
 * offset past the end leaves nothing). */
void imap_partial(buf *b, uint64_t offset, uint64_t count);

#endif
