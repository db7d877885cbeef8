/* hdrwrite.h — writing RFC 5322 header fields for messages made here
 * (the API's composed mail, vacation replies, refusals): a field written
 * token by token and folded at blanks to lines of at most 78 characters
 * where the text allows (RFC 5322 2.1.1), and text that is not plain
 * printable ASCII as RFC 2047 encoded-words (UTF-8, B encoding, at most
 * 75 characters each, split between whole characters).  Pure; LF line
 * ends (the spool's convention). */
#ifndef YUBIN_MIME_HDRWRITE_H
#define YUBIN_MIME_HDRWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define MIME_LINE_SOFT 78   /* RFC 5322 2.1.1: SHOULD */

/* A field being written: the buffer and the characters on its current line. */
typedef struct mime_hfield {
	buf *b;
	size_t col;
} mime_hfield;

/* "Name:" */
void mime_hfield_start(mime_hfield *f, buf *b, const char *name);
/* Room left on the line for a token after its blank. */
size_t mime_hfield_room(const mime_hfield *f);
/* A blank and the token, folded onto a new line when it would not fit. */
void mime_hfield_token(mime_hfield *f, const char *tok, size_t n);
/* s glued to the last token (the comma between addresses). */
void mime_hfield_glue(mime_hfield *f, const char *s);
/* s as encoded-words. */
void mime_hfield_encoded(mime_hfield *f, const char *s);
/* Unstructured text (RFC 5322 3.2.5): as it is when it can be, else encoded-words. */
void mime_hfield_text(mime_hfield *f, const char *value);
/* The line end. */
void mime_hfield_end(mime_hfield *f);

/* Only printable ASCII (0x20-0x7e)? */
bool mime_plain_ascii(const char *s);

/* A whole unstructured field: "Name: value" folded, encoded where needed. */
void mime_put_unstructured(buf *out, const char *name, const char *value);

#endif
