/* charset.h — text in a MIME charset turned into UTF-8 (iconv), and RFC
 * 2047 encoded-words in a header value decoded to UTF-8: what SORT's
 * subjects and display names and PREVIEW's text need.  Tolerant, as a
 * reader of mail must be: bytes a charset cannot convert become U+FFFD,
 * an unknown charset keeps valid UTF-8 (US-ASCII, UTF-8 itself) and
 * replaces the rest, a malformed encoded-word is left as it is written.
 * Pure apart from iconv's tables. */
#ifndef YUBIN_MIME_CHARSET_H
#define YUBIN_MIME_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Append s[0, n), in charset (NULL: US-ASCII), to out as UTF-8.  False
 * when out is full (out then holds a prefix). */
bool mime_charset_to_utf8(buf *out, const char *charset, const char *s, size_t n);

/* The header value s (unfolded) with its encoded-words ("=?cs?B?..?=",
 * "=?cs*lang?Q?..?=") decoded and the rest made valid UTF-8; blanks
 * between two adjacent encoded-words dropped (RFC 2047 6.2).  malloc'd. */
char *mime_decode_header(const char *s);

#endif
