/* autoconf.h — the documents that let a mail program set itself up from an
 * address: what the server offers to mail clients (from the listener
 * configuration), the Thunderbird autoconfig file (config-v1.1.xml), the
 * Outlook Autodiscover POX request scanner and its answers, and the Apple
 * configuration profile (.mobileconfig).  Pure: no I/O, no clock, no random
 * numbers (the caller passes what must be fresh); unit-tested.  The HTTP
 * side is autoconf/handlers.h. */
#ifndef YUBIN_AUTOCONF_H
#define YUBIN_AUTOCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/config.h"

/* ---- What the server offers ---- */
typedef enum autoconf_proto {
	AUTOCONF_IMAP,
	AUTOCONF_POP3,
	AUTOCONF_SMTP,     /* submission: 465 (implicit TLS), 587 / 2525 (STARTTLS) */
} autoconf_proto;

typedef struct autoconf_endpoint {
	autoconf_proto proto;
	int port;
	bool implicit_tls; /* false: the client must upgrade with STARTTLS / STLS */
} autoconf_endpoint;

/* Ports beyond this many are not advertised (no client looks past a few). */
#define AUTOCONF_MAX_ENDPOINTS 16

typedef struct autoconf_offer {
	const char *hostname;               /* the server's name (config hostname) */
	autoconf_endpoint v[AUTOCONF_MAX_ENDPOINTS];
	size_t n;
} autoconf_offer;

/* The client-facing listeners of cfg (imap, imaps, pop3, pop3s,
 * submission, submissions; never port 25, where no one logs in), one entry
 * per protocol and port, ordered by protocol (IMAP, POP3, SMTP), then
 * implicit TLS before STARTTLS (RFC 8314 3), then the standard port before
 * others.  o->hostname points into cfg. */
void autoconf_offer_build(const config *cfg, autoconf_offer *o);
/* The preferred endpoint of proto (the first of its kind), or NULL. */
const autoconf_endpoint *autoconf_offer_first(const autoconf_offer *o, autoconf_proto proto);
/* The ports of proto with (or without) implicit TLS, in the offer's order
 * (the standard port first); how many, at most cap. */
size_t autoconf_offer_ports(const autoconf_offer *o, autoconf_proto proto, bool implicit_tls, int *ports,
                            size_t cap);

/* ---- SRV records (RFC 6186 3, RFC 8314 5.1, RFC 5804 1.8) ---- */
/* The services programs look up, implicit TLS first; the priority RFC
 * 8314 5.1 advises (0 for implicit TLS, 10 for STARTTLS, so a client that
 * knows both prefers TLS from the first byte).  ManageSieve (_sieve, RFC
 * 5804 1.8) is only here: the client documents have no element for it. */
typedef struct autoconf_srv_service {
	const char *label;        /* "_imaps": the name is label._tcp.DOMAIN */
	listener_role role;       /* the listeners that offer it */
	int standard_port;        /* listed first when several ports offer it */
	int priority;
	const char *what;         /* "IMAP with implicit TLS" */
	const char *spec;         /* where the name is defined: "RFC 6186" */
} autoconf_srv_service;
extern const autoconf_srv_service autoconf_srv_services[];
extern const size_t autoconf_n_srv_services;

/* The ports of cfg's listeners that offer sv, each once, the standard
 * port first, then ascending; how many, at most cap. */
size_t autoconf_srv_ports(const config *cfg, const autoconf_srv_service *sv, int *ports, size_t cap);

/* ---- Thunderbird autoconfig (config-v1.1.xml) ---- */
/* The clientConfig document for domain (a local domain, lower case).
 * address: the account's address, used as the user name; NULL when the
 * client did not send one: the %EMAILADDRESS% placeholder instead. */
void autoconf_thunderbird(const autoconf_offer *o, const char *domain, const char *address, buf *out);

/* ---- Outlook Autodiscover (POX) ---- */
#define AUTODISCOVER_MAX_BODY 16384
#define AUTODISCOVER_SCHEMA_2006A \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

typedef enum autodiscover_status {
	AUTODISCOVER_OK,
	AUTODISCOVER_MALFORMED,  /* not well-formed XML, or not an Autodiscover request */
	AUTODISCOVER_DTD,        /* a DOCTYPE or entity declaration: refused, never expanded */
	AUTODISCOVER_TOO_BIG,    /* nesting, names or values beyond their bounds */
} autodiscover_status;

typedef struct autodiscover_request {
	char *email;             /* Autodiscover/Request/EMailAddress, or NULL */
	char *schema;            /* .../AcceptableResponseSchema, or NULL */
} autodiscover_request;

/* Scan a request body with a strict minimal scanner: elements, attributes,
 * comments, processing instructions, CDATA and the five predefined entity
 * and character references; anything else (DOCTYPE, ENTITY, an undeclared
 * reference) is refused.  On OK req is filled (the caller frees it with
 * autodiscover_request_free); else req is empty. */
autodiscover_status autodiscover_parse(const char *body, size_t len, autodiscover_request *req);
void autodiscover_request_free(autodiscover_request *req);

/* The settings answer for address (the responseschema 2006a): one
 * Protocol per kind offered (IMAP, POP3, SMTP), each its preferred
 * endpoint, with Encryption SSL (implicit TLS) or TLS (STARTTLS). */
void autodiscover_settings(const autoconf_offer *o, const char *address, buf *out);
/* An error answer ([MS-OXDSCLI] 2.2.4.1.1.3.1): code 500 (address not
 * found), 501 (nothing to configure), 600 (invalid request) or 601
 * (schema not available); time_text "HH:MM:SS", id any number. */
void autodiscover_error(int code, const char *time_text, unsigned long id, buf *out);

/* ---- Apple configuration profile (.mobileconfig) ---- */
/* The unsigned XML plist for address with one com.apple.mail.managed
 * payload.  PayloadIdentifiers are stable for an address on this host (a
 * new download replaces the installed profile); uuid_top and uuid_mail are
 * fresh UUID strings from the caller.  No password is put in.  False (out
 * untouched) when the server offers no IMAP or POP3, or no submission. */
bool autoconf_mobileconfig(const autoconf_offer *o, const char *address, const char *uuid_top,
                           const char *uuid_mail, buf *out);

/* ---- Shared by the builders ---- */
/* s as XML character data or attribute value (& < > " ' escaped). */
void autoconf_xml_text(buf *out, const char *s);

#endif
