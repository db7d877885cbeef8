/* commands.c — the POP3 commands (RFC 1939), CAPA (RFC 2449), STLS (RFC
 * 2595) and AUTH PLAIN / LOGIN (RFC 5034).  No password is accepted before
 * TLS; the maildrop is INBOX, seen as it was at login; deletions happen
 * only at QUIT. */
#include "pop3/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/login.h"
#include "auth/sasl.h"
#include "lib/log.h"
#include "metrics/metrics.h"

#define IMPLEMENTATION "yubin"

void pop3_greet(pop3_session *s)
{
	pop3_ok(s, "%s POP3 ready", s->srv->cfg->hostname);
}

static bool may_log_in(pop3_session *s)
{
	if (conn_is_tls(s->c))
		return true;
	pop3_err(s, "[AUTH] Plaintext authentication disallowed on non-secure connections; use STLS first");
	return false;
}

static void cmd_capa(pop3_session *s)
{
	pop3_ok(s, "Capability list follows");
	conn_puts(s->c, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
	if (s->state != P_TRANS) {
		if (conn_is_tls(s->c))
			conn_puts(s->c, "USER\r\nSASL PLAIN LOGIN\r\n");
		else if (s->lst->role == ROLE_POP3)
			conn_puts(s->c, "STLS\r\n");
	}
	conn_puts(s->c, "IMPLEMENTATION " IMPLEMENTATION "\r\n.\r\n");
}

static void login_done(void *arg, login_result r, const char *user, const char *app)
{
	pop3_session *s = arg;
	if (r == LOGIN_OK) {
		s->account = xstrdup(user);
		free(s->app); /* from a log-in whose mailbox could not be opened */
		s->app = app != NULL ? xstrdup(app) : NULL;
		conn_set_deadline(s->c, 0);
		maildrop_open(s); /* resumes the connection itself */
		return;
	}
	metrics_auth_failed(METRICS_POP3);
	if (r == LOGIN_LOCKED) /* RFC 3206: [AUTH] is for wrong credentials only */
		pop3_err(s, "[SYS/TEMP] Too many failed logins; try again later");
	else
		pop3_err(s, "[AUTH] Authentication failed");
	conn_resume(s->c);
}

/* Takes user and password over. */
static void log_in(pop3_session *s, char *user, char *password)
{
	s->state = P_AUTH;
	conn_pause(s->c);
	login_req req = {.protocol = "pop3", .sid = s->sid, .ip = s->ip};
	login_check(&s->srv->login, &req, user, password, login_done, s);
}

static void cmd_user(pop3_session *s, const char *arg)
{
	if (!may_log_in(s))
		return;
	if (*arg == '\0') {
		pop3_err(s, "USER needs a name");
		return;
	}
	free(s->user);
	s->user = xstrdup(arg);
	pop3_ok(s, "Send the password");
}

static void cmd_pass(pop3_session *s, const char *arg)
{
	if (!may_log_in(s))
		return;
	if (s->user == NULL) {
		pop3_err(s, "USER first");
		return;
	}
	char *user = s->user;
	s->user = NULL;
	log_in(s, user, xstrdup(arg));
}

static void sasl_plain(pop3_session *s, const char *b64)
{
	char *user, *pass;
	sasl_status st = sasl_plain_parse(b64, &user, &pass);
	if (st != SASL_OK) {
		s->state = P_AUTH;
		pop3_err(s, st == SASL_BAD_BASE64 ? "Invalid base64" : "[AUTH] Authentication failed");
		return;
	}
	log_in(s, user, pass);
}

static void cmd_auth(pop3_session *s, const char *arg)
{
	if (*arg == '\0') {
		/* the mechanism list some clients ask for before RFC 5034's CAPA */
		pop3_ok(s, "Mechanisms follow");
		conn_puts(s->c, conn_is_tls(s->c) ? "PLAIN\r\nLOGIN\r\n.\r\n" : ".\r\n");
		return;
	}
	if (!may_log_in(s))
		return;
	const char *sp = strchr(arg, ' ');
	size_t mlen = sp ? (size_t)(sp - arg) : strlen(arg);
	const char *initial = sp ? sp + 1 : NULL;
	if (mlen == 5 && strncasecmp(arg, "PLAIN", 5) == 0) {
		if (initial != NULL && strcmp(initial, "=") != 0) {
			sasl_plain(s, initial);
			return;
		}
		s->state = P_SASL;
		s->sasl = SASL_PLAIN_WAIT;
		conn_puts(s->c, "+ \r\n");
	} else if (mlen == 5 && strncasecmp(arg, "LOGIN", 5) == 0 && initial == NULL) {
		s->state = P_SASL;
		s->sasl = SASL_LOGIN_USER;
		conn_puts(s->c, "+ VXNlcm5hbWU6\r\n"); /* "Username:" */
	} else {
		pop3_err(s, "Unsupported authentication mechanism");
	}
}

void pop3_sasl_response(pop3_session *s, char *line)
{
	if (strcmp(line, "*") == 0) {
		s->state = P_AUTH;
		free(s->user);
		s->user = NULL;
		pop3_err(s, "Authentication cancelled");
		return;
	}
	if (s->sasl == SASL_PLAIN_WAIT) {
		sasl_plain(s, line);
		return;
	}
	char *field;
	if (sasl_login_field(line, &field) != SASL_OK) {
		s->state = P_AUTH;
		free(s->user);
		s->user = NULL;
		pop3_err(s, "Invalid base64");
		return;
	}
	if (s->sasl == SASL_LOGIN_USER) {
		free(s->user);
		s->user = field;
		s->sasl = SASL_LOGIN_PASS;
		conn_puts(s->c, "+ UGFzc3dvcmQ6\r\n"); /* "Password:" */
		return;
	}
	char *user = s->user;
	s->user = NULL;
	log_in(s, user, field);
}

/* ---- TRANSACTION ---- */

/* A message number argument: index into the maildrop, or -1 after an
 * error reply.  Deleted messages do not exist for these commands. */
static long message_arg(pop3_session *s, const char *arg, const char **rest)
{
	char *end;
	unsigned long long n = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || (*end != '\0' && *end != ' ')) {
		pop3_err(s, "Invalid message number");
		return -1;
	}
	if (n == 0 || n > s->mb->n || s->deleted[n - 1]) {
		pop3_err(s, "No such message");
		return -1;
	}
	if (rest != NULL)
		*rest = *end == ' ' ? end + 1 : end;
	else if (*end != '\0') {
		pop3_err(s, "Too many arguments");
		return -1;
	}
	return (long)n - 1;
}

