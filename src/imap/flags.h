/* flags.h — message flags as clients send them (RFC 9051 2.3.2, 9 flag /
 * flag-list): the system flags \Seen \Answered \Flagged \Deleted \Draft as
 * bits, keywords as atoms.  \Recent cannot be set (it is gone from IMAP4rev2
 * and was never settable); other \words are unknown system flags and refused. */
#ifndef YUBIN_IMAP_FLAGS_H
#define YUBIN_IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/parse.h"
#include "lib/strutil.h"

enum {
	IMAP_FLAG_SEEN = 1 << 0,
	IMAP_FLAG_ANSWERED = 1 << 1,
	IMAP_FLAG_FLAGGED = 1 << 2,
	IMAP_FLAG_DELETED = 1 << 3,
	IMAP_FLAG_DRAFT = 1 << 4,
};

typedef struct imap_flags {
	unsigned system;        /* IMAP_FLAG_* bits */
	strlist keywords;       /* as sent; sorted, each once (compared without case) */
} imap_flags;

void imap_flags_init(imap_flags *f);
void imap_flags_free(imap_flags *f);

/* The bit of a system flag name such as "\Seen" (any case), 0 if none. */
unsigned imap_flag_system_bit(const char *name);

/* Add one flag argument (an atom) to f. */
bool imap_flags_add_arg(imap_flags *f, const imap_arg *a, const char **error_r);

/* Read a flag-list "(\Seen $Label)" (a LIST argument, maybe empty) into f,
 * which must have been initialised. */
bool imap_flags_parse_list(const imap_arg *list, imap_flags *f, const char **error_r);

/* Sort the keywords and drop repeats; the parse functions do it already. */
void imap_flags_normalize(imap_flags *f);

/* A keyword (flag-keyword: an atom, not starting with "\"). */
bool imap_flag_keyword_valid(const char *s, size_t len);

#endif
