/* server.c — listening sockets, connection admission and the orderly stop
 * of the sessions of every protocol (see server.h).
 * Connections over the limits get their 421 and are closed at once, without
 * a session; everyone else gets a session. */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/addrkey.h"
#include "metrics/metrics.h"
#include "net/roles.h"

#define IP_BUCKETS 1024

typedef struct ip_count {
	struct ip_count *next;
	char ip[ADDRKEY_MAX]; /* the address key: an IPv6 /64 counts as one */
	int n;
} ip_count;

typedef struct listener_ctx {
	server *srv;
	const config_listener *lst;
} listener_ctx;

static unsigned ip_hash(const char *ip)
{
	unsigned h = 5381;
	for (; *ip; ip++)
		h = h * 33 + (unsigned char)*ip;
	return h % IP_BUCKETS;
}

static ip_count **ip_slot(server *srv, const char *ip)
{
	if (srv->ip_counts == NULL)
		srv->ip_counts = xcalloc(IP_BUCKETS, sizeof(ip_count *));
	ip_count **pp = (ip_count **)srv->ip_counts + ip_hash(ip);
	while (*pp != NULL && strcmp((*pp)->ip, ip) != 0)
		pp = &(*pp)->next;
	return pp;
}

bool server_ip_acquire(server *srv, const char *ip)
{
	char key[ADDRKEY_MAX];
	addrkey_of(ip, key);
	ip_count **pp = ip_slot(srv, key);
	if (*pp == NULL) {
		*pp = xcalloc(1, sizeof(ip_count));
		snprintf((*pp)->ip, sizeof (*pp)->ip, "%s", key);
	}
	if ((*pp)->n >= srv->cfg->limits.connections_per_ip)
		return false;
	(*pp)->n++;
	return true;
}

void server_ip_release(server *srv, const char *ip)
{
	char key[ADDRKEY_MAX];
	addrkey_of(ip, key);
	ip_count **pp = ip_slot(srv, key);
	ip_count *e = *pp;
	if (e == NULL)
		return;
	if (--e->n <= 0) {
		*pp = e->next;
		free(e);
	}
}

/* Six lower-case letters and digits, random for each start of the server
 * (time and pid mixed in, should the random source fail). */
static void make_run_id(char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char raw[6];
	if (RAND_bytes(raw, sizeof raw) != 1) {
		uint64_t x = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid() << 20;
		for (size_t i = 0; i < sizeof raw; i++, x >>= 8)
			raw[i] = (unsigned char)x;
	}
	size_t i = 0;
	for (; i < sizeof raw && i + 1 < cap; i++)
		out[i] = digits[raw[i] % 36];
	out[i] = '\0';
}

const char *server_run_id(server *srv)
{
	if (srv->run_id[0] == '\0')
		make_run_id(srv->run_id, sizeof srv->run_id);
	return srv->run_id;
}

void server_session_opened(server *srv, session_link **list, session_link *link, void *owner,
                           const config_listener *lst, const char *ip, char sid[24])
{
	*link = (session_link){.next = *list, .owner = owner};
	if (*list != NULL)
		(*list)->prev = link;
	*list = link;
	snprintf(sid, 24, "%c%s.%llx", server_role_get(lst->role)->proto->sid_prefix, server_run_id(srv),
	         (unsigned long long)++srv->next_sid);
	srv->n_sessions++;
	/* a listener without a port is the server's own (the API's internal
	 * submission sessions): not a client connection for the metrics */
	link->role = lst->port > 0 ? lst->role : ROLE_COUNT;
	metrics_connection_opened(link->role);
	log_event(LOG_LVL_INFO, "accept", "sid=%s client=%s role=%s", sid, ip, config_role_name(lst->role));
}

void server_session_closed(server *srv, session_link **list, session_link *link, const char *sid,
                           const char *ip)
{
	if (link->prev != NULL)
		link->prev->next = link->next;
	else
		*list = link->next;
	if (link->next != NULL)
		link->next->prev = link->prev;
	if (link->role != ROLE_COUNT) /* the server's own holds no client connection */
		server_ip_release(srv, ip);
	srv->n_sessions--;
	metrics_connection_closed(link->role);
	log_event(LOG_LVL_INFO, "disconnect", "sid=%s client=%s", sid, ip);
}

/* Over a limit: the protocol's "try later", then close. */
static void refuse(int fd, listener_role role, bool per_ip)
{
	buf b;
	buf_init(&b, 512);
	if (server_role_get(role)->proto->busy(&b, per_ip)) {
		ssize_t w = send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w; /* best effort: the connection is refused either way */
	}
	buf_free(&b);
	close(fd);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	listener_ctx *lc = arg;
	server *srv = lc->srv;
	char ip[64] = "?";
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
	if (srv->n_sessions >= srv->cfg->limits.connections) {
		log_event(LOG_LVL_WARN, "refuse", "client=%s reason=%s", ip, "connection limit");
		refuse(fd, lc->lst->role, false);
		return;
	}
	if (!server_ip_acquire(srv, ip)) {
		log_event(LOG_LVL_WARN, "refuse", "client=%s reason=%s", ip, "per-address connection limit");
		refuse(fd, lc->lst->role, true);
		return;
	}
	server_role_get(lc->lst->role)->proto->start(srv, lc->lst, fd, ip);
}

