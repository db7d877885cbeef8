/* preview.h — the preview text of a message (RFC 8970 PREVIEW): the first
 * text part that is not an attachment (text/plain, or text/html with its
 * tags, comments, scripts and styles taken out and the common entities
 * decoded), its transfer encoding undone, its charset converted to UTF-8,
 * runs of white space made one space, trimmed, and cut to at most
 * MIME_PREVIEW_MAX characters.  "" when the message has no such text.
 * Pure. */
#ifndef YUBIN_MIME_PREVIEW_H
#define YUBIN_MIME_PREVIEW_H

#include "mime/mime.h"

#define MIME_PREVIEW_MAX 200   /* characters (RFC 8970 allows up to 256) */

/* malloc'd UTF-8. */
char *mime_preview(const mime_message *m);

#endif
