/* fetch.h — the FETCH attribute list (RFC 9051 6.4.5, RFC 3516 BINARY,
 * RFC 7162 CHANGEDSINCE / MODSEQ, RFC 8514 SAVEDATE, RFC 8970 PREVIEW) read into a struct the server can act on:
 * the macros ALL / FAST / FULL expanded, simple items as bits, and every
 * BODY[...] / BINARY[...] with its section and partial range.  Producing the
 * response belongs to the server. */
#ifndef YUBIN_IMAP_FETCH_H
#define YUBIN_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"
#include "lib/strutil.h"

enum {
	IMAP_FETCH_FLAGS = 1 << 0,
	IMAP_FETCH_UID = 1 << 1,
	IMAP_FETCH_INTERNALDATE = 1 << 2,
	IMAP_FETCH_RFC822_SIZE = 1 << 3,
	IMAP_FETCH_ENVELOPE = 1 << 4,
	IMAP_FETCH_BODYSTRUCTURE = 1 << 5,
	IMAP_FETCH_BODY = 1 << 6,           /* BODY without a section: the structure */
	IMAP_FETCH_RFC822 = 1 << 7,
	IMAP_FETCH_RFC822_HEADER = 1 << 8,
	IMAP_FETCH_RFC822_TEXT = 1 << 9,
	IMAP_FETCH_MODSEQ = 1 << 10,
	IMAP_FETCH_SAVEDATE = 1 << 11,      /* RFC 8514 */
	IMAP_FETCH_PREVIEW = 1 << 12,       /* RFC 8970; "PREVIEW (LAZY)" is the same here */
};

typedef enum imap_body_kind {
	IMAP_BODY_SECTION,      /* BODY[...] and BODY.PEEK[...] */
	IMAP_BODY_BINARY,       /* BINARY[...] and BINARY.PEEK[...] */
	IMAP_BODY_BINARY_SIZE,  /* BINARY.SIZE[...] */
} imap_body_kind;

typedef enum imap_section_text {
	IMAP_SECTION_WHOLE,             /* nothing after the part numbers */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,              /* only after a part number */
} imap_section_text;

typedef struct imap_fetch_body {
	imap_body_kind kind;
	bool peek;                  /* .PEEK: do not set \Seen */
	uint32_t *parts;            /* part numbers 1.2.3 (malloc'd), nparts of them */
	size_t nparts;
	imap_section_text text;
	strlist fields;             /* HEADER.FIELDS (.NOT): field names as sent */
	char *section;              /* the text between [ and ] as sent, for the reply (written
	                               again when a field name came as a literal) */
	bool partial;               /* <start.count> */
	uint64_t start, count;      /* count >= 1 */
} imap_fetch_body;

typedef struct imap_fetch {
	unsigned items;             /* IMAP_FETCH_* */
	imap_fetch_body *bodies;
	size_t nbodies;
	bool has_changedsince;      /* (CHANGEDSINCE n): also sets IMAP_FETCH_MODSEQ */
	uint64_t changedsince;
	bool vanished;              /* (VANISHED), RFC 7162 QRESYNC; needs CHANGEDSINCE */
} imap_fetch;

/* Read FETCH's arguments from args (the one after the sequence set): an
 * attribute, a macro, or a list of attributes, then optional modifiers.
 * Free f afterwards whatever the result. */
bool imap_fetch_parse(const imap_arg *args, imap_fetch *f, const char **error_r);
void imap_fetch_free(imap_fetch *f);

/* One BODY / BODY.PEEK / BINARY / BINARY.PEEK / BINARY.SIZE attribute with
 * its "[section]" and "<partial>", s[0..len) as one atom.  Free with
 * imap_fetch_body_free whatever the result. */
bool imap_fetch_body_parse(const char *s, size_t len, imap_fetch_body *b, const char **error_r);
void imap_fetch_body_free(imap_fetch_body *b);

#endif
