/* dmarc.h — DMARC (RFC 7489): the policy record, the organizational
 * domain (Public Suffix List), identifier alignment, the From domain of a
 * message, and the asynchronous evaluation that ties SPF and DKIM results
 * to the From domain's published policy.
 *
 * Files: dmarcrecord.c (the record), dmarcorg.c (libpsl, alignment),
 * dmarcfrom.c (the From domain), dmarc.c (discovery and the verdict).
 * DNS goes through a look-up function the caller supplies, of the same
 * shape as the DKIM and SPF modules' (dns_lookup_any with the server's
 * resolver; a fake zone in the unit tests).  Nothing here blocks except
 * dmarc_psl_open, which reads the list from disk: call it once at start. */
#ifndef YUBIN_MSGAUTH_DMARC_H
#define YUBIN_MSGAUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/resolver.h"
#include "msgauth/dkimverify.h"
#include "msgauth/spf.h"

/* ---- the record (RFC 7489 6.3, 6.4) */

typedef enum dmarc_policy {
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
} dmarc_policy;

typedef struct dmarc_record {
	dmarc_policy p;
	dmarc_policy sp;      /* p when the record has no sp= */
	bool p_assumed;       /* p= (or sp=) was missing or invalid, and a valid
	                       * rua= made it p=none (6.6.3) */
	int pct;              /* 0..100, default 100 */
	bool adkim_strict;    /* adkim=s (default r) */
	bool aspf_strict;     /* aspf=s (default r) */
	char *rua;            /* as written, NULL when absent */
	char *ruf;
	char *fo;             /* default "0" */
	char *rf;             /* default "afrf" */
	unsigned long ri;     /* default 86400 */
	char *problem;        /* tags ignored for a bad value, for logs; NULL */
} dmarc_record;

typedef enum dmarc_record_status {
	DMARC_RECORD_OK,
	DMARC_RECORD_NOT_DMARC,  /* does not start with v=DMARC1: discarded (6.6.3) */
	DMARC_RECORD_INVALID,    /* a DMARC record that cannot be used: no valid p=
	                          * (or a bad sp=) and no valid rua= (6.6.3) */
} dmarc_record_status;

/* Parse text[0, len) (a TXT record's strings joined).  OK fills r (free it
 * with dmarc_record_free); INVALID sets *why_r (malloc'd); NOT_DMARC sets
 * nothing.  Unknown tags are ignored; a bad pct, adkim, aspf, fo, rf or ri
 * value is replaced by the default and named in r->problem; a repeated
 * tag keeps its first value. */
dmarc_record_status dmarc_record_parse(const char *text, size_t len, dmarc_record *r, char **why_r);
void dmarc_record_free(dmarc_record *r);

/* "none", "quarantine", "reject" */
const char *dmarc_policy_name(dmarc_policy p);

/* ---- the organizational domain (RFC 7489 3.2) and alignment (3.1) */

typedef struct dmarc_psl dmarc_psl;

/* The Public Suffix List as Debian installs it (the publicsuffix package's
 * /usr/share/publicsuffix, through libpsl's psl_latest), or the copy built
 * into libpsl when that file cannot be read.  Blocking: call at start-up.
 * NULL with *err_r (malloc'd) when neither is available. */
dmarc_psl *dmarc_psl_open(char **err_r);
void dmarc_psl_free(dmarc_psl **psl);

/* The organizational domain of domain, lower case, without a trailing dot
 * (malloc'd): the public suffix plus one label; the name itself when it is
 * a public suffix or has no label more. */
char *dmarc_org_domain(const dmarc_psl *psl, const char *domain);

/* Is id (an SPF or DKIM domain) aligned with the From domain?  Strict: the
 * same name; relaxed: the same organizational domain.  Case-insensitive. */
bool dmarc_aligned(const dmarc_psl *psl, const char *from_domain, const char *id, bool strict);

/* ---- the From domain (RFC 7489 6.6.1) */

typedef enum dmarc_from_status {
	DMARC_FROM_OK,
	DMARC_FROM_MISSING,    /* no From field */
	DMARC_FROM_MULTIPLE,   /* several From fields, or several addresses in one */
	DMARC_FROM_INVALID,    /* no address, or its domain is not a DNS name */
} dmarc_from_status;

/* The domain of the one address in the one From field of the message
 * msg[0, len) (header block only is enough; LF or CRLF), lower case, into
 * *domain_r (malloc'd) on OK.  Anything else is a message DMARC cannot be
 * applied to; dmarc_check_start turns it into permerror with disposition
 * reject (see below). */
