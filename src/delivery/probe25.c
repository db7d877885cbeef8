/* probe25.c — the outbound port-25 probe and its hysteresis (see
 * probe25.h).  Every buffer is bounded: at most PROBE_ADDRS addresses per
 * round, PROBE_MX MX hosts of probe_domain, and a round ends by the
 * connect timeout whatever the network does. */
#include "delivery/probe25.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "delivery/mx.h"
#include "delivery/routestate.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "metrics/metrics.h"

#define PROBE_ADDRS 8        /* port-25 addresses tried in one round */
#define PROBE_RELAY_ADDRS 4  /* ... and relay addresses, to tell OP25B from no network */
#define PROBE_MX 3           /* MX hosts of probe_domain looked up */
#define PROBE_HINT_GAP 5     /* seconds between rounds a failed delivery may ask for */
#define PROBE_REASON_MAX 3   /* failures named in the reason */

#define PROBE_LOOKUPS 16     /* address look-ups in one round */

typedef struct addr_ctx {
	struct probe25 *p;
	int port;
	bool relay;            /* an address of relay.host, not a port-25 target */
} addr_ctx;

typedef struct probe_conn {
	probe25 *p;
	int fd;
	struct event *ev;
	char where[INET6_ADDRSTRLEN + 8];
	bool relay;
} probe_conn;

struct probe25 {
	struct event_base *base;
	const config *cfg;
	dns_resolver *dns;
	probe25_change_fn *changed;
	void *arg;
	struct event *timer;
	bool blocked;          /* the verdict */
	int streak;            /* rounds in a row that disagree with it */
	bool running;
	time_t round_start;
	int lookups;           /* DNS look-ups of this round in flight */
	strlist addrs;         /* "ip port" to try this round */
	probe_conn conns[PROBE_ADDRS + PROBE_RELAY_ADDRS];
	int n_conns, conns_left;
	bool any_open;
	int n_failed;
	int n_relay;           /* relay addresses in this round */
	int n_relay_addrs_added;
	int n_direct_added;
	bool relay_open;       /* one of them connected */
	strlist failures;      /* "ip:port refused" ... */
	addr_ctx slots[PROBE_LOOKUPS]; /* the look-ups' arguments (forgotten at free) */
	int n_slots;
};

static void round_start(probe25 *p);

