/* partfields.h — reads a part's Content-* header fields into the part
 * (internal to mime.c; the fields themselves are described in mime.h). */
#ifndef YUBIN_MIME_PARTFIELDS_H
#define YUBIN_MIME_PARTFIELDS_H

#include <stdbool.h>

#include "mime/mime.h"

/* Fill type, subtype, params, encoding, id, description, md5, language,
 * location and disposition from data[p->hdr_start, p->hdr_end).  The first
 * occurrence of each field counts.  in_digest: the parent is
 * multipart/digest, so the default type is message/rfc822. */
void mime_part_read_fields(const char *data, mime_part *p, bool in_digest);

/* Free what mime_part_read_fields allocated. */
void mime_part_free_fields(mime_part *p);

#endif
