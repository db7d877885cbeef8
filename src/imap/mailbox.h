/* mailbox.h — a mailbox-name argument (astring, RFC 9051 5.1) turned into the
 * UTF-8 name the store uses: modified UTF-7 decoded for IMAP4rev1 clients,
 * UTF-8 checked for IMAP4rev2 / UTF8=ACCEPT, and INBOX in any case made
 * "INBOX".  Does not know which mailboxes exist. */
#ifndef YUBIN_IMAP_MAILBOX_H
#define YUBIN_IMAP_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/parse.h"

/* The longest name accepted, in bytes of UTF-8. */
#define IMAP_MAILBOX_MAX 1024

/* Read a mailbox name.  utf8 is true when the session is IMAP4rev2 or has
 * enabled UTF8=ACCEPT (the name is UTF-8 as sent); otherwise the name is
 * modified UTF-7.  On success *name_r is a malloc'd, NUL-terminated UTF-8
 * name without control characters.  On failure a sentence for BAD. */
bool imap_mailbox_parse(const imap_arg *a, bool utf8, char **name_r, const char **error_r);

/* Read a LIST / LSUB reference or pattern the same way: it may be empty and
 * hold the wildcards "%" and "*"; INBOX is not folded (matching is the
 * server's job). */
bool imap_mailbox_parse_pattern(const imap_arg *a, bool utf8, char **pattern_r,
                                const char **error_r);

/* The name as a client expects it back: modified UTF-7 unless utf8.  A
 * malloc'd string, or NULL when name is not valid UTF-8. */
char *imap_mailbox_encode(const char *name, bool utf8);

#endif
