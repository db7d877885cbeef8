/* http.h — what a handler of the HTTPS listener sees: one request, its
 * parts, and the ways to answer it.  The listener (http/server.c: libevent's
 * evhttp over OpenSSL bufferevents, HTTP/1.1 keep-alive, the body bounded
 * by http.max_body with 413) finds the route in one table (http/routes.c),
 * runs the route's access check, then its handler.
 *
 * A handler answers exactly once, now or later (after a worker job, a DNS
 * look-up, an internal SMTP submission): every reply function ends the
 * request.  When the client goes away first, the request stays valid until
 * it is answered; the answer is then dropped.  Everything runs on the event
 * loop; blocking work (SQLite queries, hashing) goes to srv->wk. */
#ifndef YUBIN_HTTP_H
#define YUBIN_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct server;
typedef struct http_req http_req;

typedef void http_handler(http_req *r);
/* May the request go on?  False when the check has answered it (401,
 * 403, a redirect to the log-in page, ...) or will answer it later (the
 * throttle's delay before a 401: it then registers http_req_on_abort).
 * True only at once: a request that goes on never waited. */
typedef bool http_access(http_req *r);

typedef struct http_route {
	const char *method;       /* "GET", "POST", "DELETE", ... */
	const char *path;         /* "/v1/messages/{id}": {name} matches one
	                           * non-empty segment, read with http_req_param;
	                           * a leading '~' ("~/a/b"): the literal segments
	                           * match in any ASCII case (Outlook asks for
	                           * /Autodiscover/Autodiscover.xml) */
	http_access *access;      /* NULL: anyone */
	http_handler *handler;
} http_route;

/* ---- The request ---- */
struct server *http_req_server(http_req *r);
const char *http_req_method(http_req *r);
const char *http_req_path(http_req *r);          /* decoded path, no query */
const char *http_req_param(http_req *r, const char *name);   /* {name} of the route */
const char *http_req_query(http_req *r, const char *name);   /* ?name=, decoded; NULL absent */
const char *http_req_header(http_req *r, const char *name);  /* NULL when absent */
const char *http_req_ip(http_req *r);            /* the client's address */
/* The whole body (bounded by http.max_body; NUL-terminated for
 * convenience, len excludes the NUL). */
const char *http_req_body(http_req *r, size_t *len_r);
/* A field of an application/x-www-form-urlencoded body, decoded; NULL
 * when absent or when the body is not a form. */
const char *http_req_form(http_req *r, const char *name);
/* What an access check found out about the caller (an API key's name, a
 * dashboard user), for handlers and logs: set by the check. */
void http_req_set_principal(http_req *r, const char *kind, const char *name, void *data);
const char *http_req_principal(http_req *r);     /* "key:NAME", "user:ADDR", or NULL */
void *http_req_principal_data(http_req *r);
/* The request's id for log lines (Hxxxx.n, like session ids). */
const char *http_req_id(http_req *r);

/* A handler that answers later keeps state (a job, an internal SMTP
 * session) that points at r.  If the server stops for good before it has
 * answered, fn(arg) is called once: the owner lets go of that state and
 * must not answer; the request is then ended with 503. */
void http_req_on_abort(http_req *r, void (*fn)(void *arg), void *arg);

/* ---- Answers (each ends the request) ---- */
/* Add a response header first (Set-Cookie, Location, Idempotency-Replayed...). */
void http_add_header(http_req *r, const char *name, const char *value);
void http_reply(http_req *r, int status, const char *content_type, const void *body, size_t len);
/* application/json; takes j. */
void http_reply_json(http_req *r, int status, json_t *j);
/* RFC 9457 problem details (application/problem+json): type
 * "/v1/problems/<slug>", title, status, detail, and "field" (a JSON
 * pointer into the request body, or the parameter's name) when one is at
 * fault.  detail and field may be NULL. */
void http_problem(http_req *r, int status, const char *slug, const char *title,
                  const char *detail, const char *field);
/* 303 See Other to location (forms). */
void http_redirect(http_req *r, const char *location);

#endif
