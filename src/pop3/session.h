/* session.h — one POP3 session (RFC 1939, CAPA RFC 2449, STLS RFC 2595,
 * AUTH RFC 5034): its state and the maildrop it has open.  session.c owns
 * the input loop over the connection (net/conn.c) and the replies,
 * commands.c the commands, maildrop.c the work on the mailbox. */
#ifndef YUBIN_POP3_SESSION_H
#define YUBIN_POP3_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "net/conn.h"
#include "net/server.h"
#include "store/mailbox.h"

#define POP3_LINE_MAX 2048     /* a command line with CRLF (a SASL response may be long) */
#define POP3_TIMEOUT 600       /* seconds: RFC 1939 asks for at least 10 minutes */

typedef enum pop3_state {
	P_AUTH,               /* AUTHORIZATION */
	P_SASL,               /* reading a SASL response line */
	P_TRANS,              /* TRANSACTION */
} pop3_state;

typedef enum pop3_sasl { SASL_PLAIN_WAIT, SASL_LOGIN_USER, SASL_LOGIN_PASS } pop3_sasl;

typedef struct pop3_session {
	session_link link;      /* srv->pop3_sessions */
	server *srv;
	const config_listener *lst;
	char sid[24];
	char ip[64];
	conn *c;
	pop3_state state;
	pop3_sasl sasl;
	char *user;             /* after USER, or the LOGIN user name */
	char *account;          /* logged in as */
	char *app;              /* ... with this app password, or NULL */
	char *maildrop;         /* the locked INBOX path */
	mbox *mb;               /* the messages as at login */
	bool *deleted;          /* per message: DELE'd */
	int errors;
} pop3_session;

void pop3_session_start(server *srv, const config_listener *lst, int fd, const char *ip);
/* Shutdown: close sessions between commands; free every session. */
void pop3_sessions_drain(server *srv, bool force);
void pop3_sessions_free(server *srv);

/* session.c: replies ("+OK ..." / "-ERR ..."), gathered for one write. */
void pop3_ok(pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_err(pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_close_with_err(pop3_session *s, const char *text);

/* commands.c */
void pop3_greet(pop3_session *s);
void pop3_command(pop3_session *s, char *line);
void pop3_sasl_response(pop3_session *s, char *line);

/* maildrop.c: the INBOX of account, opened and locked on a worker, then
 * the session resumes with "+OK" or "-ERR". */
void maildrop_open(pop3_session *s);
/* RETR (lines < 0) or TOP: "+OK", then the message in POP3's form, made on
 * a worker in batches of about CONN_OUT_HIGH bytes, each sent once the
 * client has read the one before; the session resumes after the last. */
void maildrop_send(pop3_session *s, size_t i, long lines);
/* QUIT in TRANSACTION: remove the DELE'd messages, then reply and close. */
void maildrop_update(pop3_session *s);
/* Let go of the maildrop lock (session end). */
void maildrop_release(pop3_session *s);

#endif
