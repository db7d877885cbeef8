/* dnsadvice.c — the records a local domain publishes (see dnsadvice.h).
 * Owns their choice and wording; the DKIM record text is dkimkeys.c's.
 * Must not print or look anything up. */
#include "msgauth/dnsadvice.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf/autoconf.h"
#include "dns/resolver.h"
#include "lib/buf.h"
#include "msgauth/mtastsown.h"

/* The published DMARC policy we advise: quarantine, not reject, so that a
 * message that loses alignment on a path we did not foresee (a forwarder,
 * a mailing list, a key published late) lands in the recipient's spam
 * folder instead of being lost; reports to postmaster@DOMAIN, an address
 * in the domain itself (no RFC 7489 7.1 authorization record needed) that
 * every mail domain must have anyway (RFC 5321 4.5.1). */
#define DMARC_ADVICE "v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@%s"

typedef struct builder {
	const config *cfg;
	const char *domain;
	const dkim_keyset *keys;
	dnsadvice *out;
} builder;

static dnsadvice_rec *add(dnsadvice *a, char *why)
{
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
	dnsadvice_rec *r = &a->v[a->n++];
	*r = (dnsadvice_rec){.why = why};
	return r;
}

static void add_record(dnsadvice *a, char *why, char *name, const char *type, int rrtype, char *value,
                       char *want)
{
	dnsadvice_rec *r = add(a, why);
	r->name = name;
	r->type = type;
	r->rrtype = rrtype;
	r->value = value;
	r->want = want;
}

/* A TXT value as quoted strings of at most 255 bytes (RFC 1035 3.3). */
static char *txt_strings(const char *text)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	size_t n = strlen(text);
	for (size_t off = 0; off < n || off == 0; off += 255) {
		BUF_PRINTF(&b, "%s\"%.*s\"", off ? " " : "", (int)(n - off < 255 ? n - off : 255), text + off);
		if (n == 0)
			break;
	}
	return buf_steal(&b);
}

static void add_txt(dnsadvice *a, char *why, char *name, char *text)
{
	add_record(a, why, name, "TXT", DNS_TYPE_TXT, txt_strings(text), text);
}

static void build_mx(builder *b)
{
	add_record(b->out, xasprintf("MX: mail for %s is delivered to this server, %s (hostname)", b->domain,
	                             b->cfg->hostname),
	           xstrdup(b->domain), "MX", DNS_TYPE_MX, xasprintf("10 %s.", b->cfg->hostname),
	           xstrdup(b->cfg->hostname));
}

/* "a:HOST", or "ip4:ADDR" / "ip6:ADDR" for an address */
static char *spf_term(const char *host)
{
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) == 1)
		return xasprintf("ip4:%s", host);
	if (inet_pton(AF_INET6, host, addr) == 1)
		return xasprintf("ip6:%s", host);
	return xasprintf("a:%s", host);
}

static void build_spf(builder *b)
{
	const config_relay *relay = &b->cfg->relay;
	char *why, *value;
	if (relay->host == NULL) {
		why = xasprintf("SPF (RFC 7208): only the MX host (this server) sends mail from %s; -all asks "
		                "receivers to refuse the rest", b->domain);
		value = xstrdup("v=spf1 mx -all");
	} else {
		char *term = spf_term(relay->host);
		bool all = relay->domains.n == 0;
		why = xasprintf("SPF (RFC 7208): %s leaves through the relay %s (relay.host)%s; if the relay's "
		                "provider documents an SPF include:, use it for %s", all ? "all outbound mail" :
		                "mail for relay.domains", relay->host, all ? "" : ", the rest from the MX host",
		                term);
		value = xasprintf("v=spf1 %s%s -all", all ? "" : "mx ", term);
		free(term);
	}
	add_txt(b->out, why, xstrdup(b->domain), value);
}

