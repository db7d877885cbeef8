/* roles.h — the table of listener roles: for each role a listener can have
 * (smtp, submission, submissions, pop3, pop3s, imap, imaps, https, managesieve), the protocol
 * that serves it (its session constructor, its "too busy" line, its
 * shutdown steps), the ports it usually listens on and how TLS starts.
 * The server (server.c) dispatches every accepted connection through this
 * table and knows no protocol's header; a new protocol is one entry here. */
#ifndef YUBIN_NET_ROLES_H
#define YUBIN_NET_ROLES_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/config.h"

struct server;

/* How a connection on the role gets TLS. */
typedef enum role_tls {
	ROLE_TLS_STARTTLS,   /* plain at first; the client may upgrade (STARTTLS, STLS) */
	ROLE_TLS_IMPLICIT,   /* TLS from the first byte */
} role_tls;

/* One protocol's entry points, shared by its roles. */
typedef struct server_protocol {
	const char *name;    /* "smtp", "pop3", "imap" */
	char sid_prefix;     /* first letter of its session ids */
	/* Take over an accepted connection fd from ip on listener lst. */
	void (*start)(struct server *srv, const config_listener *lst, int fd, const char *ip);
	/* Or, for a protocol that accepts its own connections (HTTP: evhttp),
	 * take over the listening socket fd of lst; false when it cannot. */
	bool (*attach)(struct server *srv, const config_listener *lst, int fd);
	/* Append the protocol's "too many connections, try later" line; per_ip
	 * when the client's own address is over its limit. */
	bool (*busy)(buf *out, bool per_ip);
	/* Shutdown: say goodbye to idle sessions; later free all that are left. */
	void (*drain)(struct server *srv, bool force);
	void (*free_all)(struct server *srv);
} server_protocol;

typedef struct server_role {
	listener_role role;
	const server_protocol *proto;
	role_tls tls;
	int default_port;    /* the IANA port; 0 when it has none */
	int alt_port;        /* a common second port (2525), or 0 */
} server_role;

/* The entry for role (every listener_role has one). */
const server_role *server_role_get(listener_role role);
/* True when connections on role start with TLS. */
bool server_role_implicit_tls(listener_role role);

/* The distinct protocols, for shutdown: *n_r entries. */
const server_protocol *const *server_protocols(int *n_r);

#endif
