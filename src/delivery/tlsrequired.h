/* tlsrequired.h — the message's own say about TLS on its way out (RFC
 * 8689 3): a "TLS-Required: No" header field asks the sending MTA to
 * deliver even when the receiving domain's TLS policy (DANE, MTA-STS)
 * cannot be met.  Pure: reads the stored message, no I/O.  Whether the
 * field counts (not with the REQUIRETLS MAIL parameter, RFC 8689 4.1) and
 * what delivery does with it are outbound.c's business. */
#ifndef YUBIN_DELIVERY_TLSREQUIRED_H
#define YUBIN_DELIVERY_TLSREQUIRED_H

#include <stdbool.h>
#include <stddef.h>

/* True when the header of msg (LF or CRLF line ends) has a TLS-Required
 * field whose value is "No" (any case, blanks and folding around it
 * ignored).  Any other value, or no such field, is false (RFC 8689 3: "No"
 * is the only value defined). */
bool tlsrequired_header_no(const char *msg, size_t len);

#endif