/* A listening socket for one configured address; -1 with errno on failure.
 * IPv6 sockets are IPv6-only, so "0.0.0.0" and "::" can both be listed. */
static int listen_socket(const config_listener *cl)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t len;
	bool v6 = strchr(cl->address, ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cl->port);
		inet_pton(AF_INET6, cl->address, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cl->port);
		inet_pton(AF_INET, cl->address, &s4->sin_addr);
		len = sizeof(*s4);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	/* a large backlog: reconnecting clients must not be dropped */
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4096) != 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

bool server_bind(server *srv, char **err_r)
{
	const config *cfg = srv->cfg;
	srv->listeners = xcalloc((size_t)cfg->n_listeners, sizeof(*srv->listeners));
	listener_ctx *ctxs = xcalloc((size_t)cfg->n_listeners, sizeof(*ctxs));
	srv->listener_ctxs = ctxs;
	for (int i = 0; i < cfg->n_listeners; i++) {
		const config_listener *cl = &cfg->listeners[i];
		int fd = listen_socket(cl);
		if (fd < 0) {
			*err_r = xasprintf("cannot listen on %s port %d: %s", cl->address, cl->port,
			                   strerror(errno));
			return false;
		}
		ctxs[i] = (listener_ctx){.srv = srv, .lst = cl};
		const server_protocol *proto = server_role_get(cl->role)->proto;
		if (proto->attach != NULL) {
			if (!proto->attach(srv, cl, fd)) {
				close(fd);
				*err_r = xasprintf("cannot serve %s on %s port %d", config_role_name(cl->role),
				                   cl->address, cl->port);
				return false;
			}
			log_event(LOG_LVL_INFO, "listen", "role=%s address=%s port=%d",
			          config_role_name(cl->role), cl->address, cl->port);
			continue;
		}
		struct evconnlistener *l = evconnlistener_new(
			srv->base, on_accept, &ctxs[i], LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
		if (l == NULL) {
			close(fd);
			*err_r = xasprintf("cannot watch %s port %d", cl->address, cl->port);
			return false;
		}
		srv->listeners[srv->n_listeners++] = l;
		log_event(LOG_LVL_INFO, "listen", "role=%s address=%s port=%d",
		          config_role_name(cl->role), cl->address, cl->port);
	}
	return true;
}

void server_drain(server *srv, bool force)
{
	int n;
	const server_protocol *const *p = server_protocols(&n);
	for (int i = 0; i < n; i++)
		p[i]->drain(srv, force);
}

#define STOP_TICK_US 100000
#define STOP_TICKS_PER_SECOND 10

/* Every tenth of a second while stopping: goodbyes to the sessions that
 * have reached a command boundary since; leave the loop when none is left
 * or the grace is over (and the last goodbyes had a moment to leave). */
static void on_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	server *srv = arg;
	int grace = SERVER_STOP_GRACE * STOP_TICKS_PER_SECOND;
	srv->stop_ticks++;
	server_drain(srv, srv->stop_ticks >= grace);
	if (srv->n_sessions == 0 || srv->stop_ticks >= grace + 3) {
		log_event(LOG_LVL_INFO, "stop", "sessions_left=%d", srv->n_sessions);
		event_del(srv->stop_tick);
		event_base_loopexit(srv->base, NULL);
	}
}

void server_stop(server *srv)
{
	if (srv->stopping) {
		/* asked again: no more grace */
		srv->stop_ticks = SERVER_STOP_GRACE * STOP_TICKS_PER_SECOND - 1;
		return;
	}
	srv->stopping = true;
	server_close_listeners(srv);
	server_drain(srv, false);
	srv->stop_tick = event_new(srv->base, -1, EV_PERSIST, on_stop_tick, srv);
	struct timeval every = {0, STOP_TICK_US};
	if (srv->stop_tick == NULL || event_add(srv->stop_tick, &every) != 0)
		event_base_loopexit(srv->base, NULL); /* cannot wait: stop now */
}

void server_free_sessions(server *srv)
{
	if (srv->stop_tick != NULL)
		event_free(srv->stop_tick);
	srv->stop_tick = NULL;
	int n;
	const server_protocol *const *p = server_protocols(&n);
	for (int i = 0; i < n; i++)
		p[i]->free_all(srv);
	strlist_free(&srv->pop3_locks);
}

void server_close_listeners(server *srv)
{
	for (int i = 0; i < srv->n_listeners; i++) {
		evconnlistener_free(srv->listeners[i]);
	}
	srv->n_listeners = 0;
	free(srv->listeners);
	srv->listeners = NULL;
	free(srv->listener_ctxs);
	srv->listener_ctxs = NULL;
}
