/* dnschecks.c — `yubin doctor`'s checks of what DNS says about a domain
 * and the host: MX points at this server (RFC 5321 5.1, null MX of RFC
 * 7505), the host name's A/AAAA and the addresses' PTR agree (forward-
 * confirmed reverse DNS, RFC 8601 3 "iprev"), DMARC exists and parses
 * (RFC 7489 6.1, 6.6.3, with the organizational domain's record as
 * fallback), and the autoconfig / autodiscover names and the SRV records
 * of RFC 6186 / RFC 8314 are there.  The record texts of the fixes are
 * msgauth/dnsadvice.c's, as `yubin dns records` prints them. */
#include "doctor/doctor.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msgauth/dmarc.h"
#include "msgauth/dnsadvice.h"
#include "policy/dnsbl.h"

/* "publish NAME. IN TYPE VALUE" for the advised record of rrtype whose
 * name starts with prefix (NULL: any), or NULL when there is none. */
static char *advice_fix(doctor *d, const char *domain, int rrtype, const char *prefix)
{
	dkim_keyset none = {0};
	dnsadvice adv;
	dnsadvice_build(d->cfg, domain, &none, &adv);
	char *fix = NULL;
	for (size_t i = 0; i < adv.n && fix == NULL; i++) {
		const dnsadvice_rec *r = &adv.v[i];
		if (r->name != NULL && r->rrtype == rrtype && (prefix == NULL || strncmp(r->name, prefix, strlen(prefix)) == 0))
			fix = xasprintf("publish \"%s. IN %s %s\" (all records: `yubin dns records %s`)", r->name, r->type,
			                r->value, domain);
	}
	dnsadvice_free(&adv);
	return fix;
}

static const char *dns_words(dns_status s)
{
	static const char *const w[] = {"found", "no records of that type", "the name does not exist",
	                                "no answer from DNS (timeout or SERVFAIL)"};
	return w[s];
}

/* Whether any address of host is one of ours; its addresses in *found. */
static bool host_is_ours(doctor *d, const char *host, strlist *found)
{
	doctor_addresses_of(d, host, found);
	for (size_t i = 0; i < found->n; i++)
		if (doctor_is_ours(d, found->items[i]))
			return true;
	return false;
}

/* Most preferred first (the answer's order is the server's choice). */
static void sort_mx(doctor_answer *a)
{
	for (size_t i = 1; i < a->values.n; i++)
		for (size_t k = i; k > 0 && a->prefs[k] < a->prefs[k - 1]; k--) {
			int p = a->prefs[k];
			a->prefs[k] = a->prefs[k - 1];
			a->prefs[k - 1] = p;
			char *n = a->values.items[k];
			a->values.items[k] = a->values.items[k - 1];
			a->values.items[k - 1] = n;
		}
}

/* An answer with MX hosts: is the most preferred one (of those followed)
 * this server? */
static void judge_mx(doctor *d, const char *domain, doctor_answer *a, const char *fix)
{
	sort_mx(a);
	int best = a->prefs[0], ours = -1;
	const char *ours_name = NULL;
	for (size_t i = 0; i < a->values.n && i < DOCTOR_MAX_NAMES && ours_name == NULL; i++) {
		strlist found;
		strlist_init(&found);
		if (host_is_ours(d, a->values.items[i], &found)) {
			ours = a->prefs[i];
			ours_name = a->values.items[i];
		}
		strlist_free(&found);
	}
	if (ours_name == NULL)
		doctor_add(d, "mx", domain, DOCTOR_FAIL, fix,
		           "none of the %zu MX hosts (first: %s) resolves to an address of this server (%s)%s", a->values.n,
		           a->values.items[0], d->addresses.n ? d->addresses.items[0] : "none known",
		           a->values.n > DOCTOR_MAX_NAMES ? "; only the 10 most preferred were looked up" : "");
	else if (ours > best)
		doctor_add(d, "mx", domain, DOCTOR_WARN, fix,
		           "this server is only a backup MX (%s, preference %d); mail goes first to preference %d", ours_name,
		           ours, best);
	else
		doctor_add(d, "mx", domain, DOCTOR_OK, NULL, "MX %d %s points at this server", ours, ours_name);
}

