/* qresync.h — QRESYNC (RFC 7162 3.2) without I/O: the SELECT / EXAMINE
 * parameters (CONDSTORE, and QRESYNC with its uidvalidity, mod-sequence,
 * known UIDs and sequence match data), the set of UIDs a VANISHED (EARLIER)
 * response names, and UID sets written compactly ("3:5,9").  What the
 * session sends, and when, is in qresync_cmd.c. */
#ifndef YUBIN_IMAP_QRESYNC_H
#define YUBIN_IMAP_QRESYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"
#include "imap/seqset.h"
#include "lib/buf.h"

/* SELECT / EXAMINE parameters (RFC 4466 select-params). */
typedef struct imap_select_params {
	bool condstore;            /* (CONDSTORE), or QRESYNC, which implies it */
	bool qresync;              /* (QRESYNC (...)) given */
	uint32_t uidvalidity;
	uint64_t modseq;
	bool has_known;            /* known-uids given (else 1:*) */
	imap_seqset known;
	bool has_match;            /* seq-match-data given */
	imap_seqset match_seqs, match_uids;
} imap_select_params;

/* The parameter list (a LIST argument) into p; false with a sentence for
 * the BAD.  QRESYNC needs qresync_enabled (ENABLE QRESYNC first, RFC 7162
 * 3.2.5); it may be given once, with nz-number uidvalidity, nz mod-sequence,
 * and seq-match-data whose two sets have as many numbers each. */
bool imap_select_params_parse(const imap_arg *list, bool qresync_enabled, imap_select_params *p,
                              const char **error_r);
void imap_select_params_free(imap_select_params *p);

/* The highest UID up to which the client's message numbers still match
 * ours, from seq-match-data (RFC 7162 3.2.5.2): the pairs are walked in
 * ascending order, and the UID of the last pair before the first one whose
 * number no longer names that UID in present (the UIDs of the messages
 * now, ascending) is returned; 0 when none matches.  No message at or
 * below it can have gone unseen by the client. */
uint32_t imap_qresync_match_floor(const imap_select_params *p, const uint32_t *present, size_t n);

/* The UID set of a VANISHED (EARLIER) response into out (nothing when it
 * is empty): exact, the UIDs gone (ascending); otherwise, since the list of
 * expunges no longer reaches back far enough, every UID below uidnext that
 * is not in present (ascending), the superset RFC 7162 3.2.5 allows.  Only
 * UIDs in known (resolved; NULL: all) and above `above` count.  True when
 * something was written; false also when out is full (then out is
 * unchanged). */
bool imap_vanished_set(buf *out, const uint32_t *gone, size_t ngone, bool exact,
                       const uint32_t *present, size_t npresent, uint32_t uidnext,
                       const imap_seqset *known, uint32_t above);

/* Ascending UIDs as a compact UID set ("1:3,7") into out. */
bool imap_write_uid_set(buf *out, const uint32_t *uids, size_t n);

#endif
