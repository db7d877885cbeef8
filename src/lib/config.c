/* config.c — the configuration schema and its loader (see config.h).
 * The schema table below is the single place where a setting's name, type,
 * default, bounds and help live; parsing, checking and `config defaults` are
 * all driven by it.  Settings that are lists (domains, listeners) have their
 * own small readers. */
#include "lib/config.h"

#include "lib/cidr.h"

#include <libconfig.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { T_STR, T_INT, T_INT64 } setting_type;

typedef struct setting_def {
	const char *name;      /* dotted path: "limits.message_size" */
	setting_type type;
	size_t offset;         /* into struct config */
	const char *def_str;   /* default for strings (NULL = no default) */
	long long def_int;
	long long min, max;
	const char *help;
} setting_def;

#define OFF(field) offsetof(config, field)
#define STR(n, f, d, h) {n, T_STR, OFF(f), d, 0, 0, 0, h}
#define INT(n, f, d, lo, hi, h) {n, T_INT, OFF(f), NULL, d, lo, hi, h}
#define I64(n, f, d, lo, hi, h) {n, T_INT64, OFF(f), NULL, d, lo, hi, h}

static const setting_def schema[] = {
	STR("hostname", hostname, NULL, "name used in the greeting, EHLO and Received: (required)"),
	STR("data_dir", data_dir, "/var/lib/yubin", "database, queue and mailboxes"),
	STR("user", user, NULL, "service user to run as when started as root"),
	STR("log", log, "stderr", "\"stderr\" or \"syslog\""),
	STR("tls.cert", tls_cert, NULL, "PEM certificate chain (required)"),
	STR("tls.key", tls_key, NULL, "PEM private key (required)"),
	I64("limits.message_size", limits.message_size, 26214400, 1024, 1LL << 31, "largest message in bytes (SIZE)"),
	INT("limits.recipients", limits.recipients, 1000, 1, 100000, "recipients per message"),
	INT("limits.line_length", limits.line_length, 2048, 512, 65536, "command line bytes including CRLF"),
	INT("limits.errors", limits.errors, 10, 1, 1000, "error replies before the session is closed"),
	INT("limits.commands_before_mail", limits.commands_before_mail, 100, 1, 100000, "non-mail commands per session"),
	INT("limits.command_timeout", limits.command_timeout, 300, 1, 3600, "seconds to wait for a command"),
	INT("limits.data_timeout", limits.data_timeout, 600, 1, 3600, "seconds to wait inside DATA/BDAT"),
	INT("limits.login_deadline", limits.login_deadline, 120, 5, 3600, "seconds from connect to a successful login (submission, POP3, IMAP, ManageSieve)"),
	INT("limits.connections", limits.connections, 2000, 1, 1000000, "connections in all"),
	INT("limits.connections_per_ip", limits.connections_per_ip, 50, 1, 1000000, "connections from one address"),
	INT("limits.imap_sessions_per_user", limits.imap_sessions_per_user, 50, 1, 1000000, "IMAP sessions logged in to one account at once"),
	INT("limits.imap_max_folders", limits.imap_max_folders, 1000, 1, 1000000, "folders one account may have, INBOX included (CREATE, RENAME: NO [LIMIT])"),
	I64("limits.mailbox_quota", limits.mailbox_quota, 0, 0, 1LL << 50, "bytes of mail one account may keep (IMAP QUOTA); 0: no limit"),
	I64("limits.mailbox_quota_messages", limits.mailbox_quota_messages, 0, 0, 1LL << 40, "messages one account may keep (IMAP QUOTA); 0: no limit"),
	INT("managesieve.max_script_size", managesieve.max_script_size, 65536, 1024, 16777216, "bytes of one Sieve script (PUTSCRIPT beyond: NO (QUOTA/MAXSIZE))"),
	INT("managesieve.max_scripts", managesieve.max_scripts, 20, 1, 10000, "Sieve scripts one account may keep (PUTSCRIPT beyond: NO (QUOTA/MAXSCRIPTS))"),
	INT("auth.fail_delay_ms", auth.fail_delay_ms, 250, 0, 60000, "delay after the first failed login"),
	INT("auth.fail_delay_max_ms", auth.fail_delay_max_ms, 4000, 0, 600000, "longest delay after a failed login"),
	INT("auth.lockout_failures", auth.lockout_failures, 10, 1, 100000, "failures within lockout_window that lock out an address, or an account from unknown addresses"),
	INT("auth.lockout_window", auth.lockout_window, 600, 1, 86400 * 7, "seconds over which failures count"),
	INT("auth.lockout_seconds", auth.lockout_seconds, 300, 1, 86400 * 7, "seconds a locked-out address, or an account from unknown addresses, waits"),
	INT("auth.max_checks", auth.max_checks, 2, 1, 256, "password checks at once (each yescrypt check takes 16 MiB and a core while it runs; more wait in line)"),
	INT("auth.known_days", auth.known_days, 30, 1, 3650, "days an address (IPv6: its /64) stays known to an account after a login from it; known addresses are exempt from the account's lock-out"),
	INT("workers", workers, 8, 1, 256, "threads for password hashing and fsync"),
	STR("dns.resolver", dns_resolver, "", "DNS server to ask: \"\" for /etc/resolv.conf, or \"IP\" / \"IP@port\""),
	INT("dns.timeout", dns_timeout, 10, 1, 300, "seconds before a DNS look-up counts as a temporary failure"),
	/* DNSSEC trust anchor (DANE, issue 14) */
	STR("dns.trust_anchor", dns_trust_anchor, "auto", "DNSSEC trust anchor: \"auto\" (Debian's /usr/share/dns/root.key when it exists and dns.resolver is \"\"), \"\" (no validation: no DANE), or a file of DS/DNSKEY records"),
	INT("delivery.port", delivery.port, 25, 1, 65535, "TCP port of the MX hosts"),
	INT("delivery.lifetime", delivery.lifetime, 432000, 1, 86400 * 60, "seconds a message may stay deferred before it bounces"),
	INT("delivery.delay_warning", delivery.delay_warning, 14400, 1, 86400 * 60, "seconds before the sender is told of a delay (once)"),
	INT("delivery.connect_timeout", delivery.connect_timeout, 30, 1, 600, "seconds to connect to a remote server"),
	INT("delivery.command_timeout", delivery.command_timeout, 300, 1, 3600, "seconds to wait for a reply (greeting, EHLO, MAIL, RCPT)"),
	INT("delivery.data_timeout", delivery.data_timeout, 600, 1, 3600, "seconds to wait for the reply after the message"),
	INT("delivery.max_connections", delivery.max_connections, 100, 1, 10000, "outbound connections open at once, overall"),
	INT("delivery.max_per_destination", delivery.max_per_destination, 20, 1, 1000, "outbound connections open at once to one destination (domain or relay host)"),
	INT("delivery.local_concurrency", delivery.local_concurrency, 4, 1, 256, "local deliveries (Maildir writes and their fsyncs) running at once on the worker threads; the rest wait in the queue's line, so a burst of mail never keeps logins, commits or signing waiting behind it"),
	STR("delivery.tls_ca_file", delivery.tls_ca_file, NULL, "extra CA certificates (PEM) for verifying remote servers"),
	STR("relay.host", relay.host, NULL, "smarthost for outbound mail (unset: deliver by MX)"),
	STR("relay.user", relay.user, NULL, "user name for AUTH at the relay"),
	STR("relay.password_file", relay.password_file, NULL, "file with the relay password (mode 0600)"),
	INT("relay.verify", relay.verify, 1, 0, 1, "1: refuse a relay whose certificate does not verify"),
	/* routing (delivery/route.h, delivery/probe25.h, docs/ROUTING.md) */
	STR("relay.when", route.relay_when, "always", "\"always\": relay.host carries all mail that relay.domains and the transport map do not route otherwise; \"blocked\": only while the OP25B probe finds port 25 blocked (and for relay.domains)"),
	STR("delivery.prefer_family", route.prefer_family, "any", "which addresses of a server are tried first: \"ipv6\", \"ipv4\" or \"any\" (as the DNS answers come); the other family follows in the same attempt"),
	STR("delivery.source_ipv4", route.source4, NULL, "local IPv4 address outbound connections come from (unset: the kernel's choice); transport and sender_sources entries override it"),
	STR("delivery.source_ipv6", route.source6, NULL, "local IPv6 address outbound connections come from (unset: the kernel's choice)"),
	STR("delivery.probe_domain", route.probe_domain, NULL, "OP25B probe: connect to this domain's MX hosts on delivery.port when delivery.probe_hosts is empty (unset and no probe_hosts: no probe)"),
	INT("delivery.probe_interval", route.probe_interval, 300, 1, 86400, "seconds between OP25B probe rounds while port 25 is open"),
	INT("delivery.probe_blocked_interval", route.probe_blocked_interval, 60, 1, 86400, "seconds between probe rounds while port 25 is blocked, so direct delivery resumes soon"),
	INT("delivery.probe_rounds", route.probe_rounds, 2, 1, 20, "consecutive probe rounds that must agree before the route changes (both ways)"),
	INT("msgauth.sign", msgauth.sign, 1, 0, 1, "1: DKIM-sign mail your users submit, with the keys of `yubin dkim keygen`"),
	INT("msgauth.verify", msgauth.verify, 1, 0, 1, "1: check SPF, DKIM and DMARC of mail arriving on port 25 and add Authentication-Results"),
	STR("msgauth.authserv_id", msgauth.authserv_id, NULL, "the name in Authentication-Results (unset: the hostname)"),
	STR("msgauth.dmarc_action", msgauth.dmarc_action, "follow", "a DMARC failure: \"follow\" the domain's policy (reject: 550 5.7.1; quarantine: the Junk folder), \"junk\" (both to Junk) or \"report\" (the header only)"),
	STR("msgauth.dmarc_temperror", msgauth.dmarc_temperror, "accept", "DMARC temperror (RFC 7489 6.6.2: neither SPF nor DKIM passed and an aligned one failed for now, or the policy look-up failed): \"accept\" the message without applying the policy, or \"defer\" it with 451 4.7.0"),
	INT("msgauth.timeout", msgauth.timeout, 20, 1, 600, "seconds for all the DNS look-ups of one message's checks"),
	INT("policy.greet_pause", policy.greet_pause, 1000, 0, 30000, "milliseconds a port-25 client seen for the first time waits for the greeting; one that talks first is refused (554 5.5.1); clients that passed are remembered for a day; 0: off"),
	INT("policy.reject_invalid_helo", policy.reject_invalid_helo, 1, 0, 1, "1: on port 25, a HELO/EHLO name that is neither a host name nor an address literal gets 501 5.5.2"),
	INT("policy.reject_unauth_own", policy.reject_unauth_own, 1, 0, 1, "1: on port 25, MAIL FROM an address of one of our domains without a login gets 550 5.7.1 (use submission), unless the client is in policy.trusted_networks"),
	INT("policy.dnsbl_min_ttl", policy.dnsbl_min_ttl, 60, 0, 3600, "seconds a DNS list's answer is kept at least, whatever its TTL (as Postfix's postscreen_dnsbl_min_ttl): a client that comes back within it costs no look-up"),
	INT("policy.greylist.enable", policy.greylist.enable, 0, 0, 1, "1: greylist (client /24 or /64, sender, recipient) at RCPT on port 25"),
	INT("policy.greylist.delay", policy.greylist.delay, 300, 1, 86400, "seconds a new triplet waits (451 4.7.1 until then)"),
	INT("policy.greylist.retry_window", policy.greylist.retry_window, 86400, 1, 86400 * 30, "seconds after the first attempt within which a retry passes; later it starts again"),
	INT("policy.greylist.expire", policy.greylist.expire, 2592000, 1, 86400 * 365, "seconds a triplet that passed is remembered after its last pass"),
	INT("policy.greylist.auto_allow", policy.greylist.auto_allow, 5, 0, 1000000, "passes after which the client's whole network goes through at once; 0: never"),
	INT("policy.greylist.auto_allow_time", policy.greylist.auto_allow_time, 86400, 1, 86400 * 365, "seconds such a network stays allowed after its last pass"),
	I64("policy.greylist.max_entries", policy.greylist.max_entries, 1000000, 100, 1LL << 40, "triplets kept (the ones closest to expiry are forgotten first)"),
	STR("policy.greylist.on_error", policy.greylist.on_error, "tempfail", "the greylist database fails: \"tempfail\" (451 4.3.0) or \"accept\" (the mail goes through, logged)"),
	I64("policy.body_scan_limit", policy.body_scan_limit, 1048576, 1024, 1LL << 30, "bytes of decoded text a body rule reads from a message"),
	INT("rewrite.srs.enable", rewrite.srs_enable, 0, 0, 1, "1: mail sent on to another domain (an alias pointing outside) leaves with an SRS0/SRS1 envelope sender at rewrite.srs.domain, so that SPF passes at the destination; bounces to those addresses are checked and returned to the original sender"),
	STR("rewrite.srs.domain", rewrite.srs_domain, NULL, "the domain of SRS addresses (its SPF record must allow this server; unset: the first local domain)"),
	STR("rewrite.srs.secret_file", rewrite.srs_secret_file, NULL, "the SRS secrets, one a line, the first signs, all verify (mode 0600; made with a random secret at start or by `yubin srs keygen` when missing; unset: DATA_DIR/srs.secret)"),
	INT("rewrite.arc_seal", rewrite.arc_seal, 0, 0, 1, "1: mail that arrived on port 25 and is sent on to another domain gets an ARC set (RFC 8617) sealed with an RSA DKIM key of rewrite.srs.domain (`yubin dkim keygen DOMAIN --algorithm rsa`)"),
	INT("rewrite.srs.max_age", rewrite.srs_max_age, 21, 1, 1000, "days an SRS address stays valid for bounces"),
	STR("webhooks.ca_file", webhooks.ca_file, NULL, "CA certificates (PEM) that webhook endpoints' certificates are verified against (unset: the system's)"),
	INT("webhooks.connect_timeout", webhooks.connect_timeout, 10, 1, 300, "seconds to connect to a webhook endpoint"),
	INT("webhooks.timeout", webhooks.timeout, 30, 1, 600, "seconds for a whole webhook attempt; a slower answer counts as a failure"),
	INT("webhooks.retry_base", webhooks.retry_base, 30, 1, 86400, "seconds before a failed webhook delivery is tried again; the wait doubles each time"),
	INT("webhooks.retry_max", webhooks.retry_max, 3600, 1, 86400, "longest wait between two attempts of a webhook delivery"),
	INT("webhooks.retry_for", webhooks.retry_for, 86400, 60, 86400 * 7, "seconds after its event a webhook delivery is still tried; then it is dropped with a log line"),
	INT("webhooks.max_pending", webhooks.max_pending, 10000, 10, 10000000, "webhook deliveries kept waiting per endpoint; at the bound the oldest is dropped with a log line"),
	I64("http.max_body", http.max_body, 37748736, 1024, 1LL << 32, "bytes of an HTTP request body; more gets 413 (a JSON message carries its attachments in base64, about 4/3 of limits.message_size)"),
	INT("http.max_header", http.max_header, 16384, 1024, 1048576, "bytes of an HTTP request line and header fields together; more gets 431 or the connection closes"),
	INT("http.timeout", http.timeout, 60, 1, 3600, "seconds an HTTP connection may be silent (between requests of a kept-alive connection too)"),
	INT("api.max_recipients", api.max_recipients, 100, 1, 100000, "recipients (to, cc and bcc together) of one message sent through the HTTPS API; more gets 422"),
	INT("api.idempotency_hours", api.idempotency_hours, 24, 1, 24 * 30, "hours an Idempotency-Key of the HTTPS API is remembered (a retry within them gets the first answer)"),
	INT("api.sessions", api.sessions, 256, 1, 10000, "internal submission sessions (in memory, no socket) the HTTPS API keeps open at most, busy and idle together; more requests wait in line"),
	INT("api.sessions_per_key", api.sessions_per_key, 64, 1, 10000, "of those, at most this many for one API key (and client address)"),
	INT("audit.enabled", audit.enabled, 1, 0, 1, "true (1): keep every message's timeline in DATA_DIR/audit.db (yubin trace, yubin audit verify)"),
	STR("audit.subject", audit.subject, "hash", "the Subject in the trail: \"off\", \"hash\" (sha256 of it) or \"plain\""),
	INT("audit.retention_days", audit.retention_days, 90, 0, 36500, "days records are kept (pruned daily, the chain stays verifiable); 0: forever"),
	STR("audit.journal", audit.journal, NULL, "address (a local mailbox or any other) that gets a copy of every accepted message, with NOTIFY=NEVER"),
	STR("audit.journal_match", audit.journal_match, NULL, "only journal mail whose sender or a recipient is in one of these domains (separated by commas or spaces; a domain covers its subdomains); unset: all"),
	I64("queue.min_free", queue.min_free, 67108864, 0, 1LL << 50, "bytes the queue's file system keeps free: below it MAIL gets 452 4.3.1 (at least 1.5 x limits.message_size is kept in any case)"),
	INT("web.session_lifetime", web.session_lifetime, 43200, 60, 86400 * 30, "seconds a dashboard session lasts at most, however busy"),
	INT("web.session_idle", web.session_idle, 1800, 60, 86400, "seconds a dashboard session lasts without a request"),
	INT("web.max_sessions", web.max_sessions, 1000, 1, 100000, "dashboard sessions kept at once (the least recently used goes first)"),
	STR("doctor.probe_domain", doctor.probe_domain, "gmail.com", "`yubin doctor` checks that outbound port 25 is open by connecting to this domain's MX hosts (on delivery.port) and reading their greeting"),
	INT("doctor.timeout", doctor.timeout, 10, 1, 120, "seconds `yubin doctor` waits for each connection, greeting and reply of its network checks"),
	INT("web.chart_days", web.chart_days, 3, 1, 31, "days the dashboard's charts show, per hour"),
	/* MTA-STS (RFC 8461), delivery/mtastsget.h and http/mtasts_serve.c */
	INT("mtasts.enable", mtasts.enable, 1, 0, 1, "1: look up the MTA-STS policy of each recipient domain (the _mta-sts TXT record, then https://mta-sts.DOMAIN/.well-known/mta-sts.txt, cached in DATA_DIR/mtasts.db) and apply it: mode enforce skips MX hosts the policy does not name and defers rather than deliver without a certificate that verifies for the MX name; testing only logs"),
	INT("mtasts.fetch_timeout", mtasts.fetch_timeout, 60, 1, 600, "seconds for one MTA-STS policy fetch (connection, TLS and body)"),
	INT("mtasts.fetch_retry", mtasts.fetch_retry, 300, 0, 86400, "seconds before a failed MTA-STS policy fetch for the same TXT id is tried again (a valid cached policy keeps applying meanwhile)"),
	INT("mtasts.refresh_interval", mtasts.refresh_interval, 86400, 10, 86400 * 7, "seconds between background checks of the cached MTA-STS policies: a changed TXT id, or a policy that expires within two intervals, is fetched again"),
	INT("mtasts.test_https_port", mtasts.test_https_port, 0, 0, 65535, "FOR TESTS ONLY: fetch MTA-STS policies from this port instead of 443 (RFC 8461 fixes 443); 0: 443"),
	STR("mtasts.policy_mode", mtasts.policy_mode, "testing", "the mode of the MTA-STS policy this server publishes for its domains at https://mta-sts.DOMAIN/.well-known/mta-sts.txt: \"testing\" (start here), \"enforce\" or \"none\" (to withdraw it)"),
	INT("mtasts.policy_max_age", mtasts.policy_max_age, 604800, 86400, 31557600, "max_age (seconds) of the MTA-STS policy this server publishes"),
	/* TLS-RPT (RFC 8460), delivery/tlsrpt.h */
	INT("tlsrpt.enable", tlsrpt.enable, 0, 0, 1, "1: count outbound TLS sessions per recipient policy domain and day (DATA_DIR/tlsrpt.db) and, after 00:00 UTC, mail each domain that publishes a _smtp._tls record its TLS report for the day before"),
	STR("tlsrpt.org_name", tlsrpt.org_name, NULL, "organization-name in the TLS reports we send (unset: the host name)"),
	STR("tlsrpt.contact", tlsrpt.contact, NULL, "contact-info (a mail address) in the TLS reports we send (unset: postmaster@SUBMITTER)"),
	STR("tlsrpt.submitter", tlsrpt.submitter, NULL, "our domain in the TLS reports we send (TLS-Report-Submitter, the file name, the From address and the DKIM key that signs them; unset: the first local domain)"),
	STR("tlsrpt.mailbox", tlsrpt.mailbox, NULL, "the address our _smtp._tls records ask others to send their TLS reports to (`yubin dns records`; it must be a mailbox or alias here; unset: tlsrpt@DOMAIN for each domain)"),
	INT("tlsrpt.https_timeout", tlsrpt.https_timeout, 60, 1, 600, "seconds for one HTTPS POST of a TLS report to an https: rua address (connection, TLS, upload and answer together)"),
	INT("tlsrpt.https_retry", tlsrpt.https_retry, 1800, 1, 86400, "seconds before a failed HTTPS POST of a TLS report is tried again; the wait doubles after each failure, up to six hours"),
	INT("tlsrpt.https_tries", tlsrpt.https_tries, 8, 1, 50, "HTTPS POSTs of one TLS report to one https: rua address before it is given up"),
};
/* The groups of settings ("tls: { ... };"), read through the table. */
static const char *const groups[] = {"tls", "limits", "auth", "dns", "delivery", "relay", "msgauth", "queue",
                                     "policy", "rewrite", "policy.greylist", "rewrite.srs", "http", "api",
                                     "audit", "webhooks", "web", "metrics", "doctor", "managesieve",
                                     "mtasts", "tlsrpt"};

