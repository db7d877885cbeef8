/* text.h — the readable text of a message: text parts decoded from their
 * transfer encoding and converted to UTF-8.  What PREVIEW shows and what
 * policy body rules match.  Pure. */
#ifndef YUBIN_MIME_TEXT_H
#define YUBIN_MIME_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "mime/mime.h"

/* Append the UTF-8 text of part p's first `scan` body bytes to out (a
 * bounded buf; its bound cuts the text).  False for an unknown transfer
 * encoding or when out is full. */
bool mime_part_text(const mime_message *m, const mime_part *p, size_t scan, buf *out);

/* Append the text of every text/... leaf part, attachments and encapsulated
 * messages included, each followed by a line end, until out is full.
 * Parts in an unknown transfer encoding are left out. */
void mime_message_text(const mime_message *m, buf *out);

#endif
