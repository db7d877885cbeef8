/* internal.h — what the listener (server.c) and the request API (req.c)
 * share: the request object and the listener's state.  Handlers see only
 * http.h. */
#ifndef YUBIN_HTTP_INTERNAL_H
#define YUBIN_HTTP_INTERNAL_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>

#include "http/http.h"
#include "http/router.h"
#include "lib/strutil.h"

struct http_server;

struct http_req {
	struct http_req *prev, *next;     /* the listener's requests in flight */
	struct http_server *hs;
	struct evhttp_request *er;        /* NULL once answered */
	char id[32];
	char ip[64];
	char *method;
	char *path;                       /* decoded */
	router_params params;
	struct evkeyvalq query;
	bool query_parsed;
	/* name, value, name, value...: not an evkeyvalq, whose add refuses
	 * values with line breaks (header injection) and would drop every
	 * multi-line textarea */
	strlist form;
	bool form_parsed;
	char *body;                       /* pulled up on first use */
	size_t body_len;
	char *principal;                  /* "key:NAME", "user:ADDR" */
	void *principal_data;
	struct timespec started;
	void (*on_abort)(void *arg);      /* http_req_on_abort */
	void *abort_arg;
};

/* The https listener (one for every https listener of the config). */
typedef struct http_server {
	struct server *srv;
	struct evhttp *eh;
	struct evhttp_bound_socket **bound;
	int n_bound;
	struct http_conn *conns;          /* connections watched (server.c) */
	struct http_conn *newborn;        /* made, not yet adopted (server.c) */
	struct event *adopt_ev;           /* adopts the newborn on the next turn */
	struct linger_set *linger;        /* closed connections still read from */
	struct http_req *live;            /* requests not answered yet */
	uint64_t next_req;
	bool draining;
} http_server;

/* req.c: make the request object for er (path already checked). */
http_req *http_req_new(http_server *hs, struct evhttp_request *er, const char *ip,
                       const char *method, char *path);
/* The route table (routes.c). */
const http_route *http_routes(size_t *n_r);

#endif
