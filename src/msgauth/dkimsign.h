/* dkimsign.h — making DKIM-Signature header fields for a message (RFC 6376
 * 5, RFC 8463): relaxed/relaxed, the header fields RFC 6376 5.4.1
 * recommends that the message has, the ones that must not be added later
 * listed once more than they occur (so a copy added above breaks the
 * signature), t= set, x= on request, no l=.  CPU only, no I/O: an RSA-2048
 * signature costs about a millisecond. */
#ifndef YUBIN_MSGAUTH_DKIMSIGN_H
#define YUBIN_MSGAUTH_DKIMSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "msgauth/dkimkeys.h"

typedef struct dkim_sign_opts {
	time_t now;            /* t= */
	long expire_secs;      /* > 0: x= = t= + expire_secs */
	bool crlf;             /* line ends of the output: CRLF, else LF */
} dkim_sign_opts;

/* Append to out one DKIM-Signature field per key (d= and s= from the key),
 * each ending with its line end, ready to be put above the message.
 * msg[0, len) is the message as stored (LF or CRLF).  False with *err_r
 * (malloc'd) when the message has no From field or a key cannot sign;
 * out is then unchanged. */
bool dkim_sign(const char *msg, size_t len, const dkim_key *const *keys, size_t n_keys,
	       const dkim_sign_opts *o, buf *out, char **err_r);
/* The same with another field name and first tag in place of
 * "DKIM-Signature: v=1;": "ARC-Message-Signature: i=1;" (RFC 8617 4.1.2,
 * which is a DKIM signature in every other way). */
bool dkim_sign_as(const char *msg, size_t len, const char *head, const dkim_key *const *keys, size_t n_keys,
		  const dkim_sign_opts *o, buf *out, char **err_r);

#endif
