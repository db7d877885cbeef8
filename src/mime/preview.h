/* preview.h — the preview text of a message (RFC 8970 PREVIEW): the first
 * text part that is not an attachment (text/plain, or text/html with its
 * tags, comments, scripts and styles taken out and the common entities
 * decoded), its transfer encoding undone, its charset converted to UTF-8,
 * runs of white space made one space, trimmed, and cut to at most
 * MIME_PREVIEW_MAX characters.  "" when the message has no such text.
 * Pure. */
#ifndef YUBIN_MIME_PREVIEW_H
#define YUBIN_MIME_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/buf.h"
#include "mime/mime.h"

#define MIME_PREVIEW_MAX 200   /* characters (RFC 8970 allows up to 256) */

/* HTML (UTF-8) to text: tags and comments become a space, script, style,
 * head and title elements are dropped, the common entities decoded.
 * Appends to out; false when out is full.  Sieve's body :text uses it. */
bool mime_html_text(const char *s, size_t n, buf *out);
/* malloc'd UTF-8. */
char *mime_preview(const mime_message *m);

#endif
