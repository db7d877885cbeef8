/* listargs.h — the arguments of LIST and LSUB read into a request: the
 * basic form (RFC 9051 6.3.9) and the extended one of LIST-EXTENDED (RFC
 * 5258): selection options (SUBSCRIBED, REMOTE, RECURSIVEMATCH, and
 * SPECIAL-USE of RFC 6154), several patterns in parentheses, and return
 * options (SUBSCRIBED, CHILDREN, SPECIAL-USE, and STATUS of RFC 5819).
 * Pure: which mailboxes there are is the caller's business. */
#ifndef YUBIN_IMAP_LISTARGS_H
#define YUBIN_IMAP_LISTARGS_H

#include <stdbool.h>

#include "imap/parse.h"
#include "lib/strutil.h"

enum { /* selection options */
	IMAP_LIST_SEL_SUBSCRIBED = 1 << 0,
	IMAP_LIST_SEL_REMOTE = 1 << 1,
	IMAP_LIST_SEL_RECURSIVEMATCH = 1 << 2,
	IMAP_LIST_SEL_SPECIAL_USE = 1 << 3,
};

enum { /* return options */
	IMAP_LIST_RET_SUBSCRIBED = 1 << 0,
	IMAP_LIST_RET_CHILDREN = 1 << 1,
	IMAP_LIST_RET_SPECIAL_USE = 1 << 2,
	IMAP_LIST_RET_STATUS = 1 << 3,
};

typedef struct imap_list_args {
	bool extended;          /* selection options, a pattern list or RETURN given */
	unsigned select;        /* IMAP_LIST_SEL_* */
	unsigned ret;           /* IMAP_LIST_RET_*, with those the selection implies */
	unsigned status_items;  /* RETURN (STATUS (...)): IMAP_STATUS_* of status.h */
	char *ref;              /* the reference name, UTF-8 */
	strlist patterns;       /* UTF-8, one or more, without the reference */
} imap_list_args;

/* Read the arguments (args: the first one).  lsub: only the basic form is
 * allowed.  utf8: names are UTF-8, else modified UTF-7 (see mailbox.h).
 * rev2: STATUS items as IMAP4rev2 has them.  False with a sentence for BAD;
 * either way free la afterwards. */
bool imap_list_args_parse(const imap_arg *args, bool lsub, bool utf8, bool rev2,
                          imap_list_args *la, const char **error_r);
void imap_list_args_free(imap_list_args *la);

#endif
