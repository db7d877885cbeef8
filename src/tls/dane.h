/* dane.h — DANE for SMTP (RFC 7672, on RFC 6698 and RFC 7671): the TLSA
 * records of one MX host turned into the set a client can use, the set-up
 * of one client TLS connection with them (OpenSSL's DANE verifier), and
 * the verdict after the handshake.  It does not look anything up (the
 * scheduler asks for TLSA only when the MX and address answers are
 * DNSSEC-secure) and does not decide what a failure means for a message
 * (the SMTP client defers with 4.7.5). */
#ifndef YUBIN_TLS_DANE_H
#define YUBIN_TLS_DANE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strutil.h"

#define DANE_TA 2     /* DANE-TA: a trust anchor in the server's chain */
#define DANE_EE 3     /* DANE-EE: the server's own certificate or key */

typedef struct dane_tlsa {
	uint8_t usage, selector, mtype;
	unsigned char *data;
	size_t len;
} dane_tlsa;

/* The TLSA RRset of one host: its usable records, and how many it had in
 * all.  n == 0 with total > 0 means every record was unusable: TLS is
 * still required, but nothing can authenticate the server (RFC 7672 2.2,
 * 3.1.3). */
typedef struct dane_set {
	dane_tlsa *recs;
	size_t n;
	size_t total;
} dane_set;

void dane_set_init(dane_set *s);
void dane_set_free(dane_set *s);
/* Add the records of a TLSA answer, in the resolver's text form "usage
 * selector matching-type hex".  Kept: usages DANE-TA(2) and DANE-EE(3)
 * (PKIX-TA(0) and PKIX-EE(1) are not for SMTP, RFC 7672 3.1.3), selectors
 * Cert(0) and SPKI(1), matching types Full(0), SHA2-256(1) with 32 bytes
 * and SHA2-512(2) with 64; the rest counts in total only. */
void dane_set_parse(dane_set *s, const strlist *rrs);
/* The record as "u s m hex" (the first 64 hex digits of the data at most,
 * then "..."), for logs.  Free it. */
char *dane_tlsa_text(const dane_tlsa *t);

/* Where a host's TLSA records come from when its name is an alias (RFC
 * 7672 2.2.2 and 2.2.3, RFC 7671 7).  The outcome of one TLSA look-up: */
typedef enum dane_tlsa_state {
	DANE_TLSA_NONE,    /* a secure denial, or an insecure answer: no records */
	DANE_TLSA_FOUND,   /* secure records (usable or not) */
	DANE_TLSA_FAILED,  /* bogus, SERVFAIL, timeout: nothing may be assumed */
} dane_tlsa_state;

typedef enum dane_pick {
	DANE_PICK_NONE,          /* no TLSA records: no DANE for the host */
	DANE_PICK_ORIG,          /* the records at the name as published */
	DANE_PICK_TARGET,        /* the records at the alias's target */
	DANE_PICK_FAILED_ORIG,   /* a look-up failed: the host is not used */
	DANE_PICK_FAILED_TARGET,
} dane_pick;

/* Which TLSA RRset counts for a host.  chain_secure: the name is an alias
 * and its whole CNAME chain and the address records at its end are
 * DNSSEC-secure, so the target (fully expanded name) is asked first
 * (at_target) and the original name only when the target has none;
 * false: the original name alone (at_target is ignored), as for a name
 * that is no alias, or an alias whose first link is secure and a later
 * one not (the target is then not trusted). */
dane_pick dane_pick_base(bool chain_secure, dane_tlsa_state at_target, dane_tlsa_state at_orig);
/* The reference identifiers for a certificate's name check (DANE-TA,
 * RFC 7672 3.2.2; the same for PKIX verification): *base_r, the TLSA base
 * domain (also the SNI name, RFC 7672 8.1), and *other_r, a second name or
 * NULL.  orig is the host name as published (an MX target, a route's
 * host), target its CNAME expansion or NULL; with a secure chain both
 * names count, the base being target when pick is DANE_PICK_TARGET;
 * otherwise orig alone.  Never the recipient domain (RFC 7672 3.2.3). */
void dane_ref_names(const char *orig, const char *target, bool chain_secure, dane_pick pick,
                    const char **base_r, const char **other_r);

/* Let connections of ctx use DANE (once per context; true when done). */
bool dane_ctx_enable(SSL_CTX *ctx);
/* Before the handshake of one client connection: verify the server
 * against the usable records of s.  base is the TLSA base domain (the MX
 * host name, also sent as SNI, RFC 7672 8.1); with names (n_names of
 * them, e.g. the other name of a CNAME chain, dane_ref_names) they are
 * the reference identifiers a
 * DANE-TA chain's leaf must match (RFC 7672 3.2.2); DANE-EE matches skip
 * name and validity checks (RFC 7672 3.1.1).  False when OpenSSL refused
 * the set-up (then nothing may be sent on the connection). */
bool dane_prepare(SSL *ssl, const dane_set *s, const char *base, const char *const *names,
                  size_t n_names);

typedef struct dane_verdict {
	bool ok;              /* a usable record authenticated the server */
	int usage;            /* of the matching record: DANE_TA or DANE_EE */
	int depth;            /* where in the chain it matched (0: the leaf) */
	const char *why;      /* when !ok: the reason, static text */
} dane_verdict;

/* After the handshake of a connection set up by dane_prepare. */
dane_verdict dane_check(SSL *ssl);

#endif