/* Settings that are lists of groups or named groups, read by the policy
 * layer (policy/polconf.c) from the same file: skipped here. */
static const char *const external[] = {
	"policy.rules", "policy.lists", "policy.dnsbl", "policy.dnsbl_reject_score", "policy.ratelimits", "policy.milters",
	"rewrite.canonical", "rewrite.masquerade", "webhooks.endpoints",
};

static bool is_external(const char *path)
{
	for (size_t k = 0; k < sizeof(external) / sizeof(external[0]); k++)
		if (strcmp(path, external[k]) == 0)
			return true;
	return false;
}

static bool is_group(const char *name)
{
	for (size_t k = 0; k < sizeof(groups) / sizeof(groups[0]); k++)
		if (strcmp(name, groups[k]) == 0)
			return true;
	return false;
}
static const int default_relay_ports[] = {587, 465, 2525};
static const int default_retry[] = {60, 300, 900, 1800, 3600, 7200};

bool config_valid_network(const char *s)
{
	cidr net;
	return cidr_parse(s, &net);
}

static const char *const role_names[ROLE_COUNT] = {"smtp", "submission", "submissions", "pop3",
                                                   "pop3s", "imap", "imaps", "https",
                                                   "managesieve"};

const char *config_role_name(listener_role role)
{
	return role_names[role];
}

