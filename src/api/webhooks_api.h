/* webhooks_api.h — webhook endpoints over HTTP:
 *   GET    /v1/webhooks        {"webhooks": [{"id": "wh_3" | null, "url", "events": [...],
 *                               "source": "api" | "config", "created"}]}
 *   POST   /v1/webhooks        {"url": "https://...", "events": [...]}: 201 with the entry
 *                               and its "secret" (shown this once; "whsec_" + base64)
 *   DELETE /v1/webhooks/{id}   204, or 404 (the configuration's cannot be deleted here)
 * One list for the whole server, like the events it sends.  An endpoint
 * registered here gets events from the next one the follower reads on;
 * deleted, its waiting deliveries are dropped.  The work runs on srv->wk. */
#ifndef YUBIN_API_WEBHOOKS_API_H
#define YUBIN_API_WEBHOOKS_API_H

#include "http/http.h"

void webhooks_api_list(http_req *r);
void webhooks_api_add(http_req *r);
void webhooks_api_del(http_req *r);

#endif
