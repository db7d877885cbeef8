/* mtastsfetch.c — the blocking HTTPS fetch of one MTA-STS policy (see
 * mtastsfetch.h).  Must not parse the policy or touch the cache. */
#include "delivery/mtastsfetch.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/mtasts.h"
#include "lib/buf.h"
#include "lib/curlhttps.h"
#include "lib/strutil.h"

typedef struct sink {
	char *data;
	size_t len;
	bool too_big;
} sink;

/* RFC 8461 3.3: senders may bound the policy; past 64 KiB the transfer
 * stops (returning less than given makes curl fail the transfer). */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	sink *s = arg;
	size_t add = size * n;
	if (s->len + add > MTASTS_POLICY_MAX) {
		s->too_big = true;
		return 0;
	}
	s->data = xrealloc(s->data, s->len + add + 1);
	memcpy(s->data + s->len, p, add);
	s->len += add;
	s->data[s->len] = '\0';
	return add;
}

/* The media type of a Content-Type value is text/plain (parameters such
 * as charset=utf-8 are allowed). */
static bool is_text_plain(const char *ct)
{
	if (ct == NULL)
		return false;
	size_t n = strcspn(ct, "; \t");
	return n == 10 && str_ascii_nieq(ct, "text/plain", 10);
}

/* One try at one address: CURLE_OK and the status, or the curl error. */
static CURLcode try_addr(const mtasts_fetch_req *req, const char *addr, sink *s, long *status_r,
                         char **ctype_r, char *errbuf)
{
	char *url = xasprintf("https://mta-sts.%s/.well-known/mta-sts.txt", req->domain);
	char *host = xasprintf("mta-sts.%s", req->domain);
	curl_https h;
	curl_https_init(&h, &(curl_https_opts){.url = url, .host = host, .url_port = 443, .addr = addr,
	                                       .port = req->port, .ca_file = req->ca_file, .timeout = req->timeout,
	                                       .user_agent = "yubin MTA-STS", .stop = req->stop, .errbuf = errbuf});
	CURL *c = h.c;
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status_r);
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	*ctype_r = ct ? xstrdup(ct) : NULL;
	curl_https_cleanup(&h);
	free(host);
	free(url);
	return rc;
}

void mtasts_fetch_run(const mtasts_fetch_req *req, mtasts_fetch_result *out)
{
	*out = (mtasts_fetch_result){0};
	if (req->n_addrs == 0) {
		out->error = xasprintf("mta-sts.%s has no address", req->domain);
		return;
	}
	for (size_t i = 0; i < req->n_addrs; i++) {
		sink s = {0};
		long status = 0;
		char *ctype = NULL;
		char errbuf[CURL_ERROR_SIZE] = "";
		CURLcode rc = try_addr(req, req->addrs[i], &s, &status, &ctype, errbuf);
		free(out->error);
		out->error = NULL;
		if (rc == CURLE_OK && status == 200 && is_text_plain(ctype)) {
			out->ok = true;
			out->body = s.data ? s.data : xstrdup("");
			out->len = s.len;
			free(ctype);
			return;
		}
		/* the peer's certificate chain or name (CURLE_SSL_CACERT is the
		 * same code as CURLE_PEER_FAILED_VERIFICATION), or its issuer */
		out->webpki = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_ISSUER_ERROR;
		if (s.too_big)
			out->error = xstrdup("the policy is larger than 64 KiB");
		else if (rc != CURLE_OK)
			out->error = xasprintf("%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		else if (status != 200)
			out->error = xasprintf("HTTP status %ld (only 200 is a policy; redirects are not followed)",
			                       status);
		else
			out->error = xasprintf("Content-Type %s is not text/plain", ctype ? ctype : "(none)");
		free(ctype);
		free(s.data);
		bool connect_failed = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT;
		if (!connect_failed || (req->stop != NULL && atomic_load(req->stop)))
			return; /* the server answered: another address would say the same */
	}
}

void mtasts_fetch_result_clear(mtasts_fetch_result *r)
{
	free(r->body);
	free(r->error);
	*r = (mtasts_fetch_result){0};
}
