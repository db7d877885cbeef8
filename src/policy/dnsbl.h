/* dnsbl.h — DNS blocklists and allowlists (RFC 5782), the pure part: the
 * configured lists (policy.dnsbl), the names to look up for a client
 * address (reversed IPv4 octets, 32 reversed IPv6 nibbles) or a domain
 * (RHSBL), and the matching of an answer against a list's return codes.
 * No DNS here: policy/dnsblq.h asks the resolver. */
#ifndef YUBIN_POLICY_DNSBL_H
#define YUBIN_POLICY_DNSBL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strutil.h"

typedef enum dnsbl_type {
	DNSBL_IP,      /* keyed by the client address */
	DNSBL_DOMAIN,  /* keyed by a domain name (RHSBL) */
} dnsbl_type;

/* Which domains a DNSBL_DOMAIN list is asked about (a bit set). */
#define DNSBL_CHECK_SENDER 1u   /* the envelope sender's domain */
#define DNSBL_CHECK_HELO 2u     /* the HELO/EHLO name */
#define DNSBL_CHECK_CLIENT 4u   /* the client's forward-confirmed name */

/* One return-code filter: an address range lo..hi (one address: lo == hi),
 * or a bit mask that must share a bit with the answer.  IPv4 addresses as
 * host-order numbers. */
typedef struct dnsbl_code {
	uint32_t lo, hi;
	uint32_t mask;     /* non-zero: a bit mask, lo/hi unused */
} dnsbl_code;

typedef struct dnsbl_list {
	char *name;        /* for logs, rules and the refusal text */
	char *zone;        /* lower case, no trailing dot */
	dnsbl_type type;
	unsigned check;    /* DNSBL_CHECK_* (domain lists) */
	dnsbl_code *codes; /* none: any answer in 127.0.0.0/8 counts */
	size_t n_codes;
	double weight;     /* negative: an allowlist (DNSWL) */
	int line;          /* where the file defines it */
} dnsbl_list;

typedef struct dnsbl_lists {
	dnsbl_list *v;
	size_t n;
} dnsbl_lists;

/* Read policy.dnsbl, a list of groups { name; zone; type; codes; weight;
 * check; }.  Appends one "file:line: sentence" per problem to errors and
 * returns NULL when there was any; else the lists (possibly none). */
dnsbl_lists *dnsbl_lists_read(const config_setting_t *s, const char *file, strlist *errors);
void dnsbl_lists_free(dnsbl_lists **l);
/* The policy_config readers (policy/polconf.h) of policy.dnsbl and of
 * policy.dnsbl_reject_score (a number >= 0). */
struct policy_config;
bool dnsbl_config_read(struct policy_config *pc, const config_setting_t *s, const char *file, strlist *errors);
bool dnsbl_config_read_score(struct policy_config *pc, const config_setting_t *s, const char *file,
                             strlist *errors);

/* Parse one return-code filter: "127.0.0.2", "127.0.0.2-127.0.0.11",
 * "&4" or "&0.0.0.4" (any of the bits).  False when malformed (a range
 * whose end is below its start, a zero mask). */
bool dnsbl_code_parse(const char *s, dnsbl_code *out);

/* Room for any query name: 253 octets and the NUL. */
#define DNSBL_NAME_MAX 254

/* The name to look up for client address ip (IPv4 dotted, IPv6 in any
 * inet_ntop form; an IPv4-mapped IPv6 address is looked up as IPv4) in
 * zone: "2.0.0.127.zone" (RFC 5782 2.1), "1.0.0...0.zone" (2.4).  False
 * when ip is no address or the name would be too long. */
bool dnsbl_ip_query(const char *ip, const char *zone, char name_r[DNSBL_NAME_MAX]);

/* The name to look up for domain in zone (RFC 5782 2.2): "domain.zone",
 * lower case, a trailing dot dropped.  False for what cannot be asked
 * about: an address literal, a name that is not letters, digits, hyphens
 * and dots in labels of 1..63 octets, or a result over 253 octets. */
bool dnsbl_domain_query(const char *domain, const char *zone, char name_r[DNSBL_NAME_MAX]);

typedef enum dnsbl_match {
	DNSBL_MATCH,     /* a listing the list's codes count */
	DNSBL_NOMATCH,   /* in 127.0.0.0/8, but not one of the codes */
	DNSBL_BOGUS,     /* outside 127.0.0.0/8 or no address: a broken list
	                  * (RFC 5782 2.1), never a listing */
} dnsbl_match;

/* Judge one A record of an answer (as text) against l's codes. */
dnsbl_match dnsbl_answer_match(const dnsbl_list *l, const char *answer);

#endif
