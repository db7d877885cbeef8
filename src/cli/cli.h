/* cli.h — what every `yubin` subcommand shares: the loaded configuration
 * (from --config FILE, or the built-in --dev instance) and helpers to open
 * the account store and print errors.  Subcommands get the arguments that
 * follow their own name (argv[0] is the subcommand name). */
#ifndef YUBIN_CLI_H
#define YUBIN_CLI_H

#include "auth/accounts.h"
#include "lib/config.h"

typedef struct cli_ctx {
	config *cfg;          /* loaded before the subcommand runs */
	struct policy_config *policy; /* its policy parts (policy/polconf.h), loaded with it */
	const char *config_path;
	bool dev;
	bool serving;         /* `serve`: may hand a root-owned --dev folder to nobody */
} cli_ctx;

/* Open the account store of this instance; on failure prints the reason to
 * stderr and returns NULL. */
accounts *cli_open_accounts(cli_ctx *ctx);
/* When run as root, become the configured service user (so that files the
 * command creates belong to it); with --dev, the owner of the dev folder.
 * Returns false (after printing why) if that fails. */
bool cli_drop_privileges(cli_ctx *ctx);
/* Read a password: from stdin (one line, trailing newline removed) when
 * from_stdin, else prompt twice on the terminal without echo.  malloc'd or
 * NULL after printing why. */
char *cli_read_password(bool from_stdin);
struct event_base;
struct dns_resolver;
/* A new event base and, on it, the resolver the server would use
 * (dns.resolver, dns.timeout).  NULL after printing why (nothing left to
 * free); else free both with dns_free and event_base_free. */
struct dns_resolver *cli_open_resolver(cli_ctx *ctx, struct event_base **base_r);
/* Print " key=value" to stdout (nothing when value is NULL), the value
 * quoted when it is empty or holds a blank, a quote, a backslash or a
 * control byte (escaped inside). */
void cli_print_kv(const char *key, const char *value);
/* Print "yubin: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_serve(cli_ctx *ctx, int argc, char **argv);
/* `yubin trace ...` (cmd_trace.c) and `yubin audit verify|prune`
 * (cmd_audit.c): the audit trail. */
int cmd_trace(cli_ctx *ctx, int argc, char **argv);
int cmd_audit(cli_ctx *ctx, int argc, char **argv);
/* `yubin doctor [--domain D] [--json]` (cmd_doctor.c): checks DNS, the
 * certificate, the listeners and the network; exit 1 when any fails. */
int cmd_doctor(cli_ctx *ctx, int argc, char **argv);
int cmd_config(cli_ctx *ctx, int argc, char **argv);
int cmd_domain(cli_ctx *ctx, int argc, char **argv);
int cmd_user(cli_ctx *ctx, int argc, char **argv);
/* `yubin user sendas ...` (cmd_sendas.c), reached through cmd_user. */
int cmd_user_sendas(cli_ctx *ctx, int argc, char **argv);
/* `yubin user quota ...` (cmd_userquota.c), reached through cmd_user; and
 * the "storage=... messages=..." words `yubin user list` prints for q. */
int cmd_user_quota(cli_ctx *ctx, int argc, char **argv);
void cli_user_quota_line(const config *cfg, const accounts_quota *q, char *out, size_t size);
/* `yubin user apppass ...` (cmd_apppass.c), reached through cmd_user. */
int cmd_user_apppass(cli_ctx *ctx, int argc, char **argv);
int cmd_alias(cli_ctx *ctx, int argc, char **argv);
int cmd_queue(cli_ctx *ctx, int argc, char **argv);
int cmd_dns(cli_ctx *ctx, int argc, char **argv);
int cmd_spf(cli_ctx *ctx, int argc, char **argv);
int cmd_mailbox(cli_ctx *ctx, int argc, char **argv);
int cmd_dkim(cli_ctx *ctx, int argc, char **argv);
int cmd_srs(cli_ctx *ctx, int argc, char **argv);
int cmd_dmarc(cli_ctx *ctx, int argc, char **argv);
int cmd_tls(cli_ctx *ctx, int argc, char **argv);
int cmd_tlsrpt(cli_ctx *ctx, int argc, char **argv);
/* `yubin suppress list|show|add|del` (cmd_suppress.c). */
int cmd_suppress(cli_ctx *ctx, int argc, char **argv);
/* `yubin apikey add|list|revoke` (cmd_apikey.c): keys of the HTTPS API. */
int cmd_apikey(cli_ctx *ctx, int argc, char **argv);
/* `yubin policy VERB` (cmd_policy.c); `policy list` is cmd_policylist.c. */
int cmd_policy(cli_ctx *ctx, int argc, char **argv);
int cmd_policy_list(cli_ctx *ctx, int argc, char **argv);
/* `yubin sieve test SCRIPT MESSAGE ...` (cmd_sieve.c): run a Sieve script
 * offline and print its actions; needs no configuration. */
int cmd_sieve(cli_ctx *ctx, int argc, char **argv);
/* Print the certificate's subject, expiry and SHA-256 fingerprint (with
 * the openssl command that shows the same); false after saying why not
 * (cmd_tls.c). */
bool cli_print_fingerprint(const char *cert_file);
/* `yubin dns records DOMAIN` (cmd_dnsrecords.c), reached through cmd_dns. */
int cmd_dns_records(cli_ctx *ctx, const char *domain);

#endif
