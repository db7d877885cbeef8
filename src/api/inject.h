/* inject.h — a message of the HTTPS API handed to the SMTP server as SMTP
 * submission, so that it meets the same policy, submission hygiene, DKIM
 * signing and queue: a bufferevent pair (in memory: no socket, no system
 * call), one end an internal submission session
 * (smtp_session_start_internal) authenticated as the API key, the other
 * driven by the SMTP client of delivery (delivery/smtpc.h: EHLO once, then
 * per message MAIL with SIZE, RCPT for each recipient and BDAT LAST,
 * pipelined).  Sessions are kept open between messages, one transaction at
 * a time, in the slots of a delivery/connpool.h pool on srv->api: one
 * destination per client address, key and key domains, at most
 * api.sessions_per_key of them and api.sessions in all (more requests wait
 * in line), closed after CONNPOOL_IDLE seconds unused.  A kept session
 * found broken before the server answered anything is dropped and the
 * message tried once more on a new one; once the body may have been taken,
 * never.  The outcome is the server's replies, per recipient; what they
 * mean over HTTP is the caller's (messages.c). */
#ifndef YUBIN_API_INJECT_H
#define YUBIN_API_INJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp/session.h"

typedef struct api_inject api_inject;

typedef struct inject_outcome {
	bool started;            /* false: no session (the pair could not be
	                          * made, or the server is stopping) */
	size_t n;                /* recipients, as given */
	const int *codes;        /* per recipient: the deciding reply code */
	char *const *replies;    /* ... and its text ("250 2.0.0 Ok: queued as X") */
	const char *qid;         /* the queue id of the final 250, or NULL */
} inject_outcome;

typedef void inject_done_fn(void *arg, const inject_outcome *o);

/* Submit body (LF line ends) from sender to rcpts as id (with MAIL ...
 * REQUIRETLS when requiretls, RFC 8689), for a client at ip, on a kept session of the same ip and id, or a new one, or after
 * waiting for one.  done runs on the loop, later (never from inside this
 * call), unless the injection is cancelled first.  The strings need not
 * outlive the call.  srv->api->pool must exist. */
api_inject *api_inject_start(server *srv, const char *ip, const smtp_identity *id, const char *sender,
                             const char *const *rcpts, size_t n, const char *body, size_t len,
                             bool requiretls, inject_done_fn *done, void *arg);
/* Stop it without calling done (the server stops): its place in line, or
 * its session (closed, not kept), is given up. */
void api_inject_cancel(api_inject **inj);

/* The queue id in a final reply "250 2.0.0 Ok: queued as ID" (malloc'd),
 * or NULL. */
char *api_inject_qid(const char *reply);

#endif
