/* smtpc.c — one outbound SMTP transaction (see smtpc.h).  A reply-driven
 * state machine: each complete (possibly multi-line) reply moves it one
 * step.  Any failure before the end decides every recipient not yet
 * decided, so done() always has a code for each. */
#include "delivery/smtpc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/sasl.h"
#include "lib/buf.h"
#include "smtp/dsnparam.h"
#include "tls/bevtls.h"

#define REPLY_MAX (64 * 1024)

enum step { ST_CONNECT, ST_GREETING, ST_EHLO, ST_HELO, ST_STARTTLS, ST_HANDSHAKE, ST_AUTH,
            ST_MAIL, ST_RCPT, ST_DATA, ST_BODY, ST_QUIT, ST_DONE };

typedef struct smtpc_state {
	struct bufferevent *bev;
	int fd;
	bool tls;
	enum step step;
	size_t rcpt_i;
	size_t accepted;
	buf reply;
	bool ext_starttls, ext_size, ext_8bit, ext_utf8, ext_auth, ext_dsn;
	bool authed;
	unsigned long long remote_size;
	bool finished;
} smtpc_state;

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void set_reply(smtpc_job *j, size_t i, int code, const char *text)
{
	j->codes[i] = code;
	free(j->replies[i]);
	j->replies[i] = xstrdup(text);
}

/* Every recipient without a decision gets this one. */
static void decide_rest(smtpc_job *j, int code, const char *text)
{
	for (size_t i = 0; i < j->n_rcpts; i++)
		if (j->codes[i] == 0)
			set_reply(j, i, code, text);
}

static void close_connection(smtpc_state *st)
{
	bevtls_close(&st->bev, &st->fd, st->tls);
}

static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
	smtpc_job *j = arg;
	smtpc_state *st = j->st;
	close_connection(st);
	buf_free(&st->reply);
	free(st);
	j->st = NULL;
	j->done(j);
}

/* End the transaction; done() runs on the next loop turn. */
static void finish(smtpc_job *j, int code, const char *text)
{
	if (j->st->finished)
		return;
	j->st->finished = true;
	decide_rest(j, code, text);
	if (j->st->bev != NULL)
		bufferevent_disable(j->st->bev, EV_READ | EV_WRITE);
	event_base_once(j->base, -1, EV_TIMEOUT, finish_cb, j, NULL);
}

static void send_line(smtpc_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void send_line(smtpc_job *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf b;
	buf_init(&b, 4096);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_puts(&b, "\r\n");
	bufferevent_write(j->st->bev, b.data, b.len);
	buf_free(&b);
}

static void set_timeouts(smtpc_job *j, int read_secs)
{
	struct timeval r = {read_secs, 0}, w = {j->command_timeout, 0};
	bufferevent_set_timeouts(j->st->bev, &r, &w);
}

static void quit(smtpc_job *j)
{
	smtpc_state *st = j->st;
	st->step = ST_QUIT;
	send_line(j, "QUIT");
}

/* The body: LF line ends become CRLF, a leading dot is doubled (RFC 5321
 * 4.5.2), then the end-of-data line. */
static void send_body(smtpc_job *j)
{
	struct evbuffer *out = bufferevent_get_output(j->st->bev);
	const char *p = j->body, *end = j->body + j->body_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[0] == '.')
			evbuffer_add(out, ".", 1);
		evbuffer_add(out, p, n);
		evbuffer_add(out, "\r\n", 2);
		p += n + (nl ? 1 : 0);
	}
	evbuffer_add(out, ".\r\n", 3);
}

/* Bytes of the body on the wire (for SIZE=): LF becomes CRLF. */
static unsigned long long wire_size(const smtpc_job *j)
{
	unsigned long long n = j->body_len;
	for (size_t i = 0; i < j->body_len; i++)
		if (j->body[i] == '\n')
			n++;
	return n;
}

static bool has_8bit(const smtpc_job *j)
{
	for (size_t i = 0; i < j->body_len; i++)
		if ((unsigned char)j->body[i] >= 0x80)
			return true;
	return false;
}

