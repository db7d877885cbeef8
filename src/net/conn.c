/* conn.c — one client connection's I/O (see conn.h). */
#include "net/conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "metrics/metrics.h"
#include "tls/bevtls.h"
#include "tls/tls.h"

/* Replies gathered before they are handed to the socket layer. */
#define CONN_GATHER_MAX ((size_t)64 * 1024)

struct conn {
	struct event_base *base;
	SSL_CTX *tls_ctx;
	int fd;
	struct bufferevent *bev;
	bool tls;
	buf out;                /* gathered replies: one write per batch */
	int timeout;
	struct event *idle;     /* the timeout: no unit of input handled */
	struct event *deadline; /* conn_set_deadline, or NULL */
	void (*drained)(void *);/* conn_when_drained */
	void *drained_arg;
	bool held;              /* reading stopped: too much output waiting */
	int busy;               /* pauses */
	int in_loop;            /* inside process(): do not free yet */
	bool closing;           /* send what is gathered, then close */
	bool tls_pending;       /* STARTTLS accepted: switch once the reply is out */
	bool dead;              /* closed; the owner is told when nothing is pending */
	char sid[24];
	char ip[64];
	const conn_handler *h;
	void *owner;
};

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void process(conn *c);

/* Tell the owner once the connection is closed and nothing is pending. */
static void maybe_gone(conn *c)
{
	if (c->dead && c->busy == 0 && c->in_loop == 0)
		c->h->gone(c->owner);
}

static void call_drained(conn *c)
{
	void (*fn)(void *) = c->drained;
	c->drained = NULL;
	if (fn != NULL)
		fn(c->drained_arg);
}

void conn_end(conn *c)
{
	bevtls_close(&c->bev, &c->fd, c->tls);
	evtimer_del(c->idle);
	if (c->deadline != NULL) {
		event_free(c->deadline);
		c->deadline = NULL;
	}
	c->dead = true;
	c->in_loop++;
	call_drained(c); /* a command waiting to write more learns it is over */
	c->in_loop--;
	maybe_gone(c);
}

/* The timeout counts from the last unit of input handled (a whole command
 * line, a chunk of message data), not from the last byte: a client that
 * trickles a line a byte at a time is still timed out.  The socket layer's
 * write timeout covers output the client does not take. */
static void apply_timeout(conn *c)
{
	struct timeval tv = {c->timeout, 0};
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	evtimer_add(c->idle, &tv);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	conn *c = arg;
	if (c->dead || c->closing)
		return;
	if (c->busy > 0 || c->held) {
		/* waiting for our own work, or for the client to read: not idle */
		apply_timeout(c);
		return;
	}
	log_event(LOG_LVL_INFO, "timeout", "sid=%s client=%s", c->sid, c->ip);
	c->h->timeout(c->owner);
}

