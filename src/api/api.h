/* api.h — the HTTPS API's sending side as the server and the route table
 * see it (docs/SERVICE.md, "Sending from an application"; docs/openapi.json):
 * its state on the server (srv->api), the Bearer-key access check, and the
 * handlers of POST /v1/messages, GET /v1/messages/{id} and
 * GET /v1/openapi.json. */
#ifndef YUBIN_API_API_H
#define YUBIN_API_API_H

#include <stdbool.h>

#include "http/http.h"

struct server;

/* Open the key store (data_dir/apikeys.db, made when missing) and hang the
 * state on srv->api.  False with *err_r (malloc'd) when it cannot. */
bool api_open(struct server *srv, char **err_r);
/* After the loop, the sessions and the workers have stopped. */
void api_close(struct server *srv);

/* The access check of the API's routes (access.c): "Authorization: Bearer
 * KEY" for a key that exists and is not revoked.  Without one: 401 with
 * WWW-Authenticate: Bearer, after the delay the failed-login throttle
 * (auth/throttle.h) gives the client's address; an address locked out by
 * its failures gets 429 with Retry-After.  With one: the caller is the
 * key ("key:NAME"), and true.  The look-up is one indexed read of a small
 * table in WAL mode on a connection of the loop's own (see keys.h), so
 * the check does not wait for anything. */
bool api_key_access(http_req *r);

/* POST /v1/messages (messages.c) */
void api_messages_post(http_req *r);
/* GET /v1/messages/{id} (status.c) */
void api_messages_get(http_req *r);
/* GET /v1/openapi.json (openapi.c), no key needed */
void api_openapi(http_req *r);

#endif