static void arm(probe25 *p, int secs)
{
	struct timeval tv = {secs, 0};
	evtimer_add(p->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	round_start(arg);
}

static void add_addr(probe25 *p, const char *ip, int port, bool relay)
{
	int *count = relay ? &p->n_relay_addrs_added : &p->n_direct_added;
	if (*count >= (relay ? PROBE_RELAY_ADDRS : PROBE_ADDRS))
		return;
	(*count)++;
	strlist_add_owned(&p->addrs, xasprintf("%s %d %c", ip, port, relay ? 'r' : 'd'));
}

static char *reason_text(const probe25 *p, bool open)
{
	if (open)
		return xstrdup("port 25 open");
	char *r = xstrdup("port 25 blocked (probe");
	for (size_t i = 0; i < p->failures.n && i < PROBE_REASON_MAX; i++) {
		char *n = xasprintf("%s%s %s", r, i ? "," : "", p->failures.items[i]);
		free(r);
		r = n;
	}
	char *n = p->failures.n > PROBE_REASON_MAX ? xasprintf("%s and %zu more)", r, p->failures.n - PROBE_REASON_MAX)
	                                           : xasprintf("%s)", r);
	free(r);
	return n;
}

static void state_write_failed(const config *cfg)
{
	char *why = xasprintf("cannot write %s/%s: %s", cfg->data_dir, ROUTESTATE_FILE, strerror(errno));
	log_event(LOG_LVL_WARN, "port25_probe", "error=%s", why);
	free(why);
}

/* The verdict flips: tell the log, the metric, the state file and the owner. */
static void flip(probe25 *p, const char *reason)
{
	p->blocked = !p->blocked;
	p->streak = 0;
	bool relay = p->cfg->relay.host != NULL;
	if (relay) {
		log_event(p->blocked ? LOG_LVL_WARN : LOG_LVL_INFO, "route_change", "from=%s to=%s reason=%s",
		          p->blocked ? "direct" : "relay", p->blocked ? "relay" : "direct", reason);
		metrics_route_changed(p->blocked);
	} else {
		log_event(p->blocked ? LOG_LVL_WARN : LOG_LVL_INFO, "port25_probe",
		          "state=%s route=direct relay=none reason=%s note=%s", p->blocked ? "blocked" : "open", reason,
		          p->blocked ? "no relay.host: mail keeps trying direct" : NULL);
	}
	routestate st = {.relay = relay && p->blocked, .blocked = p->blocked, .since = time(NULL),
	                 .reason = (char *)reason};
	if (!routestate_write(p->cfg->data_dir, &st))
		state_write_failed(p->cfg);
	p->changed(p->arg, p->blocked);
}

static void round_end(probe25 *p)
{
	p->running = false;
	bool conclusive = p->any_open || p->n_failed > 0;
	if (conclusive && !p->any_open && p->n_relay > 0 && !p->relay_open) {
		/* everything failed, the relay too: not OP25B (research note
		 * pitfall 15); nothing changes */
		char *blocked = reason_text(p, false);
		char *reason = xasprintf("the relay is unreachable too; %s", blocked);
		log_event(LOG_LVL_WARN, "port25_probe", "round=inconclusive reason=%s", reason);
		free(reason);
		free(blocked);
		conclusive = false;
		p->streak = 0;
	} else if (!conclusive) {
		log_event(LOG_LVL_WARN, "port25_probe", "round=inconclusive reason=\"no probe address found\"");
	}
	if (conclusive) {
		bool open = p->any_open;
		char *reason = reason_text(p, open);
		log_event(LOG_LVL_DEBUG, "port25_probe", "round=%s tried=%d failed=%d verdict=%s",
		          open ? "open" : "blocked", p->n_conns, p->n_failed, p->blocked ? "blocked" : "open");
		if (open == !p->blocked) {
			p->streak = 0;
		} else if (++p->streak >= p->cfg->route.probe_rounds) {
			flip(p, reason);
		} else {
			log_event(LOG_LVL_INFO, "port25_probe", "round=%s streak=%d of=%d reason=%s",
			          open ? "open" : "blocked", p->streak, p->cfg->route.probe_rounds, reason);
		}
		free(reason);
	}
	strlist_free(&p->addrs);
	strlist_free(&p->failures);
	/* sooner while blocked, or while a change is being confirmed */
	arm(p, p->blocked || p->streak > 0 ? p->cfg->route.probe_blocked_interval : p->cfg->route.probe_interval);
}

static void conn_close(probe_conn *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void conn_done(probe_conn *c, const char *failure)
{
	probe25 *p = c->p;
	conn_close(c);
	if (c->relay)
		p->relay_open |= failure == NULL;
	else if (failure == NULL)
		p->any_open = true;
	else {
		p->n_failed++;
		strlist_add_owned(&p->failures, xasprintf("%s %s", c->where, failure));
	}
	if (--p->conns_left == 0)
		round_end(p);
}

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	probe_conn *c = arg;
	if (what & EV_TIMEOUT) {
		conn_done(c, "timed out");
		return;
	}
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	conn_done(c, err == 0 ? NULL : err == ECONNREFUSED ? "refused" : strerror(err));
}

/* Bind the configured source address of the family (as deliveries do). */
static const char *bind_source(int fd, int family, const config *cfg)
{
	const char *src = family == AF_INET6 ? cfg->route.source6 : cfg->route.source4;
	if (src == NULL)
		return NULL;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, src, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, src, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	return bind(fd, (struct sockaddr *)&ss, sl) == 0 ? NULL : "cannot bind the source address";
}

static void conn_start(probe25 *p, const char *ip, int port, bool relay)
{
	probe_conn *c = &p->conns[p->n_conns++];
	*c = (probe_conn){.p = p, .fd = -1, .relay = relay};
	p->n_relay += relay;
	bool v6 = strchr(ip, ':') != NULL;
	snprintf(c->where, sizeof c->where, v6 ? "[%s]:%d" : "%s:%d", ip, port);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl;
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_done(c, "cannot create a socket");
		return;
	}
	const char *bad = bind_source(c->fd, ss.ss_family, p->cfg);
	if (bad != NULL) {
		conn_done(c, bad);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, sl) == 0) {
		conn_done(c, NULL);
		return;
	}
	if (errno != EINPROGRESS) {
		conn_done(c, errno == ECONNREFUSED ? "refused" : strerror(errno));
		return;
	}
	c->ev = event_new(p->base, c->fd, EV_WRITE, on_conn, c);
	struct timeval tv = {p->cfg->delivery.connect_timeout, 0};
	event_add(c->ev, &tv);
}

/* Every look-up is in: connect to each address at once. */
static void connect_all(probe25 *p)
{
	p->n_conns = 0;
	p->conns_left = (int)p->addrs.n;
	if (p->addrs.n == 0) {
		round_end(p);
		return;
	}
	/* conns_left counts down as each ends; copy first, as the last
	 * conn_done may end the round and free the list */
	size_t n = p->addrs.n;
	char **items = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		items[i] = xstrdup(p->addrs.items[i]);
	for (size_t i = 0; i < n; i++) {
		char *sp = strchr(items[i], ' ');
		*sp = '\0';
		char *kind = strchr(sp + 1, ' ');
		conn_start(p, items[i], atoi(sp + 1), kind != NULL && kind[1] == 'r');
		free(items[i]);
	}
	free(items);
}

