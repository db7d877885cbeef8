/* control.h — the admin control socket (data_dir/control.sock, mode 0600,
 * owned by the service user): how `yubin queue flush` reaches the running
 * server.  One request line, one reply line ("ok ..." or "error ...").
 * Requests: "flush" (every deferred message), "flush <qid>", "hold <qid>",
 * "release <qid>", "bounce <qid>", "delete <qid>" (delivery/qadmin.h does
 * them, for the dashboard too); "tlsrpt-send <day>" (TLS-RPT reports of
 * the UTC day starting at that Unix time). */
#ifndef YUBIN_CONTROL_H
#define YUBIN_CONTROL_H

#include <event2/event.h>
#include <stdbool.h>

#include "delivery/outbound.h"
#include "lib/config.h"

typedef struct control control;

/* Listen on the control socket; NULL with *err_r on failure. */
control *control_open(struct event_base *base, const config *cfg, outbound *ob, queue *q, char **err_r);
void control_close(control **c);

/* Client side: send one request to the running server and print its
 * reply.  Returns 0 for "ok", 1 otherwise (after printing why). */
int control_request(const config *cfg, const char *request);
/* The same, but -1 (errno set, nothing printed) when no server answers on
 * the socket, so the caller can do the work itself. */
int control_try_request(const config *cfg, const char *request);

#endif
