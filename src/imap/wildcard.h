/* wildcard.h — LIST patterns matched against mailbox names (RFC 9051
 * 6.3.9): "*" matches anything, "%" anything but the hierarchy delimiter
 * ".".  Pure; exact byte comparison otherwise (INBOX folding is the
 * caller's). */
#ifndef YUBIN_IMAP_WILDCARD_H
#define YUBIN_IMAP_WILDCARD_H

#include <stdbool.h>

/* The longest name that can match (longer names never do). */
#define IMAP_WILDCARD_NAME_MAX 1024

/* True when pattern matches the whole of name.  Time O(|pattern| * |name|)
 * whatever the pattern, so no pattern can make it slow. */
bool imap_wildcard_match(const char *pattern, const char *name);

#endif
