/* session.c — one ManageSieve session over its connection (see
 * session.h): start and end, the input loop, the bounds, the timeout and
 * login deadline, and the replies. */
#include "managesieve/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/utf8.h"

static bool on_input(void *arg, struct evbuffer *in);
static void on_timeout(void *arg);
static void on_deadline(void *arg);
static void on_gone(void *arg);

static const conn_handler handler = {
	.input = on_input, .timeout = on_timeout, .gone = on_gone, .deadline = on_deadline};

static void session_free(msieve_session *s)
{
	msieve_reader_free(&s->rd);
	str_secure_free(s->sasl_user);
	free(s->account);
	free(s->dir);
	conn_free(s->c);
	server_session_closed(s->srv, &s->srv->managesieve_sessions, &s->link, s->sid, s->ip);
	free(s);
}

static void on_gone(void *arg)
{
	session_free(arg);
}

static void on_timeout(void *arg)
{
	msieve_bye(arg, NULL, "Disconnected for inactivity");
}

static void on_deadline(void *arg)
{
	msieve_bye(arg, NULL, "Login took too long");
}

bool msieve_busy(buf *out, bool per_ip)
{
	return buf_puts(out, "BYE (TRYLATER) \"Too many connections; try again later\"\r\n");
}

void msieve_session_start(server *srv, const config_listener *lst, int fd, const char *ip)
{
	msieve_session *s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->lst = lst;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	msieve_reader_init(&s->rd, MSIEVE_PREAUTH_LINE_MAX, MSIEVE_PREAUTH_LITERAL_MAX);
	server_session_opened(srv, &srv->managesieve_sessions, &s->link, s, lst, ip, s->sid);
	s->c = conn_new(srv->base, srv->tls, fd, false, s->sid, ip, &handler, s);
	if (s->c == NULL) {
		session_free(s);
		return;
	}
	conn_set_timeout(s->c, MSIEVE_TIMEOUT);
	conn_set_deadline(s->c, srv->cfg->limits.login_deadline);
	msieve_greet(s);
	conn_flush(s->c);
}

/* ---- replies ---- */

static bool quotable(const char *text, size_t len)
{
	if (len > MSIEVE_QUOTED_MAX || !imap_utf8_valid(text, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\r' || text[i] == '\n' || text[i] == '\0')
			return false;
	return true;
}

void msieve_put_string(conn *c, const char *text, size_t len)
{
	if (!quotable(text, len)) {
		conn_printf(c, "{%zu}\r\n", len);
		conn_write(c, text, len);
		return;
	}
	conn_puts(c, "\"");
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '"' || text[i] == '\\') {
			conn_write(c, text + start, i - start);
			conn_puts(c, "\\");
			start = i;
		}
	}
	conn_write(c, text + start, len - start);
	conn_puts(c, "\"");
}

void msieve_reply(msieve_session *s, const char *status, const char *code, const char *text)
{
	conn_puts(s->c, status);
	if (code != NULL)
		conn_printf(s->c, " (%s)", code);
	if (text != NULL) {
		conn_puts(s->c, " ");
		msieve_put_string(s->c, text, strlen(text));
	}
	conn_puts(s->c, "\r\n");
}

void msieve_ok(msieve_session *s, const char *code, const char *text)
{
	msieve_reply(s, "OK", code, text);
}

void msieve_no(msieve_session *s, const char *code, const char *text)
{
	msieve_reply(s, "NO", code, text);
}

void msieve_bad(msieve_session *s, const char *text)
{
	msieve_reply(s, "NO", NULL, text);
	s->errors++;
}

void msieve_bye(msieve_session *s, const char *code, const char *text)
{
	msieve_reply(s, "BYE", code, text);
	conn_close_after(s->c);
}

/* ---- input ---- */

static void handle(msieve_session *s, msieve_read r)
{
	size_t len;
	char *data = msieve_reader_command(&s->rd, &len);
	msieve_cmd cmd;
	const char *err = NULL;
	bool sasl = s->sasl != MS_SASL_NONE;
	if (r == MSIEVE_READ_REFUSED) {
		char text[128];
		snprintf(text, sizeof text, "Literal of %llu octets is larger than the limit of %zu",
		         (unsigned long long)s->rd.refused_size, s->rd.literal_max);
		s->sasl = MS_SASL_NONE;
		/* after login only a script is that large: RFC 5804's code for it */
		msieve_no(s, s->state == MS_AUTH ? "QUOTA/MAXSIZE" : NULL, text);
		s->errors += s->state != MS_AUTH;
	} else if (r == MSIEVE_READ_BAD_LINE) {
		s->sasl = MS_SASL_NONE;
		msieve_bad(s, "Bare CR or LF, or NUL, in a command line");
	} else if (!msieve_parse(data, len, !sasl, &cmd, &err)) {
		s->sasl = MS_SASL_NONE;
		msieve_bad(s, err);
	} else if (sasl) {
		msieve_sasl_response(s, &cmd);
	} else {
		msieve_command(s, &cmd);
	}
	msieve_reader_reset(&s->rd);
}

static bool on_input(void *arg, struct evbuffer *in)
{
	msieve_session *s = arg;
	if (s->caps_after_tls) {
		/* the first call after the TLS switch (conn.c calls the handler
		 * once on resuming, input or not): RFC 5804 §2.2 wants the
		 * capabilities again, unasked */
		s->caps_after_tls = false;
		msieve_capabilities(s);
		msieve_ok(s, NULL, "TLS negotiation successful");
	}
	msieve_read r = msieve_reader_feed(&s->rd, s->c, in);
	if (r == MSIEVE_READ_MORE)
		return false;
	if (s->srv->stopping) {
		msieve_bye(s, "TRYLATER", "The server is shutting down");
		return false;
	}
	if (r == MSIEVE_READ_TOO_LONG) {
		msieve_bye(s, NULL, "Command line too long");
		return false;
	}
	if (r == MSIEVE_READ_HUGE) {
		msieve_bye(s, NULL, "Literal too large");
		return false;
	}
	handle(s, r);
	if (!conn_is_closing(s->c) && s->errors >= s->srv->cfg->limits.errors)
		msieve_bye(s, NULL, "Too many errors");
	return true;
}

void msieve_sessions_drain(server *srv, bool force)
{
	for (session_link *l = srv->managesieve_sessions; l != NULL; l = l->next) {
		msieve_session *s = l->owner;
		if (!conn_is_closing(s->c) && !conn_is_busy(s->c))
			msieve_bye(s, "TRYLATER", "The server is shutting down");
	}
}

void msieve_sessions_free(server *srv)
{
	while (srv->managesieve_sessions != NULL)
		session_free(srv->managesieve_sessions->owner);
}
