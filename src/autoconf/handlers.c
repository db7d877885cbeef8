/* handlers.c — the client set-up routes (see handlers.h): find the domain
 * or account a request is about, check it is ours, and answer with the
 * document autoconf/ builds.  Must not build any document itself.
 *
 * The local-domain check reads the account database on the loop, as the
 * SMTP session's RCPT checks do: one indexed SQLite read of a small table. */
#include "autoconf/handlers.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autoconf/autoconf.h"
#include "lib/log.h"
#include "net/server.h"

#define XML_TYPE "application/xml; charset=utf-8"

/* The domain a Host field names: lower case, no port, no final dot,
 * "autoconfig." or "autodiscover." taken off when what is left is ours.
 * NULL for an address literal or nothing. */
static char *host_domain(server *srv, const char *host)
{
	if (host == NULL || host[0] == '\0' || host[0] == '[')
		return NULL;
	char *d = xstrndup(host, strcspn(host, ":"));
	str_ascii_lower(d);
	size_t n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	static const char *const prefixes[] = {"autoconfig.", "autodiscover."};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t pl = strlen(prefixes[i]);
		if (n > pl && strncmp(d, prefixes[i], pl) == 0 && accounts_domain_is_local(srv->acc, d + pl)) {
			memmove(d, d + pl, n - pl + 1);
			break;
		}
	}
	return d;
}

/* The normalised address, or NULL when it is malformed or holds a byte
 * XML cannot carry (a control character). */
