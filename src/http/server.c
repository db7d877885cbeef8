/* server.c — the https listener: libevent's evhttp over OpenSSL
 * bufferevents (the certificate of every other role), HTTP/1.1 with
 * keep-alive, bounded heads (http.max_header) and bodies (http.max_body,
 * 413), an idle timeout (http.timeout); the connection limits of the
 * other protocols (limits.connections, connections_per_ip) counted from a
 * connection's first request; each request matched in the route table
 * (routes.c), its access check run, then its handler.  At stop, no new
 * connection is taken, requests in flight are answered, then every
 * connection closes.  Every connection that evhttp closes lingers
 * (net/linger.h) so that its last answer reaches a client still sending.
 * Owns no route and no handler. */
#include "http/server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "metrics/metrics.h"
#include "net/linger.h"
#include "net/server.h"

/* The lingering close: how many sockets at once, for how long, how many
 * bytes read from each (RFC 9112 section 9.6). */
#define HTTP_LINGER_MAX 256
#define HTTP_LINGER_MS 2000
#define HTTP_LINGER_BYTES (1024 * 1024)

/* Every connection, from its creation (make_tls_bev) to its close
 * (conn_closed); counted against the limits from its first request. */
typedef struct http_conn {
	struct http_conn *next;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;  /* NULL until adopted */
	bool counted;
	char ip[64];
	http_server *hs;
} http_conn;

static struct bufferevent *make_tls_bev(struct event_base *base, void *arg)
{
	http_server *hs = arg;
	SSL *ssl = SSL_new(hs->srv->tls);
	if (ssl == NULL)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL)
		return NULL;
	/* evhttp makes the connection around bev after this returns, and
	 * tells us of it nowhere; conn_adopt finds it before bev's first I/O.
	 * (evhttp fails to make it only for want of memory, and would leave
	 * a freed bev here: a risk taken, as the rest of the server does not
	 * go on without memory either.) */
	http_conn *hc = xcalloc(1, sizeof *hc);
	hc->bev = bev;
	hc->hs = hs;
	hc->next = hs->newborn;
	hs->newborn = hc;
	event_active(hs->adopt_ev, EV_TIMEOUT, 0);
	return bev;
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	http_conn *hc = arg;
	http_server *hs = hc->hs;
	for (http_conn **p = &hs->conns; *p != NULL; p = &(*p)->next) {
		if (*p == hc) {
			*p = hc->next;
			break;
		}
	}
	if (hc->counted) {
		server_ip_release(hs->srv, hc->ip);
		hs->srv->n_sessions--;
		metrics_connection_closed(ROLE_HTTPS);
	}
	/* evhttp is about to free the bufferevent, which closes the fd with
	 * the client's input perhaps unread (a reset that can overtake the
	 * answer): keep the socket through a descriptor of our own.  The
	 * answer's TLS records are in the socket already. */
	evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd >= 0 && hs->linger != NULL)
		linger_set_add(hs->linger, fcntl(fd, F_DUPFD_CLOEXEC, 0));
	free(hc);
}

/* Watch the close of every connection made since the last call: evhttp
 * set itself as the callback argument of the connection's bufferevent
 * (libevent 2.1 http.c, evhttp_connection_base_bufferevent_new), the one
 * way to reach a connection before its first request. */
static void conn_adopt(http_server *hs)
{
	while (hs->newborn != NULL) {
		http_conn *hc = hs->newborn;
		hs->newborn = hc->next;
		bufferevent_event_cb eventcb = NULL;
		void *cbarg = NULL;
		bufferevent_getcb(hc->bev, NULL, NULL, &eventcb, &cbarg);
		struct evhttp_connection *evcon = cbarg;
		if (evcon == NULL || eventcb == NULL || evhttp_connection_get_bufferevent(evcon) != hc->bev) {
			free(hc);
			continue;
		}
		hc->evcon = evcon;
		hc->next = hs->conns;
		hs->conns = hc;
		evhttp_connection_set_closecb(evcon, conn_closed, hc);
	}
}

static void on_adopt(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_adopt(arg);
}

