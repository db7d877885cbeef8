/* tlsrptpost.c — the blocking HTTPS POST of one TLS report (see
 * tlsrptpost.h).  Must not build the report or keep any state. */
#include "delivery/tlsrptpost.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "lib/curlhttps.h"
#include "lib/strutil.h"

#define ANSWER_MAX 4096 /* bytes of the answer's body read (and dropped) */

bool tlsrpt_post_target(const char *uri, char **host_r, int *port_r)
{
	CURLU *u = curl_url();
	if (u == NULL)
		abort(); /* out of memory */
	char *scheme = NULL, *host = NULL, *port = NULL;
	bool ok = curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
	          curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && strcmp(scheme, "https") == 0 &&
	          curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && *host != '\0' &&
	          curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	if (ok) {
		size_t n = strlen(host);
		*host_r = host[0] == '[' && n > 2 ? xstrndup(host + 1, n - 2) : xstrdup(host);
		str_ascii_lower(*host_r);
		*port_r = atoi(port);
		ok = *port_r > 0 && *port_r < 65536;
		if (!ok) {
			free(*host_r);
			*host_r = NULL;
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/* The answer's body is not used: read up to ANSWER_MAX, then stop. */
static size_t on_answer(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	size_t *got = arg;
	*got += size * n;
	return *got > ANSWER_MAX ? 0 : size * n;
}

/* One POST to one address: the curl result and the status. */
static CURLcode post_to(const tlsrpt_post_req *req, const char *addr, long *status_r, char *errbuf)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/tlsrpt+gzip");
	/* no "Expect: 100-continue" for a larger report: a server that does
	 * not answer it would cost a second of waiting each time */
	if (hdrs == NULL || (hdrs = curl_slist_append(hdrs, "Expect:")) == NULL)
		abort();
	curl_https h;
	curl_https_init(&h, &(curl_https_opts){.url = req->uri, .host = req->host, .url_port = req->port,
	                                       .addr = addr, .port = req->port, .ca_file = req->ca_file,
	                                       .timeout = req->timeout, .user_agent = "yubin TLS-RPT",
	                                       .stop = req->stop, .errbuf = errbuf});
	CURL *c = h.c;
	size_t got = 0;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_WRITE_ERROR && got > ANSWER_MAX)
		rc = CURLE_OK; /* a long answer: its status is what counts */
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status_r);
	curl_https_cleanup(&h);
	curl_slist_free_all(hdrs);
	return rc;
}

void tlsrpt_post_run(const tlsrpt_post_req *req, tlsrpt_post_result *out)
{
	*out = (tlsrpt_post_result){0};
	if (req->n_addrs == 0) {
		out->error = xasprintf("%s has no address", req->host);
		return;
	}
	for (size_t i = 0; i < req->n_addrs; i++) {
		char errbuf[CURL_ERROR_SIZE] = "";
		long status = 0;
		CURLcode rc = post_to(req, req->addrs[i], &status, errbuf);
		free(out->error);
		out->error = NULL;
		out->status = status;
		if (rc == CURLE_OK && status / 100 == 2) {
			out->ok = true;
			return;
		}
		if (rc != CURLE_OK)
			out->error = xasprintf("%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		else
			out->error = xasprintf("HTTP status %ld", status);
		bool connect_failed = rc == CURLE_COULDNT_CONNECT || (rc == CURLE_OPERATION_TIMEDOUT && status == 0);
		if (!connect_failed || (req->stop != NULL && atomic_load(req->stop)))
			return; /* the server answered: another address would say the same */
	}
}

void tlsrpt_post_result_clear(tlsrpt_post_result *r)
{
	free(r->error);
	*r = (tlsrpt_post_result){0};
}