static char *clean_address(const char *given)
{
	for (const char *p = given; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return accounts_normalize(given);
}

static void reply_xml(http_req *r, const char *type, buf *b)
{
	http_add_header(r, "Cache-Control", "no-cache");
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_reply(r, 200, type, buf_str(b), b->len);
	buf_free(b);
}

void autoconf_get_thunderbird(http_req *r)
{
	server *srv = http_req_server(r);
	const char *given = http_req_query(r, "emailaddress");
	char *address = NULL, *domain = NULL;
	if (given != NULL) {
		address = clean_address(given);
		if (address == NULL) {
			http_problem(r, 400, "bad-address", "The emailaddress parameter is not an address",
			             NULL, "emailaddress");
			return;
		}
		domain = xstrdup(strrchr(address, '@') + 1);
	} else {
		domain = host_domain(srv, http_req_header(r, "Host"));
	}
	autoconf_offer o;
	autoconf_offer_build(srv->cfg, &o);
	if (domain == NULL || !accounts_domain_is_local(srv->acc, domain) || o.n == 0) {
		log_event(LOG_LVL_INFO, "autoconfig", "req=%s client=%s domain=%s status=404 reason=\"%s\"",
		          http_req_id(r), http_req_ip(r), domain ? domain : "-",
		          o.n == 0 ? "no client listeners" : "domain not local");
		http_problem(r, 404, "not-found", "This server has no mail settings for that domain",
		             o.n == 0 ? "It has no imap(s), pop3(s) or submission(s) listener" : NULL, NULL);
		free(address);
		free(domain);
		return;
	}
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	autoconf_thunderbird(&o, domain, address, &b);
	log_event(LOG_LVL_INFO, "autoconfig", "req=%s client=%s domain=%s address=%s status=200",
	          http_req_id(r), http_req_ip(r), domain, address ? "given" : "none");
	reply_xml(r, XML_TYPE, &b);
	free(address);
	free(domain);
}

/* The Autodiscover answer's code for a scanned request: 0 for settings. */
static int autodiscover_code(server *srv, autodiscover_status st, const autodiscover_request *req,
                             char **address_r, const char **why_r)
{
	*address_r = NULL;
	if (st != AUTODISCOVER_OK) {
		*why_r = st == AUTODISCOVER_DTD ? "DTD refused" : st == AUTODISCOVER_TOO_BIG ? "too big"
		                                                                             : "malformed XML";
		return 600;
	}
	if (req->schema == NULL || req->email == NULL) {
		*why_r = req->schema == NULL ? "no AcceptableResponseSchema" : "no EMailAddress";
		return 600;
	}
	if (strcmp(req->schema, AUTODISCOVER_SCHEMA_2006A) != 0) {
		*why_r = "other response schema";
		return 601;
	}
	*address_r = clean_address(req->email);
	if (*address_r == NULL) {
		*why_r = "malformed address";
		return 600;
	}
	if (!accounts_domain_is_local(srv->acc, strrchr(*address_r, '@') + 1)) {
		*why_r = "domain not local";
		return 500;
	}
	autoconf_offer o;
	autoconf_offer_build(srv->cfg, &o);
	if (o.n == 0) {
		*why_r = "no client listeners";
		return 501;
	}
	*why_r = "ok";
	return 0;
}

void autoconf_post_autodiscover(http_req *r)
{
	server *srv = http_req_server(r);
	size_t len = 0;
	const char *body = http_req_body(r, &len);
	if (len > AUTODISCOVER_MAX_BODY) {
		http_problem(r, 413, "too-large", "The Autodiscover request is too large", NULL, NULL);
		return;
	}
	autodiscover_request req;
	autodiscover_status st = autodiscover_parse(body ? body : "", body ? len : 0, &req);
	char *address = NULL;
	const char *why = NULL;
	int code = autodiscover_code(srv, st, &req, &address, &why);
	log_event(LOG_LVL_INFO, "autodiscover", "req=%s client=%s code=%d reason=\"%s\"", http_req_id(r),
	          http_req_ip(r), code ? code : 200, why);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	if (code == 0) {
		autoconf_offer o;
		autoconf_offer_build(srv->cfg, &o);
		autodiscover_settings(&o, address, &b);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		char when[16];
		gmtime_r(&now, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		unsigned int id = 0;
		if (RAND_bytes((unsigned char *)&id, sizeof id) != 1)
			id = (unsigned int)now;
		autodiscover_error(code, when, id, &b);
	}
	reply_xml(r, "text/xml; charset=utf-8", &b);
	autodiscover_request_free(&req);
	free(address);
}

/* A random (version 4) UUID in upper case, as Apple's tools write them;
 * false when the system gives no random bytes. */
static bool uuid_v4(char out[37])
{
	unsigned char u[16];
	if (RAND_bytes(u, sizeof u) != 1)
		return false;
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0], u[1],
	         u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	return true;
}

void autoconf_get_mobileconfig(http_req *r)
{
	server *srv = http_req_server(r);
	const char *principal = http_req_principal(r);
	const char *address = principal && strncmp(principal, "user:", 5) == 0 ? principal + 5 : NULL;
	char top[37], mail[37];
	if (address == NULL || !uuid_v4(top) || !uuid_v4(mail)) {
		http_problem(r, 503, "unavailable", "The profile cannot be made now; try again", NULL, NULL);
		return;
	}
	autoconf_offer o;
	autoconf_offer_build(srv->cfg, &o);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	if (!autoconf_mobileconfig(&o, address, top, mail, &b)) {
		buf_free(&b);
		http_problem(r, 404, "no-mail-service", "This server offers no IMAP or POP3 with submission",
		             "Configure an imap(s) or pop3(s) listener and a submission(s) listener", NULL);
		return;
	}
	char *disposition = xasprintf("attachment; filename=\"%s.mobileconfig\"", strrchr(address, '@') + 1);
	http_add_header(r, "Content-Disposition", disposition);
	free(disposition);
	http_add_header(r, "Cache-Control", "no-store");
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	log_event(LOG_LVL_INFO, "mobileconfig", "req=%s client=%s user=%s status=200", http_req_id(r),
	          http_req_ip(r), address);
	http_reply(r, 200, "application/x-apple-aspen-config", buf_str(&b), b.len);
	buf_free(&b);
}
