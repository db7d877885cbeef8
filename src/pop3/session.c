/* session.c — one POP3 session over its connection (see session.h): start
 * and end, the input loop, the line and error limits, the timeout, and the
 * replies. */
#include "pop3/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "net/roles.h"

static bool on_input(void *arg, struct evbuffer *in);
static void on_timeout(void *arg);
static void on_deadline(void *arg);
static void on_gone(void *arg);

static const conn_handler handler = {
	.input = on_input, .timeout = on_timeout, .gone = on_gone, .deadline = on_deadline};

static void session_free(pop3_session *s)
{
	maildrop_release(s);
	mbox_free(&s->mb);
	free(s->deleted);
	free(s->user);
	free(s->account);
	free(s->app);
	conn_free(s->c);
	server_session_closed(s->srv, &s->srv->pop3_sessions, &s->link, s->sid, s->ip);
	free(s);
}

static void on_gone(void *arg)
{
	session_free(arg);
}

static void on_timeout(void *arg)
{
	pop3_close_with_err(arg, "Autologout; idle for too long");
}

static void on_deadline(void *arg)
{
	pop3_close_with_err(arg, "Login took too long");
}

void pop3_session_start(server *srv, const config_listener *lst, int fd, const char *ip)
{
	pop3_session *s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->lst = lst;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	server_session_opened(srv, &srv->pop3_sessions, &s->link, s, lst, ip, s->sid);
	s->c = conn_new(srv->base, srv->tls, fd, server_role_implicit_tls(lst->role), s->sid, ip, &handler, s);
	if (s->c == NULL) {
		session_free(s);
		return;
	}
	conn_set_timeout(s->c, POP3_TIMEOUT);
	conn_set_deadline(s->c, srv->cfg->limits.login_deadline);
	pop3_greet(s);
	conn_flush(s->c);
}

static void reply(pop3_session *s, const char *status, const char *fmt, va_list ap)
{
	conn_puts(s->c, status);
	conn_vprintf(s->c, fmt, ap);
	conn_puts(s->c, "\r\n");
}

void pop3_ok(pop3_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply(s, "+OK ", fmt, ap);
	va_end(ap);
}

void pop3_err(pop3_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply(s, "-ERR ", fmt, ap);
	va_end(ap);
	s->errors++;
}

void pop3_close_with_err(pop3_session *s, const char *text)
{
	pop3_err(s, "%s", text);
	conn_close_after(s->c);
}

static bool on_input(void *arg, struct evbuffer *in)
{
	pop3_session *s = arg;
	if (s->srv->stopping) {
		/* a command after the stop began: the goodbye instead */
		pop3_close_with_err(s, "[SYS/TEMP] The server is shutting down");
		return false;
	}
	char *line = NULL;
	int r = conn_read_line(s->c, in, POP3_LINE_MAX, &line);
	if (r == 0)
		return false;
	if (r < 0) {
		pop3_close_with_err(s, "Line too long");
		return false;
	}
	if (r == 2) {
		if (s->state == P_SASL)
			s->state = P_AUTH;
		pop3_err(s, "Bare CR or LF, or NUL, in a command line");
	} else if (s->state == P_SASL) {
		pop3_sasl_response(s, line);
	} else {
		pop3_command(s, line);
	}
	explicit_bzero(line, strlen(line)); /* may have held a password */
	free(line);
	if (!conn_is_closing(s->c) && s->errors >= s->srv->cfg->limits.errors)
		pop3_close_with_err(s, "Too many errors");
	return true;
}

void pop3_sessions_drain(server *srv, bool force)
{
	for (session_link *l = srv->pop3_sessions; l != NULL; l = l->next) {
		pop3_session *s = l->owner;
		if (!conn_is_closing(s->c) && !conn_is_busy(s->c))
			pop3_close_with_err(s, "[SYS/TEMP] The server is shutting down");
	}
}

void pop3_sessions_free(server *srv)
{
	while (srv->pop3_sessions != NULL)
		session_free(srv->pop3_sessions->owner);
}
