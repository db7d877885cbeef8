/* searchmatch.h — does one message match a SEARCH key tree (search.h)?
 * Flags, keywords, sizes, arrival dates, UIDs and mod-sequences come from
 * the message's entry in the folder; header keys (FROM, SUBJECT, HEADER,
 * SENT*) read its header, BODY and TEXT its bytes, which the caller hands
 * over on first need.  Substrings match without regard to ASCII case, as
 * RFC 9051 asks, on the bytes as stored (no decoding of MIME encodings).
 * Pure: no I/O of its own. */
#ifndef YUBIN_IMAP_SEARCHMATCH_H
#define YUBIN_IMAP_SEARCHMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/search.h"
#include "store/keywords.h"
#include "store/mailbox.h"

typedef struct imap_match_msg {
	const mbox_msg *m;
	const store_keywords *kw;       /* the folder's keyword names */
	const uint32_t *saved;          /* "$": UIDs ascending */
	size_t n_saved;
	bool recent;                    /* \Recent in the session (IMAP4rev1) */
	/* the message's bytes (malloc'd), or NULL when it cannot be read */
	char *(*read)(void *arg, size_t *len_r);
	void *read_arg;
	/* the matcher's: the bytes once read */
	char *data;
	size_t len, hdr_end;
	bool loaded;
} imap_match_msg;

/* The usual read function: message i of a folder (read_arg points to an
 * imap_match_src). */
typedef struct imap_match_src {
	const mbox *mb;
	size_t i;
} imap_match_src;
char *imap_match_read_mbox(void *arg, size_t *len_r);

/* seq: the message's number in the session; max_seq / max_uid: what "*"
 * stands for in sequence and UID sets. */
bool imap_search_match(const imap_search_key *k, imap_match_msg *msg, uint32_t seq, uint32_t max_seq,
                       uint32_t max_uid);
/* Free what matching read. */
void imap_match_msg_done(imap_match_msg *msg);
/* Is uid in v[0..n) (ascending)? */
bool imap_uids_have(const uint32_t *v, size_t n, uint32_t uid);

#endif
