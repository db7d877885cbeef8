/* header.h — the addresses inside From / To / Cc / Reply-To / Sender
 * fields (RFC 5322 3.4 address lists: display names, comments, quoted
 * strings, groups, the obsolete route, folded lines; encoded-words are
 * never touched).  Each addr-spec is handed to a map function; the field
 * is rebuilt with the map's answers in place of exactly the addr-spec
 * bytes, everything else (names, comments, spacing, folding) as it was,
 * and a line the change made longer than 78 characters is folded again at
 * a space or after a comma between addresses.  A field nothing changed in
 * is not rebuilt (byte for byte as it came).  A field this module cannot
 * read with certainty (an unclosed quote, comment or angle bracket) is
 * left alone.  Pure: LF line ends (the spool's form). */
#ifndef YUBIN_REWRITE_HEADER_H
#define YUBIN_REWRITE_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* The replacement of address ("local@domain", a quoted local part with its
 * quotes), malloc'd, or NULL to keep it. */
typedef char *rw_addr_map(void *arg, const char *address);

typedef enum rw_hdr_status {
	RW_HDR_SAME,        /* nothing to change: out untouched */
	RW_HDR_CHANGED,     /* out holds the new field, its last LF included */
	RW_HDR_UNREADABLE,  /* not a well-formed address list: left alone */
	RW_HDR_TOO_LONG,    /* the result would not fit (998 per line, or out's bound) */
} rw_hdr_status;

/* Rewrite one whole field (name, colon, value with its continuation
 * lines, the last LF).  name_len: the length of the field name.  */
rw_hdr_status rw_header_rewrite(const char *field, size_t len, size_t name_len, rw_addr_map *map,
                                void *arg, buf *out);

/* One header field of a message: [start, end) with its last LF, the name
 * [start, start + name_len) (name_len 0: a line without a colon). */
typedef struct rw_field {
	size_t start, end, name_len;
} rw_field;

/* The field at *pos in msg[0, len), advancing *pos; false at the empty line
 * that ends the header or at the end. */
bool rw_header_next(const char *msg, size_t len, size_t *pos, rw_field *f);

#endif