static void add_error(strlist *errs, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_error(strlist *errs, const char *file, int line, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (line > 0)
		strlist_add_owned(errs, xasprintf("%s:%d: %s", file, line, msg));
	else
		strlist_add_owned(errs, xasprintf("%s: %s", file, msg));
	free(msg);
}

config *config_new_defaults(void)
{
	config *cfg = xcalloc(1, sizeof(*cfg));
	strlist_init(&cfg->domains);
	cfg->delivery.n_retry = (int)(sizeof(default_retry) / sizeof(default_retry[0]));
	cfg->delivery.retry = xcalloc((size_t)cfg->delivery.n_retry, sizeof(int));
	memcpy(cfg->delivery.retry, default_retry, sizeof(default_retry));
	strlist_init(&cfg->relay.domains);
	strlist_init(&cfg->web.admins);
	strlist_init(&cfg->policy.trusted_networks);
	strlist_add(&cfg->policy.trusted_networks, "127.0.0.1"); /* the machine's own programs */
	strlist_add(&cfg->policy.trusted_networks, "::1");
	strlist_init(&cfg->doctor.addresses);
	strlist_init(&cfg->route.probe_hosts);
	strlist_init(&cfg->metrics.allow);
	strlist_add(&cfg->metrics.allow, "127.0.0.1"); /* GET /metrics: this machine only */
	strlist_add(&cfg->metrics.allow, "::1");
	cfg->relay.n_ports = (int)(sizeof(default_relay_ports) / sizeof(default_relay_ports[0]));
	cfg->relay.ports = xcalloc((size_t)cfg->relay.n_ports, sizeof(int));
	memcpy(cfg->relay.ports, default_relay_ports, sizeof(default_relay_ports));
	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++) {
		const setting_def *d = &schema[i];
		char *field = (char *)cfg + d->offset;
		if (d->type == T_STR)
			*(char **)field = d->def_str ? xstrdup(d->def_str) : NULL;
		else if (d->type == T_INT)
			*(int *)field = (int)d->def_int;
		else
			*(int64_t *)field = d->def_int;
	}
	return cfg;
}