static void lookup_done(probe25 *p)
{
	if (--p->lookups == 0)
		connect_all(p);
}

static void on_addr(void *arg, const dns_answer *ans)
{
	addr_ctx *ctx = arg;
	probe25 *p = ctx->p;
	for (size_t i = 0; ans->status == DNS_OK && i < ans->values.n; i++)
		add_addr(p, ans->values.items[i], ctx->port, ctx->relay);
	lookup_done(p);
}

static void lookup_host(probe25 *p, const char *host, int port, bool relay)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1) {
		add_addr(p, host, port, relay);
		return;
	}
	for (int t = 0; t < 2 && p->n_slots < PROBE_LOOKUPS; t++) {
		addr_ctx *ctx = &p->slots[p->n_slots++];
		*ctx = (addr_ctx){p, port, relay};
		p->lookups++;
		dns_lookup(p->dns, host, t == 0 ? DNS_TYPE_A : DNS_TYPE_AAAA, on_addr, ctx);
	}
}

static uint32_t first_rnd(void *arg)
{
	(void)arg;
	return 0; /* the order of equal preferences does not matter here */
}

static void on_mx(void *arg, const dns_answer *ans)
{
	probe25 *p = arg;
	if (ans->status == DNS_OK) {
		strlist hosts;
		strlist_init(&hosts);
		mx_order((const char *const *)ans->values.items, ans->prefs, ans->values.n, first_rnd, NULL, &hosts);
		for (size_t i = 0; i < hosts.n && i < PROBE_MX; i++)
			lookup_host(p, hosts.items[i], p->cfg->delivery.port, false);
		strlist_free(&hosts);
	}
	lookup_done(p);
}

static void round_start(probe25 *p)
{
	if (p->running)
		return;
	p->running = true;
	p->round_start = time(NULL);
	p->any_open = false;
	p->n_failed = 0;
	p->n_relay = 0;
	p->n_relay_addrs_added = 0;
	p->n_direct_added = 0;
	p->relay_open = false;
	strlist_init(&p->addrs);
	strlist_init(&p->failures);
	p->n_slots = 0;
	p->lookups = 1; /* held until every look-up below is asked */
	const config *cfg = p->cfg;
	if (cfg->route.probe_hosts.n > 0) {
		for (size_t i = 0; i < cfg->route.probe_hosts.n; i++) {
			char *host = NULL;
			int port = 0;
			if (config_route_hostport(cfg->route.probe_hosts.items[i], &host, &port))
				lookup_host(p, host, port != 0 ? port : cfg->delivery.port, false);
			free(host);
		}
	} else {
		p->lookups++;
		dns_lookup(p->dns, cfg->route.probe_domain, DNS_TYPE_MX, on_mx, p);
	}
	/* the relay's ports too: when they fail as well, the network is down
	 * (or the relay is), and moving mail to the relay would not help */
	for (int i = 0; cfg->relay.host != NULL && i < cfg->relay.n_ports && i < 2; i++)
		lookup_host(p, cfg->relay.host, cfg->relay.ports[i], true);
	lookup_done(p);
}

probe25 *probe25_new(struct event_base *base, const config *cfg, dns_resolver *dns, probe25_change_fn *changed,
                     void *arg)
{
	if (cfg->route.probe_hosts.n == 0 && cfg->route.probe_domain == NULL) {
		routestate_clear(cfg->data_dir); /* from an earlier configuration */
		return NULL;
	}
	probe25 *p = xcalloc(1, sizeof(*p));
	*p = (probe25){.base = base, .cfg = cfg, .dns = dns, .changed = changed, .arg = arg};
	p->timer = evtimer_new(base, on_timer, p);
	routestate st = {.since = time(NULL), .reason = "port 25 not probed yet"};
	if (!routestate_write(cfg->data_dir, &st))
		state_write_failed(cfg);
	arm(p, 0);
	return p;
}

void probe25_free(probe25 **pp)
{
	probe25 *p = *pp;
	if (p == NULL)
		return;
	dns_forget(p->dns, p);
	for (int i = 0; i < PROBE_LOOKUPS; i++)
		dns_forget(p->dns, &p->slots[i]);
	for (int i = 0; p->running && i < p->n_conns; i++)
		conn_close(&p->conns[i]);
	strlist_free(&p->addrs);
	strlist_free(&p->failures);
	event_free(p->timer);
	free(p);
	*pp = NULL;
}

bool probe25_blocked(const probe25 *p)
{
	return p != NULL && p->blocked;
}

void probe25_hint(probe25 *p)
{
	if (p == NULL || p->running || time(NULL) - p->round_start < PROBE_HINT_GAP)
		return;
	log_event(LOG_LVL_INFO, "port25_probe", "round=early reason=\"every MX of a domain refused or timed out\"");
	evtimer_del(p->timer);
	arm(p, 0);
}
