/* mtastsfetch.h — one MTA-STS policy fetch (RFC 8461 3.3): GET
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt with libcurl, blocking,
 * for a worker thread.  The certificate must verify for mta-sts.DOMAIN
 * (system CAs, or ca_file), redirects are not followed, only a 200 with
 * media type text/plain is a policy, the body is bounded (64 KiB) and the
 * whole fetch by a timeout.  Names are resolved by the caller with yubin's
 * resolver (the addresses are given), so that curl never asks another
 * DNS.  libcurl: Debian's, already the webhook sender's HTTPS client. */
#ifndef YUBIN_DELIVERY_MTASTSFETCH_H
#define YUBIN_DELIVERY_MTASTSFETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct mtasts_fetch_req {
	const char *domain;        /* the policy domain, lower case */
	const char *const *addrs;  /* addresses of mta-sts.DOMAIN, tried in order */
	size_t n_addrs;
	int port;                  /* 443; another only for tests (mtasts.test_https_port) */
	const char *ca_file;       /* NULL: the system's CAs */
	int timeout;               /* seconds for the whole fetch */
	const atomic_bool *stop;   /* set: give up at once (shutdown) */
} mtasts_fetch_req;

typedef struct mtasts_fetch_result {
	bool ok;
	char *body;                /* the policy text (NUL-terminated), when ok */
	size_t len;
	char *error;               /* why not, for the log, when !ok */
	bool webpki;               /* !ok because the certificate of
	                            * mta-sts.DOMAIN did not validate */
} mtasts_fetch_result;

void mtasts_fetch_run(const mtasts_fetch_req *req, mtasts_fetch_result *out);
void mtasts_fetch_result_clear(mtasts_fetch_result *r);

#endif