static void free_route(config_route *r); /* the routing block below */

void config_free(config **cfgp)
{
	config *cfg = *cfgp;
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
		if (schema[i].type == T_STR)
			free(*(char **)((char *)cfg + schema[i].offset));
	for (int i = 0; i < cfg->n_listeners; i++)
		free(cfg->listeners[i].address);
	free(cfg->listeners);
	free(cfg->delivery.retry);
	free(cfg->relay.ports);
	strlist_free(&cfg->relay.domains);
	strlist_free(&cfg->web.admins);
	strlist_free(&cfg->policy.trusted_networks);
	strlist_free(&cfg->metrics.allow);
	strlist_free(&cfg->doctor.addresses);
	free_route(&cfg->route);
	strlist_free(&cfg->domains);
	free(cfg->path);
	free(cfg);
	*cfgp = NULL;
}

static const setting_def *schema_find(const char *path)
{
	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
		if (strcmp(schema[i].name, path) == 0)
			return &schema[i];
	return NULL;
}

static const char *type_word(setting_type t)
{
	return t == T_STR ? "a string in double quotes" : "a whole number";
}

/* Store one scalar setting into cfg after checking type and bounds. */
static void read_scalar(config *cfg, const setting_def *d, config_setting_t *s,
                        const char *file, strlist *errs)
{
	int line = (int)config_setting_source_line(s);
	int t = config_setting_type(s);
	char *field = (char *)cfg + d->offset;
	if (d->type == T_STR) {
		if (t != CONFIG_TYPE_STRING) {
			add_error(errs, file, line, "%s must be %s", d->name, type_word(d->type));
			return;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(config_setting_get_string(s));
		return;
	}
	bool flag = d->type == T_INT && d->min == 0 && d->max == 1; /* a switch: true/false too */
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && !(flag && t == CONFIG_TYPE_BOOL)) {
		add_error(errs, file, line, "%s must be %s", d->name, type_word(d->type));
		return;
	}
	long long v = t == CONFIG_TYPE_BOOL ? config_setting_get_bool(s) : config_setting_get_int64(s);
	if (v < d->min || v > d->max) {
		add_error(errs, file, line, "%s is %lld, but must be between %lld and %lld",
		          d->name, v, d->min, d->max);
		return;
	}
	if (d->type == T_INT)
		*(int *)field = (int)v;
	else
		*(int64_t *)field = v;
}

static bool valid_domain_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
		if (c == '.' && p[1] == '.')
			return false;
	}
	return true;
}

static void read_domains(config *cfg, config_setting_t *s, const char *file, strlist *errs,
                         strlist *out, const char *name)
{
	int line = (int)config_setting_source_line(s);
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		add_error(errs, file, line, "%s must be a list of strings, like [ \"example.org\" ]", name);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (v == NULL || !valid_domain_name(v)) {
			add_error(errs, file, (int)config_setting_source_line(e),
			          "%s entry %d is not a domain name", name, i + 1);
			continue;
		}
		char *d = xstrdup(v);
		str_ascii_lower(d);
		strlist_add_owned(out, d);
	}
}

static bool valid_address(const char *a)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, a, tmp) == 1 || inet_pton(AF_INET6, a, tmp) == 1;
}

/* One { role = ...; address = ...; port = ...; } group. */
static void read_listener(config *cfg, config_setting_t *g, const char *file, strlist *errs)
{
	int line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		add_error(errs, file, line, "each listener must be a group like { role = \"smtp\"; address = \"0.0.0.0\"; port = 25; }");
		return;
	}
	config_listener l = {.role = ROLE_SMTP, .address = NULL, .port = 0, .line = line};
	bool ok = true, have_role = false;
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		int ml = (int)config_setting_source_line(m);
		const char *sv = config_setting_get_string(m);
		if (strcmp(name, "role") == 0) {
			have_role = true;
			size_t r;
			for (r = 0; r < ROLE_COUNT; r++)
				if (sv != NULL && strcmp(sv, role_names[r]) == 0)
					break;
			if (r == ROLE_COUNT) {
				add_error(errs, file, ml, "listener role must be \"smtp\", \"submission\", \"submissions\", "
				                          "\"pop3\", \"pop3s\", \"imap\", \"imaps\", \"https\" or "
				                          "\"managesieve\"");
				ok = false;
			} else {
				l.role = (listener_role)r;
			}
		} else if (strcmp(name, "address") == 0) {
			if (sv == NULL || !valid_address(sv)) {
				add_error(errs, file, ml, "listener address must be an IPv4 or IPv6 address in quotes");
				ok = false;
			} else {
				free(l.address);
				l.address = xstrdup(sv);
			}
		} else if (strcmp(name, "port") == 0) {
			int t = config_setting_type(m);
			long long p = (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) ? config_setting_get_int64(m) : -1;
			if (p < 1 || p > 65535) {
				add_error(errs, file, ml, "listener port must be a number from 1 to 65535");
				ok = false;
			}
			l.port = (int)p;
		} else {
			add_error(errs, file, ml, "unknown listener setting \"%s\" (known: role, address, port)", name);
			ok = false;
		}
	}
	if (ok && (!have_role || l.port == 0)) {
		add_error(errs, file, line, "a listener needs at least a role and a port");
		ok = false;
	}
	if (!ok) {
		free(l.address);
		return;
	}
	if (l.address == NULL)
		l.address = xstrdup("0.0.0.0");
	cfg->listeners = realloc(cfg->listeners, sizeof(*cfg->listeners) * (size_t)(cfg->n_listeners + 1));
	if (cfg->listeners == NULL)
		abort();
	cfg->listeners[cfg->n_listeners++] = l;
}

