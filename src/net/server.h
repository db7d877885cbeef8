/* server.h — the server: listening sockets for every configured role,
 * the connection limits (in all and per client address or IPv6 /64), and the shared
 * context that sessions use (config, TLS, accounts, throttle, queue,
 * workers).  One event loop; no thread or process per connection. */
#ifndef YUBIN_NET_SERVER_H
#define YUBIN_NET_SERVER_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/login.h"
#include "auth/throttle.h"
#include "lib/config.h"
#include "lib/workers.h"
#include "queue/queue.h"

/* A live session of any protocol, in its protocol's list (for shutdown). */
typedef struct session_link {
	struct session_link *prev, *next;
	void *owner;
	listener_role role;         /* its listener's for the metrics (ROLE_COUNT: none) */
} session_link;

typedef struct server {
	struct event_base *base;
	const config *cfg;
	SSL_CTX *tls;
	accounts *acc;
	throttle *thr;
	workers *wk;
	queue *q;
	char *dummy_hash;           /* verified for unknown users, to equalise timing */
	struct login_gate *login_gate; /* password checks at once (auth.max_checks) */
	login_ctx login;            /* password checks, for every protocol */
	struct folder_watch *watch; /* mailbox change notification */
	struct store_views *views;  /* folders open in IMAP sessions, shared */
	struct dns_resolver *dns;   /* asynchronous DNS (delivery, SPF, DKIM, DMARC) */
	struct dmarc_psl *psl;      /* the Public Suffix List, for DMARC */
	const struct policy_config *policy; /* rules, lists, ... (policy/polconf.h) */
	struct dnsblq *dnsblq;      /* DNS-list look-ups and their cache; NULL: no lists */
	struct greylist *greylist;  /* the greylisting store; NULL: greylisting off */
	struct rate_sync *rate;     /* rate-limit counters, NULL without limits (policy/ratesync.h) */
	struct lru *smtp_passed;    /* port-25 clients that waited for the greeting */
	struct rewrite_state *rewrite; /* canonical maps, masquerading, SRS (rewrite/state.h) */
	struct http_server *http;   /* the https listeners (http/server.h); NULL without */
	struct hooks *hooks;        /* suppression list, events follower, webhooks (api/hooks.h) */
	struct api_state *api;      /* the HTTPS API's keys and callers (api/api.h) */
	struct web *web;            /* the dashboard's sessions (web/web.h) */
	struct outbound *outbound;  /* remote delivery, for the dashboard's queue operations */
	struct quota_book *quota;   /* account quotas (store/quotabook.h), shared with local delivery */
	struct sieve_delivery *sieve; /* Sieve at local delivery (delivery/sievedeliver.h) */
	struct evconnlistener **listeners;
	int n_listeners;
	void *listener_ctxs;         /* what each listener's callback gets */
	int n_sessions;
	struct ip_count *ip_counts; /* per-address connection counts */
	uint64_t next_sid;
	char run_id[8];              /* this start's part of every session id */
	session_link *smtp_sessions; /* every live session, by protocol, for shutdown */
	session_link *pop3_sessions;
	session_link *imap_sessions;
	session_link *managesieve_sessions;
	strlist pop3_locks;          /* maildrops a POP3 session has open */
	bool stopping;               /* stop asked: sessions end at their next command */
	int stop_ticks;              /* tenths of a second since then */
	struct event *stop_tick;     /* drives the stop (server_stop) */
} server;

/* Bind every configured listener (before privileges are dropped).  False
 * with *err_r naming the address that failed. */
bool server_bind(server *srv, char **err_r);
/* Stop accepting new connections. */
void server_close_listeners(server *srv);

/* Shutdown, step 1 (on SIGTERM / SIGINT): stop accepting, and end every
 * session, busy or idle, at its next command boundary with its protocol's
 * goodbye (SMTP 421 4.3.2, POP3 -ERR [SYS/TEMP], IMAP * BYE): at once when
 * it is between commands, else when the command, the message being sent,
 * or the commit in flight has finished and been answered.  No new
 * transaction starts.  The loop is left when no session is left, or after
 * a grace of SERVER_STOP_GRACE seconds (sessions still open then get the
 * goodbye anyway; a second signal ends the grace at once). */
#define SERVER_STOP_GRACE 5
void server_stop(server *srv);
/* Say goodbye to every session that is between commands (force: to every
 * session that is not waiting for a worker, even in the middle of a
 * message, whose spool is then thrown away). */
void server_drain(server *srv, bool force);
/* Shutdown, step 2 (after the loop and the workers have stopped): free
 * every session that is left, and the stop timer. */
void server_free_sessions(server *srv);

/* A session of any protocol begins: it joins its protocol's list, is
 * counted, gets its id and an accept log line.  A session id is the
 * protocol's letter (the role table's sid_prefix), this run's id and a
 * number: "S7q2kx1.1f", "Pa9c0d3.20".  The run id is random for each
 * start of the server, so ids never repeat across restarts. */
void server_session_opened(server *srv, session_link **list, session_link *link, void *owner,
                           const config_listener *lst, const char *ip, char sid[24]);
/* This start's run id (made on first use). */
const char *server_run_id(server *srv);
/* ...and ends: off the list, the counts (total and per address), the log. */
void server_session_closed(server *srv, session_link **list, session_link *link, const char *sid,
                           const char *ip);

/* Per-address accounting used by sessions: true when the address may open
 * one more connection (and counts it).  Counted by address key
 * (lib/addrkey.h): every address of an IPv6 /64 counts as one. */
bool server_ip_acquire(server *srv, const char *ip);
void server_ip_release(server *srv, const char *ip);

#endif
