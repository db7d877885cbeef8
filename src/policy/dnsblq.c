/* dnsblq.c — asking the DNS lists (see dnsblq.h): one job per check, one
 * look-up per (list, subject), all in flight at once, an answer cache in
 * front of the resolver.  Owns the log lines about lists that fail or
 * answer nonsense; what a hit means (a refusal, a score for the rules) is
 * the policy steps' business. */
#include "policy/dnsblq.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/lru.h"

/* A cached answer: up to CACHE_ADDRS A records (more are rare; a list
 * answers one code per listing reason). */
#define CACHE_ADDRS 8

typedef struct cache_rec {
	time_t until;
	unsigned n;
	char addrs[CACHE_ADDRS][INET_ADDRSTRLEN];
} cache_rec;

struct dnsblq {
	struct event_base *base;
	dns_resolver *dns;
	const dnsbl_lists *lists;
	lru *cache;
	int min_ttl;
};

/* One question: a list about one subject. */
typedef struct lookup {
	dnsblq_job *job;
	size_t list;             /* index in the lists */
	char *subject;
	char name[DNSBL_NAME_MAX];
	bool pending;
} lookup;

struct dnsblq_job {
	dnsblq *q;
	char *sid;
	dnsblq_done *cb;
	void *arg;
	lookup *v;
	size_t n;
	size_t pending;
	dnsblq_hit *hits;        /* one slot per list; subject NULL: no hit */
	struct event *now;       /* completes a job with nothing in flight */
};

dnsblq *dnsblq_new(struct event_base *base, dns_resolver *dns, const dnsbl_lists *lists, int min_ttl)
{
	dnsblq *q = xcalloc(1, sizeof(*q));
	q->min_ttl = min_ttl;
	q->base = base;
	q->dns = dns;
	q->lists = lists;
	q->cache = lru_new(DNSBLQ_CACHE_MAX, sizeof(cache_rec));
	return q;
}

void dnsblq_free(dnsblq **qp)
{
	dnsblq *q = *qp;
	if (q == NULL)
		return;
	lru_free(&q->cache);
	free(q);
	*qp = NULL;
}

bool dnsblq_has(const dnsblq *q, dnsbl_type type)
{
	for (size_t i = 0; q != NULL && q->lists != NULL && i < q->lists->n; i++)
		if (q->lists->v[i].type == type)
			return true;
	return false;
}

dnsblq_job *dnsblq_job_new(dnsblq *q, const char *sid, dnsblq_done *cb, void *arg)
{
	dnsblq_job *j = xcalloc(1, sizeof(*j));
	j->q = q;
	j->sid = xstrdup(sid);
	j->cb = cb;
	j->arg = arg;
	j->hits = xcalloc(q->lists->n + 1, sizeof(*j->hits));
	return j;
}

static void add(dnsblq_job *j, size_t list, const char *subject, const char *name)
{
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->v[i].name, name) == 0)
			return; /* the HELO name is the sender's domain */
	j->v = xrealloc(j->v, sizeof(*j->v) * (j->n + 1));
	lookup *l = &j->v[j->n++];
	memset(l, 0, sizeof(*l));
	l->job = j;
	l->list = list;
	l->subject = xstrdup(subject);
	strcpy(l->name, name);
}

void dnsblq_job_add_ip(dnsblq_job *j, const char *ip)
{
	char name[DNSBL_NAME_MAX];
	for (size_t i = 0; i < j->q->lists->n; i++) {
		const dnsbl_list *l = &j->q->lists->v[i];
		if (l->type == DNSBL_IP && dnsbl_ip_query(ip, l->zone, name))
			add(j, i, ip, name);
	}
}

void dnsblq_job_add_domain(dnsblq_job *j, const char *domain, unsigned what)
{
	char name[DNSBL_NAME_MAX];
	char *subject = xstrdup(domain);
	str_ascii_lower(subject);
	for (size_t i = 0; i < j->q->lists->n; i++) {
		const dnsbl_list *l = &j->q->lists->v[i];
		if (l->type == DNSBL_DOMAIN && (l->check & what) && dnsbl_domain_query(subject, l->zone, name))
			add(j, i, subject, name);
	}
	free(subject);
}

