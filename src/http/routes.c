/* routes.c — the one table of every HTTPS route: method, path, who may
 * call it (the access check) and its handler.  A new endpoint is one row
 * here; the handlers live in their modules (api/, web/, metrics/). */
#include "http/internal.h"

#include "http/health.h"

static const http_route routes[] = {
	{"GET", "/v1/health", NULL, http_health},
};

const http_route *http_routes(size_t *n_r)
{
	*n_r = sizeof routes / sizeof routes[0];
	return routes;
}
