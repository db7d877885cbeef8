/* whsend.c — the webhook sender thread (see whsend.h): libcurl's multi
 * interface over the outbox.  It must not build events (api/follow.c
 * queues their bodies) and never logs a secret or a body. */
#include "api/whsend.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/hooksdb.h"
#include "api/outbox.h"
#include "api/whsign.h"
#include "api/whstore.h"
#include "lib/log.h"
#include "lib/strutil.h"

/* One attempt in flight. */
typedef struct attempt {
	outbox_row row;
	char *host;                 /* the endpoint's, for the log */
	CURL *easy;
	struct curl_slist *headers;
} attempt;

struct whsend {
	const config *cfg;
	const webhook_defs *defs;   /* the configuration's */
	webhook_defs *registered;   /* through the API (api/whstore.h), read again at each fill */
	sqlite3 *db;
	CURLM *multi;
	pthread_t thread;
	atomic_bool stop;
	atomic_llong backlog;
	attempt slots[WHSEND_PARALLEL];
	size_t busy;
};

/* The answer's body is not needed: read and dropped. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(h, line);
	free(line);
	if (n == NULL)
		abort(); /* out of memory */
	return n;
}

static CURL *make_easy(whsend *w, attempt *a, const webhook_endpoint *ep)
{
	CURL *c = curl_easy_init();
	if (c == NULL)
		abort();
	int64_t ts = (int64_t)time(NULL);
	char tsbuf[24];
	snprintf(tsbuf, sizeof tsbuf, "%lld", (long long)ts);
	char *sig = whsign_signature(ep->key, ep->key_len, a->row.event_id, ts, a->row.body,
	                             strlen(a->row.body));
	a->headers = add_header(NULL, "Content-Type", "application/json");
	a->headers = add_header(a->headers, "Webhook-Id", a->row.event_id);
	a->headers = add_header(a->headers, "Webhook-Timestamp", tsbuf);
	a->headers = add_header(a->headers, "Webhook-Signature", sig);
	a->headers = add_header(a->headers, "Expect", "");
	free(sig);
	curl_easy_setopt(c, CURLOPT_URL, a->row.url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (w->cfg->webhooks.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, w->cfg->webhooks.ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)w->cfg->webhooks.connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)w->cfg->webhooks.timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "yubin-webhooks/1");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, a->row.body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(a->row.body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PRIVATE, a);
	return c;
}

static void slot_clear(whsend *w, attempt *a)
{
	if (a->easy != NULL) {
		curl_multi_remove_handle(w->multi, a->easy);
		curl_easy_cleanup(a->easy);
	}
	curl_slist_free_all(a->headers);
	outbox_row_free(&a->row);
	free(a->host);
	*a = (attempt){0};
	w->busy--;
}

/* A delivery for an endpoint that is no longer configured, or too old. */
static bool drop_stale(whsend *w, outbox_row *r, const webhook_endpoint *ep, int64_t now)
{
	const char *why = ep == NULL                                       ? "endpoint_removed"
	                  : now - r->created >= w->cfg->webhooks.retry_for ? "expired"
	                                                                   : NULL;
	if (why == NULL)
		return false;
	char *host = webhook_url_host(r->url);
	log_event(LOG_LVL_WARN, "webhook_drop", "id=%s host=%s attempts=%d reason=%s", r->event_id, host, r->attempts,
	          why);
	free(host);
	outbox_remove(w->db, r->id);
	return true;
}

/* Claim due deliveries into free slots and start them. */
static void fill(whsend *w, int64_t now)
{
	outbox_row *v = NULL;
	size_t n = 0;
	int64_t lease = w->cfg->webhooks.timeout + w->cfg->webhooks.connect_timeout + 5;
	if (!outbox_claim(w->db, now, lease, WHSEND_PARALLEL - w->busy, &v, &n)) {
		log_event(LOG_LVL_WARN, "webhook_outbox", "error=%s", sqlite3_errmsg(w->db));
		return;
	}
	webhook_defs *fresh = whstore_defs(w->db);
	if (fresh != NULL) { /* else (a database error) the last list serves */
		webhook_defs_free(&w->registered);
		w->registered = fresh;
	}
	for (size_t i = 0; i < n; i++) {
		const webhook_endpoint *ep = webhook_defs_find(w->defs, v[i].url);
		if (ep == NULL)
			ep = webhook_defs_find(w->registered, v[i].url);
		if (drop_stale(w, &v[i], ep, now)) {
			outbox_row_free(&v[i]);
			continue;
		}
		size_t k = 0;
		while (w->slots[k].easy != NULL)
			k++;
		attempt *a = &w->slots[k];
		*a = (attempt){.row = v[i], .host = xstrdup(ep->host)};
		w->busy++;
		a->easy = make_easy(w, a, ep);
		curl_multi_add_handle(w->multi, a->easy);
	}
	free(v);
}