static void read_listeners(config *cfg, config_setting_t *s, const char *file, strlist *errs)
{
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		add_error(errs, file, (int)config_setting_source_line(s),
		          "listeners must be a list in parentheses: ( { role = ...; port = ...; }, ... )");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++)
		read_listener(cfg, config_setting_get_elem(s, (unsigned)i), file, errs);
}

/* A non-empty list of whole numbers in [lo, hi] (delivery.retry,
 * relay.ports); replaces *out / *n_out. */
static void read_int_list(config_setting_t *s, const char *name, long long lo, long long hi,
                          const char *example, int **out, int *n_out, const char *file, strlist *errs)
{
	int line = (int)config_setting_source_line(s);
	int t = config_setting_type(s);
	int n = (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) ? config_setting_length(s) : 0;
	if (n == 0) {
		add_error(errs, file, line, "%s must be a list of numbers, like %s", name, example);
		return;
	}
	int *v = xcalloc((size_t)n, sizeof(int));
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		int et = config_setting_type(e);
		long long x = (et == CONFIG_TYPE_INT || et == CONFIG_TYPE_INT64) ? config_setting_get_int64(e) : -1;
		if (x < lo || x > hi) {
			add_error(errs, file, (int)config_setting_source_line(e),
			          "%s entry %d must be a number from %lld to %lld", name, i + 1, lo, hi);
			free(v);
			return;
		}
		v[i] = (int)x;
	}
	free(*out);
	*out = v;
	*n_out = n;
}

/* A list of networks, "192.0.2.0/24", "2001:db8::/32" or one address. */
static void read_networks(config_setting_t *s, const char *name, strlist *out, const char *file, strlist *errs)
{
	strlist_free(out); /* the file's list replaces the default */
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		add_error(errs, file, (int)config_setting_source_line(s),
		          "%s must be a list of networks, like [ \"192.0.2.0/24\", \"2001:db8::/32\" ]", name);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (v == NULL || !config_valid_network(v)) {
			add_error(errs, file, (int)config_setting_source_line(e),
			          "%s entry %d is not a network like \"192.0.2.0/24\" or an address", name, i + 1);
			continue;
		}
		strlist_add(out, v);
	}
}

/* doctor.addresses: single IPv4 / IPv6 addresses (no networks). */
static void read_addresses(config_setting_t *s, const char *name, strlist *out, const char *file, strlist *errs)
{
	read_networks(s, name, out, file, errs);
	for (size_t i = 0; i < out->n; i++)
		if (strchr(out->items[i], '/') != NULL)
			add_error(errs, file, (int)config_setting_source_line(s),
			          "%s entry %zu is a network; name single addresses, like \"192.0.2.25\"", name, i + 1);
}

/* web.admins: account addresses (local@domain), kept in lower case as
 * accounts are. */
static void read_admins(config_setting_t *s, const char *name, strlist *out, const char *file, strlist *errs)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		add_error(errs, file, (int)config_setting_source_line(s),
		          "%s must be a list of account addresses, like [ \"postmaster@example.org\" ]", name);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		const char *at = v ? strrchr(v, '@') : NULL;
		if (at == NULL || at == v || !valid_domain_name(at + 1)) {
			add_error(errs, file, (int)config_setting_source_line(e),
			          "%s entry %d is not an account address (local@domain)", name, i + 1);
			continue;
		}
		char *a = xstrdup(v);
		str_ascii_lower(a);
		strlist_add_owned(out, a);
	}
}

/* ---- routing: the transport map, named relays, sender sources (see
 * config.h's config_route and docs/ROUTING.md) ---- */

bool config_route_hostport(const char *s, char **host_r, int *port_r)
{
	const char *h = s, *end, *rest;
	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL || end == s + 1)
			return false;
		h = s + 1;
		rest = end + 1;
	} else {
		end = strchr(s, ':');
		if (end == NULL)
			end = s + strlen(s);
		rest = end;
	}
	int port = 0;
	if (*rest == ':') {
		char *e;
		long p = strtol(rest + 1, &e, 10);
		if (rest[1] == '\0' || *e != '\0' || p < 1 || p > 65535)
			return false;
		port = (int)p;
	} else if (*rest != '\0') {
		return false;
	}
	char *host = xstrndup(h, (size_t)(end - h));
	bool ok = valid_domain_name(host) || valid_address(host);
	if (ok && strchr(host, ':') != NULL && *s != '[')
		ok = false; /* an IPv6 address needs its brackets before a port */
	if (!ok) {
		free(host);
		return false;
	}
	if (host_r != NULL)
		*host_r = host;
	else
		free(host);
	if (port_r != NULL)
		*port_r = port;
	return true;
}

static bool is_family(const char *a, int fam)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	return a != NULL && inet_pton(fam, a, tmp) == 1;
}

/* "example.com", ".example.com" or "*", lower-cased into *out. */
static bool read_map_domain(const char *v, char **out)
{
	if (v == NULL)
		return false;
	if (strcmp(v, "*") != 0 && !valid_domain_name(v[0] == '.' ? v + 1 : v))
		return false;
	*out = xstrdup(v);
	str_ascii_lower(*out);
	return true;
}

/* source_ipv4 / source_ipv6 of an entry. */
static bool read_source(config_setting_t *m, const char *name, char **s4, char **s6, const char *file,
                        strlist *errs)
{
	const char *v = config_setting_get_string(m);
	int ml = (int)config_setting_source_line(m);
	if (strcmp(name, "source_ipv4") == 0) {
		if (!is_family(v, AF_INET))
			add_error(errs, file, ml, "source_ipv4 must be an IPv4 address, like \"192.0.2.25\"");
		else
			*s4 = xstrdup(v);
		return true;
	}
	if (strcmp(name, "source_ipv6") == 0) {
		if (!is_family(v, AF_INET6))
			add_error(errs, file, ml, "source_ipv6 must be an IPv6 address, like \"2001:db8::25\"");
		else
			*s6 = xstrdup(v);
		return true;
	}
	return false;
}

static const char *const tls_levels[] = {"none", "may", "encrypt", "verify", "dane", "dane-only"};

static bool valid_route(const char *v)
{
	if (strcmp(v, "direct") == 0 || strcmp(v, "relay") == 0)
		return true;
	if (strncmp(v, "relay:", 6) == 0)
		return v[6] != '\0';
	if (strncmp(v, "host:", 5) == 0)
		return config_route_hostport(v + 5, NULL, NULL);
	return false;
}

