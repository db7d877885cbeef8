/* session.h — one SMTP session: its state and transaction.  session.c owns
 * the input loop over the connection (net/conn.c), commands.c the command
 * verbs, data.c DATA/BDAT. */
#ifndef YUBIN_SMTP_SESSION_H
#define YUBIN_SMTP_SESSION_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/strutil.h"
#include "queue/queue.h"
#include "smtp/dotstream.h"
#include "smtp/hdrscan.h"
#include "smtp/reply.h"
#include "net/conn.h"
#include "net/server.h"
#include "policy/policy.h"

typedef enum smtp_phase {
	PH_COMMAND,         /* reading command lines */
	PH_DATA,            /* inside DATA, until <CRLF>.<CRLF> */
	PH_BDAT,            /* reading a BDAT chunk of known size */
	PH_AUTH,            /* reading a SASL response line */
} smtp_phase;

typedef enum auth_step { AUTH_NONE, AUTH_PLAIN_WAIT, AUTH_LOGIN_USER, AUTH_LOGIN_PASS } auth_step;

typedef struct smtp_txn {
	char *sender;           /* NULL until MAIL */
	char *sender_rw;        /* the sender to queue, when rewrite.canonical /
	                         * rewrite.masquerade change it (else NULL) */
	bool smtputf8;
	bool requiretls;        /* MAIL had REQUIRETLS (RFC 8689 4.1: the message is tagged) */
	bool body_8bit;
	uint64_t size;          /* SIZE= of MAIL, 0 when not given */
	dsn_ret ret;            /* RET= of MAIL */
	char *envid;            /* ENVID= of MAIL, decoded */
	strlist rcpt_cmds;      /* addresses as given in RCPT (for Received "for") */
	qenvelope targets;      /* only its rcpts: the local mailboxes and remote
	                         * addresses after alias expansion, each with
	                         * the NOTIFY and ORCPT of its RCPT */
	spool *sp;              /* open while DATA/BDAT runs */
	char qid[16];
	time_t time;            /* when the spool began (the envelope's time) */
	size_t trace_len;       /* bytes of our Received field, at the top of the
	                         * spooled message (the client's header follows) */
	dotstream ds;
	hdrscan authres;        /* has the client's header an Authentication-Results field? */
	bool too_big;
	bool failed;            /* BDAT: an earlier chunk failed */
	int spool_error;        /* errno of a spool that could not be opened */
	bool bdat;              /* BDAT used in this transaction */
	struct msgcheck *check; /* port 25: SPF / DKIM / DMARC in progress */
	/* the audit trail (smtp/auditrec.c) */
	char *audit_head;       /* the client's header, up to a bound */
	size_t audit_head_len;
	bool audit_head_done;
	uint64_t audit_size;    /* bytes of the message as stored */
	struct json_t *audit_policy; /* verdicts before the queue id, waiting */
	bool journaled;         /* audit.journal gets a copy */
} smtp_txn;

/* The policy layer's state for a session (smtp/policy.c, smtp/pol_*.c). */
typedef struct smtp_pol {
	struct policy_run *run;     /* the stage in flight, NULL when none */
	char *client_name;          /* verified reverse name, "" none, NULL not asked */
	bool client_name_tempfail;  /* "" only because DNS failed for now */
	struct event *greet_timer;  /* the greeting pause, while it runs */
	bool accepted;              /* a rule accepted the session (connect, HELO) */
	bool txn_accepted;          /* ... this transaction (MAIL, RCPT) */
	bool discard;               /* a rule discards every message of the session */
	bool txn_discard;           /* ... this one */
	struct pol_milters *milters; /* milter connections (smtp/pol_milter.c) */
	policy_verdict conn_actions;/* message actions decided at connect / HELO */
	policy_verdict txn_actions; /* ... at MAIL, RCPT, DATA, for this message */
	const char *spf, *dkim, *dmarc; /* port 25 results at DATA (static names) */
	char *pending_rcpt;         /* the RCPT the policy is looking at */
	size_t pending_targets;     /* targets before it (taken out if refused) */
	/* DNS lists (smtp/pol_dnsbl.c): the client's hits (found at connect)
	 * first, then those of this transaction's sender (MAIL) */
	policy_dnsbl_hit *dnsbl;
	size_t n_dnsbl;
	size_t n_dnsbl_client;      /* of which the client's */
	double dnsbl_score;         /* the sum of their weights */
} smtp_pol;