void doctor_check_mx(doctor *d, const char *domain)
{
	doctor_answer a;
	doctor_lookup(d, domain, DNS_TYPE_MX, &a);
	char *fix = advice_fix(d, domain, DNS_TYPE_MX, NULL);
	if (a.status == DNS_TEMPFAIL) {
		doctor_add(d, "mx", domain, DOCTOR_FAIL, "make sure the domain's name servers answer (and dns.resolver)",
		           "the MX look-up failed: %s", dns_words(a.status));
	} else if (a.status != DNS_OK) {
		doctor_add(d, "mx", domain, DOCTOR_FAIL, fix, "no MX record: %s", dns_words(a.status));
	} else if (a.values.n == 1 && strcmp(a.values.items[0], ".") == 0) {
		doctor_add(d, "mx", domain, DOCTOR_FAIL, fix,
		           "null MX (RFC 7505 \"0 .\"): the domain says it receives no mail at all");
	} else {
		judge_mx(d, domain, &a, fix);
	}
	free(fix);
	doctor_answer_free(&a);
}

/* The reverse name of ip (in-addr.arpa / ip6.arpa, RFC 3596 2.5). */
static bool reverse_name(const char *ip, char name_r[DNSBL_NAME_MAX])
{
	unsigned char b[4];
	return dnsbl_ip_query(ip, inet_pton(AF_INET, ip, b) == 1 ? "in-addr.arpa" : "ip6.arpa", name_r);
}

static void check_ptr(doctor *d, const char *ip)
{
	const char *host = d->cfg->hostname;
	char name[DNSBL_NAME_MAX], *fix;
	if (!reverse_name(ip, name))
		return;
	fix = xasprintf("ask the owner of %s (your hosting provider) to set its reverse DNS (PTR) to %s", ip, host);
	doctor_answer a;
	doctor_lookup(d, name, DNS_TYPE_PTR, &a);
	if (a.status != DNS_OK) {
		doctor_add(d, "ptr", ip, DOCTOR_FAIL, fix, "no PTR record at %s: %s (many receivers refuse such mail)",
		           name, dns_words(a.status));
	} else {
		const char *confirmed = NULL;
		bool host_confirmed = false;
		for (size_t i = 0; i < a.values.n && i < DOCTOR_MAX_NAMES; i++) {
			strlist found;
			strlist_init(&found);
			doctor_addresses_of(d, a.values.items[i], &found);
			for (size_t k = 0; k < found.n; k++)
				if (doctor_same_ip(found.items[k], ip)) {
					confirmed = confirmed ? confirmed : a.values.items[i];
					host_confirmed |= strcasecmp(a.values.items[i], host) == 0;
				}
			strlist_free(&found);
		}
		if (host_confirmed)
			doctor_add(d, "ptr", ip, DOCTOR_OK, NULL, "PTR %s, which resolves back to %s", host, ip);
		else if (confirmed != NULL)
			doctor_add(d, "ptr", ip, DOCTOR_WARN, fix,
			           "PTR %s resolves back to %s, but is not the host name %s this server greets with",
			           confirmed, ip, host);
		else
			doctor_add(d, "ptr", ip, DOCTOR_FAIL, fix,
			           "PTR %s does not resolve back to %s (forward-confirmed reverse DNS fails)",
			           a.values.items[0], ip);
	}
	free(fix);
	doctor_answer_free(&a);
}

void doctor_check_fcrdns(doctor *d)
{
	const char *host = d->cfg->hostname;
	strlist found;
	strlist_init(&found);
	bool answered = doctor_addresses_of(d, host, &found);
	for (size_t i = 0; i < d->addresses.n; i++) {
		const char *ip = d->addresses.items[i];
		bool listed = false;
		for (size_t k = 0; k < found.n; k++)
			listed |= doctor_same_ip(found.items[k], ip);
		char *fix = xasprintf("publish \"%s. IN %s %s\"", host, strchr(ip, ':') ? "AAAA" : "A", ip);
		if (listed)
			doctor_add(d, "hostname", ip, DOCTOR_OK, NULL, "%s resolves to %s", host, ip);
		else
			doctor_add(d, "hostname", ip, DOCTOR_FAIL, fix, "%s does not resolve to %s (%s)", host, ip,
			           !answered ? "no answer from DNS" : found.n ? "it has other addresses" : "no A/AAAA record");
		free(fix);
		check_ptr(d, ip);
	}
	strlist_free(&found);
}

/* The DMARC records (v=DMARC1) at _dmarc.<domain>: how many, the first's
 * text in *text_r (malloc'd).  false when the look-up failed for now. */
