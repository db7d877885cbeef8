/* config.h — the configuration snapshot and its schema.  The schema (name,
 * type, default, bounds, help) is declared once in config.c and drives file
 * parsing, `yubin config check` and `yubin config defaults`.  Loading never
 * exits: every problem comes back as "file:line: sentence" messages. */
#ifndef YUBIN_CONFIG_H
#define YUBIN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/strutil.h"

typedef enum listener_role {
	ROLE_SMTP,         /* port 25: from other servers, no AUTH */
	ROLE_SUBMISSION,   /* 587 / 2525: STARTTLS, then AUTH */
	ROLE_SUBMISSIONS,  /* 465: implicit TLS, then AUTH */
	ROLE_POP3,         /* 110: STLS, then USER/PASS or AUTH */
	ROLE_POP3S,        /* 995: implicit TLS */
	ROLE_IMAP,         /* 143: STARTTLS, then LOGIN or AUTHENTICATE */
	ROLE_IMAPS,        /* 993: implicit TLS */
	ROLE_HTTPS,        /* 443 / 8443: the HTTP API, the dashboard, metrics (TLS) */
	ROLE_MANAGESIEVE,  /* 4190: ManageSieve (RFC 5804); STARTTLS, then AUTHENTICATE */
	ROLE_COUNT
} listener_role;

typedef struct config_listener {
	listener_role role;
	char *address;
	int port;
	int line;          /* where the file defines it (0 when built in code) */
} config_listener;

typedef struct config_limits {
	int64_t message_size;
	int recipients;
	int line_length;
	int errors;
	int commands_before_mail;
	int command_timeout;
	int data_timeout;
	int login_deadline;        /* seconds from connect to login (not reset by input) */
	int connections;
	int connections_per_ip;
	int imap_sessions_per_user;
	int imap_max_folders;      /* folders per account, INBOX included */
	int64_t mailbox_quota;     /* bytes per account (IMAP QUOTA); 0 = no limit */
	int64_t mailbox_quota_messages; /* messages per account (IMAP QUOTA); 0 = no limit */
} config_limits;

typedef struct config_auth {
	int fail_delay_ms;
	int fail_delay_max_ms;
	int lockout_failures;
	int lockout_window;
	int lockout_seconds;
	int known_days; /* a successful login's address stays known this long */
	int max_checks; /* password checks at once */
} config_auth;

typedef struct config_delivery {
	int port;                  /* TCP port of MX hosts (25) */
	int *retry;                /* seconds between attempts; the last repeats */
	int n_retry;
	int lifetime;              /* seconds before a deferred recipient bounces */
	int delay_warning;         /* seconds before one delay DSN */
	int connect_timeout;
	int command_timeout;
	int data_timeout;
	int max_connections;       /* outbound connections at once, overall */
	int max_per_destination;   /* ... to one domain or relay host */
	int local_concurrency;     /* local deliveries running at once */
	char *tls_ca_file;         /* extra CAs for verifying remote servers */
} config_delivery;

typedef struct config_relay {
	char *host;                /* NULL: deliver by MX */
	int *ports;                /* tried in order while unreachable */
	int n_ports;
	char *user;
	char *password_file;       /* the password, one line, readable by the service user */
	strlist domains;           /* only these go through the relay; empty: all */
	int verify;                /* 1: the relay's certificate must verify */
} config_relay;

typedef struct config_msgauth {
	int sign;                  /* 1: DKIM-sign what users submit */
	int verify;                /* 1: SPF / DKIM / DMARC on port 25 */
	char *authserv_id;         /* Authentication-Results name; NULL: hostname */
	char *dmarc_action;        /* "follow", "junk" or "report" */
	char *dmarc_temperror;     /* "accept" or "defer" (451) */
	int timeout;               /* seconds for all the checks of one message */
} config_msgauth;

typedef struct config_queue {
	int64_t min_free;          /* bytes kept free (see queue/space.h) */
} config_queue;

/* Greylisting (policy/greylist.h, smtp/pol_greylist.c). */
typedef struct config_greylist {
	int enable;
	int delay;                 /* seconds a new triplet waits */
	int retry_window;          /* seconds after the first sight a retry counts */
	int expire;                /* seconds a passed triplet is remembered */
	int auto_allow;            /* passes that allow the client's network; 0: never */
	int auto_allow_time;       /* seconds such a network stays allowed */
	int64_t max_entries;       /* triplets kept */
	char *on_error;            /* "tempfail" or "accept" */
} config_greylist;

typedef struct config_policy {
	int greet_pause;           /* ms a first-time port-25 client waits for 220 */
	int reject_invalid_helo;   /* 1: port 25 HELO must be a host name or address literal */
	int reject_unauth_own;     /* 1: port 25 MAIL FROM one of our domains needs a login */
	strlist trusted_networks;  /* CIDRs exempt from the port-25 defaults */
	int64_t body_scan_limit;   /* bytes of decoded text the body rules read */
	int dnsbl_min_ttl;         /* seconds a DNS list answer is kept at least */
	config_greylist greylist;
} config_policy;