/* Who an internal session (smtp_session_start_internal) submits for: the
 * HTTPS API's key, in place of a logged-in user. */
typedef struct smtp_identity {
	char *listener;         /* what the trail shows as the listener: "https" */
	char *apikey;           /* the API key's name */
	strlist domains;        /* the sender domains it may use (lower case) */
} smtp_identity;

typedef struct smtp_session {
	session_link link;      /* srv->smtp_sessions */
	server *srv;
	const config_listener *lst;
	char sid[24];
	char ip[64];
	conn *c;
	smtp_phase phase;
	bool esmtp;
	char *helo;
	char *auth_user;
	char *auth_app;         /* the app password auth_user logged in with, or NULL */
	auth_step auth;
	char *auth_login_user;
	smtp_txn txn;
	uint64_t bdat_left;     /* bytes of the current chunk still to read */
	bool bdat_last;
	int errors;
	int junk_commands;
	smtp_pol pol;
	smtp_identity *api;     /* internal session of the HTTPS API, else NULL
	                         * (the audit trail's listener and apikey) */
} smtp_session;

/* Accept a new connection on fd (already non-blocking). */
void smtp_session_start(server *srv, const config_listener *lst, int fd,
                        const char *ip);

/* A submission session for the HTTPS API (api/inject.c) on bev, one end
 * of a bufferevent pair whose other end the API's SMTP client drives:
 * already authenticated as the API key id names (auth_user "apikey:NAME"),
 * under the submission role's policy, with TLS and AUTH not asked for (the
 * request came over HTTPS with the key), and with id->domains in place of
 * a user's send-as list for MAIL FROM and the From / Sender check.  ip is
 * the HTTP client's address, for the policy and the trail; the session is
 * the server's own, not one of that address's connections (the request's
 * HTTPS connection is, and api.sessions bounds these). */
void smtp_session_start_internal(server *srv, struct bufferevent *bev, const char *ip, const smtp_identity *id);
/* May the session's user (or API key) send as address?  ACC_OK, or
 * ACC_NOT_FOUND, or ACC_ERROR when the account store fails. */
accounts_status smtp_may_send_as(smtp_session *s, const char *address);

/* Queue a fixed reply; counts it as an error if 4xx/5xx. */
void session_reply(smtp_session *s, smtp_reply_id id);
/* Queue a reply with our own text. */
void session_reply_text(smtp_session *s, int code, const char *esc, const char *text);
/* Send what is queued. */
void session_flush(smtp_session *s);
/* Reply, then close once the reply is written. */
void session_close_with(smtp_session *s, smtp_reply_id id);
/* Pause / resume reading input while a job runs for this session. */
void session_pause(smtp_session *s);
void session_resume(smtp_session *s);
/* Switch to TLS on the existing connection (STARTTLS); discards any input
 * that arrived after the command. */
void session_start_tls(smtp_session *s);
/* TLS version and cipher ("" when plain). */
const char *session_tls_version(smtp_session *s);
const char *session_tls_cipher(smtp_session *s);
/* Shutdown: say 421 4.3.2 to sessions between commands (force: also to
 * those in the middle of a message); free every session. */
void smtp_sessions_drain(server *srv, bool force);
void smtp_sessions_free(server *srv);

/* commands.c */
void cmd_dispatch(smtp_session *s, char *line);
void cmd_auth_response(smtp_session *s, char *line);
void txn_reset(smtp_session *s);
void session_greet(smtp_session *s);
/* The connection is up: the policy's connect stage, then the greeting. */
void session_open(smtp_session *s);
/* Reply to a refusal of the policy layer (true), or do nothing (false). */
bool session_policy_refused(smtp_session *s, policy_stage st, const policy_verdict *v);

/* data.c */
void data_start(smtp_session *s);
void bdat_command(smtp_session *s, const char *args);
/* Consume DATA / BDAT bytes from input; returns false when it must wait. */
bool data_consume(smtp_session *s, struct evbuffer *in);

/* The envelope of the transaction as the queue keeps it (borrowing the
 * transaction's strings; free with qenvelope_free_rcpts). */
void txn_envelope(smtp_session *s, const char *id, time_t now, qenvelope *env_r);

/* received.c: the Received: header for this transaction (malloc'd). */
char *received_header(smtp_session *s, const char *qid, time_t now);

#endif
