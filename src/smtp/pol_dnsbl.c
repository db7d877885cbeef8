/* pol_dnsbl.c — the DNS-list step of the policy runner (see pol_steps.h):
 * at connect the client address is asked of the ip lists, at MAIL the
 * sender's domain (and, where a list says so, the HELO name and the
 * client's verified name) of the domain lists; the hits stay in s->pol and
 * feed the rules as facts.  At RCPT, when policy.dnsbl_reject_score is set
 * and the weights reach it, the recipient is refused (554 5.7.1 naming the
 * list) — at RCPT so the log has the envelope, and so postmaster@ and
 * abuse@ of our domains can still be written to.  Only port 25 is checked:
 * submission needs a login before MAIL, and logged-in sessions never are.
 * The look-ups themselves (and their failures) are policy/dnsblq.c's. */
#include "smtp/pol_steps.h"

#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "lib/log.h"
#include "policy/dnsblq.h"
#include "policy/polconf.h"

bool pol_dnsbl_open(server *srv, char **err_r)
{
	const dnsbl_lists *lists = srv->policy != NULL ? srv->policy->dnsbl : NULL;
	if (lists != NULL && lists->n > 0)
		srv->dnsblq = dnsblq_new(srv->base, srv->dns, lists, srv->cfg->policy.dnsbl_min_ttl);
	return true;
}

void pol_dnsbl_close(server *srv)
{
	dnsblq_free(&srv->dnsblq);
}

static double reject_score(const smtp_session *s)
{
	const policy_config *pc = s->srv->policy;
	return pc != NULL ? pc->dnsbl_reject_score : 0;
}

/* Hand the hits so far to the rules. */
static void set_facts(policy_run *r)
{
	smtp_pol *p = &r->s->pol;
	r->facts.dnsbl = p->dnsbl;
	r->facts.n_dnsbl = p->n_dnsbl;
	r->facts.dnsbl_score = p->dnsbl_score;
}

static void forget_hits(smtp_pol *p, size_t keep)
{
	while (p->n_dnsbl > keep) {
		policy_dnsbl_hit *h = &p->dnsbl[--p->n_dnsbl];
		p->dnsbl_score -= h->weight;
		free(h->list);
		free(h->answer);
		free(h->subject);
	}
	if (p->n_dnsbl == 0)
		p->dnsbl_score = 0; /* no rounding left over */
}

void pol_dnsbl_free(smtp_session *s)
{
	forget_hits(&s->pol, 0);
	free(s->pol.dnsbl);
	s->pol.dnsbl = NULL;
}

static void on_checked(void *arg, const dnsblq_result *res)
{
	policy_run *r = arg;
	smtp_pol *p = &r->s->pol;
	p->dnsbl = xrealloc(p->dnsbl, sizeof(*p->dnsbl) * (p->n_dnsbl + res->n + 1));
	for (size_t i = 0; i < res->n; i++) {
		policy_dnsbl_hit *h = &p->dnsbl[p->n_dnsbl++];
		h->list = xstrdup(res->hits[i].list->name);
		h->answer = xstrdup(res->hits[i].answer);
		h->subject = xstrdup(res->hits[i].subject);
		h->weight = res->hits[i].list->weight;
		h->domain = res->hits[i].list->type == DNSBL_DOMAIN;
		p->dnsbl_score += h->weight;
	}
	if (r->stage == POLICY_CONNECT)
		p->n_dnsbl_client = p->n_dnsbl;
	set_facts(r);
	policy_step_next(r);
}

static void cancel(policy_run *r)
{
	dnsblq_job *j = r->wait;
	dnsblq_job_cancel(&j);
}

static void check_client(policy_run *r, dnsblq *q)
{
	dnsblq_job *j = dnsblq_job_new(q, r->s->sid, on_checked, r);
	dnsblq_job_add_ip(j, r->s->ip);
	r->wait = j;
	r->cancel = cancel;
	dnsblq_job_run(j);
}

static void check_sender(policy_run *r, dnsblq *q)
{
	smtp_session *s = r->s;
	dnsblq_job *j = dnsblq_job_new(q, s->sid, on_checked, r);
	const char *at = s->txn.sender != NULL ? strrchr(s->txn.sender, '@') : NULL;
	if (at != NULL)
		dnsblq_job_add_domain(j, at + 1, DNSBL_CHECK_SENDER);
	if (s->helo != NULL)
		dnsblq_job_add_domain(j, s->helo, DNSBL_CHECK_HELO);
	if (s->pol.client_name != NULL && s->pol.client_name[0] != '\0')
		dnsblq_job_add_domain(j, s->pol.client_name, DNSBL_CHECK_CLIENT);
	r->wait = j;
	r->cancel = cancel;
	dnsblq_job_run(j);
}

/* postmaster@ and abuse@ of our domains (and the bare "postmaster")
 * hear from anyone (RFC 5321 4.5.1, RFC 2142). */
static bool always_open(smtp_session *s, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	size_t local = at != NULL ? (size_t)(at - rcpt) : strlen(rcpt);
	bool role = (local == 10 && str_ascii_nieq(rcpt, "postmaster", 10)) ||
	            (local == 5 && str_ascii_nieq(rcpt, "abuse", 5));
	if (!role)
		return false;
	return at == NULL ? local == 10 : accounts_domain_is_local(s->srv->acc, at + 1);
}

/* The highest-weighted blocking hit names the list in the refusal. */
static void refuse(policy_run *r)
{
	smtp_pol *p = &r->s->pol;
	const policy_dnsbl_hit *top = NULL;
	for (size_t i = 0; i < p->n_dnsbl; i++)
		if (p->dnsbl[i].weight > 0 && (top == NULL || p->dnsbl[i].weight > top->weight))
			top = &p->dnsbl[i];
	char *text = top == NULL ? xasprintf("Service unavailable; client [%s] blocked", r->s->ip)
	             : top->domain ? xasprintf("Service unavailable; %s blocked using %s", top->subject, top->list)
	                           : xasprintf("Service unavailable; client [%s] blocked using %s", r->s->ip, top->list);
	char *by = xasprintf("dnsbl %s", top != NULL ? top->list : "score");
	policy_verdict_decide(&r->v, POLICY_REJECT, 554, "5.7.1", text, by);
	free(text);
	free(by);
}

void pol_dnsbl_step(policy_run *r)
{
	smtp_session *s = r->s;
	dnsblq *q = s->srv->dnsblq;
	set_facts(r);
	if (q == NULL || s->lst->role != ROLE_SMTP || s->auth_user != NULL || pol_trusted_client(s)) {
		policy_step_next(r);
		return;
	}
	switch (r->stage) {
	case POLICY_CONNECT:
		forget_hits(&s->pol, 0);
		if (dnsblq_has(q, DNSBL_IP)) {
			check_client(r, q);
			return;
		}
		break;
	case POLICY_MAIL:
		forget_hits(&s->pol, s->pol.n_dnsbl_client); /* the last sender's */
		set_facts(r);
		if (dnsblq_has(q, DNSBL_DOMAIN)) {
			check_sender(r, q);
			return;
		}
		break;
	case POLICY_RCPT: {
		double limit = reject_score(s);
		if (limit > 0 && s->pol.dnsbl_score >= limit && !s->pol.accepted && !s->pol.txn_accepted &&
		    !always_open(s, r->facts.rcpt ? r->facts.rcpt : ""))
			refuse(r);
		break;
	}
	default:
		break;
	}
	policy_step_next(r);
}
