/* xtext.h — the two text encodings of the DSN extension: RFC 3461 section 4
 * "xtext" (printable ASCII except '+' and '=', anything else as "+HH") used
 * by ENVID and ORCPT, and RFC 6533 section 3 utf-8-addr-xtext (printable
 * ASCII except '+', '=' and '\', anything else as "\x{HEX}" of its code
 * point) used for utf-8 addresses in ORCPT and in delivery reports.  Pure
 * functions; every one appends to a buf and leaves it unchanged on failure. */
#ifndef YUBIN_ENVELOPE_XTEXT_H
#define YUBIN_ENVELOPE_XTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Decode the xtext s[0..n) into out.  False when s is not xtext: a byte
 * outside '!'..'~', a bare '=', or a '+' not followed by two upper-case
 * hex digits.  The decoded bytes may be anything, NUL included. */
bool xtext_decode(const char *s, size_t n, buf *out);
/* Encode the n bytes at s as xtext. */
bool xtext_encode(const char *s, size_t n, buf *out);

/* Decode a utf-8-addr-xtext or, with unitext, a utf-8-addr-unitext (the
 * same with raw UTF-8 allowed, RFC 6533 section 3) into UTF-8.  False on a
 * byte that is neither, a "\x{...}" with other than 2 to 6 upper-case hex
 * digits, or a code point that is no character (0, a surrogate, past
 * U+10FFFF). */
bool xtext_utf8_decode(const char *s, size_t n, bool unitext, buf *out);
/* Encode the UTF-8 string s as utf-8-addr-xtext (7bit).  A byte sequence
 * that is not UTF-8 is written as U+FFFD. */
bool xtext_utf8_encode(const char *s, buf *out);

#endif
