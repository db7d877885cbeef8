/* spfcheck.c — `yubin doctor`'s SPF check (RFC 7208): the domain has
 * exactly one "v=spf1" record (4.5), and check_host() passes for every
 * address mail from the domain leaves from (this server's, or the relay's
 * when relay.host carries the domain's mail; both with relay.when =
 * "blocked").  The evaluation is
 * msgauth/spf.c's, with its include / a / mx / ip4 / ip6 / redirect / all
 * and its limits of 10 DNS-querying terms and 2 void look-ups; this file
 * only asks it, with postmaster@domain as the sender, and turns the result
 * into a finding with the record to publish.  A record with macros
 * ("%{...}") depends on the message, so its result is only a warning. */
#include "doctor/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "delivery/route.h"
#include "doctor/advice.h"
#include "msgauth/spf.h"

#define SPF_CHECK_SECONDS 20 /* RFC 7208 4.6.4: at least 20 s before temperror */

typedef struct spf_wait {
	struct event_base *base;
	bool done;
	spf_result result;
	char *mechanism;
	char *problem;
} spf_wait;

static void on_done(void *arg, const spf_outcome *out)
{
	spf_wait *w = arg;
	w->done = true;
	w->result = out->result;
	w->mechanism = out->mechanism ? xstrdup(out->mechanism) : NULL;
	w->problem = out->problem ? xstrdup(out->problem) : NULL;
	event_base_loopbreak(w->base);
}

/* check_host(ip, domain, postmaster@domain), bounded in time. */
static void evaluate(doctor *d, const char *ip, const char *domain, spf_wait *w)
{
	char *sender = xasprintf("postmaster@%s", domain);
	spf_request req = {.ip = ip, .domain = domain, .sender = sender, .helo = d->cfg->hostname,
	                   .receiver = d->cfg->hostname, .lookup = dns_lookup_any, .lookup_ctx = d->dns,
	                   .forget = dns_forget_any};
	*w = (spf_wait){.base = d->base, .result = SPF_TEMPERROR};
	spf_check *chk = spf_check_host(&req, on_done, w);
	if (chk != NULL) {
		struct timeval limit = {SPF_CHECK_SECONDS, 0};
		event_base_loopexit(d->base, &limit);
		while (!w->done)
			if (event_base_dispatch(d->base) != 0 || !w->done)
				break;
		if (!w->done) {
			spf_check_cancel(&chk);
			w->problem = xasprintf("no result within %d seconds", SPF_CHECK_SECONDS);
		}
	}
	free(sender);
}

/* The addresses mail from domain leaves from.  relay.when = "blocked":
 * ours, and the relay's as well (it takes the mail while port 25 is
 * blocked, delivery/route.h). */
static void sending_addresses(doctor *d, const char *domain, strlist *out, const char **via_r)
{
	const config_relay *r = &d->cfg->relay;
	bool fallback = r->host != NULL && route_relay_only_when_blocked(d->cfg);
	bool relayed = r->host != NULL && r->domains.n == 0 && !fallback;
	for (size_t i = 0; r->host != NULL && i < r->domains.n; i++)
		relayed |= strcasecmp(r->domains.items[i], domain) == 0;
	*via_r = NULL;
	if (relayed) {
		doctor_addresses_of(d, r->host, out);
		*via_r = r->host;
		return;
	}
	for (size_t i = 0; i < d->addresses.n; i++)
		strlist_add(out, d->addresses.items[i]);
	if (fallback)
		doctor_addresses_of(d, r->host, out);
}

static void judge(doctor *d, const char *domain, const char *record, const char *ip, const spf_wait *w)
{
	bool macros = strstr(record, "%{") != NULL;
	char *subject = xasprintf("%s %s", domain, ip);
	char *want = doctor_spf_with_address(record, ip);
	char *fix = xasprintf("publish \"%s. IN TXT \\\"%s\\\"\"", domain, want);
	if (w->result == SPF_PASS)
		doctor_add(d, "spf", subject, macros ? DOCTOR_WARN : DOCTOR_OK, NULL, "pass (matched \"%s\")%s",
		           w->mechanism ? w->mechanism : "?",
		           macros ? "; the record uses macros, so a real message's sender may be judged otherwise" : "");
	else if (w->result == SPF_PERMERROR || w->result == SPF_TEMPERROR || w->result == SPF_NONE)
		doctor_add(d, "spf", subject, DOCTOR_FAIL,
		           w->result == SPF_TEMPERROR ? "make sure the name servers of the record and of every domain it "
		                                        "names answer"
		                                      : "repair the record (RFC 7208 4.6.4: at most 10 include, a, mx, ptr, "
		                                        "exists and redirect terms, at most 2 names that do not exist)",
		           "%s: %s", spf_result_name(w->result), w->problem ? w->problem : "no SPF record");
	else
		doctor_add(d, "spf", subject, macros ? DOCTOR_WARN : DOCTOR_FAIL, fix,
		           "%s: %s is not covered by \"%s\"%s%s%s%s", spf_result_name(w->result), ip, record,
		           w->mechanism ? " (matched " : "", w->mechanism ? w->mechanism : "", w->mechanism ? ")" : "",
		           macros ? "; the record uses macros, evaluated here for postmaster@ the domain: a real "
		                    "message's sender may be judged otherwise" : "");
	free(fix);
	free(want);
	free(subject);
}

void doctor_check_spf(doctor *d, const char *domain)
{
	doctor_answer a;
	doctor_lookup(d, domain, DNS_TYPE_TXT, &a);
	size_t n = 0;
	const char *record = NULL;
	for (size_t i = 0; i < a.values.n; i++) {
		const char *v = a.values.items[i];
		if (strncasecmp(v, "v=spf1", 6) == 0 && (v[6] == ' ' || v[6] == '\0') && n++ == 0)
			record = v;
	}
	strlist addrs;
	strlist_init(&addrs);
	const char *via;
	sending_addresses(d, domain, &addrs, &via);
	char *first = addrs.n ? doctor_spf_with_address("v=spf1 mx -all", addrs.items[0]) : xstrdup("v=spf1 mx -all");
	char *fix = xasprintf("publish \"%s. IN TXT \\\"%s\\\"\"", domain, first);
	if (a.status == DNS_TEMPFAIL)
		doctor_add(d, "spf", domain, DOCTOR_FAIL, NULL, "no answer from DNS for the TXT records of %s", domain);
	else if (n == 0)
		doctor_add(d, "spf", domain, DOCTOR_FAIL, fix, "no SPF record: receivers cannot tell your mail from forgeries");
	else if (n > 1)
		doctor_add(d, "spf", domain, DOCTOR_FAIL, "merge them into one record",
		           "%zu SPF records: permerror for every message (RFC 7208 4.5)", n);
	else if (addrs.n == 0)
		doctor_add(d, "spf", domain, DOCTOR_SKIP, NULL, "no sending address known%s%s", via ? " for the relay " : "",
		           via ? via : "");
	else
		for (size_t i = 0; i < addrs.n; i++) {
			spf_wait w;
			evaluate(d, addrs.items[i], domain, &w);
			judge(d, domain, record, addrs.items[i], &w);
			free(w.mechanism);
			free(w.problem);
		}
	free(fix);
	free(first);
	strlist_free(&addrs);
	doctor_answer_free(&a);
}
