/* health.h — GET /v1/health: is the server up and taking mail?  For load
 * balancers and monitoring; needs no key and says nothing secret. */
#ifndef YUBIN_HTTP_HEALTH_H
#define YUBIN_HTTP_HEALTH_H

#include "http/http.h"

void http_health(http_req *r);

#endif