static void build_dkim(builder *b)
{
	size_t shown = 0;
	for (size_t i = 0; i < b->keys->n; i++) {
		const dkim_key *k = &b->keys->keys[i];
		if (strcmp(k->domain, b->domain) != 0)
			continue;
		add_txt(b->out, xasprintf("DKIM (RFC 6376): the public key of selector %s (%s, %d bits) that checks "
		                          "the signatures yubin puts on mail from %s", k->selector,
		                          dkim_alg_name(k->alg), dkim_key_bits(k), b->domain),
		        dkim_key_dns_name(k), dkim_key_txt_value(k));
		shown++;
	}
	if (shown == 0)
		add(b->out, xasprintf("DKIM (RFC 6376): %s has no key yet; make one with `yubin dkim keygen %s` "
		                      "to get the record to publish", b->domain, b->domain));
}

static void build_dmarc(builder *b)
{
	add_txt(b->out, xstrdup("DMARC (RFC 7489): mail whose From is this domain but that passes neither "
	                        "aligned SPF nor DKIM goes to spam (p=quarantine); daily reports go to "
	                        "postmaster (rua)"),
	        xasprintf("_dmarc.%s", b->domain), xasprintf(DMARC_ADVICE, b->domain));
}

/* A listener address worth publishing: a concrete, public one. */
static bool is_public(const char *addr, int *family_r)
{
	unsigned char a[16];
	static const unsigned char zero[16];
	if (inet_pton(AF_INET, addr, a) == 1) {
		*family_r = AF_INET;
		return !(a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
		         (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
		         (a[0] == 100 && (a[1] & 0xc0) == 64));
	}
	if (inet_pton(AF_INET6, addr, a) != 1)
		return false;
	*family_r = AF_INET6;
	bool unspec_or_loop = memcmp(a, zero, 15) == 0 && a[15] <= 1;
	return !unspec_or_loop && (a[0] & 0xfe) != 0xfc && !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/* The host name's A and AAAA records: the public smtp listener addresses
 * when the configuration names some, else commented-out hints. */
static void build_addresses(builder *b)
{
	static const struct {
		int family, rrtype;
		const char *type, *what;
	} kinds[] = {{AF_INET, DNS_TYPE_A, "A", "IPv4"}, {AF_INET6, DNS_TYPE_AAAA, "AAAA", "IPv6"}};
	const char *host = b->cfg->hostname;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool any = false;
		for (int i = 0; i < b->cfg->n_listeners; i++) {
			const config_listener *l = &b->cfg->listeners[i];
			int fam;
			if (l->role != ROLE_SMTP || !is_public(l->address, &fam) || fam != kinds[k].family)
				continue;
			add_record(b->out, xasprintf("%s: the MX host %s answers on %s (the smtp listener)",
			                             kinds[k].type, host, l->address),
			           xstrdup(host), kinds[k].type, kinds[k].rrtype, xstrdup(l->address),
			           xstrdup(l->address));
			any = true;
		}
		if (!any)
			add(b->out, xasprintf("%s: %s must resolve to this server's public %s address (the listeners "
			                      "do not name one: fill it in)", kinds[k].type, host, kinds[k].what))
				->hint = xasprintf("%s. IN %s <public %s address>", host, kinds[k].type, kinds[k].what);
	}
	add(b->out, xasprintf("PTR: ask the owner of those addresses (your hosting provider) to set their "
	                      "reverse name to %s; receivers check it", host));
}

/* One SRV record per listening port of each service; implicit TLS gets
 * the lower (preferred) priorities, 0 and up, STARTTLS 10 and up, as RFC
 * 8314 5.1 asks, since a client compares priorities across both names
 * (RFC 6186 3.4).  A service not offered: target "." and port 0. */
static void build_srv(builder *b)
{
	autoconf_offer o;
	autoconf_offer_build(b->cfg, &o);
	for (size_t s = 0; s < autoconf_n_srv_services; s++) {
		const autoconf_srv_service *sv = &autoconf_srv_services[s];
		int ports[AUTOCONF_MAX_ENDPOINTS];
		size_t n = autoconf_srv_ports(b->cfg, sv, ports, AUTOCONF_MAX_ENDPOINTS);
		for (size_t i = 0; i < n; i++)
			add_record(b->out, xasprintf("SRV (%s): mail programs find %s on %s port %d", sv->spec,
			                             sv->what, o.hostname, ports[i]),
			           xasprintf("%s._tcp.%s", sv->label, b->domain), "SRV", DNS_TYPE_SRV,
			           xasprintf("%d 1 %d %s.", sv->priority + (int)i, ports[i], o.hostname),
			           xasprintf("%d 1 %d %s", sv->priority + (int)i, ports[i], o.hostname));
		if (n == 0)
			add_record(b->out, xasprintf("SRV (%s): this server offers no %s (target \".\": "
			                             "not available)", sv->spec, sv->what),
			           xasprintf("%s._tcp.%s", sv->label, b->domain), "SRV", DNS_TYPE_SRV,
			           xstrdup("0 0 0 ."), xstrdup("0 0 0 ."));
	}
}

/* The names Thunderbird (autoconfig.) and Outlook (autodiscover.) ask for
 * their settings over HTTPS, served by the https listener. */
static void build_setup_names(builder *b)
{
	int https_port = 0;
	for (int i = 0; i < b->cfg->n_listeners && https_port == 0; i++)
		if (b->cfg->listeners[i].role == ROLE_HTTPS)
			https_port = b->cfg->listeners[i].port;
	if (https_port == 0) {
		add(b->out, xasprintf("autoconfig.%s and autodiscover.%s let mail programs set themselves up: "
		                      "add an https listener (port 443) to serve them", b->domain, b->domain));
		return;
	}
	static const char *const names[] = {"autoconfig", "autodiscover"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		add_record(b->out, xasprintf("CNAME: %s.%s serves the %s settings from the https listener%s; "
		                             "the certificate must name it", names[i], b->domain,
		                             i == 0 ? "Thunderbird autoconfig" : "Outlook Autodiscover",
		                             https_port == 443 ? "" : " (clients ask on port 443: listen there)"),
		           xasprintf("%s.%s", names[i], b->domain), "CNAME", DNS_TYPE_CNAME,
		           xasprintf("%s.", b->cfg->hostname), xstrdup(b->cfg->hostname));
}

/* MTA-STS (RFC 8461): the TXT record whose id changes with our policy
 * (msgauth/mtastsown.h), and the mta-sts. name the policy is fetched from
 * over HTTPS on port 443.  Without an https listener nothing serves the
 * policy, and a TXT record whose policy cannot be fetched must not be
 * published: advice only. */
static void build_mtasts(builder *b)
{
	bool https = false;
	for (int i = 0; i < b->cfg->n_listeners; i++)
		https = https || b->cfg->listeners[i].role == ROLE_HTTPS;
	if (!https) {
		add(b->out, xasprintf("MTA-STS (RFC 8461): add an https listener (port 443) with a certificate for "
		                      "mta-sts.%s to publish a policy; publish no _mta-sts record before", b->domain));
		return;
	}
	char *policy = mtasts_own_policy(b->cfg);
	char *id = mtasts_own_id(policy);
	free(policy);
	add_txt(b->out, xasprintf("MTA-STS (RFC 8461): senders that support it fetch our policy (mode %s, mx %s) "
	                          "and then only deliver to %s with a certificate that verifies; the id changes "
	                          "with the policy", b->cfg->mtasts.policy_mode, b->cfg->hostname, b->cfg->hostname),
	        xasprintf("_mta-sts.%s", b->domain), xasprintf("v=STSv1; id=%s", id));
	free(id);
	add_record(b->out, xasprintf("CNAME: mta-sts.%s serves the MTA-STS policy from the https listener on port "
	                             "443; the certificate must name mta-sts.%s", b->domain, b->domain),
	           xasprintf("mta-sts.%s", b->domain), "CNAME", DNS_TYPE_CNAME, xasprintf("%s.", b->cfg->hostname),
	           xstrdup(b->cfg->hostname));
}

/* TLS-RPT (RFC 8460 3): where senders mail their daily reports about TLS to
 * us; the address is tlsrpt.mailbox or tlsrpt@DOMAIN, and must be a mailbox
 * or alias here (the reports are ordinary mail).  ',' and '!' in the URI are
 * %-encoded as the RFC asks. */
static void build_tlsrpt(builder *b)
{
	const char *mb = b->cfg->tlsrpt.mailbox;
	char *addr = mb != NULL ? xstrdup(mb) : xasprintf("tlsrpt@%s", b->domain);
	buf u;
	buf_init(&u, BUF_UNBOUNDED);
	for (const char *p = addr; *p != '\0'; p++) {
		if (*p == ',' || *p == '!' || *p == ';')
			BUF_PRINTF(&u, "%%%02X", (unsigned char)*p);
		else
			BUF_PUTC(&u, *p);
	}
	add_txt(b->out, xasprintf("TLS-RPT (RFC 8460): senders mail their daily reports on TLS to %s to %s "
	                          "(make it a mailbox or an alias: `yubin alias add %s USER`)", b->domain, addr, addr),
	        xasprintf("_smtp._tls.%s", b->domain), xasprintf("v=TLSRPTv1; rua=mailto:%.*s", (int)u.len, u.data));
	buf_free(&u);
	free(addr);
}

static void (*const sections[])(builder *) = {
	build_mx, build_spf, build_dkim, build_dmarc, build_addresses, build_srv, build_setup_names,
	build_mtasts, build_tlsrpt,
};

void dnsadvice_build(const config *cfg, const char *domain, const dkim_keyset *keys, dnsadvice *out)
{
	*out = (dnsadvice){0};
	builder b = {.cfg = cfg, .domain = domain, .keys = keys, .out = out};
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		sections[i](&b);
}

void dnsadvice_free(dnsadvice *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].why);
		free(a->v[i].name);
		free(a->v[i].value);
		free(a->v[i].want);
		free(a->v[i].hint);
	}
	free(a->v);
	*a = (dnsadvice){0};
}

