/* cmd_dnsrecords.c — `yubin dns records DOMAIN`: the DNS records the owner
 * of a local domain publishes so that mail to and from it works with this
 * server (MX, SPF, DKIM, DMARC, and the host name's addresses), worked out
 * from the live configuration and the domain's DKIM keys.  Zone-file
 * lines, each after one comment line saying why; hints that need a value
 * yubin cannot know are commented out.  docs/DNS.md explains the same
 * output; keep the two in step.  Owns only what it prints: the DKIM
 * record text is dkimkeys.c's. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dkimkeys.h"

/* The published DMARC policy we advise: quarantine, not reject, so that a
 * message that loses alignment on a path we did not foresee (a forwarder,
 * a mailing list, a key published late) lands in the recipient's spam
 * folder instead of being lost; reports to postmaster@DOMAIN, an address
 * in the domain itself (no RFC 7489 7.1 authorization record needed) that
 * every mail domain must have anyway (RFC 5321 4.5.1). */
#define DMARC_ADVICE "v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@%s"

typedef struct records_ctx {
	const config *cfg;
	const char *domain;
	const dkim_keyset *keys;
} records_ctx;

static void record(const char *why, const char *name, const char *type, const char *value)
{
	printf("; %s\n%s. IN %s %s\n", why, name, type, value);
}

static void print_mx(const records_ctx *r)
{
	char *why = xasprintf("MX: mail for %s is delivered to this server, %s (hostname)", r->domain,
	                      r->cfg->hostname);
	char *value = xasprintf("10 %s.", r->cfg->hostname);
	record(why, r->domain, "MX", value);
	free(why);
	free(value);
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

static void print_spf(const records_ctx *r)
{
	const config_relay *relay = &r->cfg->relay;
	char *why, *value;
	if (relay->host == NULL) {
		why = xasprintf("SPF (RFC 7208): only the MX host (this server) sends mail from %s; -all asks "
		                "receivers to refuse the rest", r->domain);
		value = xstrdup("\"v=spf1 mx -all\"");
	} else {
		char *term = spf_term(relay->host);
		bool all = relay->domains.n == 0;
		why = xasprintf("SPF (RFC 7208): %s leaves through the relay %s (relay.host)%s; if the relay's "
		                "provider documents an SPF include:, use it for %s", all ? "all outbound mail" :
		                "mail for relay.domains", relay->host, all ? "" : ", the rest from the MX host",
		                term);
		value = xasprintf("\"v=spf1 %s%s -all\"", all ? "" : "mx ", term);
		free(term);
	}
	record(why, r->domain, "TXT", value);
	free(why);
	free(value);
}

static void print_dkim(const records_ctx *r)
{
	size_t shown = 0;
	for (size_t i = 0; i < r->keys->n; i++) {
		const dkim_key *k = &r->keys->keys[i];
		if (strcmp(k->domain, r->domain) != 0)
			continue;
		char *line = dkim_key_txt_record(k);
		printf("; DKIM (RFC 6376): the public key of selector %s (%s, %d bits) that checks the "
		       "signatures yubin puts on mail from %s\n%s\n", k->selector, dkim_alg_name(k->alg),
		       dkim_key_bits(k), r->domain, line);
		free(line);
		shown++;
	}
	if (shown == 0)
		printf("; DKIM (RFC 6376): %s has no key yet; make one with `yubin dkim keygen %s` "
		       "and run this command again\n", r->domain, r->domain);
}

static void print_dmarc(const records_ctx *r)
{
	char *name = xasprintf("_dmarc.%s", r->domain);
	char *value = xasprintf("\"" DMARC_ADVICE "\"", r->domain);
	record("DMARC (RFC 7489): mail whose From is this domain but that passes neither aligned SPF nor "
	       "DKIM goes to spam (p=quarantine); daily reports go to postmaster (rua)", name, "TXT", value);
	free(name);
	free(value);
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
static void print_addresses(const records_ctx *r)
{
	static const struct {
		int family;
		const char *type, *what;
	} kinds[] = {{AF_INET, "A", "IPv4"}, {AF_INET6, "AAAA", "IPv6"}};
	const char *host = r->cfg->hostname;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool any = false;
		for (int i = 0; i < r->cfg->n_listeners; i++) {
			const config_listener *l = &r->cfg->listeners[i];
			int fam;
			if (l->role != ROLE_SMTP || !is_public(l->address, &fam) || fam != kinds[k].family)
				continue;
			char *why = xasprintf("%s: the MX host %s answers on %s (the smtp listener)", kinds[k].type,
			                      host, l->address);
			record(why, host, kinds[k].type, l->address);
			free(why);
			any = true;
		}
		if (!any)
			printf("; %s: %s must resolve to this server's public %s address (the listeners do not name "
			       "one: fill it in)\n; %s. IN %s <public %s address>\n", kinds[k].type, host,
			       kinds[k].what, host, kinds[k].type, kinds[k].what);
	}
	printf("; PTR: ask the owner of those addresses (your hosting provider) to set their reverse name "
	       "to %s; receivers check it\n", host);
}

static void (*const sections[])(const records_ctx *) = {
	print_mx, print_spf, print_dkim, print_dmarc, print_addresses,
};

int cmd_dns_records(cli_ctx *ctx, const char *arg)
{
	if (!cli_drop_privileges(ctx))
		return 1;
	accounts *acc = cli_open_accounts(ctx);
	if (acc == NULL)
		return 1;
	char *domain = xstrdup(arg);
	str_ascii_lower(domain);
	bool local = accounts_domain_is_local(acc, domain);
	accounts_close(&acc);
	if (!local) {
		cli_error("%s is not a local domain of this server (see `yubin domain list`); records are only "
		          "made for the domains it receives mail for", domain);
		free(domain);
		return 1;
	}
	dkim_keyset keys;
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(ctx->cfg->data_dir, domain, &keys, &problems);
	for (size_t i = 0; i < problems.n; i++)
		cli_error("%s", problems.items[i]);
	strlist_free(&problems);
	printf("; DNS records for %s, from %s: publish them in the zone of %s\n", domain, ctx->cfg->path, domain);
	records_ctx r = {.cfg = ctx->cfg, .domain = domain, .keys = &keys};
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		sections[i](&r);
	dkim_keyset_free(&keys);
	free(domain);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		return 1;
	}
	return 0;
}
