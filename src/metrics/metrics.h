/* metrics.h — the server's counters, gauges and histograms, and their
 * rendering as Prometheus text (GET /metrics, metrics/expo.h).
 *
 * The counters are process-wide, like the log: an increment is one line
 * at the place where the event happens, from any thread (the event loop,
 * a delivery worker) and any layer (the protocols, the queue, delivery),
 * most of which hold no server context.  That is the one reason this
 * module keeps global state; every value is a C11 atomic, so an increment
 * is one relaxed atomic add and never takes a lock.  Every label comes
 * from a small fixed set (listener roles, destinations, TLS versions,
 * protocols, policy decisions): memory is fixed, whatever clients send.
 *
 * Gauges that other modules know better (the queue by state, the webhook
 * backlog) are computed when scraped: the owner registers a function,
 * called on the event loop at each scrape (so it may read loop-only
 * state, and must be cheap: a count it keeps, never a directory scan).
 *
 * This module includes only lib/: it must not know SMTP, IMAP, POP3, HTTP
 * or the queue. */
#ifndef YUBIN_METRICS_H
#define YUBIN_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/config.h"

/* Where a recipient's message went. */
typedef enum metrics_dest {
	METRICS_LOCAL,    /* into a Maildir here */
	METRICS_REMOTE,   /* to another server (MX or relay) */
	METRICS_DEST_COUNT
} metrics_dest;

/* Which side made the TLS connection. */
typedef enum metrics_dir {
	METRICS_INBOUND,  /* accepted by a listener */
	METRICS_OUTBOUND, /* made by remote delivery */
	METRICS_DIR_COUNT
} metrics_dir;

/* Who asked for a log-in. */
typedef enum metrics_proto {
	METRICS_SMTP,
	METRICS_IMAP,
	METRICS_POP3,
	METRICS_HTTPS,    /* an API key, or a dashboard log-in */
	METRICS_MANAGESIEVE,
	METRICS_PROTO_COUNT
} metrics_proto;

/* Gauges computed at scrape time by the module that knows them. */
typedef enum metrics_gauge {
	METRICS_QUEUE_ACTIVE,    /* messages being delivered or due now */
	METRICS_QUEUE_DEFERRED,  /* messages waiting for their next attempt */
	METRICS_QUEUE_HELD,      /* messages held (policy or `yubin queue hold`) */
	METRICS_WEBHOOK_BACKLOG, /* webhook events not yet delivered */
	METRICS_GAUGE_COUNT
} metrics_gauge;

/* ---- Events (any thread) ---- */

/* A message was accepted (queued durably, its 250 or 201 is going out)
 * through a listener of this role. */
void metrics_received(listener_role role);
/* One recipient's copy was delivered; accepted is the message's arrival
 * time (whole seconds, as the queue keeps it): the delivery latency
 * histogram observes now - accepted. */
void metrics_delivered(metrics_dest d, time_t accepted);
/* One recipient's delivery failed for now and will be tried again. */
void metrics_deferred(metrics_dest d);
/* One recipient's delivery failed for good (a bounce goes to the sender,
 * or the lifetime ran out). */
void metrics_bounced(metrics_dest d);
/* A session of this role began / ended (server_session_opened/closed);
 * ROLE_COUNT (no listener: the server's own) is not counted. */
void metrics_connection_opened(listener_role role);
void metrics_connection_closed(listener_role role);
/* A TLS connection was established with this protocol version, as
 * OpenSSL names it ("TLSv1.3"); unknown names count as "other". */
void metrics_tls_seen(metrics_dir dir, const char *version);
/* A log-in failed (wrong credentials, or refused by the throttle). */
void metrics_auth_failed(metrics_proto p);
/* The policy layer gave a verdict: its decision as policy_decision_name
 * says it ("continue", "accept", "reject", "tempfail", "discard");
 * unknown names count as "other". */
void metrics_policy_verdict(const char *decision);
/* The port-25 probe changed the route of direct mail: to the relay (port
 * 25 blocked) or back to direct.  Counts the change and sets the route
 * gauge. */
void metrics_route_changed(bool to_relay);

/* Outbound TLS policy (issue 14).  The policy that applied to an attempt
 * that reached a server: DANE (secure TLSA records), MTA-STS (a testing or
 * enforce policy, no DANE), or neither; verified: DANE authenticated the
 * server (dane-ee / dane-ta), or else its certificate verified for its
 * name. */
typedef enum metrics_tls_policy {
	METRICS_TLSPOL_DANE,
	METRICS_TLSPOL_STS,
	METRICS_TLSPOL_NONE,
	METRICS_TLSPOL_COUNT
} metrics_tls_policy;
void metrics_tls_verdict(metrics_tls_policy p, bool verified);
/* An MTA-STS policy fetch succeeded or failed, or a cached policy was
 * used (a fresh one, or an old one because the fetch failed). */
typedef enum metrics_sts_fetch {
	METRICS_STS_OK,
	METRICS_STS_FAILED,
	METRICS_STS_CACHED,
	METRICS_STS_COUNT
} metrics_sts_fetch;
void metrics_mtasts(metrics_sts_fetch r);

/* ---- Gauges computed at scrape (event loop) ---- */

/* fn(arg, g): the owner's share of gauge g now.  Several owners may
 * register for one gauge (remote and local delivery both keep queued
 * messages): the gauge is the sum.  Register and unregister on the event
 * loop; unregister before arg is freed. */
typedef double metrics_gauge_fn(void *arg, metrics_gauge g);
void metrics_gauge_register(metrics_gauge g, metrics_gauge_fn *fn, void *arg);
void metrics_gauge_unregister(metrics_gauge g, metrics_gauge_fn *fn, void *arg);

/* ---- The scrape ---- */

/* The server starts: uptime counts from now. */
void metrics_start(void);
/* Every metric as Prometheus text 0.0.4 (expo.h), appended to out (an
 * unbounded buffer).  On the event loop: it calls the gauge functions. */
void metrics_render(buf *out);
/* The Content-Type of that text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Unit tests: every counter back to zero, no gauge function. */
void metrics_reset(void);

#endif
