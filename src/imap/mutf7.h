/* mutf7.h — modified UTF-7 mailbox-name encoding (RFC 3501 5.1.3), the form
 * IMAP4rev1 clients use, converted to and from UTF-8.  Only the canonical
 * form is accepted, so decode and encode are exact inverses: printable ASCII
 * stands for itself ("&" as "&-"), everything else is "&" modified BASE64 of
 * UTF-16BE "-", with no padding, zero filler bits, no empty or adjacent
 * encoded runs, and no printable ASCII inside them. */
#ifndef YUBIN_IMAP_MUTF7_H
#define YUBIN_IMAP_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Append the UTF-8 form of the modified UTF-7 s[0..len) to out.  False with a
 * sentence (out then holds a prefix) when s is not canonical modified UTF-7,
 * has a byte outside printable ASCII, an unpaired surrogate or U+0000, or
 * out's maximum is reached. */
bool imap_mutf7_decode(const char *s, size_t len, buf *out, const char **error_r);

/* Append the modified UTF-7 form of the UTF-8 s[0..len) to out.  False when
 * s is not valid UTF-8, holds U+0000, or out's maximum is reached. */
bool imap_mutf7_encode(const char *s, size_t len, buf *out);

#endif
