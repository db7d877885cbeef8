/* sortkey.h — what SORT (RFC 5256 2, RFC 5957 DISPLAYFROM / DISPLAYTO) and
 * THREAD (RFC 5256 3) know of a message, taken from its header: the base
 * subject (RFC 5256 2.1: encoded-words decoded, "Re:", "Fwd:", "[blob]",
 * "(fwd)" and "[fwd: ...]" removed), the sent date (RFC 5256: Date: with
 * its zone, the arrival time when it has none or it cannot be read), the
 * first From / To / Cc address, the message's Message-ID and the IDs it
 * refers to.  Strings are compared as i;unicode-casemap keys (casemap.h).
 * Also the sort criteria (the list after SORT) and the sort itself.  Pure. */
#ifndef YUBIN_IMAP_SORTKEY_H
#define YUBIN_IMAP_SORTKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imap/parse.h"

typedef enum imap_sort_key {
	IMAP_SORT_ARRIVAL, IMAP_SORT_CC, IMAP_SORT_DATE, IMAP_SORT_FROM, IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT, IMAP_SORT_TO, IMAP_SORT_DISPLAYFROM, IMAP_SORT_DISPLAYTO,
} imap_sort_key;

#define IMAP_SORT_MAX_CRITERIA 32

typedef struct imap_sort_prog {
	struct {
		imap_sort_key key;
		bool reverse;
	} c[IMAP_SORT_MAX_CRITERIA];
	size_t n;
} imap_sort_prog;

/* The parenthesized sort criteria ("(REVERSE DATE SUBJECT)"); false with
 * *error_r for an unknown key, a REVERSE not followed by a key, an empty
 * or too long list. */
bool imap_sort_parse_criteria(const imap_arg *list, imap_sort_prog *p, const char **error_r);

/* The base subject of a Subject: value (unfolded, encoded-words as sent),
 * in UTF-8, not yet case-mapped.  *is_reply_r (may be NULL): the
 * extraction removed a "Re:"/"Fw:"/"Fwd:", a "(fwd)" trailer or a
 * "[fwd: ...]" wrapper, which makes the message a reply or forward for
 * THREAD=REFERENCES.  malloc'd. */
char *imap_base_subject(const char *subject, bool *is_reply_r);

/* The time of an RFC 5322 date-time (zone applied), or fallback when value
 * is NULL or cannot be read. */
time_t imap_sent_date(const char *value, time_t fallback);

/* What SORT and THREAD use of one message. */
typedef struct imap_sort_msg {
	uint32_t seq, uid;
	time_t arrival, date;       /* date: the sent date */
	uint64_t size;
	char *subject;              /* casemap key of the base subject */
	bool is_reply;
	char *from, *to, *cc;       /* casemap keys of the first address's mailbox */
	char *dfrom, *dto;          /* casemap keys of the display names */
	char *msgid;                /* "<...>" or NULL */
	char **refs;                /* References (or In-Reply-To's first), oldest first */
	size_t nrefs;
} imap_sort_msg;

/* Fill m's header-derived fields from the header block hdr[0, len);
 * m->arrival must be set (it is the sent date's fallback). */
void imap_sort_msg_fill(imap_sort_msg *m, const char *hdr, size_t len);
void imap_sort_msg_free(imap_sort_msg *m);

/* Sort v by the program; equal messages in sequence order (RFC 5256). */
void imap_sort_run(imap_sort_msg *v, size_t n, const imap_sort_prog *p);

#endif
