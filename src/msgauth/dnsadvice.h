/* dnsadvice.h — the DNS records the owner of a local domain publishes so
 * that mail to and from it works with this server (MX, SPF, DKIM, DMARC,
 * the host name's addresses, the RFC 6186 / 8314 SRV records and the
 * autoconfig. / autodiscover. names of client set-up, and advice that has
 * no record), worked out
 * from the configuration and the domain's DKIM keys; and whether what DNS
 * answers matches one of them.  Shown by `yubin dns records DOMAIN`
 * (cli/cmd_dnsrecords.c, as zone-file lines) and the dashboard's domains
 * page (web/pg_domains.c, with a live look-up of each).  docs/DNS.md
 * explains the same records; keep the two in step.  Pure: no I/O. */
#ifndef YUBIN_MSGAUTH_DNSADVICE_H
#define YUBIN_MSGAUTH_DNSADVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"
#include "lib/strutil.h"
#include "msgauth/dkimkeys.h"

typedef struct dnsadvice_rec {
	char *why;        /* one sentence: what the record is for */
	char *name;       /* owner name without the final dot; NULL: advice only */
	const char *type; /* "MX", "TXT", "A", "AAAA", "SRV", "CNAME" (NULL with name) */
	int rrtype;       /* DNS_TYPE_* of dns/resolver.h */
	char *value;      /* the value as a zone file spells it ("10 host.",
	                   * quoted strings of at most 255 bytes) */
	char *want;       /* what a look-up must find: an MX or CNAME host, a
	                   * TXT text (strings joined), an address, an SRV
	                   * "priority weight port target" */
	char *hint;       /* advice only: a commented-out zone line, or NULL */
} dnsadvice_rec;

typedef struct dnsadvice {
	dnsadvice_rec *v;
	size_t n;
} dnsadvice;

/* The records for domain (lower case, a local domain), in the order they
 * are shown.  keys: the domain's DKIM keys (dkim_keys_load). */
void dnsadvice_build(const config *cfg, const char *domain, const dkim_keyset *keys, dnsadvice *out);
void dnsadvice_free(dnsadvice *a);

typedef enum dnsadvice_state {
	DNSADVICE_MATCH,    /* the record is published as advised */
	DNSADVICE_DIFFERS,  /* a record of its kind is there, with another value */
	DNSADVICE_MISSING,  /* no record of its kind */
	DNSADVICE_UNKNOWN,  /* the look-up failed for now */
} dnsadvice_state;

/* Compare what a look-up of rec's name and type found (found: the
 * answer's values, NULL when the look-up failed for now) with rec.  A TXT
 * record "of its kind" starts like the advised one ("v=spf1", "v=DMARC1",
 * "v=DKIM1"); other TXT records at the name do not count. */
dnsadvice_state dnsadvice_match(const dnsadvice_rec *rec, const strlist *found);
/* "matches", "differs", "missing", "unknown". */
const char *dnsadvice_state_name(dnsadvice_state s);

#endif
