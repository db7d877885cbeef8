/* pol_facts.c — the policy step that finds facts that cost a look-up,
 * when something asks for them: the client's forward-confirmed reverse
 * name (a PTR name whose A / AAAA records include the client's address;
 * the first such of at most FACTS_MAX_NAMES).  No such name leaves it ""
 * (Postfix's "unknown"); when that is only because a look-up failed for
 * now (SERVFAIL, a timeout) the facts say so, and a rule that would refuse
 * on the name defers instead (policy/eval.c). */
#include "smtp/pol_steps.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dns/resolver.h"
#include "lib/log.h"
#include "policy/polconf.h"
#include "policy/rules.h"

#define FACTS_MAX_NAMES 10

typedef struct name_lookup name_lookup;

typedef struct name_check {
	name_lookup *l;
	size_t i;                /* which name */
} name_check;

struct name_lookup {
	policy_run *r;
	int pending;
	bool tempfail;           /* a look-up failed for now */
	strlist names;           /* the PTR answer */
	name_check checks[FACTS_MAX_NAMES]; /* the look-up of each name's addresses */
	char *confirmed;
};

/* ip as the reverse-lookup name: "4.3.2.1.in-addr.arpa" or the 32 nibbles
 * of ip6.arpa.  False for text that is no address. */
static bool reverse_name(const char *ip, char *out, size_t n)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return true;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || n < 74)
		return false;
	char *p = out;
	for (int i = 15; i >= 0; i--) {
		p += sprintf(p, "%x.%x.", a[i] & 0xf, a[i] >> 4);
	}
	strcpy(p, "ip6.arpa");
	return true;
}

static void lookup_finish(name_lookup *l)
{
	policy_run *r = l->r;
	smtp_session *s = r->s;
	free(s->pol.client_name);
	s->pol.client_name = l->confirmed ? l->confirmed : xstrdup("");
	s->pol.client_name_tempfail = l->confirmed == NULL && l->tempfail;
	if (s->pol.client_name_tempfail)
		log_event(LOG_LVL_INFO, "policy", "sid=%s client=%s client_name=unknown reason=\"DNS failed for now\"",
		          s->sid, s->ip);
	l->confirmed = NULL;
	r->facts.client_name = s->pol.client_name;
	r->facts.client_name_tempfail = s->pol.client_name_tempfail;
	strlist_free(&l->names);
	free(l);
	policy_step_next(r);
}

static void on_address(void *arg, const dns_answer *ans)
{
	name_check *c = arg;
	name_lookup *l = c->l;
	l->tempfail |= ans->status == DNS_TEMPFAIL;
	if (ans->status == DNS_OK && l->confirmed == NULL)
		for (size_t i = 0; i < ans->values.n; i++) {
			unsigned char a[16], b[16];
			int fam = strchr(l->r->s->ip, ':') ? AF_INET6 : AF_INET;
			if (inet_pton(fam, ans->values.items[i], a) == 1 && inet_pton(fam, l->r->s->ip, b) == 1 &&
			    memcmp(a, b, fam == AF_INET6 ? 16 : 4) == 0) {
				l->confirmed = xstrdup(l->names.items[c->i]);
				break;
			}
		}
	if (--l->pending == 0)
		lookup_finish(l);
}

static void on_ptr(void *arg, const dns_answer *ans)
{
	name_lookup *l = arg;
	l->pending = 0;
	l->tempfail = ans->status == DNS_TEMPFAIL;
	if (ans->status == DNS_OK)
		for (size_t i = 0; i < ans->values.n && i < FACTS_MAX_NAMES; i++)
			strlist_add(&l->names, ans->values.items[i]);
	int type = strchr(l->r->s->ip, ':') ? DNS_TYPE_AAAA : DNS_TYPE_A;
	dns_resolver *dns = l->r->s->srv->dns;
	l->pending = (int)l->names.n;
	if (l->pending == 0) {
		lookup_finish(l);
		return;
	}
	for (size_t i = 0; i < l->names.n; i++) {
		l->checks[i] = (name_check){.l = l, .i = i};
		dns_lookup(dns, l->names.items[i], type, on_address, &l->checks[i]);
	}
}

static void cancel_lookup(policy_run *r)
{
	/* the answers still out are told to nobody */
	name_lookup *l = r->wait;
	dns_forget(r->s->srv->dns, l);
	for (size_t i = 0; i < FACTS_MAX_NAMES; i++)
		dns_forget(r->s->srv->dns, &l->checks[i]);
	strlist_free(&l->names);
	free(l->confirmed);
	free(l);
}

void pol_facts_step(policy_run *r)
{
	smtp_session *s = r->s;
	const policy_config *pc = s->srv->policy;
	char rev[80];
	bool want = s->pol.client_name == NULL && pc != NULL && policy_rules_need_client_name(pc->rules) &&
	            !s->pol.accepted;
	if (!want || s->srv->dns == NULL || !reverse_name(s->ip, rev, sizeof rev)) {
		if (want) {
			s->pol.client_name = xstrdup("");
			r->facts.client_name = s->pol.client_name;
		}
		policy_step_next(r);
		return;
	}
	name_lookup *l = xcalloc(1, sizeof(*l));
	l->r = r;
	strlist_init(&l->names);
	r->wait = l;
	r->cancel = cancel_lookup;
	dns_lookup(s->srv->dns, rev, DNS_TYPE_PTR, on_ptr, l);
}
