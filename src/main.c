/* main.c — `yubin`: global options (--config FILE, --dev), loading the
 * configuration once, and dispatch to the subcommand in src/cli. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "policy/polconf.h"
#include "cli/devmode.h"

#define DEFAULT_CONFIG "/etc/yubin/yubin.conf"

static const struct {
	const char *name;
	int (*run)(cli_ctx *, int, char **);
	const char *standalone; /* "COMMAND ARG" that runs without a configuration;
	                         * "ARG ..." when more arguments may follow ARG */
} subcommands[] = {
	{"serve", cmd_serve, NULL},     {"config", cmd_config, "defaults"},
	{"domain", cmd_domain, NULL},   {"user", cmd_user, NULL},
	{"alias", cmd_alias, NULL},     {"queue", cmd_queue, NULL},
	{"dns", cmd_dns, NULL},         {"mailbox", cmd_mailbox, NULL},
	{"dkim", cmd_dkim, NULL},       {"spf", cmd_spf, NULL},
	{"dmarc", cmd_dmarc, NULL},     {"tls", cmd_tls, NULL},
	{"policy", cmd_policy, NULL},
	{"tlsrpt", cmd_tlsrpt, NULL},
	{"srs", cmd_srs, NULL},
	{"suppress", cmd_suppress, NULL},
	{"apikey", cmd_apikey, NULL},
	{"trace", cmd_trace, NULL},     {"audit", cmd_audit, NULL},
	{"doctor", cmd_doctor, NULL},
	{"sieve", cmd_sieve, "test ..."},
};

/* Does `yubin argv[1] argv[2] ...` run without a configuration? */
static bool runs_standalone(const char *alone, int argc, char **argv)
{
	if (alone == NULL || argc < 3)
		return false;
	size_t n = strcspn(alone, " ");
	bool more = strcmp(alone + n, " ...") == 0;
	return (argc == 3 || more) && strlen(argv[2]) == n && strncmp(argv[2], alone, n) == 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: yubin [--config FILE | --dev] COMMAND ...\n"
	        "  serve                          run the server\n"
	        "  config check | defaults        check the configuration / list settings\n"
	        "                                 (defaults needs no configuration file)\n"
	        "  tls fingerprint                SHA-256 fingerprint of the server certificate\n"
	        "  domain add|del|list [NAME]     local domains\n"
	        "  user add|passwd|del|list [ADDRESS] [--password-stdin | --hash HASH]\n"
	        "  user sendas add|del USER ADDRESS | list USER\n"
	        "  user apppass add|revoke ADDRESS NAME | list ADDRESS\n"
	        "  alias add ALIAS TARGET... | del ALIAS [TARGET] | list\n"
	        "  queue list | show ID | delete ID | flush [ID] | hold ID | release ID | bounce ID\n"
	        "  dns query NAME [mx|a|aaaa|txt|tlsa|ptr|srv|cname]   a look-up as delivery makes it\n"
	        "  srs keygen [--rotate] | forward ADDRESS | reverse ADDRESS   SRS secrets and addresses\n"
	        "  dns records DOMAIN             the DNS records a local domain publishes (docs/DNS.md)\n"
	        "  tlsrpt send-now [--day YYYY-MM-DD]   send the TLS reports of a UTC day now (default: yesterday)\n"
	        "  mailbox reindex ADDRESS        rebuild an account's index from its Maildir\n"
	        "  dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519] | list\n"
	        "  dkim sign --domain D [--selector S] < MESSAGE | verify < MESSAGE\n"
	        "  spf check IP MAILFROM [HELO]   SPF results for a client (RFC 7208)\n"
	        "  dmarc check FROMDOMAIN [--spf RESULT:DOMAIN] [--dkim RESULT:DOMAIN]... [--draw N]\n"
	        "                                 DMARC (RFC 7489) for given SPF and DKIM results\n"
	        "  policy test --client IP --from ADDR --to ADDR [...] [MESSAGE]\n"
	        "                                 run the policy rules offline (docs/POLICY.md)\n"
	        "  policy list add|del NAME VALUE | list show [NAME]   the lists of policy.lists\n"
	        "  suppress list | show ADDR | add ADDR [REASON] | del ADDR   the suppression list\n"
	        "  apikey add NAME --domain D... [--rate N/min] [--daily N] | list | revoke NAME\n"
	        "                                 keys of the HTTPS API (docs/SERVICE.md)\n"
	        "  trace QID | trace [--from A] [--to A] [--since T] [--until T] [--status S] [--json]\n"
	        "                                 messages' timelines from the audit trail\n"
	        "  audit verify | prune [--days N]   prove the audit trail intact / apply retention\n"
	        "  doctor [--domain D] [--json]   check DNS, certificate, listeners and network, with fixes\n"
	        "  sieve test SCRIPT MESSAGE [--from S] [--to R]   what a Sieve script does with a message\n"
	        "--dev uses a built-in instance in ./yubin-dev (or $YUBIN_DEV_DIR);\n"
	        "otherwise the configuration is " DEFAULT_CONFIG ".\n");
}

/* Take --config/--dev out of argv, wherever they are. */
static bool global_options(int *argc, char **argv, cli_ctx *ctx)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--dev") == 0) {
			ctx->dev = true;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < *argc) {
			ctx->config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctx->config_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--config") == 0) {
			return false;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	return !(ctx->dev && ctx->config_path != NULL);
}

int main(int argc, char **argv)
{
	cli_ctx ctx = {0};
	umask(077); /* mail, keys and password hashes are nobody else's business */
	if (!global_options(&argc, argv, &ctx) || argc < 2) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage();
		return 0;
	}
	int idx = -1;
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			idx = (int)i;
	if (idx < 0) {
		fprintf(stderr, "yubin: unknown command \"%s\"\n", argv[1]);
		usage();
		return 2;
	}
	const char *alone = subcommands[idx].standalone;
	if (runs_standalone(alone, argc, argv))
		return subcommands[idx].run(&ctx, argc - 1, argv + 1); /* ctx.cfg stays NULL */
	if (ctx.dev) {
		ctx.cfg = devmode_config();
	} else {
		if (ctx.config_path == NULL)
			ctx.config_path = DEFAULT_CONFIG;
		strlist errs;
		strlist_init(&errs);
		ctx.cfg = config_load(ctx.config_path, &errs);
		if (ctx.cfg != NULL && (ctx.policy = policy_config_load(ctx.cfg, &errs)) == NULL)
			config_free(&ctx.cfg);
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.items[i]);
		strlist_free(&errs);
	}
	if (ctx.cfg == NULL)
		return 1;
	if (ctx.policy == NULL)
		ctx.policy = policy_config_empty();
	int rc = subcommands[idx].run(&ctx, argc - 1, argv + 1);
	policy_config_free(&ctx.policy);
	config_free(&ctx.cfg);
	return rc;
}