static bool same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && str_ascii_nieq(a, b, la);
}

/* SRV values "priority weight port target": the numbers equal, the
 * targets the same host. */
static bool same_srv(const char *a, const char *b)
{
	unsigned pa, wa, na, pb, wb, nb;
	int ea = 0, eb = 0;
	if (sscanf(a, "%u %u %u %n", &pa, &wa, &na, &ea) != 3 || sscanf(b, "%u %u %u %n", &pb, &wb, &nb, &eb) != 3 ||
	    ea == 0 || eb == 0)
		return false;
	return pa == pb && wa == wb && na == nb && (same_host(a + ea, b + eb) ||
	       (strcmp(a + ea, ".") == 0 && strcmp(b + eb, ".") == 0));
}

/* The tag a TXT record of the advised kind starts with: "v=spf1" ... */
static size_t kind_len(const char *want)
{
	const char *semi = strpbrk(want, "; ");
	return semi ? (size_t)(semi - want) : strlen(want);
}

dnsadvice_state dnsadvice_match(const dnsadvice_rec *rec, const strlist *found)
{
	if (found == NULL)
		return DNSADVICE_UNKNOWN;
	bool kin = false;
	for (size_t i = 0; i < found->n; i++) {
		const char *v = found->items[i];
		if (rec->rrtype == DNS_TYPE_SRV) {
			if (same_srv(v, rec->want))
				return DNSADVICE_MATCH;
			kin = true;
		} else if (rec->rrtype == DNS_TYPE_MX || rec->rrtype == DNS_TYPE_CNAME) {
			if (same_host(v, rec->want))
				return DNSADVICE_MATCH;
			kin = true;
		} else if (rec->rrtype == DNS_TYPE_TXT) {
			if (strcmp(v, rec->want) == 0)
				return DNSADVICE_MATCH;
			size_t k = kind_len(rec->want);
			if (str_ascii_nieq(v, rec->want, k) && (v[k] == '\0' || v[k] == ';' || v[k] == ' '))
				kin = true;
		} else {
			unsigned char a[16], b[16];
			int fam = rec->rrtype == DNS_TYPE_AAAA ? AF_INET6 : AF_INET;
			if (inet_pton(fam, v, a) == 1 && inet_pton(fam, rec->want, b) == 1 &&
			    memcmp(a, b, fam == AF_INET6 ? 16 : 4) == 0)
				return DNSADVICE_MATCH;
			kin = true;
		}
	}
	return kin ? DNSADVICE_DIFFERS : DNSADVICE_MISSING;
}

const char *dnsadvice_state_name(dnsadvice_state s)
{
	static const char *const names[] = {"matches", "differs", "missing", "unknown"};
	return names[s];
}
