/* tlsrpthttps.c — the HTTPS deliveries of TLS reports and their retries
 * (see tlsrpthttps.h).  Must not build reports (tlsrptsend.c) nor speak
 * HTTP itself (tlsrptpost.c). */
#include "delivery/tlsrpthttps.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/tlsrptdb.h"
#include "delivery/tlsrptpost.h"
#include "delivery/tlsrptsend.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/workers.h"

#define RETRY_CAP 21600 /* six hours between two tries at most */
#define ADDRS_MAX 8

typedef struct post {
	struct tlsrpthttps *h;
	struct post *next;
	tlsrptdb_post row;
	char *host;
	int port;
	int lookups;          /* A / AAAA look-ups out */
	strlist addrs;
	unsigned char *gz;
	size_t ngz;
	tlsrpt_post_req req;
	tlsrpt_post_result res;
} post;

struct tlsrpthttps {
	struct event_base *base;
	const config *cfg;
	dns_resolver *dns;
	workers *wk;
	atomic_bool stop;
	struct event *timer;
	post *posts;          /* in flight */
	size_t n_posts;
};

static void post_free(post *p)
{
	tlsrptdb_post_clear(&p->row);
	free(p->host);
	strlist_free(&p->addrs);
	free(p->gz);
	tlsrpt_post_result_clear(&p->res);
	free(p);
}

static void unlink_post(tlsrpthttps *h, post *p)
{
	for (post **pp = &h->posts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			h->n_posts--;
			return;
		}
}

static tlsrptdb *open_db(const config *cfg, char **err_r)
{
	char *path = xasprintf("%s/tlsrpt.db", cfg->data_dir);
	tlsrptdb *db = tlsrptdb_open(path, err_r);
	free(path);
	return db;
}

/* Record the outcome of one try (ok: forget the row; else the next try
 * waits retry * 2^(tries-1), at most RETRY_CAP). */
static void record(tlsrpthttps *h, post *p, bool ok, const char *error)
{
	int tries = p->row.tries + 1;
	int64_t wait = h->cfg->tlsrpt.https_retry;
	for (int i = 1; i < tries && wait < RETRY_CAP; i++)
		wait *= 2;
	if (wait > RETRY_CAP)
		wait = RETRY_CAP;
	bool last = !ok && tries >= h->cfg->tlsrpt.https_tries;
	if (ok)
		log_event(LOG_LVL_INFO, "tlsrpt_posted", "domain=%s uri=\"%s\" status=%ld tries=%d", p->row.domain,
		          p->row.uri, p->res.status, tries);
	else
		log_event(LOG_LVL_WARN, "tlsrpt_post_failed", "domain=%s uri=\"%s\" error=\"%s\" tries=%d action=%s",
		          p->row.domain, p->row.uri, error, tries, last ? "gave_up" : "retry");
	char *err = NULL;
	tlsrptdb *db = open_db(h->cfg, &err);
	if (db == NULL || !tlsrptdb_post_result(db, &p->row, ok, tries, (int64_t)time(NULL) + wait, &err))
		log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "domain=%s error=\"%s\"", p->row.domain, err);
	free(err);
	tlsrptdb_close(&db);
}

static void run_round(tlsrpthttps *h);

static void post_work(void *arg)
{
	post *p = arg;
	tlsrpt_post_run(&p->req, &p->res);
}

static void post_done(void *arg)
{
	post *p = arg;
	tlsrpthttps *h = p->h;
	unlink_post(h, p);
	if (!atomic_load(&h->stop)) {
		record(h, p, p->res.ok, p->res.error ? p->res.error : "failed");
		run_round(h);
	}
	post_free(p);
}

static void on_addr(void *arg, const dns_answer *ans)
{
	post *p = arg;
	for (size_t i = 0; ans->status == DNS_OK && i < ans->values.n && p->addrs.n < ADDRS_MAX; i++)
		strlist_add(&p->addrs, ans->values.items[i]);
	if (--p->lookups > 0)
		return;
	tlsrpthttps *h = p->h;
	if (p->addrs.n == 0) {
		char *why = xasprintf("%s has no address", p->host);
		record(h, p, false, why);
		free(why);
		unlink_post(h, p);
		post_free(p);
		return;
	}
	p->req = (tlsrpt_post_req){.uri = p->row.uri, .host = p->host, .port = p->port,
	                           .addrs = (const char *const *)p->addrs.items, .n_addrs = p->addrs.n,
	                           .body = p->gz, .len = p->ngz, .ca_file = h->cfg->delivery.tls_ca_file,
	                           .timeout = h->cfg->tlsrpt.https_timeout, .stop = &h->stop};
	workers_submit(h->wk, post_work, post_done, p);
}