typedef struct config_rewrite {
	int srs_enable;            /* 1: SRS for mail sent on to other domains */
	char *srs_domain;          /* NULL: the first local domain */
	char *srs_secret_file;     /* NULL: DATA_DIR/srs.secret */
	int srs_max_age;           /* days */
	int arc_seal;              /* 1: ARC-seal forwarded mail */
} config_rewrite;

/* Webhook delivery (api/whsend.c); the endpoints are api/whconf.h's. */
typedef struct config_webhooks {
	char *ca_file;             /* CAs for endpoints' certificates; NULL: the system's */
	int connect_timeout;       /* seconds */
	int timeout;               /* seconds for a whole attempt */
	int retry_base;            /* seconds before the first retry; doubles */
	int retry_max;             /* longest wait between attempts */
	int retry_for;             /* seconds after the event an attempt is still made */
	int max_pending;           /* deliveries waiting per endpoint */
} config_webhooks;

/* The HTTPS listener (http/server.c). */
typedef struct config_http {
	int64_t max_body;          /* bytes of a request body (413 above) */
	int max_header;            /* bytes of a request's head: line and fields */
	int timeout;               /* seconds of silence before a connection closes */
} config_http;

/* The HTTPS API's sending (api/). */
typedef struct config_api {
	int max_recipients;        /* to + cc + bcc of one message */
	int idempotency_hours;     /* how long an Idempotency-Key is kept */
	int sessions;              /* internal submission sessions open at most */
	int sessions_per_key;      /* ... for one key and client address */
} config_api;

/* The web dashboard (web/). */
typedef struct config_web {
	strlist admins;            /* accounts that may log in to the dashboard */
	int session_lifetime;      /* seconds a session lasts at most */
	int session_idle;          /* seconds a session lasts without a request */
	int max_sessions;          /* sessions kept at once */
	int chart_days;            /* days the charts show */
} config_web;

/* The audit trail (audit/audit.h). */
typedef struct config_audit {
	int enabled;               /* 1: keep the trail in data_dir/audit.db */
	char *subject;             /* "off", "hash" or "plain" */
	int retention_days;        /* records older are pruned daily; 0: kept */
	char *journal;             /* address that gets a copy of every message, or NULL */
	char *journal_match;       /* domains (sender or recipient) whose mail is journaled; NULL: all */
} config_audit;

/* `yubin doctor` (doctor/doctor.h). */
typedef struct config_doctor {
	strlist addresses;         /* the server's public addresses; empty: the
	                            * listeners' bound non-loopback ones */
	char *probe_domain;        /* whose MX the outbound port-25 probe connects to */
	int timeout;               /* seconds for each network probe */
} config_doctor;

typedef struct config_metrics {
	strlist allow;             /* networks that may read GET /metrics */
} config_metrics;

typedef struct config_managesieve {
	int max_script_size;       /* bytes of one Sieve script (PUTSCRIPT, CHECKSCRIPT) */
	int max_scripts;           /* scripts one account may keep */
} config_managesieve;

/* Routing (delivery/route.h, delivery/probe25.h, docs/ROUTING.md): the
 * transport map, named relays, source addresses, the OP25B probe. */
typedef struct config_named_relay {
	char *name;                /* "office": a transport entry says route = "relay:office" */
	char *host;
	int *ports;                /* tried in order while unreachable */
	int n_ports;
	char *user;                /* with password_file, or neither */
	char *password_file;
	int verify;                /* 1: the certificate must verify; 0: TLS is enough */
	int line;
} config_named_relay;

typedef struct config_transport {
	char *domain;              /* "example.com", ".example.com" (subdomains) or "*" */
	char *route;               /* NULL (direct), "direct", "relay", "relay:NAME", "host:H[:port]" */
	char *tls;                 /* NULL (may), "none", "may", "encrypt", "verify" */
	char *source4, *source6;   /* source addresses, or NULL */
	int line;
} config_transport;

typedef struct config_sender_source {
	char *domain;              /* the envelope sender's domain (exact, ".parent" or "*") */
	char *source4, *source6;
	int line;
} config_sender_source;

