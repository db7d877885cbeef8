/* curlhttps.c — the strict libcurl HTTPS handle (see curlhttps.h).  Must
 * not perform requests nor interpret answers. */
#include "lib/curlhttps.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const atomic_bool *stop = arg;
	return stop != NULL && atomic_load(stop) ? 1 : 0;
}

void curl_https_init(curl_https *h, const curl_https_opts *o)
{
	h->c = curl_easy_init();
	if (h->c == NULL)
		abort(); /* out of memory */
	bool v6 = strchr(o->addr, ':') != NULL, host6 = strchr(o->host, ':') != NULL;
	char *to = xasprintf("%s%s%s:%d:%s%s%s:%d", host6 ? "[" : "", o->host, host6 ? "]" : "", o->url_port,
	                     v6 ? "[" : "", o->addr, v6 ? "]" : "", o->port);
	h->connect_to = curl_slist_append(NULL, to);
	free(to);
	if (h->connect_to == NULL)
		abort();
	CURL *c = h->c;
	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, h->connect_to);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* RFC 8461 3.3: MUST NOT follow */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (o->ca_file != NULL && *o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)o->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)o->timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)o->stop);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, o->errbuf);
}

void curl_https_cleanup(curl_https *h)
{
	if (h->c != NULL)
		curl_easy_cleanup(h->c);
	curl_slist_free_all(h->connect_to);
	*h = (curl_https){0};
}
