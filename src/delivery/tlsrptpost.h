/* tlsrptpost.h — one HTTPS POST of a TLS report (RFC 8460 5.4, 3) to an
 * https: rua address, with libcurl, blocking, for a worker thread.  The
 * body is the gzip'd JSON, sent as application/tlsrpt+gzip; only a 2xx
 * answer is a success.  The server's certificate must verify for the
 * URI's host (system CAs, or ca_file); redirects are not followed; the
 * whole POST is bounded by a timeout.  Names are resolved by the caller
 * with yubin's resolver (the addresses are given), so that curl never
 * asks another DNS.  Must not build reports or decide about retries
 * (tlsrptsend.c). */
#ifndef YUBIN_DELIVERY_TLSRPTPOST_H
#define YUBIN_DELIVERY_TLSRPTPOST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The parts of an https: URI that the POST needs: host (lower case; an
 * IPv6 literal without its brackets) and port (443 when not given).
 * False when uri is no https URI with a host. *host_r is malloc'd. */
bool tlsrpt_post_target(const char *uri, char **host_r, int *port_r);

typedef struct tlsrpt_post_req {
	const char *uri;           /* https://HOST[:PORT]/PATH as in the record */
	const char *host;          /* tlsrpt_post_target's */
	int port;
	const char *const *addrs;  /* addresses of host, tried in order */
	size_t n_addrs;
	const unsigned char *body; /* the gzip'd report */
	size_t len;
	const char *ca_file;       /* NULL: the system's CAs */
	int timeout;               /* seconds for the whole POST */
	const atomic_bool *stop;   /* set: give up at once (shutdown) */
} tlsrpt_post_req;

typedef struct tlsrpt_post_result {
	bool ok;                   /* a 2xx answer */
	long status;               /* the HTTP status, 0 when none came */
	char *error;               /* why not, for the log, when !ok */
} tlsrpt_post_result;

void tlsrpt_post_run(const tlsrpt_post_req *req, tlsrpt_post_result *out);
void tlsrpt_post_result_clear(tlsrpt_post_result *r);

#endif
