/* dkimverify.h — checking every DKIM-Signature of a message (RFC 6376 6),
 * with the key records fetched through the caller's asynchronous look-up,
 * so the server asks its resolver on the event loop and tests ask a fake.
 * Each signature gets one of the words RFC 8601 uses for dkim= in
 * Authentication-Results, a reason when it did not pass, and what a report
 * names it by (header.d, header.s, header.a, header.b).
 *
 * Accepted: rsa-sha256 (RSA keys of 1024 bits or more) and ed25519-sha256;
 * simple and relaxed canonicalization; l= honoured.  rsa-sha1 fails (RFC
 * 8301).  A message with more than one From field fails every signature,
 * over-signed or not (RFC 6376 8.15).  At most DKIM_MAX_SIGNATURES signatures are checked (the first
 * ones, top down); the rest are not reported. */
#ifndef YUBIN_MSGAUTH_DKIMVERIFY_H
#define YUBIN_MSGAUTH_DKIMVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns/resolver.h"

#define DKIM_MAX_SIGNATURES 8
/* A t= up to this far ahead of our clock is taken as clock skew. */
#define DKIM_CLOCK_SKEW 300

typedef enum dkim_result {
	DKIM_PASS,
	DKIM_FAIL,        /* verified and wrong: hashes, key revoked or unusable,
	                   * expired, rsa-sha1 */
	DKIM_NEUTRAL,     /* a version, algorithm or method we do not know */
	DKIM_PERMERROR,   /* malformed signature or key record, no key record */
	DKIM_TEMPERROR,   /* the key look-up failed for now: try again later */
} dkim_result;

typedef struct dkim_verdict {
	dkim_result result;
	char *reason;       /* NULL on pass, else a short sentence */
	char *domain;       /* d= (lower-case); NULL when unreadable */
	char *selector;     /* s=; NULL when unreadable */
	char *algorithm;    /* a= as written; NULL when absent */
	char *b_prefix;     /* the first 8 characters of b= (RFC 6008); NULL when absent */
	bool testing;       /* the key record says t=y (testing) */
} dkim_verdict;

/* The caller's DNS look-up: ask for name's records of rrtype (always
 * DNS_TYPE_TXT here) and call cb(cb_arg, answer) once, later or at once;
 * the answer only has to live during the call.  With the server's resolver
 * this is dkim_lookup_dns (dkimdns.h). */
typedef void dkim_lookup_fn(void *ctx, const char *name, int rrtype, dns_callback *cb, void *cb_arg);

/* Called once with a verdict per signature, top down (n == 0: the message
 * has no DKIM-Signature: dkim=none).  The verdicts are freed after it
 * returns. */
typedef void dkim_verify_done(void *arg, const dkim_verdict *verdicts, size_t n);

typedef struct dkim_verifier dkim_verifier;

/* Start checking msg[0, len) (as stored: LF or CRLF), judging times
 * against now.  Everything that needs the message (hashes) is done before
 * this returns, so the caller may free msg at once.  done runs exactly
 * once: inside this call when no look-up is needed or the look-ups
 * answered at once (the result is then NULL), else later from a look-up
 * callback (the result is a handle for dkim_verify_cancel until then). */
dkim_verifier *dkim_verify_start(const char *msg, size_t len, time_t now, dkim_lookup_fn *lookup,
				 void *lookup_ctx, dkim_verify_done *done, void *done_arg);

/* done will not run.  The look-ups in flight still call back (the verifier
 * frees itself at the last one), so the resolver must outlive them or
 * cancel them (dns_free does).  Sets *v to NULL. */
void dkim_verify_cancel(dkim_verifier **v);

/* "pass", "fail", "neutral", "permerror", "temperror". */
const char *dkim_result_name(dkim_result r);

#endif
