/* server.h — the https listener as the network layer sees it: the
 * protocol entry of the role table (net/roles.c).  Everything a handler
 * needs is in http.h. */
#ifndef YUBIN_HTTP_SERVER_H
#define YUBIN_HTTP_SERVER_H

#include <stdbool.h>

#include "lib/config.h"
#include "net/roles.h"

struct server;
typedef struct http_server http_server;

/* Serve HTTPS on the listening socket fd of lst (the first call makes the
 * listener's state, srv->http).  False when libevent cannot. */
bool http_server_attach(struct server *srv, const config_listener *lst, int fd);

extern const server_protocol http_protocol;

#endif
