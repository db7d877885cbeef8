/* route.c — the route of a recipient domain from the configuration (see
 * route.h).  Pure: it reads the config snapshot and the probe verdict it
 * is given, nothing else. */
#include "delivery/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry whose domain is d exactly, then the nearest ".parent" entry
 * (".example.com" matches a.example.com and b.a.example.com, not
 * example.com itself), then "*".  get(i) gives entry i's domain. */
static int map_match(const char *d, int n, const char *(*get)(const config *, int), const config *cfg)
{
	if (d == NULL || *d == '\0')
		d = "";
	for (int i = 0; i < n; i++)
		if (str_ascii_ieq(get(cfg, i), d))
			return i;
	for (const char *p = strchr(d, '.'); p != NULL; p = strchr(p + 1, '.'))
		for (int i = 0; i < n; i++)
			if (get(cfg, i)[0] == '.' && str_ascii_ieq(get(cfg, i), p))
				return i;
	for (int i = 0; i < n; i++)
		if (strcmp(get(cfg, i), "*") == 0)
			return i;
	return -1;
}

static const char *transport_domain(const config *cfg, int i)
{
	return cfg->route.transport[i].domain;
}

static const char *sender_domain_at(const config *cfg, int i)
{
	return cfg->route.sender_sources[i].domain;
}

const config_transport *route_transport_for(const config *cfg, const char *domain)
{
	int i = map_match(domain, cfg->route.n_transport, transport_domain, cfg);
	return i < 0 ? NULL : &cfg->route.transport[i];
}

static route_tls tls_parse(const char *s)
{
	if (s == NULL || strcmp(s, "may") == 0)
		return ROUTE_TLS_MAY;
	if (strcmp(s, "none") == 0)
		return ROUTE_TLS_NONE;
	if (strcmp(s, "encrypt") == 0)
		return ROUTE_TLS_ENCRYPT;
	if (strcmp(s, "dane") == 0)
		return ROUTE_TLS_DANE;
	if (strcmp(s, "dane-only") == 0)
		return ROUTE_TLS_DANE_ONLY;
	return ROUTE_TLS_VERIFY;
}

const char *route_tls_name(route_tls t)
{
	static const char *const names[] = {"none", "may", "encrypt", "verify", "dane", "dane-only"};
	return names[t];
}

route_family route_family_parse(const char *s)
{
	if (s != NULL && strcmp(s, "ipv6") == 0)
		return ROUTE_FAMILY_IPV6;
	if (s != NULL && strcmp(s, "ipv4") == 0)
		return ROUTE_FAMILY_IPV4;
	return ROUTE_FAMILY_ANY;
}

/* Through relay index (-1: relay.host).  A relay carries credentials and
 * mail for others: TLS always, a verified certificate unless its verify
 * is 0; a transport entry may ask for more, never for less. */
static void use_relay(const config *cfg, int index, route_decision *r)
{
	r->kind = ROUTE_RELAY;
	r->relay_index = index;
	int verify;
	if (index < 0) {
		r->relay_name = "";
		r->host = cfg->relay.host;
		r->ports = cfg->relay.ports;
		r->n_ports = cfg->relay.n_ports;
		r->user = cfg->relay.user;
		r->password_file = cfg->relay.password_file;
		verify = cfg->relay.verify;
	} else {
		const config_named_relay *n = &cfg->route.relays[index];
		r->relay_name = n->name;
		r->host = n->host;
		r->ports = n->ports;
		r->n_ports = n->n_ports;
		r->user = n->user;
		r->password_file = n->password_file;
		verify = n->verify;
	}
	route_tls floor = verify ? ROUTE_TLS_VERIFY : ROUTE_TLS_ENCRYPT;
	r->tls_floor = floor;
	if (r->tls < floor)
		r->tls = floor;
}

static int relay_index(const config *cfg, const char *name)
{
	for (int i = 0; i < cfg->route.n_relays; i++)
		if (strcmp(cfg->route.relays[i].name, name) == 0)
			return i;
	return -2; /* config validation makes this impossible */
}