static void read_transport(config *cfg, config_setting_t *g, const char *file, strlist *errs)
{
	int line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		add_error(errs, file, line, "each transport entry must be a group like { domain = \"example.com\"; route = \"relay:office\"; }");
		return;
	}
	config_transport t = {.line = line};
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m), *v = config_setting_get_string(m);
		int ml = (int)config_setting_source_line(m);
		if (strcmp(name, "domain") == 0) {
			free(t.domain);
			t.domain = NULL;
			if (!read_map_domain(v, &t.domain))
				add_error(errs, file, ml, "transport domain must be a domain, \".parent.domain\" or \"*\"");
		} else if (strcmp(name, "route") == 0) {
			if (v == NULL || !valid_route(v))
				add_error(errs, file, ml, "transport route must be \"direct\", \"relay\", \"relay:NAME\" or "
				                          "\"host:HOST[:PORT]\" (an IPv6 address in brackets)");
			else
				t.route = xstrdup(v);
		} else if (strcmp(name, "tls") == 0) {
			size_t k = 0;
			while (v != NULL && k < sizeof tls_levels / sizeof tls_levels[0] && strcmp(v, tls_levels[k]) != 0)
				k++;
			if (v == NULL || k == sizeof tls_levels / sizeof tls_levels[0])
				add_error(errs, file, ml, "transport tls must be \"none\", \"may\", \"encrypt\", \"verify\", "
				                          "\"dane\" or \"dane-only\"");
			else
				t.tls = xstrdup(v);
		} else if (!read_source(m, name, &t.source4, &t.source6, file, errs)) {
			add_error(errs, file, ml, "unknown transport setting \"%s\" (known: domain, route, tls, "
			                          "source_ipv4, source_ipv6)", name);
		}
	}
	if (t.domain == NULL)
		add_error(errs, file, line, "a transport entry needs a domain");
	for (int k = 0; t.domain != NULL && k < cfg->route.n_transport; k++)
		if (strcmp(cfg->route.transport[k].domain, t.domain) == 0)
			add_error(errs, file, line, "transport domain \"%s\" is listed twice", t.domain);
	cfg->route.transport = realloc(cfg->route.transport,
	                               sizeof(*cfg->route.transport) * (size_t)(cfg->route.n_transport + 1));
	if (cfg->route.transport == NULL)
		abort();
	cfg->route.transport[cfg->route.n_transport++] = t;
}

static void read_named_relay(config *cfg, config_setting_t *g, const char *file, strlist *errs)
{
	int line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		add_error(errs, file, line, "each relays entry must be a group like { name = \"office\"; host = \"smtp.example.org\"; }");
		return;
	}
	config_named_relay r = {.verify = 1, .line = line};
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m), *v = config_setting_get_string(m);
		int ml = (int)config_setting_source_line(m);
		char **str = strcmp(name, "name") == 0 ? &r.name : strcmp(name, "host") == 0 ? &r.host
		           : strcmp(name, "user") == 0 ? &r.user : strcmp(name, "password_file") == 0 ? &r.password_file
		           : NULL;
		if (str != NULL) {
			if (v == NULL || *v == '\0' ||
			    (str == &r.host && !valid_domain_name(v) && !valid_address(v)))
				add_error(errs, file, ml, "relays %s must be %s", name,
				          str == &r.host ? "a host name or address" : "a non-empty string");
			else {
				free(*str);
				*str = xstrdup(v);
			}
		} else if (strcmp(name, "ports") == 0) {
			read_int_list(m, "relays ports", 1, 65535, "[ 587, 465 ]", &r.ports, &r.n_ports, file, errs);
		} else if (strcmp(name, "verify") == 0) {
			int t = config_setting_type(m);
			long long x = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ? config_setting_get_int64(m) : -1;
			if (x != 0 && x != 1)
				add_error(errs, file, ml, "relays verify must be 0 or 1");
			r.verify = (int)x;
		} else {
			add_error(errs, file, ml, "unknown relays setting \"%s\" (known: name, host, ports, user, "
			                          "password_file, verify)", name);
		}
	}
	if (r.name == NULL || r.host == NULL)
		add_error(errs, file, line, "a relays entry needs a name and a host");
	if ((r.user == NULL) != (r.password_file == NULL))
		add_error(errs, file, line, "relays user and password_file go together: set both or neither");
	for (int k = 0; r.name != NULL && k < cfg->route.n_relays; k++)
		if (strcmp(cfg->route.relays[k].name, r.name) == 0)
			add_error(errs, file, line, "relay name \"%s\" is used twice", r.name);
	if (r.ports == NULL) {
		r.n_ports = (int)(sizeof(default_relay_ports) / sizeof(default_relay_ports[0]));
		r.ports = xcalloc((size_t)r.n_ports, sizeof(int));
		memcpy(r.ports, default_relay_ports, sizeof(default_relay_ports));
	}
	cfg->route.relays = realloc(cfg->route.relays, sizeof(*cfg->route.relays) * (size_t)(cfg->route.n_relays + 1));
	if (cfg->route.relays == NULL)
		abort();
	cfg->route.relays[cfg->route.n_relays++] = r;
}

static void read_sender_source(config *cfg, config_setting_t *g, const char *file, strlist *errs)
{
	int line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		add_error(errs, file, line, "each sender_sources entry must be a group like { sender_domain = \"example.org\"; source_ipv4 = \"192.0.2.25\"; }");
		return;
	}
	config_sender_source ss = {.line = line};
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		int ml = (int)config_setting_source_line(m);
		if (strcmp(name, "sender_domain") == 0) {
			free(ss.domain);
			ss.domain = NULL;
			if (!read_map_domain(config_setting_get_string(m), &ss.domain))
				add_error(errs, file, ml, "sender_domain must be a domain, \".parent.domain\" or \"*\"");
		} else if (!read_source(m, name, &ss.source4, &ss.source6, file, errs)) {
			add_error(errs, file, ml, "unknown sender_sources setting \"%s\" (known: sender_domain, "
			                          "source_ipv4, source_ipv6)", name);
		}
	}
	if (ss.domain == NULL || (ss.source4 == NULL && ss.source6 == NULL))
		add_error(errs, file, line, "a sender_sources entry needs a sender_domain and a source_ipv4 or source_ipv6");
	cfg->route.sender_sources = realloc(cfg->route.sender_sources, sizeof(*cfg->route.sender_sources) *
	                                                                     (size_t)(cfg->route.n_sender_sources + 1));
	if (cfg->route.sender_sources == NULL)
		abort();
	cfg->route.sender_sources[cfg->route.n_sender_sources++] = ss;
}

/* transport, relays and sender_sources: lists of groups. */
static bool read_route_list(config *cfg, config_setting_t *s, const char *name, const char *file, strlist *errs)
{
	void (*one)(config *, config_setting_t *, const char *, strlist *) =
		strcmp(name, "transport") == 0 ? read_transport : strcmp(name, "relays") == 0 ? read_named_relay
		: strcmp(name, "sender_sources") == 0 ? read_sender_source : NULL;
	if (one == NULL)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		add_error(errs, file, (int)config_setting_source_line(s),
		          "%s must be a list of groups in parentheses: ( { ... }, ... )", name);
		return true;
	}
	for (int i = 0; i < config_setting_length(s); i++)
		one(cfg, config_setting_get_elem(s, (unsigned)i), file, errs);
	return true;
}

/* delivery.probe_hosts: "host", "host:port" or "[v6]:port". */
static void read_probe_hosts(config_setting_t *s, const char *name, strlist *out, const char *file, strlist *errs)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		add_error(errs, file, (int)config_setting_source_line(s),
		          "%s must be a list of hosts, like [ \"mx.example.net\", \"[2001:db8::25]:25\" ]", name);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (v == NULL || !config_route_hostport(v, NULL, NULL)) {
			add_error(errs, file, (int)config_setting_source_line(e),
			          "%s entry %d is not a host, host:port or [address]:port", name, i + 1);
			continue;
		}
		strlist_add(out, v);
	}
}

