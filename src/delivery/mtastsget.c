/* mtastsget.c — MTA-STS policies on the loop (see mtastsget.h): the TXT
 * look-up, the in-memory cache over mtastsdb, fetches on two worker threads
 * shared by every request for the same domain, and the refresh timer.
 * Must not parse policies itself (mtasts.c) nor speak HTTP
 * (mtastsfetch.c). */
#include "delivery/mtastsget.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/mtastsdb.h"
#include "delivery/mtastsfetch.h"
#include "lib/log.h"
#include "lib/workers.h"
#include "metrics/metrics.h"

typedef struct fetch fetch;

/* One domain known to the cache. */
typedef struct entry {
	char *domain;
	mtasts_policy *p;        /* the cached policy (maybe expired), or NULL */
	char *failed_id;         /* a fetch for this id failed ... */
	time_t retry_at;         /* ... and is not tried again before */
	mtasts_failure fail;     /* ... how (for TLS-RPT) */
	char *fail_why;
	fetch *inflight;
} entry;

/* A caller waiting for a domain's policy. */
typedef struct req {
	struct req *next;
	mtastsget *m;
	char *domain;
	mtastsget_fn *fn;        /* NULL: a background refresh */
	void *arg;
	bool in_dns;             /* the TXT look-up is out */
	bool refresh;            /* fetch even with the same id (before expiry) */
	char *txt_id;
	fetch *f;                /* waiting for this fetch */
} req;

struct fetch {
	mtastsget *m;
	char *domain;
	char *id;
	strlist addrs;
	int lookups;
	mtasts_fetch_req fr;
	mtasts_fetch_result res;
	mtasts_policy parsed;    /* on the worker, when the body parses */
	bool parsed_ok;
	const char *why;
	char *store_error;
	time_t now;
};

struct mtastsget {
	struct event_base *base;
	const config *cfg;
	dns_resolver *dns;
	mtastsdb *db;
	pthread_mutex_t db_lock;
	workers *wk;
	atomic_bool stop;
	entry *v;
	size_t n, cap;
	req *reqs;               /* every request not yet answered */
	size_t n_fetches;
	struct event *timer;
	mtasts_failure cur_fail; /* of the answer being given (mtastsget_failure) */
	const char *cur_why;
};

static entry *find(mtastsget *m, const char *domain)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].domain, domain) == 0)
			return &m->v[i];
	return NULL;
}

static void entry_clear(entry *e)
{
	free(e->domain);
	mtasts_policy_free(&e->p);
	free(e->failed_id);
	free(e->fail_why);
}

/* The entry of domain, made when missing; at the bound the one that
 * expires first (and has no fetch out) makes room. */
