/* offer.c — what the server offers to mail clients, read from the
 * listener configuration (see autoconf.h), and the XML escaping the
 * document builders share.  Must not write any document itself.
 *
 * The role facts below (which protocol, implicit TLS or not, the standard
 * port) are also in net/roles.c's table; that table drags in every
 * protocol's session code, which this pure module and its unit test must
 * not link, so the few facts a client needs are repeated here. */
#include "autoconf/autoconf.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	listener_role role;
	autoconf_proto proto;
	bool implicit_tls;
	int standard_port;
} client_roles[] = {
	{ROLE_IMAPS, AUTOCONF_IMAP, true, 993},
	{ROLE_IMAP, AUTOCONF_IMAP, false, 143},
	{ROLE_POP3S, AUTOCONF_POP3, true, 995},
	{ROLE_POP3, AUTOCONF_POP3, false, 110},
	{ROLE_SUBMISSIONS, AUTOCONF_SMTP, true, 465},
	{ROLE_SUBMISSION, AUTOCONF_SMTP, false, 587},
};

/* Sort key: protocol, implicit TLS first, the standard port first, port. */
static int rank(const autoconf_endpoint *e, const int *standard)
{
	return ((int)e->proto * 4 + (e->implicit_tls ? 0 : 2) + (e->port == *standard ? 0 : 1)) * 65536 +
	       e->port;
}

typedef struct ranked {
	autoconf_endpoint e;
	int key;
} ranked;

static int by_key(const void *a, const void *b)
{
	return ((const ranked *)a)->key - ((const ranked *)b)->key;
}

void autoconf_offer_build(const config *cfg, autoconf_offer *o)
{
	ranked found[AUTOCONF_MAX_ENDPOINTS];
	size_t n = 0;
	*o = (autoconf_offer){.hostname = cfg->hostname};
	for (int i = 0; i < cfg->n_listeners; i++) {
		const config_listener *l = &cfg->listeners[i];
		for (size_t k = 0; k < sizeof client_roles / sizeof client_roles[0]; k++) {
			if (client_roles[k].role != l->role)
				continue;
			autoconf_endpoint e = {client_roles[k].proto, l->port, client_roles[k].implicit_tls};
			bool seen = false;
			for (size_t j = 0; j < n; j++)
				seen |= found[j].e.proto == e.proto && found[j].e.port == e.port;
			if (!seen && n < AUTOCONF_MAX_ENDPOINTS)
				found[n++] = (ranked){e, rank(&e, &client_roles[k].standard_port)};
		}
	}
	qsort(found, n, sizeof found[0], by_key);
	for (size_t j = 0; j < n; j++)
		o->v[o->n++] = found[j].e;
}

const autoconf_endpoint *autoconf_offer_first(const autoconf_offer *o, autoconf_proto proto)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].proto == proto)
			return &o->v[i];
	return NULL;
}

size_t autoconf_offer_ports(const autoconf_offer *o, autoconf_proto proto, bool implicit_tls, int *ports,
                            size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n && n < cap; i++)
		if (o->v[i].proto == proto && o->v[i].implicit_tls == implicit_tls)
			ports[n++] = o->v[i].port;
	return n;
}

const autoconf_srv_service autoconf_srv_services[] = {
	{"_submissions", ROLE_SUBMISSIONS, 465, 0, "submission with implicit TLS", "RFC 8314"},
	{"_submission", ROLE_SUBMISSION, 587, 10, "submission with STARTTLS", "RFC 6186"},
	{"_imaps", ROLE_IMAPS, 993, 0, "IMAP with implicit TLS", "RFC 6186"},
	{"_imap", ROLE_IMAP, 143, 10, "IMAP with STARTTLS", "RFC 6186"},
	{"_pop3s", ROLE_POP3S, 995, 0, "POP3 with implicit TLS", "RFC 6186"},
	{"_pop3", ROLE_POP3, 110, 10, "POP3 with STLS", "RFC 6186"},
	{"_sieve", ROLE_MANAGESIEVE, 4190, 0, "ManageSieve", "RFC 5804"},
};
const size_t autoconf_n_srv_services = sizeof autoconf_srv_services / sizeof autoconf_srv_services[0];

static int port_order(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

size_t autoconf_srv_ports(const config *cfg, const autoconf_srv_service *sv, int *ports, size_t cap)
{
	size_t n = 0;
	for (int i = 0; i < cfg->n_listeners && n < cap; i++) {
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen |= ports[k] == cfg->listeners[i].port;
		if (cfg->listeners[i].role == sv->role && !seen)
			ports[n++] = cfg->listeners[i].port;
	}
	qsort(ports, n, sizeof ports[0], port_order);
	for (size_t k = 1; k < n; k++) {
		if (ports[k] == sv->standard_port) {
			memmove(ports + 1, ports, k * sizeof ports[0]);
			ports[0] = sv->standard_port;
			break;
		}
	}
	return n;
}

void autoconf_xml_text(buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': BUF_PUTS(out, "&amp;"); break;
		case '<': BUF_PUTS(out, "&lt;"); break;
		case '>': BUF_PUTS(out, "&gt;"); break;
		case '"': BUF_PUTS(out, "&quot;"); break;
		case '\'': BUF_PUTS(out, "&apos;"); break;
		default: BUF_PUTC(out, *s);
		}
	}
}