static void attach(conn *c, struct bufferevent *bev)
{
	c->bev = bev;
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	/* the write callback runs whenever the output falls to the low mark:
	 * it lifts backpressure, wakes conn_when_drained, and (at zero) closes
	 * or starts TLS */
	bufferevent_setwatermark(bev, EV_WRITE, CONN_OUT_LOW, 0);
	apply_timeout(c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static conn *conn_make(struct event_base *base, SSL_CTX *tls, int fd, struct bufferevent *bev, bool implicit_tls,
                       const char *sid, const char *ip, const conn_handler *h, void *owner)
{
	conn *c = xcalloc(1, sizeof(*c));
	*c = (conn){.base = base, .tls_ctx = tls, .fd = fd, .tls = implicit_tls, .timeout = 300,
	            .h = h, .owner = owner};
	c->idle = evtimer_new(base, on_idle, c);
	snprintf(c->sid, sizeof c->sid, "%s", sid);
	snprintf(c->ip, sizeof c->ip, "%s", ip);
	buf_init(&c->out, CONN_GATHER_MAX);
	attach(c, bev);
	return c;
}

conn *conn_new(struct event_base *base, SSL_CTX *tls, int fd, bool implicit_tls, const char *sid,
               const char *ip, const conn_handler *h, void *owner)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct bufferevent *bev = NULL;
	if (implicit_tls) {
		if (!bevtls_start(base, &bev, fd, tls, true, NULL))
			return NULL; /* fd is closed */
	} else {
		bev = bevtls_plain(base, fd);
	}
	return conn_make(base, tls, fd, bev, implicit_tls, sid, ip, h, owner);
}

conn *conn_new_paired(struct event_base *base, struct bufferevent *bev, const char *sid, const char *ip,
                      const conn_handler *h, void *owner)
{
	return conn_make(base, NULL, -1, bev, false, sid, ip, h, owner);
}

void conn_free(conn *c)
{
	if (c == NULL)
		return;
	/* freed with a command still waiting to write (the server stopping):
	 * it is told the connection is gone, and must not free its owner */
	c->dead = true;
	c->in_loop++;
	call_drained(c);
	bevtls_close(&c->bev, &c->fd, c->tls);
	event_free(c->idle);
	if (c->deadline != NULL)
		event_free(c->deadline);
	buf_free(&c->out);
	free(c);
}

void conn_flush(conn *c)
{
	if (c->out.len == 0)
		return;
	/* one contiguous chunk: one write(2) / one TLS record per batch */
	if (c->bev != NULL)
		bufferevent_write(c->bev, c->out.data, c->out.len);
	buf_clear(&c->out);
}

void conn_write(conn *c, const void *data, size_t len)
{
	if (buf_append(&c->out, data, len))
		return;
	/* the gathering buffer is full: what it holds leaves first, then this
	 * (gathered again when it is small, else handed on whole) */
	conn_flush(c);
	if (len <= CONN_GATHER_MAX / 2 && buf_append(&c->out, data, len))
		return;
	if (c->bev != NULL)
		bufferevent_write(c->bev, data, len);
}

void conn_puts(conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

void conn_vprintf(conn *c, const char *fmt, va_list ap)
{
	char small[512];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof small, fmt, copy);
	va_end(copy);
	if (n < 0)
		abort(); /* a bad format is a bug */
	if ((size_t)n < sizeof small) {
		conn_write(c, small, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	conn_write(c, big, (size_t)n);
	free(big);
}

void conn_printf(conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conn_vprintf(c, fmt, ap);
	va_end(ap);
}

size_t conn_pending(const conn *c)
{
	size_t n = c->out.len;
	if (c->bev != NULL)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return n;
}

void conn_when_drained(conn *c, void (*fn)(void *arg), void *arg)
{
	conn_flush(c);
	if (c->dead || conn_pending(c) <= CONN_OUT_LOW) {
		fn(arg);
		return;
	}
	c->drained = fn;
	c->drained_arg = arg;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	conn *c = arg;
	if (c->closing || c->dead)
		return;
	log_event(LOG_LVL_INFO, "deadline", "sid=%s client=%s", c->sid, c->ip);
	(c->h->deadline != NULL ? c->h->deadline : c->h->timeout)(c->owner);
}

void conn_set_deadline(conn *c, int secs)
{
	if (c->deadline == NULL)
		c->deadline = evtimer_new(c->base, on_deadline, c);
	if (secs <= 0) {
		evtimer_del(c->deadline);
		return;
	}
	struct timeval tv = {secs, 0};
	evtimer_add(c->deadline, &tv);
}

void conn_set_timeout(conn *c, int secs)
{
	if (secs == c->timeout)
		return; /* the clock runs on from the last unit handled */
	c->timeout = secs;
	if (c->bev != NULL)
		apply_timeout(c);
}

int conn_read_line(conn *c, struct evbuffer *in, size_t max, char **line_r)
{
	size_t eol_len;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);
	if (p.pos < 0)
		return evbuffer_get_length(in) >= max ? -1 : 0;
	if ((size_t)p.pos + 2 > max)
		return -1;
	char *line = xmalloc((size_t)p.pos + 1);
	evbuffer_remove(in, line, (size_t)p.pos);
	evbuffer_drain(in, 2);
	line[p.pos] = '\0';
	*line_r = line;
	/* a bare CR or LF, or a NUL, inside the line */
	if (memchr(line, '\r', (size_t)p.pos) || memchr(line, '\n', (size_t)p.pos) ||
	    strlen(line) != (size_t)p.pos)
		return 2;
	return 1;
}

void conn_pause(conn *c)
{
	c->busy++;
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ);
}

/* Read again (and handle what is waiting) unless paused, closing, or held
 * back by output the client has not taken yet. */
static void reading_on(conn *c)
{
	if (c->busy == 0 && !c->closing && !c->held && !c->dead) {
		apply_timeout(c); /* the wait for the client starts now, not when the command did */
		bufferevent_enable(c->bev, EV_READ);
		process(c); /* pipelined commands waiting in the buffer */
	}
}

void conn_resume(conn *c)
{
	c->busy--;
	if (c->dead) {
		maybe_gone(c);
		return;
	}
	conn_flush(c);
	reading_on(c);
}

void conn_close_after(conn *c)
{
	conn_flush(c);
	c->closing = true; /* on_write ends it once the output is out */
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ);
}

void conn_start_tls(conn *c)
{
	/* Anything the client pipelined after the command was sent in the
	 * clear before the handshake: it is dropped, never run inside TLS. */
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	conn_flush(c);
	/* The switch happens in on_write, once the reply has left in the
	 * clear; until then nothing more is read. */
	c->tls_pending = true;
	conn_pause(c);
}

