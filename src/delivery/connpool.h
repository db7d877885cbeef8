/* connpool.h — outbound connection slots and idle connections.  A slot is
 * one connection to a destination (a recipient domain, or the relay host):
 * at most delivery.max_connections are open overall and at most
 * delivery.max_per_destination to one destination.  Who wants a slot when
 * none is free waits in line (first come, first served within a
 * destination; destinations take turns).  A connection counts until its
 * QUIT is answered.  A connection whose transaction went well stays open
 * for a moment (CONNPOOL_IDLE seconds) and goes to the next message for the
 * same destination, which then needs no look-up and no handshake; while
 * all slots are taken, a destination holding more than an even share gives
 * one up to a destination that has none. */
#ifndef YUBIN_CONNPOOL_H
#define YUBIN_CONNPOOL_H

#include <event2/event.h>
#include <stdbool.h>

#include "delivery/smtpc.h"

#define CONNPOOL_IDLE 2        /* seconds an unused connection stays open */
#define CONNPOOL_REUSE 300     /* seconds after which a connection is not reused */

typedef struct connpool connpool;
/* A slot for the destination: idle is a connection to use, or NULL for a
 * new one. */
typedef void connpool_grant_fn(void *arg, smtpc_conn *idle);

connpool *connpool_new(struct event_base *base, int max_total, int max_per_dest);
/* Closes every connection at once (shutdown). */
void connpool_free(connpool **cp);
/* A slot for dest now (true, *idle set as for grant), or a place in line
 * (false: grant(arg, ...) runs later, on the loop).  One slot per arg. */
bool connpool_acquire(connpool *cp, const char *dest, connpool_grant_fn *grant, void *arg,
                      smtpc_conn **idle);
/* Give the slot back.  conn: the connection, still good, to keep for the
 * next message (NULL: it is closed, or none was made). */
void connpool_release(connpool *cp, const char *dest, smtpc_conn *conn);
/* Close a connection the holder of a slot for dest will not keep (it goes
 * on with a new one on the same slot); it counts until it is gone. */
void connpool_discard(connpool *cp, const char *dest, smtpc_conn *conn);
/* Say QUIT on every idle connection now (the route changed: they lead
 * where mail no longer goes); returns how many. */
size_t connpool_close_idle(connpool *cp);
/* Leave the line without a slot (shutdown of the one waiting). */
void connpool_cancel(connpool *cp, void *arg);

#endif