static entry *get(mtastsget *m, const char *domain)
{
	entry *e = find(m, domain);
	if (e != NULL)
		return e;
	if (m->n >= MTASTSGET_CACHE_MAX) {
		size_t victim = m->n;
		for (size_t i = 0; i < m->n; i++)
			if (m->v[i].inflight == NULL &&
			    (victim == m->n || (m->v[i].p ? m->v[i].p->expires : 0) <
			                           (m->v[victim].p ? m->v[victim].p->expires : 0)))
				victim = i;
		if (victim == m->n)
			return NULL;
		entry_clear(&m->v[victim]);
		m->v[victim] = m->v[--m->n];
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	e = &m->v[m->n++];
	*e = (entry){.domain = xstrdup(domain)};
	return e;
}

static bool valid(const entry *e, time_t now)
{
	return e != NULL && e->p != NULL && e->p->expires > now;
}

static void req_unlink(mtastsget *m, req *r)
{
	for (req **pp = &m->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r->domain);
	free(r->txt_id);
	free(r);
}

/* Answer r with p (NULL: no policy; fail says why when one was
 * announced but cannot be applied) and drop it. */
static void answer_why(req *r, const mtasts_policy *p, const char *how, mtasts_failure fail, const char *why)
{
	mtastsget *m = r->m;
	if (r->fn != NULL) {
		if (p != NULL && p->mode == MTASTS_MODE_NONE)
			p = NULL;
		m->cur_fail = p == NULL ? fail : MTASTS_FAIL_NONE;
		m->cur_why = why != NULL ? why : "";
		r->fn(r->arg, p, how);
		m->cur_fail = MTASTS_FAIL_NONE;
		m->cur_why = NULL;
	}
	req_unlink(m, r);
}

mtasts_failure mtastsget_failure(const mtastsget *m, const char **why_r)
{
	*why_r = m->cur_why != NULL ? m->cur_why : "";
	return m->cur_fail;
}

static void log_decision(const char *domain, const entry *e, const char *decision, const char *detail)
{
	time_t now = time(NULL);
	bool cached = e != NULL && e->p != NULL && e->p->expires > now;
	const char *mode = cached ? mtasts_mode_name(e->p->mode) : "-";
	const char *id = cached && e->p->id ? e->p->id : "-";
	long left = cached ? (long)(e->p->expires - now) : 0;
	if (strcmp(decision, "cached") == 0)
		metrics_mtasts(METRICS_STS_CACHED);
	if (detail != NULL)
		log_event(LOG_LVL_INFO, "mtasts", "domain=%s decision=%s mode=%s id=%s expires_in=%lds detail=\"%s\"",
		          domain, decision, mode, id, left, detail);
	else
		log_event(LOG_LVL_INFO, "mtasts", "domain=%s decision=%s mode=%s id=%s expires_in=%lds", domain,
		          decision, mode, id, left);
}

/* ---- fetching ---- */

static void fetch_work(void *arg)
{
	fetch *f = arg;
	mtasts_fetch_run(&f->fr, &f->res);
	if (!f->res.ok)
		return;
	f->parsed_ok = mtasts_policy_parse(f->res.body, f->res.len, &f->parsed, &f->why);
	if (!f->parsed_ok)
		return;
	char *err = NULL;
	pthread_mutex_lock(&f->m->db_lock);
	if (!mtastsdb_store(f->m->db, f->domain, f->id, f->res.body, f->now,
	                    f->now + f->parsed.max_age, f->now, &err))
		f->store_error = err;
	pthread_mutex_unlock(&f->m->db_lock);
}

static void fetch_free(fetch *f)
{
	free(f->domain);
	free(f->id);
	strlist_free(&f->addrs);
	mtasts_fetch_result_clear(&f->res);
	mtasts_policy_clear(&f->parsed);
	free(f->store_error);
	free(f);
}

static void fetch_done(void *arg)
{
	fetch *f = arg;
	mtastsget *m = f->m;
	m->n_fetches--;
	if (atomic_load(&m->stop)) {
		fetch_free(f);
		return;
	}
	entry *e = find(m, f->domain);
	time_t now = time(NULL);
	bool ok = f->res.ok && f->parsed_ok;
	mtasts_failure fail = ok ? MTASTS_FAIL_NONE : f->res.ok ? MTASTS_FAIL_INVALID
	                                 : f->res.webpki   ? MTASTS_FAIL_WEBPKI
	                                                   : MTASTS_FAIL_FETCH;
	char *detail = NULL;
	if (f->store_error != NULL)
		log_event(LOG_LVL_WARN, "mtasts_cache", "domain=%s error=\"%s\"", f->domain, f->store_error);
	metrics_mtasts(ok ? METRICS_STS_OK : METRICS_STS_FAILED);
	if (ok) {
		log_event(LOG_LVL_INFO, "mtasts_fetch", "domain=%s id=%s result=ok mode=%s max_age=%ld mx=%zu",
		          f->domain, f->id, mtasts_mode_name(f->parsed.mode), f->parsed.max_age, f->parsed.mx.n);
		if (e != NULL) {
			mtasts_policy_free(&e->p);
			e->p = mtasts_policy_dup(&f->parsed);
			e->p->id = xstrdup(f->id);
			e->p->fetched = f->now;
			e->p->expires = f->now + f->parsed.max_age;
			free(e->failed_id);
			e->failed_id = NULL;
			e->fail = MTASTS_FAIL_NONE;
		}
	} else {
		detail = xasprintf("%s", f->res.ok ? f->why : f->res.error ? f->res.error : "failed");
		log_event(LOG_LVL_WARN, "mtasts_fetch", "domain=%s id=%s result=fail error=\"%s\"", f->domain, f->id,
		          detail);
		if (e != NULL) {
			free(e->failed_id);
			e->failed_id = xstrdup(f->id);
			e->retry_at = now + m->cfg->mtasts.fetch_retry;
			e->fail = fail;
			free(e->fail_why);
			e->fail_why = xstrdup(detail);
		}
	}
	if (e != NULL)
		e->inflight = NULL;
	bool cached = valid(e, now);
	mtasts_action act = mtasts_after_fetch(ok, cached);
	char *how = act == MTASTS_FETCH ? xstrdup("fetched")
	            : act == MTASTS_USE_CACHED ? xasprintf("cached, fetch failed: %s", detail)
	                                       : xasprintf("none, fetch failed: %s", detail);
	log_decision(f->domain, act == MTASTS_NO_POLICY ? NULL : e,
	             act == MTASTS_FETCH ? "fetched" : act == MTASTS_USE_CACHED ? "cached" : "none",
	             act == MTASTS_FETCH ? NULL : detail);
	for (req *r = m->reqs, *next; r != NULL; r = next) {
		next = r->next;
		if (r->f == f)
			answer_why(r, act == MTASTS_NO_POLICY ? NULL : e->p, how, fail, detail);
	}
	free(how);
	free(detail);
	fetch_free(f);
}

static void on_fetch_addr(void *arg, const dns_answer *ans)
{
	fetch *f = arg;
	for (size_t i = 0; ans->status == DNS_OK && i < ans->values.n && f->addrs.n < 8; i++)
		strlist_add(&f->addrs, ans->values.items[i]);
	if (--f->lookups > 0)
		return;
	f->fr = (mtasts_fetch_req){.domain = f->domain, .addrs = (const char *const *)f->addrs.items,
	                           .n_addrs = f->addrs.n, .port = f->m->cfg->mtasts.test_https_port
	                                                          ? f->m->cfg->mtasts.test_https_port : 443,
	                           .ca_file = f->m->cfg->delivery.tls_ca_file,
	                           .timeout = f->m->cfg->mtasts.fetch_timeout, .stop = &f->m->stop};
	f->now = time(NULL);
	workers_submit(f->m->wk, fetch_work, fetch_done, f);
}

/* r waits for the fetch of its domain's policy under txt id (one fetch
 * per domain at a time; later requests join it). */
static void start_fetch(mtastsget *m, entry *e, req *r)
{
	if (e->inflight != NULL) {
		r->f = e->inflight;
		return;
	}
	fetch *f = xcalloc(1, sizeof(*f));
	f->m = m;
	f->domain = xstrdup(e->domain);
	f->id = xstrdup(r->txt_id);
	strlist_init(&f->addrs);
	strlist_init(&f->parsed.mx);
	e->inflight = f;
	r->f = f;
	m->n_fetches++;
	f->lookups = 2;
	char *host = xasprintf("mta-sts.%s", e->domain);
	dns_lookup(m->dns, host, DNS_TYPE_A, on_fetch_addr, f);
	dns_lookup(m->dns, host, DNS_TYPE_AAAA, on_fetch_addr, f);
	free(host);
}

/* ---- the TXT record ---- */

static void on_txt(void *arg, const dns_answer *ans)
{
	req *r = arg;
	mtastsget *m = r->m;
	r->in_dns = false;
	const char *why = NULL;
	mtasts_txt txt = MTASTS_TXT_FAILED;
	if (ans->status == DNS_OK)
		txt = mtasts_txt_select((const char *const *)ans->values.items, ans->lens, ans->values.n, &r->txt_id,
		                        &why);
	else if (ans->status != DNS_TEMPFAIL)
		txt = MTASTS_TXT_NONE;
	time_t now = time(NULL);
	entry *e = txt == MTASTS_TXT_FOUND ? get(m, r->domain) : find(m, r->domain);
	bool cached = valid(e, now);
	bool blocked = e != NULL && e->failed_id != NULL && r->txt_id != NULL &&
	               strcmp(e->failed_id, r->txt_id) == 0 && now < e->retry_at;
	if (e != NULL && e->inflight == NULL && m->n_fetches >= MTASTSGET_FETCH_MAX)
		blocked = true;
	mtasts_action act = e == NULL && txt == MTASTS_TXT_FOUND
	                        ? MTASTS_NO_POLICY /* the cache is full of fetches */
	                        : mtasts_decide(cached, cached ? e->p->id : NULL, txt, r->txt_id, blocked);
	if (act == MTASTS_USE_CACHED && r->refresh && txt == MTASTS_TXT_FOUND && !blocked &&
	    e->p->expires - now <= 2L * m->cfg->mtasts.refresh_interval)
		act = MTASTS_FETCH; /* RFC 8461 5.1: refresh before it expires */
	if (act == MTASTS_FETCH) {
		start_fetch(m, e, r);
		return;
	}
	const char *detail = txt == MTASTS_TXT_FAILED ? "TXT look-up failed" : txt == MTASTS_TXT_NONE ? why : NULL;
	if (r->fn != NULL)
		log_decision(r->domain, act == MTASTS_USE_CACHED ? e : NULL,
		             act == MTASTS_USE_CACHED ? "cached" : "none", detail);
	/* a policy announced (the TXT) but not fetched: the last fetch for its
	 * id failed a moment ago, or too many fetches are out */
	mtasts_failure fail = MTASTS_FAIL_NONE;
	const char *fail_why = NULL;
	if (act == MTASTS_NO_POLICY && txt == MTASTS_TXT_FOUND) {
		bool same_id = e != NULL && e->failed_id != NULL && strcmp(e->failed_id, r->txt_id) == 0;
		fail = same_id ? e->fail : MTASTS_FAIL_FETCH;
		fail_why = same_id ? e->fail_why : "too many policy fetches at once";
	}
	answer_why(r, act == MTASTS_USE_CACHED ? e->p : NULL, act == MTASTS_USE_CACHED ? "cached" : "none", fail,
	           fail_why);
}

static req *new_req(mtastsget *m, const char *domain, mtastsget_fn *fn, void *arg, bool refresh)
{
	req *r = xcalloc(1, sizeof(*r));
	*r = (req){.next = m->reqs, .m = m, .domain = xstrdup(domain), .fn = fn, .arg = arg, .in_dns = true,
	           .refresh = refresh};
	str_ascii_lower(r->domain);
	m->reqs = r;
	char *name = xasprintf("_mta-sts.%s", r->domain);
	dns_lookup(m->dns, name, DNS_TYPE_TXT, on_txt, r);
	free(name);
	return r;
}

void mtastsget_lookup(mtastsget *m, const char *domain, mtastsget_fn *fn, void *arg)
{
	new_req(m, domain, fn, arg, false);
}

/* ---- the background refresh ---- */

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	mtastsget *m = arg;
	time_t now = time(NULL);
	for (size_t i = 0; i < m->n; i++)
		if (valid(&m->v[i], now) && m->v[i].inflight == NULL)
			new_req(m, m->v[i].domain, NULL, NULL, true);
	struct timeval tv = {m->cfg->mtasts.refresh_interval, 0};
	evtimer_add(m->timer, &tv);
}

