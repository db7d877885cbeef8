/* status.h — STATUS data items (RFC 9051 6.3.11, RFC 8438 SIZE, RFC 3501
 * RECENT for IMAP4rev1 sessions): their names read from a list, the numbers
 * of one folder, and the parenthesized list a "* STATUS" response carries.
 * One implementation for the STATUS command and for LIST's RETURN (STATUS
 * ...) (RFC 5819).  Knows nothing of sessions or mailbox-name encodings. */
#ifndef YUBIN_IMAP_STATUS_H
#define YUBIN_IMAP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"
#include "lib/buf.h"
#include "store/view.h"

enum {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_RECENT = 1 << 1,
	IMAP_STATUS_UIDNEXT = 1 << 2,
	IMAP_STATUS_UIDVALIDITY = 1 << 3,
	IMAP_STATUS_UNSEEN = 1 << 4,
	IMAP_STATUS_SIZE = 1 << 5,
	IMAP_STATUS_DELETED = 1 << 6,
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 7,   /* RFC 7162 */
};

typedef struct imap_status_counts {
	size_t messages, unseen, deleted;
	size_t recent;           /* claimed by no session yet (IMAP4rev1's \Recent) */
	uint64_t size;           /* RFC822.SIZE of every message, summed */
	uint32_t uidnext, uidvalidity;
	uint64_t highestmodseq;
} imap_status_counts;

/* Read the item list ("(MESSAGES UNSEEN)", at least one item) into a mask
 * of IMAP_STATUS_*.  rev2: the session is IMAP4rev2, which has no RECENT.
 * False with a sentence for BAD. */
bool imap_status_items_parse(const imap_arg *list, bool rev2, unsigned *items_r,
                             const char **error_r);

/* statuscount.c: count the folder at path, of the account whose INBOX is
 * root, through its shared view (store/view.h: opened for the moment, and
 * with keep kept a while after, so that asking again costs nothing; without
 * it, as for LIST-STATUS over every folder, freed at once unless someone
 * else holds it), then fn(arg, counts) on the loop; counts is NULL when it
 * cannot be read. */
typedef void imap_status_fn(void *arg, const imap_status_counts *counts);
void imap_status_count(store_views *views, const char *root, const char *path, bool keep,
                       imap_status_fn *fn, void *arg);

/* Append "(MESSAGES 3 UNSEEN 1)": the items asked for, in a fixed order. */
void imap_status_write_items(buf *out, unsigned items, const imap_status_counts *c);

#endif
