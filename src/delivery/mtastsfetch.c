/* mtastsfetch.c — the blocking HTTPS fetch of one MTA-STS policy (see
 * mtastsfetch.h).  Must not parse the policy or touch the cache. */
#include "delivery/mtastsfetch.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/mtasts.h"
#include "lib/buf.h"
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

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const atomic_bool *stop = arg;
	return stop != NULL && atomic_load(stop) ? 1 : 0;
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
	CURL *c = curl_easy_init();
	if (c == NULL)
		abort(); /* out of memory */
	char *url = xasprintf("https://mta-sts.%s/.well-known/mta-sts.txt", req->domain);
	bool v6 = strchr(addr, ':') != NULL;
	char *to = xasprintf("mta-sts.%s:443:%s%s%s:%d", req->domain, v6 ? "[" : "", addr, v6 ? "]" : "",
	                     req->port);
	struct curl_slist *connect_to = curl_slist_append(NULL, to);
	if (connect_to == NULL)
		abort();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* RFC 8461 3.3: MUST NOT follow */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (req->ca_file != NULL && *req->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)req->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)req->timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "yubin MTA-STS");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)req->stop);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status_r);
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	*ctype_r = ct ? xstrdup(ct) : NULL;
	curl_easy_cleanup(c);
	curl_slist_free_all(connect_to);
	free(to);
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