/* Count evcon on its first request; false when a limit says no. */
static bool conn_admit(http_server *hs, struct evhttp_connection *evcon, const char *ip)
{
	conn_adopt(hs);
	http_conn *hc = hs->conns;
	while (hc != NULL && hc->evcon != evcon)
		hc = hc->next;
	if (hc == NULL) {
		/* not adopted (a libevent other than 2.1): watched from its
		 * first request instead */
		hc = xcalloc(1, sizeof *hc);
		hc->evcon = evcon;
		hc->hs = hs;
		hc->next = hs->conns;
		hs->conns = hc;
		evhttp_connection_set_closecb(evcon, conn_closed, hc);
	}
	if (hc->counted)
		return true;
	server *srv = hs->srv;
	if (srv->n_sessions >= srv->cfg->limits.connections || !server_ip_acquire(srv, ip)) {
		log_event(LOG_LVL_WARN, "refuse", "client=%s role=https reason=%s", ip, "connection limit");
		return false;
	}
	srv->n_sessions++;
	metrics_connection_opened(ROLE_HTTPS);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	metrics_tls_seen(METRICS_INBOUND, ssl ? SSL_get_version(ssl) : NULL);
	/* no Nagle: an answer leaves in more than one TLS record, and the
	 * last would wait for the client's delayed ACK (40 ms a request) */
	int one = 1;
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	hc->counted = true;
	snprintf(hc->ip, sizeof hc->ip, "%s", ip);
	return true;
}

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* Every request: limits, route, access, handler. */
static void on_request(struct evhttp_request *er, void *arg)
{
	http_server *hs = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(er);
	char *peer = NULL;
	ev_uint16_t port = 0;
	evhttp_connection_get_peer(evcon, &peer, &port);
	char ip[64];
	snprintf(ip, sizeof ip, "%s", peer ? peer : "?");
	if (strncmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.') != NULL)
		memmove(ip, ip + 7, strlen(ip + 7) + 1);

	const char *method = method_name(evhttp_request_get_command(er));
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(er);
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	char *path = raw_path ? router_unescape(raw_path, strlen(raw_path), false) : NULL;
	http_req *r = http_req_new(hs, er, ip, method, path ? path : xstrdup("?"));
	snprintf(r->id, sizeof r->id, "H%s.%llx", server_run_id(hs->srv), (unsigned long long)++hs->next_req);

	if (hs->draining || !conn_admit(hs, evcon, ip)) {
		http_add_header(r, "Connection", "close");
		http_add_header(r, "Retry-After", "5");
		http_problem(r, 503, "unavailable", "The server is busy or stopping; try again later", NULL,
		             NULL);
		return;
	}
	if (path == NULL || raw_path[0] != '/') {
		http_problem(r, 400, "bad-path", "The request path is malformed", NULL, NULL);
		return;
	}
	size_t n;
	const http_route *routes = http_routes(&n), *route = NULL;
	char allow[64];
	switch (router_match(routes, n, method, raw_path, &route, &r->params, allow, sizeof allow)) {
	case ROUTER_FOUND:
		break;
	case ROUTER_NO_PATH:
		http_problem(r, 404, "not-found", "No such resource", NULL, NULL);
		return;
	case ROUTER_NO_METHOD:
		http_add_header(r, "Allow", allow);
		http_problem(r, 405, "method-not-allowed", "This resource does not take that method",
		             NULL, NULL);
		return;
	case ROUTER_BAD_PATH:
		http_problem(r, 400, "bad-path", "The request path is malformed", NULL, NULL);
		return;
	}
	if (route->access != NULL && !route->access(r))
		return;
	route->handler(r);
}

static http_server *http_server_new(server *srv)
{
	http_server *hs = xcalloc(1, sizeof *hs);
	hs->srv = srv;
	hs->eh = evhttp_new(srv->base);
	hs->adopt_ev = event_new(srv->base, -1, 0, on_adopt, hs);
	if (hs->eh == NULL || hs->adopt_ev == NULL) {
		if (hs->eh != NULL)
			evhttp_free(hs->eh);
		if (hs->adopt_ev != NULL)
			event_free(hs->adopt_ev);
		free(hs);
		return NULL;
	}
	hs->linger = linger_set_new(srv->base, HTTP_LINGER_MAX, HTTP_LINGER_MS, HTTP_LINGER_BYTES);
	const config_http *c = &srv->cfg->http;
	evhttp_set_bevcb(hs->eh, make_tls_bev, hs);
	evhttp_set_max_body_size(hs->eh, (ev_ssize_t)c->max_body);
	evhttp_set_max_headers_size(hs->eh, c->max_header);
	evhttp_set_timeout(hs->eh, c->timeout);
	evhttp_set_allowed_methods(hs->eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	                                       EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
	                                       EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(hs->eh, "text/plain; charset=utf-8");
	evhttp_set_gencb(hs->eh, on_request, hs);
	return hs;
}

bool http_server_attach(server *srv, const config_listener *lst, int fd)
{
	if (srv->http == NULL && (srv->http = http_server_new(srv)) == NULL)
		return false;
	http_server *hs = srv->http;
	struct evhttp_bound_socket *b = evhttp_accept_socket_with_handle(hs->eh, fd);
	if (b == NULL)
		return false;
	hs->bound = xrealloc(hs->bound, (size_t)(hs->n_bound + 1) * sizeof *hs->bound);
	hs->bound[hs->n_bound++] = b;
	return true;
}

/* Stop: take no new connection; once no request is in flight (or when
 * forced), close every connection (evhttp_free), which ends the
 * keep-alive ones that sit idle. */
static void http_drain(server *srv, bool force)
{
	http_server *hs = srv->http;
	if (hs == NULL || hs->eh == NULL)
		return;
	hs->draining = true;
	for (int i = 0; i < hs->n_bound; i++)
		evhttp_del_accept_socket(hs->eh, hs->bound[i]);
	hs->n_bound = 0;
	if (hs->live != NULL && !force)
		return;
	/* requests still unanswered lose their connection: they stay valid
	 * until their handler answers (into nothing) */
	for (http_req *r = hs->live; r != NULL; r = r->next)
		r->er = NULL;
	conn_adopt(hs); /* connections made this turn close like the others */
	evhttp_free(hs->eh);
	hs->eh = NULL;
}

static void http_free_all(server *srv)
{
	http_server *hs = srv->http;
	if (hs == NULL)
		return;
	http_drain(srv, true);
	while (hs->live != NULL) {
		http_req *r = hs->live;
		if (r->on_abort != NULL) {
			void (*fn)(void *) = r->on_abort;
			r->on_abort = NULL;
			fn(r->abort_arg);
		}
		http_problem(r, 503, "unavailable", "The server stopped", NULL, NULL);
	}
	/* the lingering connections close now, unread input or not */
	linger_set_free(&hs->linger);
	event_free(hs->adopt_ev);
	free(hs->bound);
	free(hs);
	srv->http = NULL;
}

static bool http_busy(buf *out, bool per_ip)
{
	return buf_puts(out, "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
	                     "Content-Length: 0\r\nRetry-After: 5\r\n\r\n");
}

const server_protocol http_protocol = {
	.name = "http",
	.sid_prefix = 'H',
	.start = NULL,
	.attach = http_server_attach,
	.busy = http_busy,
	.drain = http_drain,
	.free_all = http_free_all,
};