/* ---- life ---- */

static void load_row(void *arg, const char *domain, mtasts_policy *p)
{
	mtastsget *m = arg;
	entry *e = get(m, domain);
	if (e == NULL) {
		mtasts_policy_clear(p);
		return;
	}
	mtasts_policy_free(&e->p);
	e->p = xcalloc(1, sizeof(*e->p));
	*e->p = *p;
}

mtastsget *mtastsget_new(struct event_base *base, const config *cfg, dns_resolver *dns, char **err_r)
{
	*err_r = NULL;
	if (!cfg->mtasts.enable)
		return NULL;
	char *path = xasprintf("%s/mtasts.db", cfg->data_dir);
	mtastsdb *db = mtastsdb_open(path, err_r);
	free(path);
	if (db == NULL)
		return NULL;
	mtastsget *m = xcalloc(1, sizeof(*m));
	m->base = base;
	m->cfg = cfg;
	m->dns = dns;
	m->db = db;
	pthread_mutex_init(&m->db_lock, NULL);
	atomic_init(&m->stop, false);
	if (!mtastsdb_load(db, time(NULL), MTASTSGET_CACHE_MAX, load_row, m, err_r)) {
		mtastsget_free(&m);
		return NULL;
	}
	log_event(LOG_LVL_INFO, "mtasts_cache", "loaded=%zu", m->n);
	m->wk = workers_new(base, 2, 0);
	m->timer = evtimer_new(base, on_refresh, m);
	struct timeval tv = {cfg->mtasts.refresh_interval, 0};
	evtimer_add(m->timer, &tv);
	return m;
}

void mtastsget_free(mtastsget **mp)
{
	mtastsget *m = *mp;
	if (m == NULL)
		return;
	atomic_store(&m->stop, true);
	while (m->reqs != NULL) {
		if (m->reqs->in_dns)
			dns_forget(m->dns, m->reqs);
		req_unlink(m, m->reqs);
	}
	/* fetches still looking up their address */
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].inflight != NULL && m->v[i].inflight->lookups > 0) {
			dns_forget(m->dns, m->v[i].inflight);
			fetch_free(m->v[i].inflight);
		}
	workers_free(&m->wk); /* the fetches on the threads stop (m->stop) and are freed */
	if (m->timer != NULL)
		event_free(m->timer);
	for (size_t i = 0; i < m->n; i++)
		entry_clear(&m->v[i]);
	free(m->v);
	mtastsdb_close(&m->db);
	pthread_mutex_destroy(&m->db_lock);
	free(m);
	*mp = NULL;
}
