/* spfint.h — the parts of the SPF evaluator that are pure and tested on
 * their own: parsing a record into terms (spfrecord.c), the syntax and the
 * expansion of macros (spfmacro.c), and address matching (spfaddr.c).
 * Only src/msgauth/spf*.c and the unit tests include this. */
#ifndef YUBIN_MSGAUTH_SPFINT_H
#define YUBIN_MSGAUTH_SPFINT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ---- addresses (spfaddr.c) */

typedef struct spf_ip {
	int family;               /* 4 or 6; an IPv4-mapped IPv6 address is 4 */
	unsigned char addr[16];   /* 4 or 16 bytes used */
} spf_ip;

/* Parse an address as text; false if it is none. */
bool spf_ip_parse(const char *text, spf_ip *ip_r);
/* Does ip lie in net/prefix (same family only)? */
bool spf_ip_in(const spf_ip *ip, const spf_ip *net, int prefix);
/* The reverse name: "4.3.2.1.in-addr.arpa" or 32 nibbles ".ip6.arpa". */
char *spf_ip_reverse_name(const spf_ip *ip);

/* ---- records (spfrecord.c) */

typedef enum spf_mech {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS,
} spf_mech;

typedef struct spf_term {
	spf_mech mech;
	char qualifier;     /* '+', '-', '~' or '?' */
	char *text;         /* the term as written, for reports */
	char *domain;       /* domain-spec, unexpanded; NULL: the current domain */
	int cidr4, cidr6;   /* a, mx, ip4, ip6: prefix lengths (32 / 128 default) */
	spf_ip net;         /* ip4, ip6 */
} spf_term;

typedef struct spf_record {
	spf_term *terms;    /* the mechanisms, in order */
	size_t n;
	char *redirect;     /* domain-spec or NULL */
	char *exp;          /* domain-spec or NULL */
} spf_record;

/* Is this TXT value an SPF record ("v=spf1" then a space or the end)? */
bool spf_is_record(const char *text, size_t len);
/* Parse a whole record (len bytes; a NUL byte inside is a syntax error).
 * NULL with *err_r (malloc'd sentence) on any syntax error: permerror. */
spf_record *spf_record_parse(const char *text, size_t len, char **err_r);
void spf_record_free(spf_record **r);

/* ---- macros (spfmacro.c) */

/* Syntax of a macro-string (RFC 7208 7.1); explain: an explain-string
 * (spaces, and the c r t letters allowed). */
bool spf_macro_valid(const char *s, bool explain);
/* A domain-spec: a valid macro-string ending in a macro or "." toplabel. */
bool spf_domain_spec_valid(const char *s);
/* Does s use %{p}? (Its value needs look-ups first.) */
bool spf_macro_uses_p(const char *s);

typedef struct spf_macro_env {
	const char *sender;        /* s */
	const char *local;         /* l */
	const char *sender_domain; /* o */
	const char *domain;        /* d */
	const spf_ip *ip;          /* i, c, v */
	const char *validated;     /* p */
	const char *helo;          /* h */
	const char *receiver;      /* r */
	time_t now;                /* t */
} spf_macro_env;

/* Expand s (already valid).  NULL if the result would exceed our size
 * bound.  explain: explanation text (c r t allowed). */
char *spf_macro_expand(const spf_macro_env *env, const char *s, bool explain);
/* Expand a domain-spec into a name to look up (RFC 7208 7.3): trailing dot
 * removed, left labels dropped until it fits 253 bytes.  NULL when the
 * result is no usable DNS name (an empty label, one over 63 bytes). */
char *spf_expand_domain(const spf_macro_env *env, const char *spec);
/* A name that can be looked up: labels of 1-63 bytes, 253 in all, at least
 * two labels when multi_label (the check_host <domain>, RFC 7208 4.3). */
bool spf_name_usable(const char *name, bool multi_label);

#endif