/* One attempt ended with curl result rc. */
static void settle(whsend *w, attempt *a, CURLcode rc)
{
	long status = 0;
	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	int attempt_no = a->row.attempts + 1;
	int64_t now = (int64_t)time(NULL);
	const char *err = rc != CURLE_OK ? curl_easy_strerror(rc) : NULL;
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		log_event(LOG_LVL_INFO, "webhook_attempt", "id=%s host=%s status=%ld attempt=%d result=delivered",
		          a->row.event_id, a->host, status, attempt_no);
		outbox_remove(w->db, a->row.id);
		return;
	}
	const config_webhooks *c = &w->cfg->webhooks;
	int64_t next = whsign_next_try(attempt_no, a->row.created, now, c->retry_base, c->retry_max, c->retry_for);
	log_event(next < 0 ? LOG_LVL_WARN : LOG_LVL_INFO, "webhook_attempt",
	          "id=%s host=%s status=%ld attempt=%d result=%s retry_in=%lld error=%s", a->row.event_id, a->host,
	          status, attempt_no, next < 0 ? "dropped" : "retry", next < 0 ? 0LL : (long long)(next - now), err);
	if (next < 0)
		outbox_remove(w->db, a->row.id);
	else
		outbox_reschedule(w->db, a->row.id, attempt_no, next);
}

static void reap(whsend *w)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		attempt *a = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&a);
		settle(w, a, m->data.result);
		slot_clear(w, a);
	}
}

static void *run(void *arg)
{
	whsend *w = arg;
	while (!atomic_load(&w->stop)) {
		int64_t now = (int64_t)time(NULL);
		if (w->busy < WHSEND_PARALLEL)
			fill(w, now);
		int running = 0;
		curl_multi_perform(w->multi, &running);
		reap(w);
		atomic_store(&w->backlog, (long long)outbox_count(w->db));
		curl_multi_poll(w->multi, NULL, 0, w->busy ? 200 : 1000, NULL);
	}
	/* abandoned attempts stay in the outbox, due at once after a restart */
	for (size_t k = 0; k < WHSEND_PARALLEL; k++)
		if (w->slots[k].easy != NULL) {
			outbox_reschedule(w->db, w->slots[k].row.id, w->slots[k].row.attempts, 0);
			slot_clear(w, &w->slots[k]);
		}
	return NULL;
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

whsend *whsend_start(const config *cfg, const webhook_defs *defs, char **err_r)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, global_init);
	whsend *w = xcalloc(1, sizeof(*w));
	w->cfg = cfg;
	w->defs = defs;
	w->db = hooksdb_open(cfg, err_r);
	w->multi = w->db != NULL ? curl_multi_init() : NULL;
	if (w->multi == NULL || pthread_create(&w->thread, NULL, run, w) != 0) {
		if (w->db != NULL)
			*err_r = xstrdup("cannot start the webhook sender (libcurl or a thread)");
		if (w->multi != NULL)
			curl_multi_cleanup(w->multi);
		hooksdb_close(&w->db);
		free(w);
		return NULL;
	}
	return w;
}

void whsend_stop(whsend **wp)
{
	whsend *w = *wp;
	if (w == NULL)
		return;
	atomic_store(&w->stop, true);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	curl_multi_cleanup(w->multi);
	hooksdb_close(&w->db);
	webhook_defs_free(&w->registered);
	free(w);
	*wp = NULL;
}

int64_t whsend_backlog(const whsend *w)
{
	return w != NULL ? (int64_t)atomic_load(&((whsend *)w)->backlog) : 0;
}
