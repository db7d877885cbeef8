/* srs.h — the Sender Rewriting Scheme (SRS) as Shevek specified it and
 * libsrs2 and postsrsd implement it, so that addresses made here are read
 * back by them and theirs by us:
 *
 *   SRS0=HHHH=TT=orig.domain=orig-local@srs.domain       (first forward)
 *   SRS1=HHHH=first.fwd.domain==HHHH=TT=domain=local@srs.domain  (re-forward
 *                                                          of an SRS0 address)
 *
 * TT: the day number (Unix time / 86400) mod 1024 in base32 (A-Z 2-7), two
 * characters.  HHHH: the first four characters of the standard base64 of
 * HMAC-SHA1(secret, the lower-cased fields concatenated): TT, domain and
 * local for SRS0; the first forwarder's domain and the rest of its SRS0
 * local part (from the separator on) for SRS1.  The first secret signs,
 * every secret verifies (rotation).  Hashes compare without regard to case
 * (some hops lower-case local parts).  Pure: the secret file is read by
 * srs_secrets_load and made by srs_secrets_create; secrets are never
 * logged by this module or its callers. */
#ifndef YUBIN_REWRITE_SRS_H
#define YUBIN_REWRITE_SRS_H

#include <stdbool.h>
#include <time.h>

#include "lib/strutil.h"

typedef enum srs_status {
	SRS_OK,
	SRS_NOT_SRS,       /* not an SRS0/SRS1 address (reverse) */
	SRS_NO_REWRITE,    /* forward: nothing to do (null sender, no domain) */
	SRS_BAD_FORMAT,    /* an SRS address with a field missing */
	SRS_BAD_HASH,      /* the hash does not match any secret: forged */
	SRS_BAD_TIME,      /* the time stamp is not base32 */
	SRS_EXPIRED,       /* older than max_age days */
	SRS_NO_SECRET,
	SRS_TOO_LONG,      /* forward: the local part would pass 64 octets, or
	                    * the sender's is quoted: not rewritable */
} srs_status;

typedef struct srs_config {
	const strlist *secrets;   /* items[0] signs; all verify */
	const char *domain;       /* the domain of the addresses made here */
	int max_age;              /* days an SRS0 address stays valid */
} srs_config;

/* Forward: the address to use as envelope sender when mail from sender is
 * sent on by us.  An SRS0 sender becomes SRS1 (its first forwarder's
 * domain kept), an SRS1 sender a new SRS1 with the same origin; anything
 * else SRS0.  *out_r malloc'd on SRS_OK.  SRS_TOO_LONG when the new local
 * part would be longer than RFC 5321 allows (64 octets: our own RCPT, and
 * many servers, would refuse the bounce) or the sender's is quoted. */
srs_status srs_forward(const srs_config *c, const char *sender, time_t now, char **out_r);

/* Reverse: the address an SRS address at our domain stands for, after
 * checking its hash (and, for SRS0, its age): SRS0 gives the original
 * sender, SRS1 the first forwarder's SRS0 address.  Only the local part is
 * looked at (the caller checks the domain).  *out_r malloc'd on SRS_OK. */
srs_status srs_reverse(const srs_config *c, const char *address, time_t now, char **out_r);

/* Is the local part of address an SRS0 or SRS1 one? */
bool srs_is_srs(const char *address);

/* A sentence for a status (for logs and replies; never the secret). */
const char *srs_status_text(srs_status st);

/* The secrets in the file at path (one per line; blank lines and lines
 * starting with '#' skipped).  The file must not be readable by group or
 * others.  False with *err_r (malloc'd) otherwise. */
bool srs_secrets_load(const char *path, strlist *out, char **err_r);
/* Make the secret file at path (mode 0600) with one random secret,
 * unless it exists (then *created_r is false).  False with *err_r. */
bool srs_secrets_create(const char *path, bool *created_r, char **err_r);

#endif
