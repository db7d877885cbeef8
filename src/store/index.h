/* index.h — the per-account index (SQLite, <account maildir>/yubin-index.db):
 * for each folder its UIDVALIDITY and highest mod-sequence, and for each
 * message the mod-sequence of its last change with the flags it had then,
 * its save date (RFC 8514: when it came into the folder; an index made
 * before save dates were kept gets the column, and a message without one
 * counts the time at the start of its file name), and its cached
 * ENVELOPE, BODYSTRUCTURE, BODY and PREVIEW (messages never change,
 * so a cache entry never goes stale).  The files stay the truth for which
 * messages exist, their UIDs and flags: the index is rebuilt from them when
 * it is missing or behind (store_index_reconcile), and a flag change made
 * by another Maildir tool shows as flags that differ from the row.  Calls
 * block on the disk: workers only.  One store_index is one folder's handle;
 * its calls may come from several threads (a lock serialises them). */
#ifndef YUBIN_STORE_INDEX_H
#define YUBIN_STORE_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "store/mailbox.h"

#define STORE_INDEX_FILE "yubin-index.db"

typedef struct store_index store_index;

/* The cached forms of one message (malloc'd strings, NULL when unknown). */
typedef struct store_cache {
	char *envelope, *bodystructure, *body;
	char *preview;          /* RFC 8970 PREVIEW text (mime/preview.h) */
} store_cache;

void store_cache_free(store_cache *c);
/* Read the message file at path and build its cache; false when it cannot
 * be read. */
bool store_cache_build(const char *path, store_cache *c);

/* Open (creating) the index of the account whose INBOX Maildir is root, for
 * the folder called key there ("" for INBOX, ".Sent" ...). */
store_index *store_index_open(const char *root, const char *key, char **err_r);
void store_index_close(store_index **ix);

/* Bring the index and m (just read from the folder) into agreement, in one
 * transaction: every message gets its mod-sequence (a new one when it is
 * new to the index or its flags differ from the row), rows of messages no
 * longer there go, missing cache entries are built.  *highest_r: the
 * folder's highest mod-sequence (at least the index's); gone_r (NULL or a
 * malloc'd array of *n_gone_r UIDs) lists the rows that went, each given a
 * mod-sequence above every other and recorded as expunged at it. */
bool store_index_reconcile(store_index *ix, mbox *m, uint64_t *highest_r, uint32_t **gone_r,
                           size_t *n_gone_r, char **err_r);

/* Forget everything the index holds of the folder (its rows; the folder's
 * highest mod-sequence stays, so the ones given next are higher, and the
 * expunged list's floor rises to it): the next reconcile rebuilds it from
 * the files. */
bool store_index_clear(store_index *ix);

/* Changes made by the server, each batch in one transaction: */
bool store_index_begin(store_index *ix);
bool store_index_commit(store_index *ix);
/* A message's row: its mod-sequence and flags (a new row gets its cache
 * built from the file at path when path is not NULL). */
bool store_index_set(store_index *ix, const mbox_msg *msg, const char *path);
bool store_index_remove(store_index *ix, uint32_t uid);
bool store_index_set_highest(store_index *ix, uint32_t uidvalidity, uint64_t highest);

/* The expunged messages, for QRESYNC's VANISHED (RFC 7162 3.2.5, 3.2.6):
 * the newest STORE_EXPUNGED_MAX per folder are kept with the mod-sequence
 * at which they went; when older ones are dropped the folder's floor rises
 * to the highest dropped mod-sequence, below which the list is incomplete
 * (store_index_clear raises it too: while the rows are gone, expunges are
 * not seen).  A new UIDVALIDITY empties the list. */
#define STORE_EXPUNGED_MAX 10000
/* In a batch: the message uid went at modseq (its row is removed). */
bool store_index_expunged(store_index *ix, uint32_t uid, uint64_t modseq);
/* The UIDs (ascending, malloc'd, *n_r of them) of the messages that went
 * after mod-sequence since; *exact_r false when since is below the floor
 * (or the index could not be read): then some may be missing, and the
 * caller must answer with a superset. */
bool store_index_vanished(store_index *ix, uint64_t since, uint32_t **uids_r, size_t *n_r,
                          bool *exact_r);

/* A message's cache, built (and stored) from the file at path when the
 * index has none.  False when neither works. */
bool store_index_cache(store_index *ix, uint32_t uid, const char *path, store_cache *c);

/* \Recent (RFC 3501 2.3.2): the folder's first UID no IMAP session has
 * claimed as recent yet (1 when none ever was, or after a new UIDVALIDITY),
 * and setting it. */
uint32_t store_index_recent(store_index *ix);
bool store_index_set_recent(store_index *ix, uint32_t floor);

/* The next mod-sequence after highest: higher than highest and than the
 * time in microseconds, so mod-sequences keep rising across a lost or
 * rebuilt index (RFC 7162 asks that they never go back). */
uint64_t store_modseq_next(uint64_t highest);

#endif
