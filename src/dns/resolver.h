/* resolver.h — asynchronous DNS look-ups on the event loop, with libunbound
 * (its answers carry the DNSSEC verdict that later work needs).  The server
 * to ask is configurable: the system's /etc/resolv.conf, or "IP[@port]".
 * Every look-up is bounded in time: after the timeout it reports a
 * temporary failure, never a hang. */
#ifndef YUBIN_DNS_RESOLVER_H
#define YUBIN_DNS_RESOLVER_H

#include <event2/event.h>
#include <stdbool.h>

#include "lib/strutil.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR 12
#define DNS_TYPE_MX 15
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_SRV 33
#define DNS_TYPE_TLSA 52

typedef enum dns_status {
	DNS_OK,          /* records found */
	DNS_NODATA,      /* the name exists, with no records of this type */
	DNS_NXDOMAIN,    /* the name does not exist */
	DNS_TEMPFAIL,    /* SERVFAIL, timeout, network: try again later */
} dns_status;

typedef struct dns_answer {
	dns_status status;
	bool secure;         /* DNSSEC-validated */
	bool bogus;          /* DNSSEC validation failed (status DNS_TEMPFAIL):
	                      * RFC 4035 "bogus", never to be used */
	const char *why_bogus; /* libunbound's reason when bogus, else NULL */
	int ttl;             /* seconds the answer may be kept (0: do not keep) */
	const char *canonname; /* the name the records are at when the name
	                      * asked is an alias (a CNAME chain, followed),
	                      * without the final dot; NULL when it is not */
	strlist values;      /* MX, PTR, CNAME: host names; A/AAAA: addresses as text;
	                      * SRV: "priority weight port target";
	                      * TXT: one value per record, its strings joined;
	                      * TLSA: "usage selector type hex" */
	int *prefs;          /* MX only: preference of values.items[i] */
	size_t *lens;        /* TXT only: length of values.items[i], which may
	                      * hold NUL bytes (a consumer that must refuse them
	                      * compares with strlen) */
} dns_answer;

typedef struct dns_resolver dns_resolver;
/* Called on the loop thread, once per look-up; the answer is freed after. */
typedef void dns_callback(void *arg, const dns_answer *ans);

/* server: NULL or "" for /etc/resolv.conf, else "IP" or "IP@port".
 * NULL with *err_r on failure. */
dns_resolver *dns_new(struct event_base *base, const char *server, int timeout_secs, char **err_r);
/* The root trust anchor Debian's dns-root-data ships. */
#define DNS_ROOT_ANCHOR "/usr/share/dns/root.key"
/* The anchor file the dns.trust_anchor setting means for this server:
 * "auto" is DNS_ROOT_ANCHOR when the file exists and server is the system's
 * (NULL or ""): a chosen server (tests, a lab) answers for zones the root
 * denies, so it gets no root anchor unless asked; "" or NULL: none (no
 * validation); anything else: that file.  NULL when there is none. */
const char *dns_anchor_file(const char *setting, const char *server);
/* dns_new that validates DNSSEC (RFC 4033-4035) from the DS/DNSKEY records
 * in anchor_file (NULL or "": no validation, every answer insecure).  With
 * a chosen server, the special-use zones it answers for (see
 * forward_special_zones) are not validated from the root (insecure), unless
 * the file anchors a zone below them. */
dns_resolver *dns_new_validating(struct event_base *base, const char *server, int timeout_secs,
                                 const char *anchor_file, char **err_r);
/* True when answers are validated (a trust anchor is loaded). */
bool dns_validating(const dns_resolver *r);
/* With validation on, ask for the root's DNSKEY once and log an error
 * (event=dns dnssec=unusable) when the answer is bogus: the servers asked
 * strip DNSSEC records, so every signed answer will be bogus and mail to
 * signed domains will wait until that is fixed or dns.trust_anchor = "". */
void dns_selftest(dns_resolver *r);
/* Cancel every look-up in flight (their callbacks do not run) and free. */
void dns_free(dns_resolver **r);
/* Look name up; cb runs later (never before dns_lookup returns). */
void dns_lookup(dns_resolver *r, const char *name, int rrtype, dns_callback *cb, void *arg);
/* dns_lookup with the resolver as a void *, for modules that take a
 * look-up function and its context (the SPF evaluator's spf_lookup_fn). */
void dns_lookup_any(void *resolver, const char *name, int rrtype, dns_callback *cb, void *arg);
/* The owner arg goes away: its look-ups still out are answered to nobody,
 * so it can be freed at once rather than when (or if, the server stopping)
 * the answer comes.  (void * form for the injectable look-up types.) */
void dns_forget(dns_resolver *r, void *arg);
void dns_forget_any(void *resolver, void *arg);

#endif
