/* arcseal.h — sealing a message with an ARC set (RFC 8617): the
 * ARC-Authentication-Results field (what we found when the message
 * arrived), the ARC-Message-Signature (a DKIM signature of the message as
 * it leaves) and the ARC-Seal over the set, all with instance i=1 and
 * relaxed canonicalization, signed with one of the domain's RSA DKIM keys.
 * A forwarder seals what it sends on, so that the next receiver can see
 * the SPF and DKIM results from before the forward.  Only a message
 * without an ARC set is sealed (cv=none): continuing a chain needs the
 * chain validated first, which this module does not do.  CPU only. */
#ifndef YUBIN_MSGAUTH_ARCSEAL_H
#define YUBIN_MSGAUTH_ARCSEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "msgauth/dkimkeys.h"

/* Append the set (ARC-Seal, ARC-Message-Signature,
 * ARC-Authentication-Results, top down, each with its line end: CRLF when
 * crlf, else LF) for msg[0, len) (LF or CRLF, as stored) to out; results:
 * the value of the Authentication-Results field to record ("authserv-id;
 * spf=pass ...").  False with *err_r (malloc'd) when the message already
 * has an ARC set or no From field, or the key cannot sign; out is then
 * unchanged. */
bool arc_seal(const char *msg, size_t len, const dkim_key *k, const char *results, time_t now, bool crlf,
              buf *out, char **err_r);

/* The value of our Authentication-Results field in msg (the first whose
 * authserv-id is authserv_id), unfolded; "authserv_id; none" when there is
 * none (the checks were off).  malloc'd. */
char *arc_results_of(const char *msg, size_t len, const char *authserv_id);

#endif
