/* route.h — where mail for a recipient domain goes, decided from the
 * configuration alone (pure: no I/O, no clock).  The transport map
 * (`transport = ( { domain = ...; route = ...; tls = ...; } )`) is matched
 * exact domain first, then the nearest ".parent" entry, then "*"; what it
 * leaves open comes from relay.host / relay.domains, and last from the
 * OP25B probe's verdict (delivery/probe25.h), which the caller passes in.
 * The source address comes from the transport entry, else the sender
 * domain's sender_sources entry, else delivery.source_ipv4/_ipv6.  It
 * must not touch sockets, DNS or the queue: outbound.c does. */
#ifndef YUBIN_ROUTE_H
#define YUBIN_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"
#include "lib/strutil.h"

typedef enum route_kind {
	ROUTE_DIRECT,  /* the recipient domain's MX hosts on delivery.port */
	ROUTE_RELAY,   /* a relay (relay.host or a named one): TLS and its ports */
	ROUTE_HOST,    /* one fixed host, no MX look-up */
} route_kind;

/* Postfix's smtp_tls_security_level words.  The DANE levels come last:
 * they are not "more" than verify, they choose how the server is
 * authenticated (RFC 7672 TLSA records instead of a CA). */
typedef enum route_tls {
	ROUTE_TLS_NONE,     /* never STARTTLS */
	ROUTE_TLS_MAY,      /* STARTTLS when offered; a bad certificate is logged */
	ROUTE_TLS_ENCRYPT,  /* no TLS, no mail (4.7.10); any certificate */
	ROUTE_TLS_VERIFY,   /* TLS with a certificate that verifies for the host name */
	ROUTE_TLS_DANE,     /* DANE when the host has secure TLSA records (also for a
	                     * host: or relay route), else "may" (or the relay's
	                     * floor), and that fall-back is logged */
	ROUTE_TLS_DANE_ONLY, /* secure, usable TLSA records that match, or 4.7.5 */
} route_tls;

typedef enum route_family { ROUTE_FAMILY_ANY, ROUTE_FAMILY_IPV6, ROUTE_FAMILY_IPV4 } route_family;

/* A decision points into the config snapshot and, for ROUTE_HOST, into
 * itself (.host, .ports): fill it in place (route_decide) and do not copy
 * it. */
typedef struct route_decision {
	route_kind kind;
	const char *relay_name;   /* ROUTE_RELAY: "" for relay.host, else the relays entry's name */
	const char *host;         /* ROUTE_RELAY / ROUTE_HOST: the server to connect to */
	const int *ports;         /* ... the ports to try in order (ROUTE_HOST: one) */
	int n_ports;
	const char *user;         /* ROUTE_RELAY: AUTH credentials, or NULL */
	const char *password_file;
	int relay_index;          /* ROUTE_RELAY: -1 for relay.host, else the index in cfg->route.relays */
	route_tls tls;
	route_tls tls_floor;      /* ROUTE_RELAY: what the relay needs at least (encrypt or
	                           * verify), the level when tls is a DANE one and DANE
	                           * does not apply; else ROUTE_TLS_NONE */
	const char *source4;      /* local addresses to connect from, or NULL */
	const char *source6;
	const char *why;          /* "transport", "relay.domains", "relay", "op25b" or "default" */
	const char *matched;      /* the transport entry's domain that matched, or NULL */
	int host_port;            /* ROUTE_HOST: its port (storage for .ports) */
	char fixed_host[256];     /* ROUTE_HOST: storage for .host (a domain name or address) */
} route_decision;

/* Decide the route of mail from sender_domain (NULL or "" for the null
 * sender) to rcpt_domain.  port25_blocked: the probe's current verdict. */
void route_decide(const config *cfg, bool port25_blocked, const char *rcpt_domain,
                  const char *sender_domain, route_decision *r);

/* relay.when = "blocked": relay.host is the OP25B fallback only (and the
 * way for relay.domains), not the way for all mail. */
bool route_relay_only_when_blocked(const config *cfg);

/* The transport entry for domain (exact, nearest ".parent", "*"), or NULL. */
const config_transport *route_transport_for(const config *cfg, const char *domain);

/* The connection-pool key of a decision: connections are shared only
 * between groups that would open the same kind of connection (same server,
 * TLS level and source addresses).  malloc'd. */
char *route_pool_key(const route_decision *r, const char *rcpt_domain);

/* "direct", "relay", "relay:office" or "host:mx.example.net:2525", for logs. */
char *route_describe(const route_decision *r);

route_family route_family_parse(const char *s);
const char *route_tls_name(route_tls t);

/* Order addresses by family, keeping the order within a family: the
 * preferred family first, the other after it (tried in the same attempt).
 * ROUTE_FAMILY_ANY leaves the list as it is. */
void route_order_addrs(strlist *ips, route_family prefer);

#endif