/* A transport entry's route: true when it decided one. */
static bool transport_route(const config *cfg, const config_transport *t, route_decision *r)
{
	const char *rt = t->route;
	if (rt == NULL || strcmp(rt, "direct") == 0)
		return false;
	r->why = "transport";
	if (strcmp(rt, "relay") == 0 && cfg->relay.host != NULL) {
		use_relay(cfg, -1, r);
		return true;
	}
	if (strncmp(rt, "relay:", 6) == 0 && relay_index(cfg, rt + 6) >= 0) {
		use_relay(cfg, relay_index(cfg, rt + 6), r);
		return true;
	}
	if (strncmp(rt, "host:", 5) == 0) {
		char *host = NULL;
		int port = 0;
		if (config_route_hostport(rt + 5, &host, &port)) {
			r->kind = ROUTE_HOST;
			r->host_port = port != 0 ? port : cfg->delivery.port;
			r->ports = &r->host_port;
			r->n_ports = 1;
			snprintf(r->fixed_host, sizeof r->fixed_host, "%s", host); /* a name or address: fits */
			r->host = r->fixed_host;
			free(host);
			return true;
		}
	}
	r->why = "default";
	return false;
}

bool route_relay_only_when_blocked(const config *cfg)
{
	return cfg->route.relay_when != NULL && strcmp(cfg->route.relay_when, "blocked") == 0;
}

void route_decide(const config *cfg, bool port25_blocked, const char *rcpt_domain,
                  const char *sender_domain, route_decision *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = ROUTE_DIRECT;
	r->relay_index = -1;
	r->why = "default";
	const config_transport *t = route_transport_for(cfg, rcpt_domain);
	r->tls = tls_parse(t != NULL ? t->tls : NULL);
	if (t != NULL)
		r->matched = t->domain;
	bool decided = t != NULL && transport_route(cfg, t, r);
	if (!decided && cfg->relay.host != NULL) {
		bool listed = cfg->relay.domains.n > 0 && strlist_contains(&cfg->relay.domains, rcpt_domain);
		bool always = cfg->relay.domains.n == 0 && !route_relay_only_when_blocked(cfg);
		bool explicit_direct = t != NULL && t->route != NULL;
		if (!explicit_direct && (listed || always)) {
			r->why = listed ? "relay.domains" : "relay";
			use_relay(cfg, -1, r);
		} else if (port25_blocked) {
			/* OP25B: port 25 is blocked, so direct mail cannot leave but
			 * through the relay */
			r->why = "op25b";
			use_relay(cfg, -1, r);
		}
	}
	int s = map_match(sender_domain, cfg->route.n_sender_sources, sender_domain_at, cfg);
	const config_sender_source *ss = s < 0 ? NULL : &cfg->route.sender_sources[s];
	r->source4 = t != NULL && t->source4 ? t->source4 : ss != NULL && ss->source4 ? ss->source4 : cfg->route.source4;
	r->source6 = t != NULL && t->source6 ? t->source6 : ss != NULL && ss->source6 ? ss->source6 : cfg->route.source6;
}

char *route_describe(const route_decision *r)
{
	switch (r->kind) {
	case ROUTE_RELAY:
		return *r->relay_name ? xasprintf("relay:%s", r->relay_name) : xstrdup("relay");
	case ROUTE_HOST:
		return xasprintf(strchr(r->host, ':') ? "host:[%s]:%d" : "host:%s:%d", r->host, r->host_port);
	case ROUTE_DIRECT:
		break;
	}
	return xstrdup("direct");
}

char *route_pool_key(const route_decision *r, const char *rcpt_domain)
{
	char *base = r->kind == ROUTE_DIRECT ? xstrdup(rcpt_domain) : NULL;
	if (base == NULL) {
		char *d = route_describe(r);
		base = xasprintf("[%s]", d);
		free(d);
	}
	bool plain_tls = r->tls == ROUTE_TLS_MAY || r->kind == ROUTE_RELAY;
	if (plain_tls && r->source4 == NULL && r->source6 == NULL)
		return base;
	char *k = xasprintf("%s|tls=%s|src=%s,%s", base, route_tls_name(r->tls), r->source4 ? r->source4 : "-",
	                    r->source6 ? r->source6 : "-");
	free(base);
	return k;
}

void route_order_addrs(strlist *ips, route_family prefer)
{
	if (prefer == ROUTE_FAMILY_ANY || ips->n < 2)
		return;
	/* stable: the preferred family in its order, then the rest */
	char **out = xcalloc(ips->n, sizeof(char *));
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < ips->n; i++) {
			bool v6 = strchr(ips->items[i], ':') != NULL;
			bool want = (prefer == ROUTE_FAMILY_IPV6) == v6;
			if (want == (pass == 0))
				out[k++] = ips->items[i];
		}
	memcpy(ips->items, out, ips->n * sizeof(char *));
	free(out);
}
