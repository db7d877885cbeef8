/* session.c — one IMAP session over its connection (see session.h): start
 * and end, the input (commands framed by reader.c and parsed by parse.c;
 * SASL response lines while AUTHENTICATE waits), the error limit, the
 * timeouts, and the responses. */
#include "imap/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/names.h"
#include "lib/log.h"
#include "net/roles.h"
#include "store/usage.h"

/* A SASL response comes before login, where a command is at most this. */
#define SASL_LINE_MAX IMAP_PREAUTH_COMMAND_MAX

static bool on_input(void *arg, struct evbuffer *in);
static void after_input(void *arg);
static void on_timeout(void *arg);
static void on_deadline(void *arg);
static void on_gone(void *arg);

static const conn_handler handler = {
	.input = on_input, .after_input = after_input, .timeout = on_timeout, .gone = on_gone,
	.deadline = on_deadline};

static void session_free(imap_session *s)
{
	conn_free(s->c); /* first: a FETCH between batches ends, using the view */
	imap_notify_free(s);
	imap_idle_stop(s);
	imap_reader_destroy(&s->rd);
	imap_unselect(s);
	free(s->sasl_tag);
	free(s->account);
	free(s->app);
	free(s->maildir);
	store_usage_free(&s->usage);
	server_session_closed(s->srv, &s->srv->imap_sessions, &s->link, s->sid, s->ip);
	free(s);
}

static void on_gone(void *arg)
{
	session_free(arg);
}

static void after_input(void *arg)
{
	imap_session *s = arg;
	imap_notify_pending(s);
	conn_set_timeout(s->c, s->idle_tag != NULL        ? IMAP_IDLE_TIMEOUT
	                       : s->state == IS_NOTAUTH ? IMAP_PREAUTH_TIMEOUT
	                                                : IMAP_TIMEOUT);
}

static void on_timeout(void *arg)
{
	imap_bye(arg, "Autologout; idle for too long");
}

static void on_deadline(void *arg)
{
	imap_bye(arg, "Login took too long");
}

void imap_session_start(server *srv, const config_listener *lst, int fd, const char *ip)
{
	imap_session *s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->lst = lst;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	server_session_opened(srv, &srv->imap_sessions, &s->link, s, lst, ip, s->sid);
	imap_reader_limits lim = imap_reader_preauth_limits();
	s->rd = imap_reader_new(&lim);
	s->c = conn_new(srv->base, srv->tls, fd, server_role_implicit_tls(lst->role), s->sid, ip, &handler, s);
	if (s->c == NULL) {
		session_free(s);
		return;
	}
	after_input(s);
	conn_set_deadline(s->c, srv->cfg->limits.login_deadline);
	imap_greet(s);
	conn_flush(s->c);
}

void imap_untagged(imap_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conn_puts(s->c, "* ");
	conn_vprintf(s->c, fmt, ap);
	conn_puts(s->c, "\r\n");
	va_end(ap);
}

void imap_tagged(imap_session *s, const char *tag, const char *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conn_printf(s->c, "%s %s ", tag ? tag : "*", status);
	conn_vprintf(s->c, fmt, ap);
	conn_puts(s->c, "\r\n");
	va_end(ap);
	if (strcmp(status, "BAD") == 0)
		s->errors++; /* a NO is an answer, not a misbehaving client */
}

void imap_bye(imap_session *s, const char *text)
{
	imap_untagged(s, "BYE %s", text);
	conn_close_after(s->c);
}

/* A line that is no command: the answer to AUTHENTICATE's continuation,
 * or the DONE that ends IDLE. */
static bool line_input(imap_session *s, struct evbuffer *in)
{
	char *line = NULL;
	int r = conn_read_line(s->c, in, SASL_LINE_MAX, &line);
	if (r == 0)
		return false;
	if (r < 0) {
		imap_bye(s, "Line too long");
		return false;
	}
	if (s->idle_tag != NULL) {
		imap_idle_line(s, r == 2 ? "" : line);
	} else if (r == 2) {
		imap_tagged(s, s->sasl_tag, "BAD", "Bare CR or LF in the response");
		free(s->sasl_tag);
		s->sasl_tag = NULL;
	} else {
		imap_sasl_response(s, line);
	}
	explicit_bzero(line, strlen(line)); /* held a password */
	free(line);
	return true;
}

static void run_command(imap_session *s)
{
	size_t len;
	const char *text = imap_reader_command(s->rd, &len);
	imap_command cmd;
	const char *err = NULL;
	imap_parse_opts opts = {.utf8 = imap_names_utf8(s)};
	if (imap_command_parse(text, len, &opts, &cmd, &err)) {
		s->raw = text;
		s->raw_len = len;
		imap_dispatch(s, &cmd);
		s->raw = NULL;
	} else
		imap_tagged(s, cmd.tag, "BAD", "%s", err);
	imap_command_free(&cmd);
}

static bool on_input(void *arg, struct evbuffer *in)
{
	imap_session *s = arg;
	if (s->sasl_tag != NULL || s->idle_tag != NULL)
		return line_input(s, in);
	size_t avail = evbuffer_get_length(in);
	if (avail == 0)
		return false;
	const unsigned char *p = evbuffer_pullup(in, -1);
	imap_read_status st;
	size_t used = imap_reader_feed(s->rd, p, avail, &st);
	evbuffer_drain(in, used);
	switch (st) {
	case IMAP_READ_MORE:
		return false;
	case IMAP_READ_CONTINUE:
		conn_puts(s->c, "+ Ready for literal data\r\n");
		conn_flush(s->c);
		return true;
	case IMAP_READ_COMMAND:
		/* (one begun before the stop runs; the goodbye follows it) */
		if (s->srv->stopping && !s->finishing) {
			/* a command read after the stop began: the goodbye instead */
			imap_bye(s, "The server is shutting down");
			return false;
		}
		s->finishing = false;
		run_command(s);
		break;
	case IMAP_READ_CLOSED:
		imap_bye(s, "Input can no longer be read");
		return false;
	default:
		imap_tagged(s, imap_reader_tag(s->rd), "BAD", "%s", imap_read_status_message(st));
		if (imap_reader_must_close(s->rd)) {
			imap_bye(s, "Closing: the rest of that command cannot be skipped");
			return false;
		}
		break;
	}
	if (!conn_is_closing(s->c) && s->errors >= s->srv->cfg->limits.errors)
		imap_bye(s, "Too many errors");
	return true;
}

void imap_sessions_drain(server *srv, bool force)
{
	for (session_link *l = srv->imap_sessions; l != NULL; l = l->next) {
		imap_session *s = l->owner;
		/* at a command boundary: not while a command (an APPEND's literal,
		 * say) is still arriving, unless the grace is over */
		bool boundary = !imap_reader_in_command(s->rd);
		if (!conn_is_closing(s->c) && !conn_is_busy(s->c) && (boundary || force))
			imap_bye(s, "The server is shutting down");
		else if (!boundary)
			s->finishing = true;
	}
}

void imap_sessions_free(server *srv)
{
	while (srv->imap_sessions != NULL)
		session_free(srv->imap_sessions->owner);
}