/* The rules between routing settings, after the whole file is read. */
static void validate_route(const config *cfg, const char *file, strlist *errs)
{
	const config_route *r = &cfg->route;
	const char *pf = r->prefer_family;
	if (pf == NULL || (strcmp(pf, "any") != 0 && strcmp(pf, "ipv6") != 0 && strcmp(pf, "ipv4") != 0))
		add_error(errs, file, 0, "delivery.prefer_family must be \"any\", \"ipv6\" or \"ipv4\"");
	if (r->relay_when == NULL || (strcmp(r->relay_when, "always") != 0 && strcmp(r->relay_when, "blocked") != 0))
		add_error(errs, file, 0, "relay.when must be \"always\" or \"blocked\"");
	if (r->source4 != NULL && !is_family(r->source4, AF_INET))
		add_error(errs, file, 0, "delivery.source_ipv4 must be an IPv4 address, like \"192.0.2.25\"");
	if (r->source6 != NULL && !is_family(r->source6, AF_INET6))
		add_error(errs, file, 0, "delivery.source_ipv6 must be an IPv6 address, like \"2001:db8::25\"");
	if (r->probe_domain != NULL && !valid_domain_name(r->probe_domain))
		add_error(errs, file, 0, "delivery.probe_domain must be a domain name");
	for (int i = 0; i < r->n_transport; i++) {
		const char *rt = r->transport[i].route;
		if (rt == NULL)
			continue;
		if (strcmp(rt, "relay") == 0 && cfg->relay.host == NULL)
			add_error(errs, file, r->transport[i].line, "transport route \"relay\" needs relay.host");
		if (strncmp(rt, "relay:", 6) == 0) {
			int k = 0;
			while (k < r->n_relays && strcmp(r->relays[k].name, rt + 6) != 0)
				k++;
			if (k == r->n_relays)
				add_error(errs, file, r->transport[i].line,
				          "transport route \"%s\" names no relay: add relays = ( { name = \"%s\"; host = ...; } );",
				          rt, rt + 6);
		}
	}
}

static void free_route(config_route *r)
{
	for (int i = 0; i < r->n_transport; i++) {
		config_transport *t = &r->transport[i];
		free(t->domain);
		free(t->route);
		free(t->tls);
		free(t->source4);
		free(t->source6);
	}
	free(r->transport);
	for (int i = 0; i < r->n_relays; i++) {
		config_named_relay *n = &r->relays[i];
		free(n->name);
		free(n->host);
		free(n->ports);
		free(n->user);
		free(n->password_file);
	}
	free(r->relays);
	for (int i = 0; i < r->n_sender_sources; i++) {
		free(r->sender_sources[i].domain);
		free(r->sender_sources[i].source4);
		free(r->sender_sources[i].source6);
	}
	free(r->sender_sources);
	strlist_free(&r->probe_hosts);
}

static void print_route_defaults(void)
{
	printf("%-28s = [ ];   # OP25B probe targets on delivery.port, like [ \"mx.example.net\", \"[2001:db8::25]:25\" ]\n",
	       "delivery.probe_hosts");
	printf("%-28s = ( { domain = \"example.com|.example.com|*\"; route = \"direct|relay|relay:NAME|host:H[:PORT]\"; "
	       "tls = \"none|may|encrypt|verify\"; source_ipv4 = ...; source_ipv6 = ...; } );   # see docs/ROUTING.md\n",
	       "transport");
	printf("%-28s = ( { name = ...; host = ...; ports = [ 587, 465, 2525 ]; user = ...; password_file = ...; verify = 1; } );\n",
	       "relays");
	printf("%-28s = ( { sender_domain = ...; source_ipv4 = ...; source_ipv6 = ...; } );   # source address by sender domain\n",
	       "sender_sources");
}

/* Walk a group: scalars go through the schema, known lists to their readers,
 * anything else is an unknown setting. */
static void read_group(config *cfg, config_setting_t *grp, const char *prefix,
                       const char *file, strlist *errs)
{
	for (int i = 0; i < config_setting_length(grp); i++) {
		config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		char *path = prefix ? xasprintf("%s.%s", prefix, name) : xstrdup(name);
		const setting_def *d = schema_find(path);
		int line = (int)config_setting_source_line(s);
		if (d != NULL) {
			read_scalar(cfg, d, s, file, errs);
		} else if (prefix == NULL && strcmp(name, "domains") == 0) {
			read_domains(cfg, s, file, errs, &cfg->domains, "domains");
		} else if (prefix == NULL && strcmp(name, "listeners") == 0) {
			read_listeners(cfg, s, file, errs);
		} else if (prefix != NULL && strcmp(path, "delivery.retry") == 0) {
			read_int_list(s, path, 1, 86400, "[ 60, 300, 900 ]", &cfg->delivery.retry,
			              &cfg->delivery.n_retry, file, errs);
		} else if (prefix != NULL && strcmp(path, "relay.ports") == 0) {
			read_int_list(s, path, 1, 65535, "[ 587, 465, 2525 ]", &cfg->relay.ports,
			              &cfg->relay.n_ports, file, errs);
		} else if (prefix != NULL && strcmp(path, "relay.domains") == 0) {
			read_domains(cfg, s, file, errs, &cfg->relay.domains, path);
		} else if (prefix != NULL && strcmp(path, "web.admins") == 0) {
			read_admins(s, path, &cfg->web.admins, file, errs);
		} else if (is_external(path)) {
			/* read by the policy layer */
		} else if (prefix != NULL && strcmp(path, "policy.trusted_networks") == 0) {
			read_networks(s, path, &cfg->policy.trusted_networks, file, errs);
		} else if (prefix != NULL && strcmp(path, "metrics.allow") == 0) {
			read_networks(s, path, &cfg->metrics.allow, file, errs);
		} else if (prefix != NULL && strcmp(path, "doctor.addresses") == 0) {
			read_addresses(s, path, &cfg->doctor.addresses, file, errs);
		} else if (prefix != NULL && strcmp(path, "delivery.probe_hosts") == 0) {
			read_probe_hosts(s, path, &cfg->route.probe_hosts, file, errs);
		} else if (prefix == NULL && read_route_list(cfg, s, name, file, errs)) {
			/* transport, relays, sender_sources */
		} else if (config_setting_type(s) == CONFIG_TYPE_GROUP && is_group(path)) {
			read_group(cfg, s, path, file, errs);
		} else {
			if (is_group(path))
				add_error(errs, file, line, "%s must be a group in braces: %s: { ... };", path, path);
			else
				add_error(errs, file, line, "unknown setting \"%s\" (see `yubin config defaults` for the list)", path);
		}
		free(path);
	}
}

/* The same IP address, however it is spelt ("::1" and "0:0:0:0:0:0:0:1"). */
static bool same_address(const char *a, const char *b)
{
	unsigned char ba[sizeof(struct in6_addr)], bb[sizeof(struct in6_addr)];
	int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
	if ((strchr(b, ':') ? AF_INET6 : AF_INET) != fam)
		return false;
	if (inet_pton(fam, a, ba) != 1 || inet_pton(fam, b, bb) != 1)
		return strcmp(a, b) == 0;
	return memcmp(ba, bb, fam == AF_INET6 ? 16 : 4) == 0;
}