static void uid_string(const pop3_session *s, size_t i, char out[24])
{
	/* unique and stable while the folder's UIDVALIDITY holds (RFC 1939 7) */
	snprintf(out, 24, "%08x%08x", s->mb->uidvalidity, s->mb->msgs[i].uid);
}

static void cmd_stat(pop3_session *s)
{
	size_t n = 0;
	unsigned long long size = 0;
	for (size_t i = 0; i < s->mb->n; i++)
		if (!s->deleted[i]) {
			n++;
			size += s->mb->msgs[i].vsize;
		}
	pop3_ok(s, "%zu %llu", n, size);
}

/* LIST and UIDL: one message, or all of them as a multi-line reply. */
static void cmd_listing(pop3_session *s, const char *arg, bool uidl)
{
	char uid[24];
	if (*arg != '\0') {
		long i = message_arg(s, arg, NULL);
		if (i < 0)
			return;
		if (uidl) {
			uid_string(s, (size_t)i, uid);
			pop3_ok(s, "%ld %s", i + 1, uid);
		} else {
			pop3_ok(s, "%ld %llu", i + 1, (unsigned long long)s->mb->msgs[i].vsize);
		}
		return;
	}
	pop3_ok(s, "Listing follows");
	buf list;
	buf_init(&list, BUF_UNBOUNDED);
	for (size_t i = 0; i < s->mb->n; i++) {
		if (s->deleted[i])
			continue;
		if (uidl) {
			uid_string(s, i, uid);
			BUF_PRINTF(&list, "%zu %s\r\n", i + 1, uid);
		} else {
			BUF_PRINTF(&list, "%zu %llu\r\n", i + 1, (unsigned long long)s->mb->msgs[i].vsize);
		}
	}
	BUF_PUTS(&list, ".\r\n");
	conn_write(s->c, list.data, list.len);
	buf_free(&list);
}

