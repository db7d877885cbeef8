/* dnsblq.h — asking the DNS blocklists and allowlists (policy/dnsbl.h)
 * about one client or one set of domains, through the server's resolver.
 * Every list is asked at once; each look-up is bounded by the resolver's
 * timeout (dns.timeout), so a check never takes longer.  A look-up that
 * fails or times out counts as "not listed" and is logged: a broken list
 * never refuses mail.  Answers are kept in a bounded cache for their TTL,
 * but at least the configured minimum (policy.dnsbl_min_ttl, as Postfix's
 * postscreen_dnsbl_min_ttl: a client that comes back within it costs no
 * look-up) and at most an hour. */
#ifndef YUBIN_POLICY_DNSBLQ_H
#define YUBIN_POLICY_DNSBLQ_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <stddef.h>

#include "dns/resolver.h"
#include "policy/dnsbl.h"

/* Answers kept at most (query names). */
#define DNSBLQ_CACHE_MAX 8192
/* Seconds an answer is kept at most, whatever its TTL. */
#define DNSBLQ_CACHE_SECS 3600

typedef struct dnsblq dnsblq;

/* One list that lists what was asked about (once per list). */
typedef struct dnsblq_hit {
	const dnsbl_list *list;
	char *subject;                   /* the address or domain listed */
	char answer[INET_ADDRSTRLEN];    /* the A record that matched */
} dnsblq_hit;

typedef struct dnsblq_result {
	dnsblq_hit *hits;    /* in the order of the configured lists */
	size_t n;
	double score;        /* the sum of the hits' weights */
} dnsblq_result;

/* Called once on the loop, never before dnsblq_run returns; res (and its
 * strings) are freed after it returns. */
typedef void dnsblq_done(void *arg, const dnsblq_result *res);

/* The lists live as long as the checker; dns is the server's resolver. */
/* min_ttl: seconds an answer is kept at least (0: its TTL alone). */
dnsblq *dnsblq_new(struct event_base *base, dns_resolver *dns, const dnsbl_lists *lists, int min_ttl);
void dnsblq_free(dnsblq **q);
/* Are there lists of this type at all? */
bool dnsblq_has(const dnsblq *q, dnsbl_type type);

typedef struct dnsblq_job dnsblq_job;

/* A check; sid is copied for the log lines. */
dnsblq_job *dnsblq_job_new(dnsblq *q, const char *sid, dnsblq_done *cb, void *arg);
/* Ask every ip list about ip. */
void dnsblq_job_add_ip(dnsblq_job *j, const char *ip);
/* Ask every domain list whose check includes what (DNSBL_CHECK_*) about
 * domain (skipped when it cannot be asked about, like an address literal). */
void dnsblq_job_add_domain(dnsblq_job *j, const char *domain, unsigned what);
/* Start the look-ups; cb runs when the last one is answered (or at once,
 * from the loop, when all were cached or there was nothing to ask); the
 * job frees itself after cb. */
void dnsblq_job_run(dnsblq_job *j);
/* Before cb ran: stop, cb never runs, the job is freed. */
void dnsblq_job_cancel(dnsblq_job **j);

#endif
