/* search.h — SEARCH arguments (RFC 9051 6.4.4, the RFC 3501 keys, RFC 7162
 * MODSEQ, RFC 5032 OLDER / YOUNGER, RFC 8514 SAVED*, RFC 4731 / 5182 RETURN options and "$") read into a tree the server
 * evaluates later: ESEARCH RETURN options, CHARSET, and the keys, whose top
 * level is an implicit AND.  Nesting (parentheses, NOT, OR) is limited to
 * IMAP_SEARCH_MAX_DEPTH, so evaluating the tree recursively is safe.
 * Strings in the tree point into the parsed command: free the search first. */
#ifndef YUBIN_IMAP_SEARCH_H
#define YUBIN_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imap/parse.h"
#include "imap/seqset.h"

#define IMAP_SEARCH_MAX_DEPTH 64

typedef enum imap_search_op {
	/* no argument */
	IMAP_SK_ALL, IMAP_SK_ANSWERED, IMAP_SK_DELETED, IMAP_SK_DRAFT, IMAP_SK_FLAGGED,
	IMAP_SK_NEW, IMAP_SK_OLD, IMAP_SK_RECENT, IMAP_SK_SEEN, IMAP_SK_UNANSWERED,
	IMAP_SK_UNDELETED, IMAP_SK_UNDRAFT, IMAP_SK_UNFLAGGED, IMAP_SK_UNSEEN,
	/* str: a substring */
	IMAP_SK_BCC, IMAP_SK_BODY, IMAP_SK_CC, IMAP_SK_FROM, IMAP_SK_SUBJECT, IMAP_SK_TEXT,
	IMAP_SK_TO,
	IMAP_SK_HEADER,          /* field, str */
	IMAP_SK_KEYWORD, IMAP_SK_UNKEYWORD,  /* str: the keyword */
	/* date: 00:00 UTC of the day */
	IMAP_SK_BEFORE, IMAP_SK_ON, IMAP_SK_SINCE, IMAP_SK_SENTBEFORE, IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_SAVEDBEFORE, IMAP_SK_SAVEDON, IMAP_SK_SAVEDSINCE, /* RFC 8514 save date */
	IMAP_SK_OLDER, IMAP_SK_YOUNGER,      /* RFC 5032 WITHIN; date: now - the interval */
	IMAP_SK_SAVEDATESUPPORTED,           /* RFC 8514: every message (save dates are kept) */
	IMAP_SK_LARGER, IMAP_SK_SMALLER,     /* number */
	IMAP_SK_UID, IMAP_SK_SEQSET,         /* set */
	IMAP_SK_MODSEQ,          /* number; entry and entry_type when given */
	IMAP_SK_NOT,             /* child */
	IMAP_SK_OR,              /* child and child->next */
	IMAP_SK_AND,             /* child list: a parenthesized group, and the root */
} imap_search_op;

typedef struct imap_search_key imap_search_key;
struct imap_search_key {
	imap_search_op op;
	const char *str;         /* NUL-terminated */
	size_t len;
	const char *field;       /* HEADER */
	time_t date;
	uint64_t number;
	imap_seqset set;         /* may be "$" (set.searchres) */
	const char *entry;       /* MODSEQ "/flags/\\Seen" or NULL */
	const char *entry_type;  /* MODSEQ "priv", "shared" or "all" (lower-case) */
	imap_search_key *child;
	imap_search_key *next;
};

enum {
	IMAP_SEARCH_RET_MIN = 1 << 0,
	IMAP_SEARCH_RET_MAX = 1 << 1,
	IMAP_SEARCH_RET_ALL = 1 << 2,
	IMAP_SEARCH_RET_COUNT = 1 << 3,
	IMAP_SEARCH_RET_SAVE = 1 << 4,
	IMAP_SEARCH_RET_PARTIAL = 1 << 5,    /* RFC 5267 4.4: partial_lo:partial_hi */
	IMAP_SEARCH_RET_UPDATE = 1 << 6,     /* RFC 5267 4.3: kept up to date */
	IMAP_SEARCH_RET_CONTEXT = 1 << 7,    /* RFC 5267 4.2: a hint, nothing more */
};

typedef struct imap_search {
	bool esearch;            /* RETURN was given: reply with ESEARCH */
	unsigned ret;            /* IMAP_SEARCH_RET_*; "RETURN ()" means ALL */
	uint32_t partial_lo, partial_hi; /* PARTIAL's range, lo <= hi */
	const char *charset;     /* as given, or NULL */
	imap_search_key *root;   /* IMAP_SK_AND of the keys */
	bool uses_modseq;        /* a MODSEQ key appears (CONDSTORE replies) */
} imap_search;

typedef enum imap_search_status {
	IMAP_SEARCH_OK,
	IMAP_SEARCH_BAD,         /* syntax: BAD with the sentence */
	IMAP_SEARCH_BADCHARSET,  /* NO [BADCHARSET (UTF-8 US-ASCII)] */
} imap_search_status;

/* Read SEARCH's arguments (args is the first one).  Free s afterwards
 * whatever the result. */
imap_search_status imap_search_parse(const imap_arg *args, imap_search *s, const char **error_r);
/* SORT and THREAD (RFC 5256) take their own charset and then the keys:
 * the RETURN list (ESORT, RFC 5267) and the keys from a on, into s, which
 * the caller zeroed. */
bool imap_search_parse_return(const imap_arg *list, imap_search *s, const char **error_r);
imap_search_status imap_search_parse_keys(const imap_arg *a, imap_search *s, const char **error_r);
/* A charset SEARCH, SORT and THREAD know (UTF-8, US-ASCII)? */
bool imap_search_charset_known(const char *charset);
void imap_search_free(imap_search *s);

#endif