static void cmd_retr(pop3_session *s, const char *arg, bool top)
{
	const char *rest = NULL;
	long i = message_arg(s, arg, top ? &rest : NULL);
	if (i < 0)
		return;
	long lines = -1;
	if (top) {
		char *end;
		long long n = strtoll(rest, &end, 10);
		if (*rest < '0' || *rest > '9' || *end != '\0' || n > 1000000000) {
			pop3_err(s, "TOP needs a message number and a line count");
			return;
		}
		lines = (long)n;
	}
	maildrop_send(s, (size_t)i, lines);
}

static void cmd_dele(pop3_session *s, const char *arg)
{
	long i = message_arg(s, arg, NULL);
	if (i < 0)
		return;
	s->deleted[i] = true;
	pop3_ok(s, "Message %ld deleted", i + 1);
}

static void cmd_rset(pop3_session *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->mb->n; i++) {
		s->deleted[i] = false;
		n++;
	}
	pop3_ok(s, "%zu messages", n);
}

static void cmd_quit(pop3_session *s)
{
	if (s->state == P_TRANS) {
		maildrop_update(s);
		return;
	}
	pop3_ok(s, "Bye");
	conn_close_after(s->c);
}

void pop3_command(pop3_session *s, char *line)
{
	char verb[8];
	size_t n = strcspn(line, " ");
	const char *arg = line[n] == ' ' ? line + n + 1 : line + n;
	if (n == 0 || n >= sizeof verb) {
		pop3_err(s, "Unknown command");
		return;
	}
	memcpy(verb, line, n);
	verb[n] = '\0';
	bool trans = s->state == P_TRANS;
	if (strcasecmp(verb, "CAPA") == 0)
		cmd_capa(s);
	else if (strcasecmp(verb, "QUIT") == 0)
		cmd_quit(s);
	else if (!trans && strcasecmp(verb, "STLS") == 0) {
		if (conn_is_tls(s->c) || s->lst->role != ROLE_POP3) {
			pop3_err(s, "Already using TLS");
			return;
		}
		pop3_ok(s, "Begin TLS negotiation");
		conn_start_tls(s->c);
	} else if (!trans && strcasecmp(verb, "USER") == 0)
		cmd_user(s, arg);
	else if (!trans && strcasecmp(verb, "PASS") == 0)
		cmd_pass(s, arg);
	else if (!trans && strcasecmp(verb, "AUTH") == 0)
		cmd_auth(s, arg);
	else if (!trans)
		pop3_err(s, "Unknown command, or not logged in yet");
	else if (strcasecmp(verb, "STAT") == 0)
		cmd_stat(s);
	else if (strcasecmp(verb, "LIST") == 0)
		cmd_listing(s, arg, false);
	else if (strcasecmp(verb, "UIDL") == 0)
		cmd_listing(s, arg, true);
	else if (strcasecmp(verb, "RETR") == 0)
		cmd_retr(s, arg, false);
	else if (strcasecmp(verb, "TOP") == 0)
		cmd_retr(s, arg, true);
	else if (strcasecmp(verb, "DELE") == 0)
		cmd_dele(s, arg);
	else if (strcasecmp(verb, "RSET") == 0)
		cmd_rset(s);
	else if (strcasecmp(verb, "NOOP") == 0)
		pop3_ok(s, "Nothing to do");
	else
		pop3_err(s, "Unknown command");
}