static bool in_flight(const tlsrpthttps *h, const tlsrptdb_post *r)
{
	for (const post *p = h->posts; p != NULL; p = p->next)
		if (p->row.day == r->day && strcmp(p->row.domain, r->domain) == 0 && strcmp(p->row.uri, r->uri) == 0)
			return true;
	return false;
}

/* Start one due row: its report and its host's addresses. */
static void start_post(tlsrpthttps *h, tlsrptdb *db, tlsrptdb_post *row)
{
	post *p = xcalloc(1, sizeof *p);
	p->h = h;
	p->row = *row;
	*row = (tlsrptdb_post){0};
	strlist_init(&p->addrs);
	char *err = NULL;
	if (!tlsrpt_post_target(p->row.uri, &p->host, &p->port)) {
		p->row.tries = h->cfg->tlsrpt.https_tries - 1; /* this was the last */
		record(h, p, false, "not an https URI with a host");
		post_free(p);
		return;
	}
	if (!tlsrptsend_report_gz(h->cfg, db, p->row.day, p->row.domain, &p->gz, &p->ngz, &err)) {
		/* no counts left (pruned): nothing to send, ever */
		log_event(LOG_LVL_WARN, "tlsrpt_post_failed", "domain=%s uri=\"%s\" error=\"%s\" action=gave_up",
		          p->row.domain, p->row.uri, err ? err : "no counts");
		free(err);
		err = NULL;
		if (!tlsrptdb_post_result(db, &p->row, true, 0, 0, &err))
			log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "domain=%s error=\"%s\"", p->row.domain, err);
		free(err);
		post_free(p);
		return;
	}
	p->next = h->posts;
	h->posts = p;
	h->n_posts++;
	unsigned char lit[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, p->host, lit) == 1 || inet_pton(AF_INET6, p->host, lit) == 1) {
		p->lookups = 1;
		dns_answer a = {.status = DNS_OK};
		strlist_init(&a.values);
		strlist_add(&a.values, p->host);
		on_addr(p, &a);
		strlist_free(&a.values);
		return;
	}
	p->lookups = 2;
	dns_lookup(h->dns, p->host, DNS_TYPE_A, on_addr, p);
	dns_lookup(h->dns, p->host, DNS_TYPE_AAAA, on_addr, p);
}

/* Start the due rows that are not in flight, up to TLSRPTHTTPS_MAX. */
static void run_round(tlsrpthttps *h)
{
	if (h->n_posts >= TLSRPTHTTPS_MAX)
		return;
	char *err = NULL;
	tlsrptdb *db = open_db(h->cfg, &err);
	tlsrptdb_post rows[2 * TLSRPTHTTPS_MAX];
	size_t n = 0;
	if (db == NULL || !tlsrptdb_post_due(db, (int64_t)time(NULL), h->cfg->tlsrpt.https_tries, rows,
	                                     2 * TLSRPTHTTPS_MAX, &n, &err)) {
		log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "error=\"%s\"", err);
		free(err);
	}
	for (size_t i = 0; i < n; i++) {
		if (h->n_posts < TLSRPTHTTPS_MAX && !in_flight(h, &rows[i]))
			start_post(h, db, &rows[i]);
		tlsrptdb_post_clear(&rows[i]);
	}
	tlsrptdb_close(&db);
}

static void arm(tlsrpthttps *h, int seconds)
{
	struct timeval tv = {.tv_sec = seconds};
	evtimer_add(h->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	tlsrpthttps *h = arg;
	run_round(h);
	arm(h, h->cfg->tlsrpt.https_retry < 60 ? h->cfg->tlsrpt.https_retry : 60);
}

tlsrpthttps *tlsrpthttps_new(struct event_base *base, const config *cfg, dns_resolver *dns)
{
	tlsrpthttps *h = xcalloc(1, sizeof *h);
	h->base = base;
	h->cfg = cfg;
	h->dns = dns;
	atomic_init(&h->stop, false);
	h->wk = workers_new(base, 1, 0);
	h->timer = evtimer_new(base, on_timer, h);
	arm(h, 1); /* rows left from before a restart */
	return h;
}

void tlsrpthttps_kick(tlsrpthttps *h)
{
	evtimer_del(h->timer);
	arm(h, 0);
}

void tlsrpthttps_free(tlsrpthttps **hp)
{
	tlsrpthttps *h = *hp;
	*hp = NULL;
	if (h == NULL)
		return;
	atomic_store(&h->stop, true);
	/* the ones still looking up their host: nothing on a thread yet */
	for (post **pp = &h->posts; *pp != NULL;) {
		post *p = *pp;
		if (p->lookups > 0) {
			dns_forget(h->dns, p);
			*pp = p->next;
			h->n_posts--;
			post_free(p);
		} else {
			pp = &p->next;
		}
	}
	workers_free(&h->wk); /* the POSTs stop (h->stop); their done frees them */
	event_free(h->timer);
	free(h);
}
