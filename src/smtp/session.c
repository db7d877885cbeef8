/* session.c — one SMTP connection's I/O: the bufferevent, the CRLF-only line
 * reader with its length limit, reply batching (every reply, and every batch
 * of pipelined replies, leaves in one write), timeouts, the STARTTLS switch
 * and the orderly close.  Command meaning lives in commands.c and data.c. */
#include "smtp/session.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "tls/bevtls.h"

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void process_input(smtp_session *s);

/* Close the socket: a TLS bufferevent owns its fd (BEV_OPT_CLOSE_ON_FREE);
 * the plain one does not, so that STARTTLS can keep the socket. */
static void release_connection(smtp_session *s)
{
	bevtls_close(&s->bev, &s->fd, s->tls);
}

static void session_free(smtp_session *s)
{
	release_connection(s);
	txn_reset(s);
	strlist_free(&s->txn.rcpt_cmds);
	free(s->helo);
	free(s->auth_user);
	str_secure_free(s->auth_login_user);
	buf_free(&s->out);
	server_ip_release(s->srv, s->ip);
	s->srv->n_sessions--;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->srv->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	log_event(LOG_LVL_INFO, "disconnect", "sid=%s client=%s", s->sid, s->ip);
	free(s);
}

/* The connection is over; free now, or when the last job comes back. */
static void session_end(smtp_session *s)
{
	release_connection(s);
	s->dead = true;
	if (s->busy == 0 && s->in_loop == 0)
		session_free(s);
}

