/* session.h — one ManageSieve session (RFC 5804) on port 4190: its state
 * and limits.  session.c owns the input loop over the connection
 * (net/conn.c, through reader.c), the replies and the error limit;
 * commands.c the dispatch and the commands of any state (CAPABILITY,
 * STARTTLS, AUTHENTICATE, LOGOUT, NOOP, UNAUTHENTICATE); scripts.c the
 * commands on the scripts, run on a worker through store.c. */
#ifndef YUBIN_MANAGESIEVE_SESSION_H
#define YUBIN_MANAGESIEVE_SESSION_H

#include <stdbool.h>

#include "managesieve/parse.h"
#include "managesieve/reader.h"
#include "net/conn.h"
#include "net/server.h"

#define MSIEVE_PREAUTH_LINE_MAX 4096     /* a line before login, CRLF included */
#define MSIEVE_PREAUTH_LITERAL_MAX 4096  /* a literal before login (a SASL response) */
#define MSIEVE_LINE_MAX 8192             /* a line after login */
#define MSIEVE_TIMEOUT 600               /* seconds of silence before the BYE */

typedef enum msieve_state { MS_NOTAUTH, MS_AUTH } msieve_state;

/* Where AUTHENTICATE is: which SASL response comes next. */
typedef enum msieve_sasl { MS_SASL_NONE, MS_SASL_PLAIN, MS_SASL_LOGIN_USER, MS_SASL_LOGIN_PASS } msieve_sasl;

typedef struct msieve_session {
	session_link link;         /* srv->managesieve_sessions */
	server *srv;
	const config_listener *lst;
	char sid[24];
	char ip[64];
	conn *c;
	msieve_reader rd;
	msieve_state state;
	msieve_sasl sasl;
	char *sasl_user;           /* LOGIN: the user name, until the password */
	char *account;             /* logged in as */
	char *dir;                 /* its scripts folder (store.h) */
	bool caps_after_tls;       /* STARTTLS accepted: capabilities once TLS is up */
	int errors;
} msieve_session;

void msieve_session_start(server *srv, const config_listener *lst, int fd, const char *ip);
/* Shutdown: BYE to sessions between commands; free every session. */
void msieve_sessions_drain(server *srv, bool force);
void msieve_sessions_free(server *srv);
/* roles.c: the line for a client the server has no room for. */
bool msieve_busy(buf *out, bool per_ip);

/* session.c: replies.  code is a response code without its parentheses
 * ("QUOTA/MAXSIZE", "TAG \"x\"") or NULL; text becomes a string (quoted,
 * or a literal when it cannot be quoted). */
void msieve_reply(msieve_session *s, const char *status, const char *code, const char *text);
void msieve_ok(msieve_session *s, const char *code, const char *text);
void msieve_no(msieve_session *s, const char *code, const char *text);
/* A NO for a protocol error: it counts towards limits.errors. */
void msieve_bad(msieve_session *s, const char *text);
/* BYE, then close. */
void msieve_bye(msieve_session *s, const char *code, const char *text);
/* A string in ManageSieve's form: quoted when it can be, else a literal. */
void msieve_put_string(conn *c, const char *text, size_t len);

/* commands.c */
void msieve_greet(msieve_session *s);
void msieve_capabilities(msieve_session *s);
void msieve_command(msieve_session *s, msieve_cmd *cmd);
void msieve_sasl_response(msieve_session *s, msieve_cmd *resp);
/* A name argument as a C string (malloc'd), or NULL after a NO. */
char *msieve_name_arg(msieve_session *s, const msieve_arg *a);

/* scripts.c: the commands on scripts (authenticated state). */
void msieve_cmd_havespace(msieve_session *s, msieve_cmd *cmd);
void msieve_cmd_putscript(msieve_session *s, msieve_cmd *cmd);
void msieve_cmd_checkscript(msieve_session *s, msieve_cmd *cmd);
void msieve_cmd_listscripts(msieve_session *s, msieve_cmd *cmd);
void msieve_cmd_setactive(msieve_session *s, msieve_cmd *cmd);
void msieve_cmd_getscript(msieve_session *s, msieve_cmd *cmd);
void msieve_cmd_deletescript(msieve_session *s, msieve_cmd *cmd);
void msieve_cmd_renamescript(msieve_session *s, msieve_cmd *cmd);

#endif
