/* utf8.h — UTF-8 checking and decoding (RFC 3629), for IMAP names and text and MIME: strict,
 * so overlong forms, surrogates and code points past U+10FFFF are refused.
 * Knows nothing about where UTF-8 is allowed; the callers decide that. */
#ifndef YUBIN_LIB_UTF8_H
#define YUBIN_LIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode the code point starting at s[0] (len > 0 bytes available).
 * Returns its length in bytes and sets *cp_r, or 0 when the bytes there are
 * not well-formed UTF-8. */
size_t imap_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r);

/* True when s[0..len) is well-formed UTF-8 (any code point, NUL included). */
bool imap_utf8_valid(const char *s, size_t len);

/* Append the UTF-8 form of cp (<= 0x10FFFF, not a surrogate) to out, which
 * has room for 4 bytes; returns the number of bytes written. */
size_t imap_utf8_encode(uint32_t cp, char *out);

#endif
