/* mtasts_serve.h — GET /.well-known/mta-sts.txt on the https listener
 * (route in http/routes.c): our MTA-STS policy (msgauth/mtastsown.h) for a
 * request whose Host is mta-sts.DOMAIN with DOMAIN one of ours (RFC 8461
 * 3.3: text/plain, status 200, never a redirect); 404 for any other Host. */
#ifndef YUBIN_HTTP_MTASTS_SERVE_H
#define YUBIN_HTTP_MTASTS_SERVE_H

#include "http/http.h"

void mtasts_serve_policy(http_req *r);

#endif