static void parse_ehlo(smtpc_state *st, const char *text)
{
	st->ext_starttls = st->ext_size = st->ext_8bit = st->ext_utf8 = st->ext_auth = st->ext_dsn = false;
	st->remote_size = 0;
	for (const char *line = strchr(text, '\n'); line != NULL; line = strchr(line + 1, '\n')) {
		const char *kw = line + 1 + 4; /* skip "250-" / "250 " */
		if (strlen(line + 1) < 4)
			continue;
		if (strncasecmp(kw, "STARTTLS", 8) == 0)
			st->ext_starttls = true;
		else if (strncasecmp(kw, "8BITMIME", 8) == 0)
			st->ext_8bit = true;
		else if (strncasecmp(kw, "SMTPUTF8", 8) == 0)
			st->ext_utf8 = true;
		else if (strncasecmp(kw, "AUTH", 4) == 0)
			st->ext_auth = true;
		else if (strncasecmp(kw, "DSN", 3) == 0 && (kw[3] == '\0' || kw[3] == '\n' || kw[3] == ' '))
			st->ext_dsn = true;
		else if (strncasecmp(kw, "SIZE", 4) == 0) {
			st->ext_size = true;
			st->remote_size = strtoull(kw + 4, NULL, 10);
		}
	}
}

static void start_mail(smtpc_job *j)
{
	smtpc_state *st = j->st;
	unsigned long long size = wire_size(j);
	if (st->ext_size && st->remote_size > 0 && size > st->remote_size) {
		char *t = xasprintf("552 5.3.4 Message size %llu exceeds the remote server's limit (SIZE %llu)",
		                    size, st->remote_size);
		decide_rest(j, 552, t);
		free(t);
		quit(j);
		return;
	}
	if (j->needs_smtputf8 && !st->ext_utf8) {
		decide_rest(j, 553, "553 5.6.7 The remote server does not support SMTPUTF8, which this message needs");
		quit(j);
		return;
	}
	st->step = ST_MAIL;
	char sz[32] = "";
	if (st->ext_size)
		snprintf(sz, sizeof sz, " SIZE=%llu", size);
	buf dsn;
	buf_init(&dsn, 1024);
	if (st->ext_dsn)
		dsnparam_mail(j->dsn_ret, j->envid, &dsn);
	send_line(j, "MAIL FROM:<%s>%s%s%s%s", j->sender, sz,
	          st->ext_8bit && has_8bit(j) ? " BODY=8BITMIME" : "",
	          j->needs_smtputf8 ? " SMTPUTF8" : "", buf_str(&dsn));
	buf_free(&dsn);
}

/* RCPT for recipient i, with its NOTIFY and ORCPT when the server has DSN. */
static void send_rcpt(smtpc_job *j, size_t i)
{
	buf dsn;
	buf_init(&dsn, 2048);
	if (j->st->ext_dsn)
		dsnparam_rcpt(j->notify ? j->notify[i] : 0, j->orcpt ? j->orcpt[i] : NULL, &dsn);
	send_line(j, "RCPT TO:<%s>%s", j->rcpts[i], buf_str(&dsn));
	buf_free(&dsn);
}

static void start_tls(smtpc_job *j)
{
	smtpc_state *st = j->st;
	st->tls = true;
	if (!bevtls_start(j->base, &st->bev, st->fd, j->tls, false, j->mx_host)) {
		st->fd = -1;
		finish(j, 451, "451 4.7.5 TLS set-up failed on our side");
		return;
	}
	st->step = ST_HANDSHAKE;
	bufferevent_setcb(st->bev, on_read, NULL, on_event, j);
	set_timeouts(j, j->command_timeout);
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
}