static void job_free(dnsblq_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->v[i].pending)
			dns_forget(j->q->dns, &j->v[i]);
		free(j->v[i].subject);
	}
	if (j->now != NULL)
		event_free(j->now);
	free(j->v);
	free(j->hits);
	free(j->sid);
	free(j);
}

/* Every look-up is answered: report the hits, in list order. */
static void finish(dnsblq_job *j)
{
	dnsblq_result res = {.hits = xcalloc(j->q->lists->n + 1, sizeof(dnsblq_hit))};
	for (size_t i = 0; i < j->q->lists->n; i++)
		if (j->hits[i].subject != NULL) {
			res.hits[res.n++] = j->hits[i];
			res.score += j->hits[i].list->weight;
		}
	j->cb(j->arg, &res);
	free(res.hits);
	job_free(j);
}

/* Judge the addresses a list answered (from the resolver or the cache). */
static void judge(lookup *l, char (*addrs)[INET_ADDRSTRLEN], unsigned n, bool cached)
{
	dnsblq_job *j = l->job;
	const dnsbl_list *list = &j->q->lists->v[l->list];
	for (unsigned i = 0; i < n; i++) {
		dnsbl_match m = dnsbl_answer_match(list, addrs[i]);
		if (m == DNSBL_BOGUS)
			log_event(LOG_LVL_WARN, "dnsbl",
			          "sid=%s list=%s query=%s answer=%s error=\"answer outside 127.0.0.0/8: "
			          "the list is misconfigured or gone; ignored\"",
			          j->sid, list->name, l->name, addrs[i]);
		if (m != DNSBL_MATCH || j->hits[l->list].subject != NULL)
			continue;
		dnsblq_hit *h = &j->hits[l->list];
		h->list = list;
		h->subject = l->subject;
		memcpy(h->answer, addrs[i], sizeof h->answer);
		log_event(LOG_LVL_INFO, "dnsbl", "sid=%s list=%s subject=%s answer=%s cached=%d", j->sid, list->name,
		          l->subject, addrs[i], cached);
	}
}

static void on_answer(void *arg, const dns_answer *ans)
{
	lookup *l = arg;
	dnsblq_job *j = l->job;
	l->pending = false;
	j->pending--;
	if (ans->status == DNS_TEMPFAIL) {
		log_event(LOG_LVL_WARN, "dnsbl",
		          "sid=%s list=%s query=%s error=\"look-up failed or timed out; counted as not listed\"",
		          j->sid, j->q->lists->v[l->list].name, l->name);
	} else {
		cache_rec *c = lru_touch(j->q->cache, l->name);
		int keep = ans->ttl < DNSBLQ_CACHE_SECS ? ans->ttl : DNSBLQ_CACHE_SECS;
		if (keep < j->q->min_ttl)
			keep = j->q->min_ttl;
		c->until = time(NULL) + keep;
		c->n = 0;
		for (size_t i = 0; ans->status == DNS_OK && i < ans->values.n && c->n < CACHE_ADDRS; i++)
			if (strlen(ans->values.items[i]) < INET_ADDRSTRLEN)
				strcpy(c->addrs[c->n++], ans->values.items[i]);
		judge(l, c->addrs, c->n, false);
		if (keep <= 0)
			lru_remove(j->q->cache, l->name);
	}
	if (j->pending == 0)
		finish(j);
}

static void on_now(evutil_socket_t fd, short what, void *arg)
{
	finish(arg);
}

void dnsblq_job_run(dnsblq_job *j)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < j->n; i++) {
		cache_rec *c = lru_find(j->q->cache, j->v[i].name);
		if (c != NULL && c->until > now) {
			judge(&j->v[i], c->addrs, c->n, true);
			continue;
		}
		j->v[i].pending = true;
		j->pending++;
	}
	if (j->pending == 0) {
		j->now = evtimer_new(j->q->base, on_now, j);
		event_active(j->now, EV_TIMEOUT, 0);
		return;
	}
	/* all counted before the first look-up starts: none can finish the
	 * job early (answers never come before dns_lookup returns, but a
	 * cached resolver may answer on the next loop turn) */
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].pending)
			dns_lookup(j->q->dns, j->v[i].name, DNS_TYPE_A, on_answer, &j->v[i]);
}

void dnsblq_job_cancel(dnsblq_job **jp)
{
	if (*jp == NULL)
		return;
	job_free(*jp);
	*jp = NULL;
}