typedef struct config_route {
	char *prefer_family;       /* "any", "ipv6" or "ipv4" */
	char *relay_when;          /* relay.when: "always" (all mail not routed otherwise) or "blocked" (OP25B only) */
	char *source4, *source6;   /* delivery.source_ipv4 / _ipv6; NULL: the kernel's choice */
	strlist probe_hosts;       /* "host" or "host:port" / "[v6]:port"; port 25 probe targets */
	char *probe_domain;        /* whose MX to probe when probe_hosts is empty; NULL: none */
	int probe_interval;        /* seconds between probe rounds */
	int probe_blocked_interval; /* ... while blocked (direct resumes sooner) */
	int probe_rounds;          /* consecutive rounds that agree before the route changes */
	config_transport *transport;
	int n_transport;
	config_named_relay *relays;
	int n_relays;
	config_sender_source *sender_sources;
	int n_sender_sources;
} config_route;
/* MTA-STS (RFC 8461): the policies of domains we send to
 * (delivery/mtastsget.h) and the one we publish (http/mtasts_serve.c). */
typedef struct config_mtasts {
	int enable;                /* 1: look up and apply recipients' policies */
	int fetch_timeout;         /* seconds for one policy fetch */
	int fetch_retry;           /* seconds before a failed fetch is tried again */
	int refresh_interval;      /* seconds between background refreshes */
	int test_https_port;       /* tests only: fetch from this port, not 443 */
	char *policy_mode;         /* our policy: "testing", "enforce" or "none" */
	int policy_max_age;        /* our policy's max_age */
} config_mtasts;
/* TLS-RPT (RFC 8460): the daily reports we send (delivery/tlsrpt.h) and the
 * address ours are asked for (`yubin dns records`). */
typedef struct config_tlsrpt {
	int enable;      /* 1: count sessions and send the daily reports */
	char *org_name;  /* organization-name; NULL: the host name */
	char *contact;   /* contact-info; NULL: tlsrpt-noreply@SUBMITTER */
	char *submitter; /* our reporting domain; NULL: the first local domain */
	char *mailbox;   /* rua of our _smtp._tls record; NULL: tlsrpt@DOMAIN */
	int https_timeout; /* seconds for one POST to an https: rua */
	int https_retry;   /* seconds before the first retry (doubling, 6 h at most) */
	int https_tries;   /* POSTs of one report to one address at most */
} config_tlsrpt;

typedef struct config {
	char *path;            /* file it came from, or "(dev)" */
	char *hostname;
	char *data_dir;
	char *user;            /* service user, NULL if unset */
	char *log;             /* "stderr" or "syslog" */
	strlist domains;       /* local domains from the file, lower case */
	char *tls_cert;
	char *tls_key;
	config_listener *listeners;
	int n_listeners;
	config_limits limits;
	config_auth auth;
	config_delivery delivery;
	config_relay relay;
	config_msgauth msgauth;
	config_queue queue;
	config_policy policy;
	config_rewrite rewrite;
	config_webhooks webhooks;
	config_http http;
	config_api api;
	config_web web;
	config_audit audit;
	config_metrics metrics;
	config_doctor doctor;
	config_managesieve managesieve;
	config_route route;     /* routing: transport, relays, sources, OP25B probe */
	config_mtasts mtasts;
	config_tlsrpt tlsrpt;
	char *dns_resolver;    /* "" or NULL: /etc/resolv.conf; else "IP" or "IP@port" */
	int dns_timeout;
	/* DNSSEC (issue 14, DANE): "auto" = Debian's dns-root-data root key
	 * when it exists and dns.resolver is "" (a chosen server answers for
	 * test and private zones the root denies: no anchor by default), ""
	 * = no validation, else a file of DS/DNSKEY records (zone format) */
	char *dns_trust_anchor;
	int workers;
	bool dev;              /* built by --dev, not read from a file */
} config;

/* Read and check a file.  Returns NULL and fills errors_r with one
 * "file:line: sentence" per problem (or "file: sentence" when the problem has
 * no line) when the file is missing, malformed or invalid. */
config *config_load(const char *path, strlist *errors_r);
/* A config with every default; the caller fills what has no default. */
config *config_new_defaults(void);
/* Check cross-setting rules (listeners present, TLS files given, ...) of a
 * config built in code; same message format as config_load. */
bool config_validate(const config *cfg, strlist *errors_r);
void config_free(config **cfg);
/* Write every setting with its default, bounds and help to stdout. */
void config_print_defaults(void);
const char *config_role_name(listener_role role);
/* "192.0.2.0/24", "2001:db8::/32", or a bare IPv4 / IPv6 address. */
bool config_valid_network(const char *s);

/* "host", "host:port", "[address-or-host]" or "[...]:port" (transport
 * routes, probe targets): the host without brackets (malloc'd) and the
 * port (0: none given).  False when it is none of those. */
bool config_route_hostport(const char *s, char **host_r, int *port_r);

/* Paths inside data_dir (malloc'd). */
char *config_path_db(const config *cfg);      /* data_dir/accounts.db */
char *config_path_queue(const config *cfg);   /* data_dir/queue */
char *config_path_mail(const config *cfg);    /* data_dir/mail */

#endif
