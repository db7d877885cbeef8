/* address.h — envelope addresses: the mailbox of an SMTP path (RFC 5321
 * 4.1.2, with the UTF-8 of RFC 6531) and the UTF-8 check used wherever an
 * envelope value may carry UTF-8 (addresses, ORCPT).  Pure functions.
 *
 * This module (src/envelope/) is the vocabulary that the SMTP server, the
 * queue and delivery share: addresses, DSN parameters, xtext.  It sits
 * below all of them and includes nothing but lib/. */
#ifndef YUBIN_ENVELOPE_ADDRESS_H
#define YUBIN_ENVELOPE_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* Check one mailbox "local@domain" (RFC 5321 4.1.2, RFC 6531 with utf8).
 * Sets *non_ascii_r when it holds UTF-8. */
bool envelope_valid_mailbox(const char *mbox, bool utf8, bool *non_ascii_r);

/* Check the domain s[0..n) of a mailbox or source route: dot-separated
 * LDH labels of at most 63 characters (UTF-8 labels when utf8), or an
 * address literal "[...]".  Sets *non_ascii_r when it holds UTF-8. */
bool envelope_valid_domain(const char *s, size_t n, bool utf8, bool *non_ascii_r);

/* True when every byte of s[0..n) is printable ASCII or part of a valid
 * UTF-8 sequence (no overlong forms, surrogates or code points past
 * U+10FFFF). */
bool envelope_valid_utf8(const char *s, size_t n);

#endif
