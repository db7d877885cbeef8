/* curlhttps.h — a libcurl easy handle set up the one strict way yubin's
 * own HTTPS client requests need (MTA-STS policy fetches, TLS-RPT POSTs):
 * https only, no redirects, the peer's certificate and name verified, TLS
 * 1.2 or later, the connection and the whole transfer bounded by one
 * timeout, a stop flag checked during the transfer, and the URL's host
 * connected at an address the caller resolved (so that curl never asks
 * another DNS).  The caller adds what its request needs (body, headers,
 * write callback) and performs it.  No other state. */
#ifndef YUBIN_LIB_CURLHTTPS_H
#define YUBIN_LIB_CURLHTTPS_H

#include <curl/curl.h>
#include <stdatomic.h>

typedef struct curl_https_opts {
	const char *url;
	const char *host;         /* the URL's host (an IPv6 literal without brackets) */
	int url_port;             /* the URL's port */
	const char *addr;         /* where host:url_port is connected instead ... */
	int port;                 /* ... and at which port */
	const char *ca_file;      /* NULL or "": the system's CAs */
	int timeout;              /* seconds */
	const char *user_agent;
	const atomic_bool *stop;  /* set: the transfer stops (may be NULL) */
	char *errbuf;             /* CURL_ERROR_SIZE bytes */
} curl_https_opts;

typedef struct curl_https {
	CURL *c;
	struct curl_slist *connect_to;
} curl_https;

/* Set h up for o (aborts when out of memory). */
void curl_https_init(curl_https *h, const curl_https_opts *o);
void curl_https_cleanup(curl_https *h);

#endif