/* The reply to STARTTLS is out: a TLS bufferevent on the same socket. */
static void switch_to_tls(conn *c)
{
	c->tls_pending = false;
	c->tls = true;
	struct bufferevent *bev = c->bev;
	if (!bevtls_start(c->base, &bev, c->fd, c->tls_ctx, true, NULL)) {
		c->bev = NULL;
		c->fd = -1;
		c->busy--;
		conn_end(c);
		return;
	}
	attach(c, bev);
	conn_resume(c);
}

bool conn_is_tls(const conn *c)
{
	return c->tls;
}

bool conn_is_closing(const conn *c)
{
	return c->closing || c->dead;
}

bool conn_is_busy(const conn *c)
{
	return c->busy > 0;
}

bool conn_input_waiting(const conn *c)
{
	if (c->bev == NULL || c->dead)
		return false;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		return true;
	if (c->fd < 0)
		return false; /* a pair: all its input is in the buffer */
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n > 0; /* 0: the client closed; -1: nothing (or an error) */
}

const char *conn_tls_version(const conn *c)
{
	SSL *ssl = c->tls && c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	return ssl ? SSL_get_version(ssl) : "";
}

const char *conn_tls_cipher(const conn *c)
{
	SSL *ssl = c->tls && c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	return ssl ? SSL_get_cipher_name(ssl) : "";
}

/* Too much output waiting: stop reading until the client takes it. */
static bool hold_back(conn *c)
{
	if (conn_pending(c) <= CONN_OUT_HIGH)
		return false;
	c->held = true;
	bufferevent_disable(c->bev, EV_READ);
	return true;
}

static void process(conn *c)
{
	c->in_loop++; /* the handler may end the connection: tell the owner below */
	bool handled = false;
	while (!c->dead && !c->closing && c->busy == 0 && !hold_back(c) &&
	       c->h->input(c->owner, bufferevent_get_input(c->bev)))
		handled = true;
	if (handled && !c->dead)
		apply_timeout(c); /* the wait for the next unit starts now */
	c->in_loop--;
	if (c->dead) {
		maybe_gone(c);
		return;
	}
	conn_flush(c);
	if (c->h->after_input != NULL)
		c->h->after_input(c->owner);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	process(arg);
}

/* Before a close we chose: read and drop what the client already sent, so
 * that the close is a FIN and our last reply reaches it, not a reset. */
static void drain_socket(conn *c)
{
	evutil_socket_t fd = c->bev ? bufferevent_getfd(c->bev) : -1;
	char scratch[16384];
	for (int i = 0; fd >= 0 && i < 64; i++)
		if (recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) <= 0)
			break;
}

static void on_write(struct bufferevent *bev, void *arg)
{
	conn *c = arg;
	bool empty = evbuffer_get_length(bufferevent_get_output(bev)) == 0;
	if (empty && c->closing) {
		drain_socket(c);
		conn_end(c);
		return;
	}
	if (empty && c->tls_pending) {
		switch_to_tls(c);
		return;
	}
	c->in_loop++; /* the waiter may end the connection */
	call_drained(c);
	c->in_loop--;
	if (c->dead) {
		maybe_gone(c);
		return;
	}
	if (c->held && conn_pending(c) <= CONN_OUT_LOW) {
		c->held = false;
		reading_on(c);
	}
}

/* A TLS connection that ends in an error, or before its handshake is
 * done, is logged in words: what the client is likely to have met. */
static void log_tls_failure(conn *c, struct bufferevent *bev, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	bool handshake = ssl != NULL && !SSL_is_init_finished(ssl);
	unsigned long e = bufferevent_get_openssl_error(bev);
	if (e == 0 && !handshake)
		return; /* an ordinary close or reset after the handshake */
	char detail[256] = "-";
	if (e != 0)
		ERR_error_string_n(e, detail, sizeof detail);
	log_event(LOG_LVL_INFO, handshake ? "tls_handshake_failed" : "tls_error",
	          "sid=%s client=%s reason=%s detail=%s", c->sid, c->ip, tls_failure_words(e, handshake),
	          detail);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) { /* a TLS handshake is done */
		metrics_tls_seen(METRICS_INBOUND, conn_tls_version(c));
		return;
	}
	/* Output the client does not take (a write timeout), or a goodbye that
	 * cannot leave: nothing can reach it, so the connection just ends. */
	if (what & BEV_EVENT_TIMEOUT)
		log_event(LOG_LVL_INFO, "timeout", "sid=%s client=%s waiting=output pending=%zu", c->sid,
		          c->ip, conn_pending(c));
	else if (c->tls)
		log_tls_failure(c, bev, what);
	conn_end(c);
}
