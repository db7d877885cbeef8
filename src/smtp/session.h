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
	size_t trace_len;       /* bytes of our Received field, at the top of the
	                         * spooled message (the client's header follows) */
	dotstream ds;
	hdrscan authres;        /* has the client's header an Authentication-Results field? */
	bool too_big;
	bool failed;            /* BDAT: an earlier chunk failed */
	int spool_error;        /* errno of a spool that could not be opened */
	bool bdat;              /* BDAT used in this transaction */
	struct msgcheck *check; /* port 25: SPF / DKIM / DMARC in progress */
} smtp_txn;

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
	auth_step auth;
	char *auth_login_user;
	smtp_txn txn;
	uint64_t bdat_left;     /* bytes of the current chunk still to read */
	bool bdat_last;
	int errors;
	int junk_commands;
} smtp_session;

/* Accept a new connection on fd (already non-blocking). */
void smtp_session_start(server *srv, const config_listener *lst, int fd,
                        const char *ip);

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

/* data.c */
void data_start(smtp_session *s);
void bdat_command(smtp_session *s, const char *args);
/* Consume DATA / BDAT bytes from input; returns false when it must wait. */
bool data_consume(smtp_session *s, struct evbuffer *in);

/* received.c: the Received: header for this transaction (malloc'd). */
char *received_header(smtp_session *s, const char *qid, time_t now);

#endif