static void set_timeouts(smtp_session *s)
{
	const config_limits *l = &s->srv->cfg->limits;
	int secs = (s->phase == PH_DATA || s->phase == PH_BDAT) ? l->data_timeout : l->command_timeout;
	struct timeval tv = {secs, 0};
	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

static void attach_bev(smtp_session *s, struct bufferevent *bev)
{
	s->bev = bev;
	bufferevent_setcb(bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	set_timeouts(s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void smtp_session_start(server *srv, const config_listener *lst, int fd, const char *ip)
{
	smtp_session *s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->lst = lst;
	s->fd = fd;
	s->id = ++srv->next_sid;
	snprintf(s->sid, sizeof s->sid, "S%llx", (unsigned long long)s->id);
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	buf_init(&s->out, 64 * 1024);
	strlist_init(&s->txn.rcpt_cmds);
	srv->n_sessions++;
	s->next = srv->sessions;
	if (srv->sessions != NULL)
		srv->sessions->prev = s;
	srv->sessions = s;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	log_event(LOG_LVL_INFO, "accept", "sid=%s client=%s role=%s", s->sid, ip,
	          config_role_name(lst->role));
	struct bufferevent *bev = NULL;
	if (lst->role == ROLE_SUBMISSIONS) {
		s->tls = true;
		if (!bevtls_start(srv->base, &bev, fd, srv->tls, true, NULL))
			s->fd = -1;
	} else {
		bev = bevtls_plain(srv->base, fd);
	}
	if (bev == NULL) {
		session_end(s);
		return;
	}
	attach_bev(s, bev);
	session_greet(s);
}

void session_reply_text(smtp_session *s, int code, const char *esc, const char *text)
{
	reply_append_text(&s->out, code, esc, text);
	if (code >= 400)
		s->errors++;
}

void session_reply(smtp_session *s, smtp_reply_id id)
{
	const smtp_reply *r = reply_get(id);
	session_reply_text(s, r->code, r->esc, r->text);
}

void session_flush(smtp_session *s)
{
	if (s->out.len == 0 || s->bev == NULL)
		return;
	/* one contiguous chunk: one write(2) / one TLS record per batch */
	bufferevent_write(s->bev, s->out.data, s->out.len);
	buf_clear(&s->out);
}

void session_close_with(smtp_session *s, smtp_reply_id id)
{
	session_reply(s, id);
	session_flush(s);
	s->closing = true; /* on_write ends the session once the reply is out */
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_READ);
}

void session_pause(smtp_session *s)
{
	s->busy++;
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_READ);
}

void session_resume(smtp_session *s)
{
	s->busy--;
	if (s->dead) {
		if (s->busy == 0 && s->in_loop == 0)
			session_free(s);
		return;
	}
	session_flush(s);
	if (s->busy == 0 && !s->closing) {
		bufferevent_enable(s->bev, EV_READ);
		process_input(s); /* pipelined commands waiting in the buffer */
	}
}

const char *session_tls_version(smtp_session *s)
{
	SSL *ssl = s->tls && s->bev ? bufferevent_openssl_get_ssl(s->bev) : NULL;
	return ssl ? SSL_get_version(ssl) : "";
}

const char *session_tls_cipher(smtp_session *s)
{
	SSL *ssl = s->tls && s->bev ? bufferevent_openssl_get_ssl(s->bev) : NULL;
	return ssl ? SSL_get_cipher_name(ssl) : "";
}

void session_start_tls(smtp_session *s)
{
	/* Anything the client pipelined after STARTTLS was sent in the clear
	 * before the handshake: it is dropped, never executed inside TLS. */
	struct evbuffer *in = bufferevent_get_input(s->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	session_flush(s);
	/* The switch happens in on_write, once the 220 has left in the clear;
	 * until then nothing more is read. */
	s->tls_pending = true;
	session_pause(s);
}

/* Output drained after STARTTLS's 220: replace the plain bufferevent with a
 * TLS one on the same socket. */
static void switch_to_tls(smtp_session *s)
{
	s->tls_pending = false;
	s->tls = true;
	struct bufferevent *bev = s->bev;
	if (!bevtls_start(s->srv->base, &bev, s->fd, s->srv->tls, true, NULL)) {
		s->bev = NULL;
		s->fd = -1;
		s->busy--;
		session_end(s);
		return;
	}
	attach_bev(s, bev);
	session_resume(s);
}

/* Read one command line.  Returns 1 with a malloc'd line, 0 when more input
 * is needed, -1 when the session was closed for a bad line. */
static int read_line(smtp_session *s, struct evbuffer *in, char **line_r)
{
	size_t eol_len;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);
	size_t max = (size_t)s->srv->cfg->limits.line_length;
	if (p.pos < 0) {
		if (evbuffer_get_length(in) >= max) {
			session_close_with(s, RPL_LINE_TOO_LONG);
			return -1;
		}
		return 0;
	}
	if ((size_t)p.pos + 2 > max) {
		session_close_with(s, RPL_LINE_TOO_LONG);
		return -1;
	}
	char *line = xmalloc((size_t)p.pos + 1);
	evbuffer_remove(in, line, (size_t)p.pos);
	evbuffer_drain(in, 2);
	line[p.pos] = '\0';
	*line_r = line;
	/* bare CR/LF or NUL inside the line: refuse it */
	if (memchr(line, '\r', (size_t)p.pos) || memchr(line, '\n', (size_t)p.pos) ||
	    strlen(line) != (size_t)p.pos)
		return 2;
	return 1;
}

static void process_input(smtp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	s->in_loop++; /* handlers may end the session: free it only below */
	while (!s->dead && !s->closing && s->busy == 0) {
		in = bufferevent_get_input(s->bev); /* STARTTLS replaces the bev */
		if (s->phase == PH_DATA || s->phase == PH_BDAT) {
			if (!data_consume(s, in))
				break;
			continue;
		}
		char *line = NULL;
		int r = read_line(s, in, &line);
		if (r <= 0)
			break;
		if (r == 2) {
			if (s->phase == PH_AUTH) {
				s->phase = PH_COMMAND;
				s->auth = AUTH_NONE;
			}
			session_reply(s, RPL_BARE_EOL_CMD);
		} else if (s->phase == PH_AUTH) {
			cmd_auth_response(s, line);
		} else {
			cmd_dispatch(s, line);
		}
		if (line != NULL)
			explicit_bzero(line, strlen(line)); /* may have held a password */
		free(line);
		if (!s->dead && !s->closing && s->errors >= s->srv->cfg->limits.errors)
			session_close_with(s, RPL_TOO_MANY_ERRORS);
	}
	s->in_loop--;
	if (s->dead) {
		if (s->busy == 0 && s->in_loop == 0)
			session_free(s);
		return;
	}
	session_flush(s);
	set_timeouts(s);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	smtp_session *s = arg;
	if (s->closing)
		session_end(s);
	else if (s->tls_pending)
		switch_to_tls(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	smtp_session *s = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_TIMEOUT) && !s->closing) {
		log_event(LOG_LVL_INFO, "timeout", "sid=%s client=%s", s->sid, s->ip);
		session_close_with(s, RPL_TIMEOUT);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		if (e != 0) {
			char msg[256];
			ERR_error_string_n(e, msg, sizeof msg);
			log_event(LOG_LVL_INFO, "tls_error", "sid=%s client=%s error=%s", s->sid, s->ip, msg);
		}
	}
	session_end(s);
}

void server_drain(server *srv)
{
	for (smtp_session *s = srv->sessions; s != NULL; s = s->next)
		if (!s->closing && !s->dead && s->busy == 0 && s->phase == PH_COMMAND)
			session_close_with(s, RPL_SHUTDOWN);
}

void server_free_sessions(server *srv)
{
	while (srv->sessions != NULL) {
		smtp_session *s = srv->sessions;
		s->busy = 0;
		s->in_loop = 0;
		session_free(s);
	}
}
