/* router.h — matching a request's method and path against the route table:
 * literal segments must be equal, a {name} segment takes one non-empty
 * segment.  Pure (no I/O), unit-tested. */
#ifndef YUBIN_HTTP_ROUTER_H
#define YUBIN_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

#define ROUTER_MAX_PARAMS 4

typedef struct router_params {
	size_t n;
	char *name[ROUTER_MAX_PARAMS];   /* malloc'd */
	char *value[ROUTER_MAX_PARAMS];  /* malloc'd, percent-decoded */
} router_params;
void router_params_free(router_params *p);

typedef enum router_result {
	ROUTER_FOUND,
	ROUTER_NO_PATH,       /* 404 */
	ROUTER_NO_METHOD,     /* 405: the path exists with other methods */
	ROUTER_BAD_PATH,      /* 400: a segment does not decode (%00, bad %xx) */
} router_result;

/* Find method + path (the raw path of the request line, without the
 * query) in routes[0..n).  FOUND: *route_r and params (the caller frees).
 * NO_METHOD: allow_r (capacity cap) gets the methods the path has, as
 * "GET, POST" for the Allow field. */
router_result router_match(const http_route *routes, size_t n, const char *method, const char *path,
                           const http_route **route_r, router_params *params, char *allow_r,
                           size_t cap);

/* Decode %xx escapes of one segment or query value into a malloc'd
 * string; NULL when an escape is malformed or decodes to NUL.  plus: '+'
 * means a space (form and query encoding). */
char *router_unescape(const char *s, size_t len, bool plus);

#endif
