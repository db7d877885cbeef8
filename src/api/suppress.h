/* suppress.h — the suppression list: recipient addresses this server will
 * not send to through the API, because mail to them bounced for good
 * (source "bounce", added by the trail follower, api/follow.c) or because
 * an operator or application said so (source "manual": the API, `yubin
 * suppress add`).  One list for the whole server, kept in data_dir/hooks.db
 * (api/hooksdb.h).  Addresses are normalised as accounts_normalize does
 * (domain and ASCII letters of the local part lower-cased).  Every call
 * blocks on SQLite: run it on a worker, at start-up or in the CLI (a
 * look-up is one indexed read of a small table, short enough for the loop
 * when it must).  This module knows no HTTP and no audit trail. */
#ifndef YUBIN_API_SUPPRESS_H
#define YUBIN_API_SUPPRESS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum suppress_status {
	SUP_OK = 0,
	SUP_NOT_FOUND,   /* no such address on the list */
	SUP_EXISTS,      /* already on the list (add) */
	SUP_INVALID,     /* not an address (accounts_normalize said no) */
	SUP_ERROR,       /* database error: temporary for the caller */
} suppress_status;

typedef struct suppress_entry {
	char *address;   /* normalised */
	char *reason;    /* "bounce: 550 5.1.1 ..." summary or the caller's words */
	char *source;    /* "bounce" or "manual" */
	char *reply;     /* the remote reply that caused it; NULL for manual */
	char *qid;       /* the message that bounced; NULL for manual */
	int64_t created; /* unix seconds */
} suppress_entry;
void suppress_entry_free(suppress_entry *e);

/* Longest reason kept (bytes); a longer one is SUP_INVALID. */
#define SUPPRESS_REASON_MAX 500

/* Is the address on the list?  The API send path asks this for every
 * recipient before it accepts a message, and refuses the send (naming the
 * recipient) when *suppressed_r is true.  address is any spelling
 * (normalised here); an address that does not normalise is not on the
 * list.  When e_r is not NULL and the address is listed, *e_r gets the
 * entry (free it with suppress_entry_free).  False on a database error
 * (*err_r, malloc'd): the caller must treat the send as temporarily
 * failed, never as not suppressed.  *cache keeps the prepared statement
 * between calls (NULL at first; sqlite3_finalize it with the database;
 * the caller makes sure one thread uses it at a time). */
bool suppress_lookup(sqlite3 *db, sqlite3_stmt **cache, const char *address, bool *suppressed_r,
                     suppress_entry *e_r, char **err_r);

/* Add address (SUP_EXISTS when it is there already: the first reason is
 * kept).  reply and qid may be NULL.  source is "bounce" or "manual". */
suppress_status suppress_add(sqlite3 *db, const char *address, const char *reason, const char *source,
                             const char *reply, const char *qid, int64_t now);
suppress_status suppress_del(sqlite3 *db, const char *address);
/* One entry (SUP_NOT_FOUND when absent). */
suppress_status suppress_get(sqlite3 *db, const char *address, suppress_entry *e_r);
/* Up to limit entries in address order, starting after the address after
 * (NULL: from the start), into *v_r (*n_r of them; free each with
 * suppress_entry_free, then the array). */
suppress_status suppress_list(sqlite3 *db, const char *after, size_t limit, suppress_entry **v_r, size_t *n_r);
/* How many addresses are listed; -1 on error. */
int64_t suppress_count(sqlite3 *db);

/* Does a permanent failure with this enhanced status (RFC 3463 "5.1.1",
 * or NULL) and remote reply mean that the address itself is bad, so that
 * it should be suppressed?  The status is taken from the reply when it is
 * NULL ("550 5.1.1 ..." ).  Yes for 5.1.0-5.1.4, 5.1.6 and 5.1.10 (no such
 * mailbox, no such domain, bad syntax, ambiguous, moved, null MX) and
 * 5.2.1 (mailbox disabled).  No for everything else: 5.1.7 and 5.1.8 are
 * about the sender, 5.2.2 (mailbox full) and 5.3.4 (too big) pass, 5.7.x
 * is a policy refusal of this message, and a reply with no enhanced code
 * cannot be told apart from a policy refusal. */
bool suppress_status_means_bad_address(const char *status, const char *reply);

#endif
