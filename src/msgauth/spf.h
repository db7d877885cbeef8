/* spf.h — SPF (RFC 7208): check_host() as an asynchronous evaluator.
 *
 * The evaluator never blocks and never calls itself: every DNS question
 * goes through a look-up function the caller supplies (the server's
 * dns_lookup through dns_lookup_any, a fake zone in the unit tests), and
 * include / redirect are frames on a bounded stack.  Limits (RFC 7208
 * 4.6.4): 10 DNS-querying terms, 2 void look-ups, 10 MX names and 10 PTR
 * names per term, plus an overall bound of SPF_MAX_QUERIES look-ups per
 * check.  The time of each look-up is the look-up function's business
 * (dns_lookup bounds it with dns.timeout); a caller that wants an overall
 * deadline cancels the check with spf_check_cancel. */
#ifndef YUBIN_MSGAUTH_SPF_H
#define YUBIN_MSGAUTH_SPF_H

#include "dns/resolver.h"

#define SPF_MAX_DNS_TERMS 10   /* RFC 7208 4.6.4: mechanisms and redirects that query */
#define SPF_MAX_VOID 2         /* RFC 7208 4.6.4: NXDOMAIN or empty answers */
#define SPF_MAX_NAMES 10       /* RFC 7208 4.6.4: MX names, PTR names per term */
#define SPF_MAX_QUERIES 160    /* our bound on every look-up of one check */

typedef enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
} spf_result;

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" */
const char *spf_result_name(spf_result r);

/* Look name up and call cb(cb_arg, answer) exactly once, now or later.
 * dns_lookup_any (dns/resolver.h) is one, with the dns_resolver as ctx. */
typedef void spf_lookup_fn(void *ctx, const char *name, int rrtype, dns_callback *cb, void *cb_arg);

typedef struct spf_request {
	const char *ip;         /* the client, IPv4 or IPv6 text (IPv4-mapped is IPv4) */
	const char *domain;     /* the domain to check: MAIL FROM's, or the HELO name */
	const char *sender;     /* "local@domain"; "postmaster@<helo>" for a null
	                         * MAIL FROM or the HELO identity; no "@" means
	                         * local part "postmaster" */
	const char *helo;       /* the HELO/EHLO argument (%{h}); NULL: "unknown" */
	const char *receiver;   /* our host name (%{r} in explanations); NULL: "unknown" */
	spf_lookup_fn *lookup;
	void *lookup_ctx;
	/* forget(lookup_ctx, arg): a look-up still out answers nobody, so a
	 * cancelled check goes at once (dns_forget_any); NULL: its last
	 * question's token waits for the answer */
	void (*forget)(void *ctx, void *cb_arg);
} spf_request;

typedef struct spf_outcome {
	spf_result result;
	const char *domain;       /* the domain whose record decided (after redirects) */
	const char *mechanism;    /* the matching term as written ("-all", "ip4:..."),
	                           * NULL when none matched or on an error */
	const char *explanation;  /* fail only: from exp= or the default text */
	const char *problem;      /* temperror, permerror (and none): why, for logs */
} spf_outcome;

/* Called once with the result; the outcome and its strings live until the
 * callback returns (copy what you keep).  The check is freed after it. */
typedef void spf_done_fn(void *arg, const spf_outcome *out);

typedef struct spf_check spf_check;

/* Start check_host(ip, domain, sender) (RFC 7208 section 4).  Returns a
 * handle for spf_check_cancel, or NULL when done already ran (an answer
 * that needs no look-up, or a look-up function that answers at once).
 * The request's strings are copied; an IP that does not parse gives
 * permerror. */
spf_check *spf_check_host(const spf_request *req, spf_done_fn *done, void *done_arg);
/* Stop a check whose done has not run yet; done never runs.  A look-up in
 * flight is abandoned: its answer, when it comes, is dropped.  Sets *c to NULL. */
void spf_check_cancel(spf_check **c);

#endif
