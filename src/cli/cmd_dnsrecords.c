/* cmd_dnsrecords.c — `yubin dns records DOMAIN`: the DNS records the owner
 * of a local domain publishes so that mail to and from it works with this
 * server (MX, SPF, DKIM, DMARC, and the host name's addresses), worked out
 * from the live configuration and the domain's DKIM keys.  Zone-file
 * lines, each after one comment line saying why; hints that need a value
 * yubin cannot know are commented out.  Owns only how they are printed:
 * which records, and their words, are msgauth/dnsadvice.c's. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dkimkeys.h"
#include "msgauth/dnsadvice.h"
#include "tls/fingerprint.h"
#include "msgauth/mtastsown.h"

/* One record as zone-file lines: its comment, then the record (or the
 * commented-out hint, or nothing for advice only). */
static void print_record(const dnsadvice_rec *r)
{
	printf("; %s\n", r->why);
	if (r->name != NULL)
		printf("%s. IN %s %s\n", r->name, r->type, r->value);
	else if (r->hint != NULL)
		printf("; %s\n", r->hint);
}

/* The MTA-STS policy the _mta-sts TXT id stands for, as comment lines:
 * it is no DNS record, the https listener serves it. */
static void print_mtasts_policy(const config *cfg, const char *domain)
{
	char *policy = mtasts_own_policy(cfg);
	printf("; MTA-STS policy served at https://mta-sts.%s/.well-known/mta-sts.txt:\n", domain);
	for (char *line = policy, *end; *line; line = end + (*end != '\0')) {
		end = line + strcspn(line, "\r\n");
		printf(";   %.*s\n", (int)(end - line), line);
		if (*end == '\r')
			end++;
	}
	free(policy);
}

/* DANE (RFC 7672): the TLSA record of our certificate's key for the MX
 * host, "3 1 1" (DANE-EE, the public key, SHA-256: RFC 7671 5.1 says it
 * survives a renewal that keeps the key).  It counts only in a
 * DNSSEC-signed zone (senders ignore it elsewhere), and it lives in the
 * zone of the host name, which may not be the domain's. */
static void print_tlsa(const config *cfg)
{
	if (cfg->tls_cert == NULL)
		return;
	tls_cert_info info;
	char *err = NULL;
	if (!tls_cert_info_read(cfg->tls_cert, &info, &err) || info.spki_sha256 == NULL) {
		printf("; DANE: cannot read the certificate's key (%s)\n", err ? err : cfg->tls_cert);
		free(err);
		tls_cert_info_free(&info);
		return;
	}
	printf("; DANE (RFC 7672): in the zone of %s, once it is DNSSEC-signed; senders that validate then check\n"
	       "; our certificate's key against it: publish the new key's record before you change the key\n"
	       "_25._tcp.%s. IN TLSA 3 1 1 %s\n",
	       cfg->hostname, cfg->hostname, info.spki_sha256);
	tls_cert_info_free(&info);
}

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
	/* TLS-RPT: the address our _smtp._tls record names must take mail */
	char *rpt = ctx->cfg->tlsrpt.mailbox ? xstrdup(ctx->cfg->tlsrpt.mailbox) : xasprintf("tlsrpt@%s", domain);
	strlist rl, rr;
	strlist_init(&rl);
	strlist_init(&rr);
	bool rpt_missing = local && accounts_resolve(acc, rpt, &rl, &rr) == ACC_NOT_FOUND;
	strlist_free(&rl);
	strlist_free(&rr);
	accounts_close(&acc);
	if (!local) {
		free(rpt);
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
	dnsadvice advice;
	dnsadvice_build(ctx->cfg, domain, &keys, &advice);
	for (size_t i = 0; i < advice.n; i++)
		print_record(&advice.v[i]);
	dnsadvice_free(&advice);
	print_mtasts_policy(ctx->cfg, domain);
	print_tlsa(ctx->cfg);
	if (rpt_missing)
		printf("; TLS-RPT: %s does not exist yet, and reports sent to it would be refused: "
		       "`yubin alias add %s USER` (or set tlsrpt.mailbox)\n", rpt, rpt);
	free(rpt);
	dkim_keyset_free(&keys);
	free(domain);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		return 1;
	}
	return 0;
}
