/* dnsbl.c — `yubin doctor`'s blocklist check: each of the server's
 * addresses against each IP blocklist of policy.dnsbl (the lists with a
 * positive weight; allowlists are not asked), RFC 5782 2.1 / 2.4 names
 * (policy/dnsbl.c builds them).  An answer of 127.255.255.x is the list
 * refusing the question (Spamhaus's "open resolver" / "over limit" codes),
 * never a listing.  Each list is first asked about its test entries (RFC
 * 5782 5: 127.0.0.2 must be listed, 127.0.0.1 must not), which shows a
 * list that is dead, refuses this resolver, or lists everything. */
#include "doctor/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/dnsbl.h"
#include "policy/polconf.h"

static void check_one(doctor *d, const dnsbl_list *l, const char *ip)
{
	char name[DNSBL_NAME_MAX];
	char *subject = xasprintf("%s %s", ip, l->zone);
	if (!dnsbl_ip_query(ip, l->zone, name)) {
		doctor_add(d, "dnsbl", subject, DOCTOR_SKIP, NULL, "cannot be asked about this address");
		free(subject);
		return;
	}
	doctor_answer a;
	doctor_lookup(d, name, DNS_TYPE_A, &a);
	const char *listed = NULL, *refused = NULL;
	for (size_t i = 0; i < a.values.n; i++) {
		if (strncmp(a.values.items[i], "127.255.255.", 12) == 0)
			refused = a.values.items[i];
		else if (dnsbl_answer_match(l, a.values.items[i]) == DNSBL_MATCH)
			listed = a.values.items[i];
	}
	if (a.status == DNS_TEMPFAIL) {
		doctor_add(d, "dnsbl", subject, DOCTOR_WARN, "check dns.resolver; some lists refuse public resolvers",
		           "no answer from %s", l->zone);
	} else if (listed != NULL) {
		doctor_answer why;
		doctor_lookup(d, name, DNS_TYPE_TXT, &why);
		char *fix = xasprintf("find out why on %s's web site and ask for removal (delisting); until then many "
		                      "receivers refuse mail from %s", l->name, ip);
		doctor_add(d, "dnsbl", subject, DOCTOR_FAIL, fix, "%s is listed on %s (%s)%s%s", ip, l->name, listed,
		           why.values.n ? ": " : "", why.values.n ? why.values.items[0] : "");
		free(fix);
		doctor_answer_free(&why);
	} else if (refused != NULL) {
		doctor_add(d, "dnsbl", subject, DOCTOR_WARN,
		           "ask through your own resolver (not a public one), or register with the list",
		           "the list refused the question (%s), not a listing", refused);
	} else {
		doctor_add(d, "dnsbl", subject, DOCTOR_OK, NULL, "not listed on %s", l->name);
	}
	doctor_answer_free(&a);
	free(subject);
}

/* Whether ip's entry in l's zone has an A record in 127.0.0.0/8 that is
 * not a refusal; *answered_r: the look-up got an answer. */
static bool probe_entry(doctor *d, const dnsbl_list *l, const char *ip, bool *answered_r)
{
	char name[DNSBL_NAME_MAX];
	*answered_r = false;
	if (!dnsbl_ip_query(ip, l->zone, name))
		return false;
	doctor_answer a;
	doctor_lookup(d, name, DNS_TYPE_A, &a);
	*answered_r = a.status != DNS_TEMPFAIL;
	bool listed = false;
	for (size_t i = 0; i < a.values.n; i++)
		listed |= strncmp(a.values.items[i], "127.", 4) == 0 && strncmp(a.values.items[i], "127.255.255.", 12) != 0;
	doctor_answer_free(&a);
	return listed;
}

/* RFC 5782 5: the test entries; false when the list cannot be trusted
 * (then its answers about our addresses are not asked for). */
static bool list_works(doctor *d, const dnsbl_list *l)
{
	bool answered, answered_neg;
	bool pos = probe_entry(d, l, "127.0.0.2", &answered);
	bool neg = probe_entry(d, l, "127.0.0.1", &answered_neg);
	const char *fix = "remove the list from policy.dnsbl, or check its zone name and that it accepts queries "
	                  "from your resolver (many refuse public resolvers)";
	if (!answered) {
		doctor_add(d, "dnsbl-list", l->zone, DOCTOR_WARN, fix, "%s does not answer", l->name);
		return false;
	}
	if (neg) {
		doctor_add(d, "dnsbl-list", l->zone, DOCTOR_FAIL, fix,
		           "%s lists 127.0.0.1, which no list may (RFC 5782 5): it would refuse everyone", l->name);
		return false;
	}
	if (!pos) {
		doctor_add(d, "dnsbl-list", l->zone, DOCTOR_WARN, fix,
		           "%s does not list its test entry 127.0.0.2 (RFC 5782 5): dead, or refusing this resolver", l->name);
		return false;
	}
	doctor_add(d, "dnsbl-list", l->zone, DOCTOR_OK, NULL, "%s answers its test entries as RFC 5782 5 asks", l->name);
	return true;
}

void doctor_check_dnsbl(doctor *d)
{
	const dnsbl_lists *lists = d->policy ? d->policy->dnsbl : NULL;
	size_t asked = 0;
	for (size_t i = 0; lists != NULL && i < lists->n; i++) {
		if (lists->v[i].type != DNSBL_IP || lists->v[i].weight <= 0 || !list_works(d, &lists->v[i]))
			continue;
		for (size_t k = 0; k < d->addresses.n; k++, asked++)
			check_one(d, &lists->v[i], d->addresses.items[k]);
	}
	if (asked == 0)
		doctor_add(d, "dnsbl", "-", DOCTOR_SKIP, NULL, "no working IP blocklist in policy.dnsbl to ask");
}