bool config_validate(const config *cfg, strlist *errs)
{
	size_t before = errs->n;
	const char *file = cfg->path ? cfg->path : "(config)";
	if (cfg->hostname == NULL || !valid_domain_name(cfg->hostname))
		add_error(errs, file, 0, "hostname is required and must be a domain name, like hostname = \"mail.example.org\";");
	if (cfg->tls_cert == NULL || cfg->tls_key == NULL)
		add_error(errs, file, 0, "tls.cert and tls.key are required: tls: { cert = \"...pem\"; key = \"...pem\"; };");
	if (cfg->n_listeners == 0)
		add_error(errs, file, 0, "no listeners: add listeners = ( { role = \"smtp\"; address = \"0.0.0.0\"; port = 25; } );");
	if (cfg->log != NULL && strcmp(cfg->log, "stderr") != 0 && strcmp(cfg->log, "syslog") != 0)
		add_error(errs, file, 0, "log must be \"stderr\" or \"syslog\"");
	if (cfg->data_dir == NULL || cfg->data_dir[0] != '/')
		add_error(errs, file, 0, "data_dir must be an absolute path");
	for (int i = 0; i < cfg->n_listeners; i++)
		for (int j = 0; j < i; j++)
			if (cfg->listeners[i].port == cfg->listeners[j].port &&
			    same_address(cfg->listeners[i].address, cfg->listeners[j].address))
				add_error(errs, file, cfg->listeners[i].line, "two listeners use %s port %d",
				          cfg->listeners[i].address, cfg->listeners[i].port);
	const char *act = cfg->msgauth.dmarc_action;
	if (act == NULL || (strcmp(act, "follow") != 0 && strcmp(act, "junk") != 0 && strcmp(act, "report") != 0))
		add_error(errs, file, 0, "msgauth.dmarc_action must be \"follow\", \"junk\" or \"report\"");
	const char *tmp = cfg->msgauth.dmarc_temperror;
	if (tmp == NULL || (strcmp(tmp, "accept") != 0 && strcmp(tmp, "defer") != 0))
		add_error(errs, file, 0, "msgauth.dmarc_temperror must be \"accept\" or \"defer\"");
	const char *goe = cfg->policy.greylist.on_error;
	if (goe == NULL || (strcmp(goe, "tempfail") != 0 && strcmp(goe, "accept") != 0))
		add_error(errs, file, 0, "policy.greylist.on_error must be \"tempfail\" or \"accept\"");
	const char *subj = cfg->audit.subject;
	if (subj == NULL || (strcmp(subj, "off") != 0 && strcmp(subj, "hash") != 0 && strcmp(subj, "plain") != 0))
		add_error(errs, file, 0, "audit.subject must be \"off\", \"hash\" or \"plain\"");
	if (cfg->audit.journal != NULL && strchr(cfg->audit.journal, '@') == NULL)
		add_error(errs, file, 0, "audit.journal must be a mail address, like journal = \"archive@example.org\";");
	if (cfg->relay.host != NULL && (cfg->relay.user == NULL) != (cfg->relay.password_file == NULL))
		add_error(errs, file, 0, "relay.user and relay.password_file go together: set both or neither");
	const char *stsm = cfg->mtasts.policy_mode;
	if (stsm == NULL || (strcmp(stsm, "testing") != 0 && strcmp(stsm, "enforce") != 0 && strcmp(stsm, "none") != 0))
		add_error(errs, file, 0, "mtasts.policy_mode must be \"testing\", \"enforce\" or \"none\"");
	/* TLS-RPT: addresses where addresses go, a domain where a domain goes */
	if (cfg->tlsrpt.contact != NULL && strchr(cfg->tlsrpt.contact, '@') == NULL)
		add_error(errs, file, 0, "tlsrpt.contact must be a mail address, like contact = \"postmaster@example.org\";");
	if (cfg->tlsrpt.mailbox != NULL && strchr(cfg->tlsrpt.mailbox, '@') == NULL)
		add_error(errs, file, 0, "tlsrpt.mailbox must be a mail address, like mailbox = \"tlsrpt@example.org\";");
	if (cfg->tlsrpt.submitter != NULL && (strchr(cfg->tlsrpt.submitter, '@') != NULL || strchr(cfg->tlsrpt.submitter, '.') == NULL))
		add_error(errs, file, 0, "tlsrpt.submitter must be a domain name, like submitter = \"example.org\";");
	/* DNSSEC trust anchor (DANE, issue 14): a file must be there to read */
	const char *ta = cfg->dns_trust_anchor;
	if (ta != NULL && *ta != '\0' && strcmp(ta, "auto") != 0 && access(ta, R_OK) != 0)
		add_error(errs, file, 0, "dns.trust_anchor %s cannot be read (\"auto\", \"\" or a file of DS/DNSKEY records)", ta);
	if (cfg->auth.fail_delay_max_ms < cfg->auth.fail_delay_ms)
		add_error(errs, file, 0, "auth.fail_delay_max_ms must not be less than auth.fail_delay_ms");
	validate_route(cfg, file, errs);
	return errs->n == before;
}

config *config_load(const char *path, strlist *errs)
{
	config_t cf;
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			add_error(errs, path, 0, "cannot read the file (missing or not readable)");
		else
			add_error(errs, config_error_file(&cf) ? config_error_file(&cf) : path,
			          config_error_line(&cf), "syntax error: %s", config_error_text(&cf));
		config_destroy(&cf);
		return NULL;
	}
	config *cfg = config_new_defaults();
	cfg->path = xstrdup(path);
	size_t before = errs->n;
	read_group(cfg, config_root_setting(&cf), NULL, path, errs);
	config_destroy(&cf);
	if (errs->n == before)
		config_validate(cfg, errs);
	if (errs->n != before) {
		config_free(&cfg);
		return NULL;
	}
	return cfg;
}

void config_print_defaults(void)
{
	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++) {
		const setting_def *d = &schema[i];
		if (d->type == T_STR)
			printf("%-28s = %s%s%s;\n", d->name, d->def_str ? "\"" : "",
			       d->def_str ? d->def_str : "(none)", d->def_str ? "\"" : "");
		else
			printf("%-28s = %lld;   # %lld .. %lld\n", d->name, d->def_int, d->min, d->max);
		printf("%-28s   # %s\n", "", d->help);
	}
	printf("%-28s = [ ];   # local domains (more with `yubin domain add`)\n", "domains");
	printf("%-28s = [ 60, 300, 900, 1800, 3600, 7200 ];   # seconds between attempts; the last repeats\n",
	       "delivery.retry");
	printf("%-28s = ( { role = \"smtp|submission|submissions\"; address = \"0.0.0.0\"; port = 25; } );\n", "listeners");
	printf("%-28s = [ \"127.0.0.1\", \"::1\" ];   # exempt from the port-25 defaults (greet_pause, HELO, own domains)\n",
	       "policy.trusted_networks");
	printf("%-28s = ( { name = ...; <conditions>; action = ...; } );   # see docs/POLICY.md\n", "policy.rules");
	printf("%-28s = [ ];   # accounts that get the whole dashboard (others: their own page), like [ \"postmaster@example.org\" ]\n", "web.admins");
	printf("%-28s = [ \"127.0.0.1\", \"::1\" ];   # networks that may read GET /metrics (others get 403)\n",
	       "metrics.allow");
	printf("%-28s = [ ];   # the server's public addresses `yubin doctor` checks (empty: the listeners' bound non-loopback ones)\n",
	       "doctor.addresses");
	print_route_defaults();
}

char *config_path_db(const config *cfg)
{
	return xasprintf("%s/accounts.db", cfg->data_dir);
}

char *config_path_queue(const config *cfg)
{
	return xasprintf("%s/queue", cfg->data_dir);
}

char *config_path_mail(const config *cfg)
{
	return xasprintf("%s/mail", cfg->data_dir);
}
