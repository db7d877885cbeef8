/* casemap.h — the i;unicode-casemap comparator (RFC 5051) that SORT and
 * THREAD compare strings with: each string is mapped to a key (every
 * character to its Unicode titlecase by the simple mapping, then the
 * canonical decomposition, NFD, then UTF-8), and keys compare as octets.
 * Bytes that are not UTF-8 count as U+FFFD.  The Unicode tables are ICU's. */
#ifndef YUBIN_IMAP_CASEMAP_H
#define YUBIN_IMAP_CASEMAP_H

#include <stddef.h>

/* The comparison key of s[0, n) (UTF-8): malloc'd, NUL-terminated. */
char *imap_casemap_key(const char *s, size_t n);

#endif