static void after_tls(smtpc_job *j)
{
	SSL *ssl = bufferevent_openssl_get_ssl(j->st->bev);
	j->tls_version = xstrdup(SSL_get_version(ssl));
	j->tls_verified = SSL_get_verify_result(ssl) == X509_V_OK &&
	                  SSL_get0_peer_certificate(ssl) != NULL;
	if (j->require_verified && !j->tls_verified) {
		char *t = xasprintf("451 4.7.5 The certificate of %s does not verify (%s)", j->mx_host,
		                    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
		finish(j, 451, t);
		free(t);
		return;
	}
	if (j->implicit_tls && j->st->step == ST_HANDSHAKE && !j->st->ext_starttls) {
		j->st->step = ST_GREETING; /* implicit TLS: the greeting comes inside */
		return;
	}
	j->st->step = ST_EHLO;
	send_line(j, "EHLO %s", j->helo);
}

/* After EHLO (and TLS when there is to be TLS): log in, or go to MAIL. */
static void after_ehlo(smtpc_job *j)
{
	smtpc_state *st = j->st;
	if (j->require_tls && !st->tls) {
		char *t = xasprintf("451 4.7.10 %s offers no STARTTLS; not sending credentials or mail in the clear",
		                    j->mx_host);
		finish(j, 451, t);
		free(t);
		return;
	}
	if (j->auth_user != NULL && !st->authed) {
		buf raw;
		buf_init(&raw, 4096);
		buf_putc(&raw, '\0');
		buf_puts(&raw, j->auth_user);
		buf_putc(&raw, '\0');
		buf_puts(&raw, j->auth_pass ? j->auth_pass : "");
		char *b64 = sasl_b64_encode(raw.data, raw.len);
		explicit_bzero(raw.data, raw.len);
		buf_free(&raw);
		st->step = ST_AUTH;
		send_line(j, "AUTH PLAIN %s", b64);
		explicit_bzero(b64, strlen(b64));
		free(b64);
		return;
	}
	start_mail(j);
}

/* One complete reply: code and the whole text (lines joined by '\n'). */
static void on_reply(smtpc_job *j, int code, const char *text)
{
	smtpc_state *st = j->st;
	int cls = code / 100;
	switch (st->step) {
	case ST_GREETING:
		if (cls != 2) {
			finish(j, code, text);
			return;
		}
		st->step = ST_EHLO;
		send_line(j, "EHLO %s", j->helo);
		return;
	case ST_EHLO:
		if (cls != 2) {
			st->step = ST_HELO;
			send_line(j, "HELO %s", j->helo);
			return;
		}
		parse_ehlo(st, text);
		j->dsn_offered = st->ext_dsn;
		if (st->ext_starttls && !st->tls && j->tls != NULL) {
			st->step = ST_STARTTLS;
			send_line(j, "STARTTLS");
			return;
		}
		after_ehlo(j);
		return;
	case ST_HELO:
		if (cls != 2) {
			finish(j, code, text);
			return;
		}
		after_ehlo(j);
		return;
	case ST_STARTTLS:
		if (code == 220)
			start_tls(j);
		else
			after_ehlo(j); /* refused: go on in the clear unless TLS is required */
		return;
	case ST_AUTH:
		if (code != 235) {
			/* a refused login is our configuration's problem: defer, so
			 * that mail flows again once it is fixed */
			char *t = xasprintf("451 4.7.0 %s refused our login: %s", j->mx_host, text);
			finish(j, 451, t);
			free(t);
			return;
		}
		st->authed = true;
		start_mail(j);
		return;
	case ST_MAIL:
		if (cls != 2) {
			decide_rest(j, code, text);
			quit(j);
			return;
		}
		st->step = ST_RCPT;
		st->rcpt_i = 0;
		send_rcpt(j, 0);
		return;
	case ST_RCPT:
		if (cls == 2)
			st->accepted++;
		else
			set_reply(j, st->rcpt_i, code, text);
		if (++st->rcpt_i < j->n_rcpts) {
			send_rcpt(j, st->rcpt_i);
			return;
		}
		if (st->accepted == 0) {
			quit(j);
			return;
		}
		st->step = ST_DATA;
		send_line(j, "DATA");
		return;
	case ST_DATA:
		if (code != 354) {
			decide_rest(j, code, text);
			quit(j);
			return;
		}
		st->step = ST_BODY;
		set_timeouts(j, j->data_timeout);
		send_body(j);
		j->data_sent = true;
		return;
	case ST_BODY:
		decide_rest(j, code, text);
		set_timeouts(j, j->command_timeout);
		quit(j);
		return;
	case ST_QUIT:
		finish(j, 421, "421 4.4.2 connection closed");
		return;
	default:
		return;
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	smtpc_job *j = arg;
	smtpc_state *st = j->st;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;
	while (!st->finished && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		bool ok = len >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
		          line[2] >= '0' && line[2] <= '9' && (len == 3 || line[3] == ' ' || line[3] == '-');
		if (!ok || (st->reply.len > 0 && !buf_putc(&st->reply, '\n')) ||
		    !buf_append(&st->reply, line, len)) {
			free(line);
			finish(j, 451, "451 4.5.0 The remote server sent a malformed or oversized reply");
			return;
		}
		bool last = len == 3 || line[3] == ' ';
		int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		free(line);
		if (!last)
			continue;
		char *text = buf_steal(&st->reply);
		buf_init(&st->reply, REPLY_MAX);
		on_reply(j, code, text);
		free(text);
		if (j->st == NULL || st->bev == NULL)
			return; /* the bufferevent changed (STARTTLS) or we finished */
		in = bufferevent_get_input(st->bev);
	}
	if (!st->finished && evbuffer_get_length(in) > REPLY_MAX)
		finish(j, 451, "451 4.5.0 The remote server sent an oversized reply");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	smtpc_job *j = arg;
	smtpc_state *st = j->st;
	if (what & BEV_EVENT_CONNECTED) {
		if (st->step == ST_CONNECT) {
			j->connected = true;
			st->step = ST_GREETING;
			int one = 1;
			setsockopt(st->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			set_timeouts(j, j->command_timeout);
			if (j->implicit_tls && j->tls != NULL)
				start_tls(j);
		} else if (st->step == ST_HANDSHAKE) {
			after_tls(j);
		}
		return;
	}
	char *t;
	if (st->step == ST_CONNECT)
		t = xasprintf("451 4.4.1 Cannot connect to %s: %s", j->mx_host,
		              what & BEV_EVENT_TIMEOUT ? "timed out" : strerror(EVUTIL_SOCKET_ERROR()));
	else if (st->step == ST_HANDSHAKE)
		t = xasprintf("451 4.7.5 TLS handshake with %s failed", j->mx_host);
	else if (st->step == ST_QUIT)
		t = xstrdup("221 2.0.0 closed"); /* everything was decided before QUIT */
	else
		t = xasprintf("451 4.4.2 Connection to %s %s", j->mx_host,
		              what & BEV_EVENT_TIMEOUT ? "timed out" : "lost");
	finish(j, 451, t);
	free(t);
}

void smtpc_start(smtpc_job *j)
{
	j->codes = xcalloc(j->n_rcpts, sizeof(int));
	j->replies = xcalloc(j->n_rcpts, sizeof(char *));
	smtpc_state *st = xcalloc(1, sizeof(*st));
	j->st = st;
	buf_init(&st->reply, REPLY_MAX);
	st->fd = socket(j->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0) {
		finish(j, 451, "451 4.3.0 Cannot create a socket");
		return;
	}
	st->bev = bevtls_plain(j->base, st->fd);
	bufferevent_setcb(st->bev, on_read, NULL, on_event, j);
	struct timeval r = {j->command_timeout, 0}, w = {j->connect_timeout, 0};
	bufferevent_set_timeouts(st->bev, &r, &w);
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(st->bev, (struct sockaddr *)&j->addr, (int)j->addr_len) != 0) {
		char *t = xasprintf("451 4.4.1 Cannot connect to %s: %s", j->mx_host, strerror(errno));
		finish(j, 451, t);
		free(t);
	}
}

void smtpc_abort(smtpc_job *j)
{
	if (j->st != NULL) {
		close_connection(j->st);
		buf_free(&j->st->reply);
		free(j->st);
		j->st = NULL;
	}
	smtpc_job_clear(j);
}

void smtpc_job_clear(smtpc_job *j)
{
	for (size_t i = 0; j->replies != NULL && i < j->n_rcpts; i++)
		free(j->replies[i]);
	free(j->replies);
	free(j->codes);
	free(j->tls_version);
	j->replies = NULL;
	j->codes = NULL;
	j->tls_version = NULL;
}
