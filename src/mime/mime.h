/* mime.h — the MIME structure of one whole message (RFC 2045, RFC 2046):
 * a tree of parts with exact byte offsets into the stored bytes, plus each
 * part's Content-* fields.  No I/O; the caller keeps the bytes alive for as
 * long as the tree is used (the tree points into them by offset only).
 *
 * Offsets.  Every offset is into the bytes given to mime_parse, which may use
 * CRLF or LF line ends (yubin stores LF).  IMAP wants the CRLF form: use
 * mime_part_size / mime_part_lines here, or crlf.h for any range.
 *
 * Shape.  The root is the message: its header is the message header.  A
 * multipart part has children (found by boundary, RFC 2046 5.1.1: a boundary
 * delimiter only at a line start, "--" boundary, optional "--" for the close
 * delimiter, then only transport padding; the line end before it belongs to
 * the delimiter; preamble and epilogue belong to no child; a missing close
 * delimiter ends at the end of the enclosing part; an enclosing boundary also
 * ends inner multiparts).  A message/rfc822 or message/global part (in 7bit,
 * 8bit or binary) has `message`: the encapsulated message, a part whose
 * header is the encapsulated header and whose body is the encapsulated body
 * (with its own children when it is multipart).
 *
 * Limits.  Parts deeper than MIME_MAX_DEPTH, parts past MIME_MAX_PARTS,
 * multiparts without a usable boundary or without any child, are `opaque`:
 * their bytes stay in their body, and they are shown as text/plain.  Work is
 * linear in the message size (each line is looked at once per enclosing
 * boundary, and there are at most MIME_MAX_DEPTH of those). */
#ifndef YUBIN_MIME_MIME_H
#define YUBIN_MIME_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "mime/params.h"

#define MIME_MAX_DEPTH 50
#define MIME_MAX_PARTS 10000
/* RFC 2046 allows 70 characters; longer ones are tolerated up to this. */
#define MIME_MAX_BOUNDARY 256

typedef struct mime_part mime_part;
struct mime_part {
	size_t hdr_start;     /* first byte of the header block */
	size_t hdr_end;       /* after the blank line that ends it (== body_start);
	                       * a header with no blank line ends where the body
	                       * would start */
	size_t body_start;
	size_t body_end;      /* before the line end that belongs to a boundary */

	mime_part *parent;
	mime_part *children;  /* first child of a multipart */
	mime_part *next;      /* next sibling */
	size_t nchildren;
	mime_part *message;   /* the encapsulated message of message/rfc822 */
	unsigned depth;       /* root 0; children and encapsulated messages +1 */

	char *type;           /* lower-cased; defaulted (text/plain, or
	                       * message/rfc822 inside multipart/digest) */
	char *subtype;
	bool type_given;      /* a valid Content-Type was present */
	mime_params params;
	char *encoding;       /* Content-Transfer-Encoding, lower-cased, or NULL */
	char *id;             /* the following are unfolded raw values or NULL */
	char *description;
	char *md5;
	char *language;
	char *location;
	char *disposition;    /* disposition type, lower-cased, or NULL */
	mime_params disp_params;
	bool multipart;       /* has children */
	bool opaque;          /* a limit or malformation made it a text leaf */
};

typedef struct mime_message {
	const char *data;
	size_t len;
	mime_part *root;
	size_t nparts;
	bool limited;         /* a depth or part-count limit was hit */
} mime_message;

/* Parse data[0, len).  Never fails: anything malformed becomes text. */
mime_message *mime_parse(const char *data, size_t len);
void mime_free(mime_message **msg);

/* Child n (1-based) of a multipart, or NULL. */
mime_part *mime_part_child(const mime_part *p, size_t n);
/* True for a part whose type/subtype is type/subtype (lower-case). */
bool mime_part_is(const mime_part *p, const char *type, const char *subtype);

/* Size of the body in octets, CRLF form (IMAP body-fld-octets). */
size_t mime_part_size(const mime_message *m, const mime_part *p);
/* Lines of the body, see mime_lines in crlf.h (IMAP body-fld-lines). */
size_t mime_part_lines(const mime_message *m, const mime_part *p);

#endif
