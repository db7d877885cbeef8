/* doctor.h — `yubin doctor`: the checks a working mail domain needs, each
 * giving ok / warn / fail / skip with a sentence and a concrete fix.
 *
 * Files: runner.c (the results, blocking DNS on the CLI's loop, which
 * addresses are the server's, the text and JSON reports), dnschecks.c
 * (MX, forward-confirmed reverse DNS, DMARC, autoconfig names and SRV),
 * spfcheck.c (SPF coverage through msgauth/spf.h), dkimcheck.c (published
 * keys against data_dir's private keys), certcheck.c (the certificate),
 * probe.c (a bounded blocking TCP/TLS line client), listeners.c (every
 * listener's protocol, the open-relay self-test), outbound.c (port 25 out),
 * dnsbl.c (the server's addresses on the configured blocklists).
 *
 * The checks only read: they never change the configuration, the DNS or
 * the account store.  Every DNS look-up is bounded by dns.timeout and every
 * connection, greeting and reply by doctor.timeout. */
#ifndef YUBIN_DOCTOR_DOCTOR_H
#define YUBIN_DOCTOR_DOCTOR_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

#include "dns/resolver.h"
#include "lib/config.h"
#include "lib/strutil.h"

struct policy_config;

/* Names followed from one answer (MX hosts, PTR names, SRV targets), as
 * SPF bounds them (RFC 7208 4.6.4): each costs two look-ups. */
#define DOCTOR_MAX_NAMES 10

typedef enum doctor_status {
	DOCTOR_OK,
	DOCTOR_WARN,
	DOCTOR_FAIL,
	DOCTOR_SKIP,
} doctor_status;

typedef struct doctor_result {
	char *check;          /* "mx", "spf", "listener", ... */
	char *subject;        /* what was checked: a domain, an address, a listener */
	doctor_status status;
	char *detail;         /* what was found, one sentence */
	char *fix;            /* what to do; NULL for ok and skip */
} doctor_result;

typedef struct doctor {
	const config *cfg;
	const struct policy_config *policy;
	struct event_base *base;
	dns_resolver *dns;
	strlist domains;      /* the domains to check, lower case */
	strlist addresses;    /* the server's public addresses */
	struct evp_pkey_st *tls_key; /* tls.key, read before privileges are
	                              * dropped (it may be root's alone); NULL
	                              * when it could not be read */
	doctor_result *v;
	size_t n, cap;
} doctor;

/* A look-up's answer, kept (dns_answer lives only in its callback). */
typedef struct doctor_answer {
	dns_status status;
	strlist values;
	int *prefs;           /* MX only */
} doctor_answer;

/* Record one result.  fix may be NULL; detail is printf-style. */
void doctor_add(doctor *d, const char *check, const char *subject, doctor_status st, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Look name up and wait for the answer (bounded by dns.timeout). */
void doctor_lookup(doctor *d, const char *name, int rrtype, doctor_answer *a_r);
void doctor_answer_free(doctor_answer *a);
/* The A and AAAA records of name together; false when neither look-up
 * answered (a temporary failure). */
bool doctor_addresses_of(doctor *d, const char *name, strlist *out);
/* Whether text is one of the server's addresses (any spelling of it). */
bool doctor_is_ours(const doctor *d, const char *ip);
/* Whether two address texts name the same address. */
bool doctor_same_ip(const char *a, const char *b);
/* "ok", "warn", "fail", "skip" */
const char *doctor_status_name(doctor_status s);

/* Fill d->addresses: doctor.addresses, else the listeners' bound
 * addresses that are neither loopback nor a wildcard, else the host name's
 * A/AAAA records (with a warning that they were assumed). */
void doctor_pick_addresses(doctor *d);

/* The groups of checks, in the order they run. */
void doctor_check_mx(doctor *d, const char *domain);
void doctor_check_spf(doctor *d, const char *domain);
void doctor_check_dkim(doctor *d, const char *domain);
void doctor_check_dmarc(doctor *d, const char *domain);
void doctor_check_autoconfig(doctor *d, const char *domain);
void doctor_check_srv(doctor *d, const char *domain);
void doctor_check_fcrdns(doctor *d);
void doctor_check_cert(doctor *d);
/* Read tls.key into d->tls_key: call while still root (before
 * cli_drop_privileges), as the server reads it before it drops them. */
void doctor_load_tls_key(doctor *d);
void doctor_check_listeners(doctor *d);
void doctor_check_outbound(doctor *d);
void doctor_check_dnsbl(doctor *d);

/* Run every check; then print the report (JSON when json) to stdout. */
void doctor_run(doctor *d);
/* False when stdout could not be written. */
bool doctor_report(const doctor *d, bool json);
/* 1 when any check failed, else 0. */
int doctor_exit_status(const doctor *d);
void doctor_free(doctor *d);

#endif