dmarc_from_status dmarc_from_domain(const char *msg, size_t len, char **domain_r);
/* A sentence for logs and Authentication-Results comments. */
const char *dmarc_from_problem(dmarc_from_status s);

/* ---- the evaluation (RFC 7489 6.6) */

typedef enum dmarc_result {
	DMARC_NONE,        /* no policy record: DMARC does not apply */
	DMARC_PASS,        /* an aligned SPF pass or an aligned DKIM pass */
	DMARC_FAIL,
	DMARC_TEMPERROR,   /* a record look-up failed for now; or nothing aligned
	                    * passed and an SPF or DKIM result that would have
	                    * aligned was temperror (6.6.2): the policy is not
	                    * applied (disposition NONE), the caller may defer */
	DMARC_PERMERROR,   /* an unusable record, several records, or a From
	                    * field DMARC cannot use */
} dmarc_result;

/* "none", "pass", "fail", "temperror", "permerror" (RFC 8601 words) */
const char *dmarc_result_name(dmarc_result r);

/* Same shape as spf_lookup_fn and dkim_lookup_fn: ask for name's records
 * of rrtype (always DNS_TYPE_TXT here), call cb(cb_arg, answer) once, now
 * or later.  In the server: dns_lookup_any with the dns_resolver as ctx. */
typedef void dmarc_lookup_fn(void *ctx, const char *name, int rrtype, dns_callback *cb, void *cb_arg);

/* The pct draw: a number in [0, 100).  NULL in the request: a random one
 * (OpenSSL's RAND_bytes); tests give a fixed one. */
typedef int dmarc_draw_fn(void *ctx);

typedef struct dmarc_request {
	dmarc_from_status from_status;  /* from dmarc_from_domain */
	const char *from_domain;        /* on DMARC_FROM_OK */
	spf_result spf;                 /* SPF for the MAIL FROM identity (for a null
	                                 * MAIL FROM, the HELO identity SPF checked) */
	const char *spf_domain;         /* the domain that SPF checked; NULL: none */
	const dkim_verdict *dkim;       /* every signature's verdict, as given to
	                                 * dkim_verify_done; copied, not kept */
	size_t n_dkim;
	const dmarc_psl *psl;           /* must outlive the check */
	dmarc_lookup_fn *lookup;
	void *lookup_ctx;
	/* forget(lookup_ctx, check): its look-up still out answers nobody, so a
	 * cancelled check is freed at once (dns_forget_any); NULL: a cancelled
	 * check waits for its answer before it goes */
	void (*forget)(void *ctx, void *cb_arg);
	dmarc_draw_fn *draw;            /* NULL: random */
	void *draw_ctx;
} dmarc_request;

typedef struct dmarc_outcome {
	dmarc_result result;
	dmarc_policy policy;        /* the published policy for this domain (p, or
	                             * sp for a subdomain found at the organizational
	                             * domain); NONE when there is no usable record */
	dmarc_policy disposition;   /* what to do with this message: the policy on
	                             * fail, one step lower when pct left it out,
	                             * NONE otherwise; REJECT for a bad From field */
	bool sampled_out;           /* pct left this failing message out */
	bool spf_aligned;
	bool dkim_aligned;
	const char *from_domain;    /* header.from; NULL for a bad From field */
	const char *record_name;    /* "_dmarc.<domain>" the record came from, or NULL */
	const char *dkim_domain;    /* the d= of the aligned passing signature, or NULL */
	const dmarc_record *record; /* the record (valid) or NULL */
	const char *problem;        /* why none, temperror or permerror; NULL */
} dmarc_outcome;

/* Called once; the outcome and everything it points to live until the
 * callback returns (copy what you keep).  The check is freed after it. */
typedef void dmarc_done_fn(void *arg, const dmarc_outcome *out);

typedef struct dmarc_check dmarc_check;

/* Discover the policy (_dmarc.<From domain>, else _dmarc.<organizational
 * domain>: exactly one DMARC record per name) and judge the message.
 * Everything in req is copied before this returns.  Returns a handle for
 * dmarc_check_cancel, or NULL when done already ran (a bad From field, or
 * a look-up function that answers at once). */
dmarc_check *dmarc_check_start(const dmarc_request *req, dmarc_done_fn *done, void *done_arg);
/* done will not run.  The look-up in flight still calls back once (the
 * check frees itself then), so the resolver must outlive it or cancel it
 * (dns_free does).  Sets *c to NULL. */
void dmarc_check_cancel(dmarc_check **c);

#endif
