/* routes.c — the one table of every HTTPS route: method, path, who may
 * call it (the access check) and its handler.  A new endpoint is one row
 * here; the handlers live in their modules (api/, web/, metrics/). */
#include "http/internal.h"

#include "http/health.h"
#include "api/api.h"
#include "api/events.h"
#include "api/suppress_api.h"
#include "api/webhooks_api.h"

static const http_route routes[] = {
	{"GET", "/v1/health", NULL, http_health},
	{"POST", "/v1/messages", api_key_access, api_messages_post},
	{"GET", "/v1/events", api_key_access, events_get},
	{"GET", "/v1/suppressions", api_key_access, suppress_api_list},
	{"POST", "/v1/suppressions", api_key_access, suppress_api_add},
	{"GET", "/v1/suppressions/{address}", api_key_access, suppress_api_get},
	{"DELETE", "/v1/suppressions/{address}", api_key_access, suppress_api_del},
	{"GET", "/v1/webhooks", api_key_access, webhooks_api_list},
	{"POST", "/v1/webhooks", api_key_access, webhooks_api_add},
	{"DELETE", "/v1/webhooks/{id}", api_key_access, webhooks_api_del},
	{"GET", "/v1/messages/{id}", api_key_access, api_messages_get},
	{"GET", "/v1/openapi.json", NULL, api_openapi},
};

const http_route *http_routes(size_t *n_r)
{
	*n_r = sizeof routes / sizeof routes[0];
	return routes;
}