static bool dmarc_records(doctor *d, const char *domain, size_t *n_r, char **text_r)
{
	char *name = xasprintf("_dmarc.%s", domain);
	doctor_answer a;
	doctor_lookup(d, name, DNS_TYPE_TXT, &a);
	free(name);
	*n_r = 0;
	*text_r = NULL;
	for (size_t i = 0; i < a.values.n; i++)
		if (strncasecmp(a.values.items[i], "v=DMARC1", 8) == 0 &&
		    (a.values.items[i][8] == ';' || a.values.items[i][8] == ' ' || a.values.items[i][8] == '\0')) {
			if ((*n_r)++ == 0)
				*text_r = xstrdup(a.values.items[i]);
		}
	bool ok = a.status != DNS_TEMPFAIL;
	doctor_answer_free(&a);
	return ok;
}

static void judge_dmarc(doctor *d, const char *domain, const char *where, const char *text, const char *fix)
{
	dmarc_record r;
	char *why = NULL;
	dmarc_record_status st = dmarc_record_parse(text, strlen(text), &r, &why);
	if (st != DMARC_RECORD_OK) {
		doctor_add(d, "dmarc", domain, DOCTOR_FAIL, fix, "the record at _dmarc.%s cannot be used: %s", where,
		           why ? why : "not a DMARC record");
		free(why);
		return;
	}
	if (r.p_assumed || r.p == DMARC_POLICY_NONE)
		doctor_add(d, "dmarc", domain, DOCTOR_WARN,
		           "once your reports show only your own mail passing, raise the policy to p=quarantine, then p=reject",
		           "_dmarc.%s has p=none: receivers only report, forged mail is still delivered%s", where,
		           r.rua ? "" : " (and no rua= asks for reports)");
	else if (r.rua == NULL) {
		char *rua = xasprintf("add rua=mailto:postmaster@%s to the record to get aggregate reports", domain);
		doctor_add(d, "dmarc", domain, DOCTOR_WARN, rua, "_dmarc.%s: p=%s, but no rua= asks for reports", where,
		           dmarc_policy_name(r.p));
		free(rua);
	} else
		doctor_add(d, "dmarc", domain, DOCTOR_OK, NULL, "_dmarc.%s: p=%s, reports to %s", where,
		           dmarc_policy_name(r.p), r.rua);
	dmarc_record_free(&r);
}

void doctor_check_dmarc(doctor *d, const char *domain)
{
	char *fix = advice_fix(d, domain, DNS_TYPE_TXT, "_dmarc.");
	size_t n;
	char *text;
	if (!dmarc_records(d, domain, &n, &text)) {
		doctor_add(d, "dmarc", domain, DOCTOR_FAIL, fix, "no answer from DNS for _dmarc.%s", domain);
		free(fix);
		return;
	}
	const char *where = domain;
	char *org = NULL;
	if (n == 0) {
		char *err = NULL;
		dmarc_psl *psl = dmarc_psl_open(&err);
		free(err);
		org = psl ? dmarc_org_domain(psl, domain) : NULL;
		dmarc_psl_free(&psl);
		if (org != NULL && strcmp(org, domain) != 0 && dmarc_records(d, org, &n, &text))
			where = org;
	}
	if (n == 0)
		doctor_add(d, "dmarc", domain, DOCTOR_FAIL, fix,
		           "no DMARC record at _dmarc.%s: receivers cannot tell forged mail from yours", domain);
	else if (n > 1)
		doctor_add(d, "dmarc", domain, DOCTOR_FAIL, fix,
		           "%zu DMARC records at _dmarc.%s: receivers ignore them all (RFC 7489 6.6.3)", n, where);
	else
		judge_dmarc(d, domain, where, text, fix);
	free(text);
	free(org);
	free(fix);
}

void doctor_check_autoconfig(doctor *d, const char *domain)
{
	static const char *const names[] = {"autoconfig", "autodiscover"};
	for (size_t i = 0; i < 2; i++) {
		char *name = xasprintf("%s.%s", names[i], domain);
		char *fix = xasprintf("publish \"%s. IN CNAME %s.\" (or A/AAAA records of this server)", name,
		                      d->cfg->hostname);
		strlist found;
		strlist_init(&found);
		bool ours = host_is_ours(d, name, &found);
		if (ours)
			doctor_add(d, "autoconfig", name, DOCTOR_OK, NULL, "%s resolves to this server", name);
		else if (found.n > 0)
			doctor_add(d, "autoconfig", name, DOCTOR_FAIL, fix,
			           "%s resolves to %s, not to this server: mail programs would ask another host", name,
			           found.items[0]);
		else
			doctor_add(d, "autoconfig", name, DOCTOR_WARN, fix,
			           "%s has no address: mail programs cannot set themselves up from the address alone", name);
		strlist_free(&found);
		free(fix);
		free(name);
	}
}
