/* smtpc.c — the outbound SMTP client (see smtpc.h).  A reply-driven state
 * machine on one connection (smtpc_conn): each complete (possibly
 * multi-line) reply moves it one step.  Any failure before the end of a
 * transaction decides every recipient not yet decided, so done() always has
 * a code for each. */
#include "delivery/smtpc.h"

#include <arpa/inet.h>
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
#include "delivery/tlsrpt.h"
#include "lib/buf.h"
#include "envelope/dsnparam.h"
#include "lib/strutil.h"
#include "metrics/metrics.h"
#include "mime/to7bit.h"
#include "tls/bevtls.h"

#define REPLY_MAX (64 * 1024)
#define QUIT_TIMEOUT 5

enum step { ST_CONNECT, ST_GREETING, ST_EHLO, ST_HELO, ST_STARTTLS, ST_HANDSHAKE,
            ST_AUTH, ST_AUTH_USER, ST_AUTH_PASS,
            ST_MAIL, ST_RCPT, ST_DATA, ST_BODY, ST_DISCARD, ST_SKIP, ST_RSET,
            ST_IDLE, ST_QUIT };

struct smtpc_conn {
	struct event_base *base;
	struct bufferevent *bev;
	int fd;
	bool tls;
	enum step step;
	buf reply;
	char *host;
	char ip[INET6_ADDRSTRLEN];
	int port;
	time_t opened;
	char *tls_version;
	const char *tls_cipher;
	bool tls_verified;
	const char *dane_status;  /* "dane-ee" / "dane-ta" when DANE authenticated it */
	/* what the server offers (EHLO) */
	bool ext_starttls, ext_size, ext_8bit, ext_utf8, ext_pipelining, ext_chunking, ext_dsn;
	bool ext_requiretls;
	bool auth_plain, auth_login;
	unsigned long long remote_size;
	bool authed;
	bool dead;                /* closed, or in a state no transaction can follow */
	/* the transaction in progress */
	smtpc_job *job;
	const char *body;         /* what it sends: job->body or job->body7 */
	size_t body_len;
	size_t rcpt_i, accepted, skip;
	bool body_piped;          /* BDAT left with MAIL and RCPT (job->pipe_body) */
	bool replied;             /* the server answered something in this transaction */
	bool finished;
	/* idle or quitting: whom to tell when it ends */
	smtpc_conn_fn *notify;
	void *notify_arg;
};

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

/* from_server: text is the server's own reply, not a reason of ours
 * written in the shape of one (RFC 3464 2.3.6 wants only the former as an
 * smtp Diagnostic-Code). */
static void set_reply(smtpc_job *j, size_t i, int code, const char *text, bool from_server)
{
	j->codes[i] = code;
	j->from_server[i] = from_server;
	free(j->replies[i]);
	j->replies[i] = xstrdup(text);
}

/* Every recipient without a decision gets this one. */
static void decide_rest(smtpc_job *j, int code, const char *text, bool from_server)
{
	for (size_t i = 0; i < j->n_rcpts; i++)
		if (j->codes[i] == 0)
			set_reply(j, i, code, text, from_server);
}

static void close_socket(smtpc_conn *c)
{
	bevtls_close(&c->bev, &c->fd, c->tls);
	c->dead = true;
}

void smtpc_conn_free(smtpc_conn *c)
{
	if (c == NULL)
		return;
	close_socket(c);
	buf_free(&c->reply);
	free(c->host);
	free(c->tls_version);
	free(c);
}

static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
	smtpc_job *j = arg;
	smtpc_conn *c = j->st;
	j->st = NULL;
	if (j->kept != c)
		smtpc_conn_free(c);
	j->done(j);
}

/* End the job; done() runs on the next loop turn.  The connection is freed
 * then, unless it was handed back (job->kept). */
static void finish_as(smtpc_job *j, int code, const char *text, bool from_server)
{
	smtpc_conn *c = j->st;
	if (c->finished)
		return;
	c->finished = true;
	decide_rest(j, code, text, from_server);
	if (j->kept == NULL && c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_base_once(j->base, -1, EV_TIMEOUT, finish_cb, j, NULL);
}

/* End the job with a reason of ours (connection, TLS, protocol trouble). */
static void finish(smtpc_job *j, int code, const char *text)
{
	finish_as(j, code, text, false);
}

static void send_line(smtpc_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Queue a command line; everything queued in one loop turn leaves in one
 * write, which is what makes PIPELINING cheap. */
static void send_line(smtpc_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_VPRINTF(&b, fmt, ap);
	va_end(ap);
	BUF_PUTS(&b, "\r\n");
	bufferevent_write(c->bev, b.data, b.len);
	buf_free(&b);
}

static void set_timeouts(smtpc_conn *c, int read_secs, int write_secs)
{
	struct timeval r = {read_secs, 0}, w = {write_secs, 0};
	bufferevent_set_timeouts(c->bev, &r, &w);
}

static void quit(smtpc_job *j)
{
	j->st->step = ST_QUIT;
	send_line(j->st, "QUIT");
}

/* The body on the wire: LF line ends become CRLF; for DATA a leading dot
 * is doubled (RFC 5321 4.5.2) and the end-of-data line follows. */
static void body_to_wire(const smtpc_conn *c, struct evbuffer *out, bool dot_stuff)
{
	const char *p = c->body, *end = c->body + c->body_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (dot_stuff && n > 0 && p[0] == '.')
			evbuffer_add(out, ".", 1);
		evbuffer_add(out, p, n);
		evbuffer_add(out, "\r\n", 2);
		p += n + (nl ? 1 : 0);
	}
	if (dot_stuff)
		evbuffer_add(out, ".\r\n", 3);
}

/* Bytes of the body on the wire (for SIZE=): LF becomes CRLF. */
static unsigned long long wire_size(const smtpc_conn *c)
{
	unsigned long long n = c->body_len;
	for (size_t i = 0; i < c->body_len; i++)
		if (c->body[i] == '\n')
			n++;
	return n;
}

static bool keyword(const char *kw, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(kw, name, n) == 0 && (kw[n] == '\0' || kw[n] == ' ' || kw[n] == '\n');
}

static void parse_auth(smtpc_conn *c, const char *mechs)
{
	for (const char *p = mechs; *p != '\0' && *p != '\n';) {
		p += strspn(p, " ");
		if (keyword(p, "PLAIN"))
			c->auth_plain = true;
		else if (keyword(p, "LOGIN"))
			c->auth_login = true;
		p += strcspn(p, " \n");
	}
}

static void parse_ehlo(smtpc_conn *c, const char *text)
{
	c->ext_starttls = c->ext_size = c->ext_8bit = c->ext_utf8 = false;
	c->ext_pipelining = c->ext_chunking = c->ext_dsn = c->auth_plain = c->auth_login = false;
	c->ext_requiretls = false;
	c->remote_size = 0;
	for (const char *line = strchr(text, '\n'); line != NULL; line = strchr(line + 1, '\n')) {
		if (strcspn(line + 1, "\n") < 4)
			continue;
		const char *kw = line + 1 + 4; /* skip "250-" / "250 " */
		if (keyword(kw, "STARTTLS"))
			c->ext_starttls = true;
		else if (keyword(kw, "8BITMIME"))
			c->ext_8bit = true;
		else if (keyword(kw, "SMTPUTF8"))
			c->ext_utf8 = true;
		else if (keyword(kw, "PIPELINING"))
			c->ext_pipelining = true;
		else if (keyword(kw, "CHUNKING"))
			c->ext_chunking = true;
		else if (keyword(kw, "DSN"))
			c->ext_dsn = true;
		else if (keyword(kw, "REQUIRETLS"))
			c->ext_requiretls = true;
		else if (keyword(kw, "AUTH"))
			parse_auth(c, kw + 4);
		else if (keyword(kw, "SIZE")) {
			c->ext_size = true;
			c->remote_size = strtoull(kw + 4, NULL, 10);
		}
	}
}

/* ---- the end of a transaction ---- */

static void hand_back(smtpc_job *j)
{
	smtpc_conn *c = j->st;
	c->step = ST_IDLE;
	c->job = NULL;
	j->kept = c;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	finish(j, 421, "421 4.4.2 connection closed");
}

/* The transaction is over (every recipient decided).  clean: the server is
 * ready for the next MAIL as it is; otherwise it gets an RSET first. */
static void txn_end(smtpc_job *j, bool clean)
{
	smtpc_conn *c = j->st;
	if (!j->keep || c->dead)
		quit(j);
	else if (!clean) {
		c->step = ST_RSET;
		send_line(c, "RSET");
	} else
		hand_back(j);
}

/* ---- the transaction ---- */

/* RCPT for recipient i, with its NOTIFY and ORCPT when the server has DSN. */
static void send_rcpt(smtpc_job *j, size_t i)
{
	buf dsn;
	buf_init(&dsn, BUF_UNBOUNDED);
	if (j->st->ext_dsn)
		dsnparam_rcpt(j->notify ? j->notify[i] : 0, j->orcpt ? j->orcpt[i] : NULL, &dsn);
	send_line(j->st, "RCPT TO:<%s>%s", j->rcpts[i], buf_str(&dsn));
	buf_free(&dsn);
}

static void send_body(smtpc_job *j)
{
	smtpc_conn *c = j->st;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (c->ext_chunking) {
		/* one chunk: no dot-stuffing, and the reply needs no 354 first */
		struct evbuffer *payload = evbuffer_new();
		body_to_wire(c, payload, false);
		send_line(c, "BDAT %zu LAST", evbuffer_get_length(payload));
		evbuffer_add_buffer(out, payload);
		evbuffer_free(payload);
	} else {
		body_to_wire(c, out, true);
	}
	c->step = ST_BODY;
	set_timeouts(c, j->data_timeout, j->data_timeout);
	j->data_sent = true;
}

/* What this server gets: the message as spooled, or for a server without
 * 8BITMIME and a message with 8-bit bytes its 7-bit copy.  False when
 * there is none (every recipient is then refused with no7bit_reply). */
static bool choose_body(smtpc_job *j)
{
	smtpc_conn *c = j->st;
	bool eight = str_has_8bit(j->body, j->body_len);
	c->body = j->body;
	c->body_len = j->body_len;
	j->body_sent = eight && c->ext_8bit ? "8bitmime" : "7bit";
	if (!eight || c->ext_8bit)
		return true;
	if (j->body7 == NULL) {
		const char *r = j->no7bit_reply ? j->no7bit_reply
		                                : "554 5.6.3 The remote server does not accept 8-bit mail (no 8BITMIME)";
		decide_rest(j, 554, r, false);
		j->body_sent = NULL;
		return false;
	}
	c->body = j->body7;
	c->body_len = j->body7_len;
	j->body_sent = "converted";
	return true;
}

static void start_mail(smtpc_job *j)
{
	smtpc_conn *c = j->st;
	if (j->needs_smtputf8 && !c->ext_utf8) {
		decide_rest(j, 553, "553 5.6.7 The remote server does not support SMTPUTF8, which this message needs",
		            false);
		txn_end(j, true);
		return;
	}
	if (j->requiretls && !c->ext_requiretls) {
		/* RFC 8689 4.2.1: never to a server that does not promise to
		 * keep the requirement on the next hop */
		char *t = xasprintf("550 5.7.30 REQUIRETLS support required: %s does not offer REQUIRETLS",
		                    c->host);
		decide_rest(j, 550, t, false);
		free(t);
		txn_end(j, true); /* nothing was sent */
		return;
	}
	if (!choose_body(j)) {
		txn_end(j, true); /* nothing was sent */
		return;
	}
	unsigned long long size = wire_size(c);
	if (c->ext_size && c->remote_size > 0 && size > c->remote_size) {
		char *t = xasprintf("552 5.3.4 Message size %llu exceeds the remote server's limit (SIZE %llu)",
		                    size, c->remote_size);
		decide_rest(j, 552, t, false);
		free(t);
		txn_end(j, true); /* nothing was sent */
		return;
	}
	c->step = ST_MAIL;
	c->rcpt_i = c->accepted = 0;
	c->body_piped = false;
	char sz[32] = "";
	if (c->ext_size)
		snprintf(sz, sizeof sz, " SIZE=%llu", size);
	buf dsn;
	buf_init(&dsn, BUF_UNBOUNDED);
	if (c->ext_dsn)
		dsnparam_mail(j->dsn_ret, j->envid, &dsn);
	send_line(c, "MAIL FROM:<%s>%s%s%s%s%s", j->sender, sz,
	          strcmp(j->body_sent, "8bitmime") == 0 ? " BODY=8BITMIME" : "",
	          j->needs_smtputf8 ? " SMTPUTF8" : "", j->requiretls ? " REQUIRETLS" : "", buf_str(&dsn));
	buf_free(&dsn);
	if (!c->ext_pipelining)
		return;
	/* RFC 2920: every RCPT, and DATA as the last of the group; BDAT waits
	 * for the RCPT replies, so no body is sent to nobody */
	for (size_t i = 0; i < j->n_rcpts; i++)
		send_rcpt(j, i);
	if (!c->ext_chunking) {
		send_line(c, "DATA");
	} else if (j->pipe_body) {
		/* RFC 3030 4.2: BDAT may be pipelined; a server that refused
		 * every recipient reads the chunk and refuses it */
		send_body(j);
		c->step = ST_MAIL;
		c->body_piped = true;
	}
}

/* A pipelined group's replies that no longer matter still have to be read. */
static void skip_replies(smtpc_job *j, size_t n)
{
	smtpc_conn *c = j->st;
	if (n == 0) {
		txn_end(j, false);
		return;
	}
	c->skip = n;
	c->step = ST_SKIP;
}

static void on_mail_reply(smtpc_job *j, int code, const char *text)
{
	smtpc_conn *c = j->st;
	if (code / 100 != 2) {
		decide_rest(j, code, text, true);
		skip_replies(j, c->ext_pipelining ? j->n_rcpts + !c->ext_chunking + c->body_piped : 0);
		return;
	}
	c->step = ST_RCPT;
	if (!c->ext_pipelining)
		send_rcpt(j, 0);
}

static void on_rcpt_reply(smtpc_job *j, int code, const char *text)
{
	smtpc_conn *c = j->st;
	if (code / 100 == 2)
		c->accepted++;
	else
		set_reply(j, c->rcpt_i, code, text, true);
	if (++c->rcpt_i < j->n_rcpts) {
		if (!c->ext_pipelining)
			send_rcpt(j, c->rcpt_i);
		return;
	}
	if (c->body_piped) {
		c->step = ST_BODY; /* its reply is next */
		return;
	}
	if (c->ext_chunking) {
		if (c->accepted == 0)
			txn_end(j, false);
		else
			send_body(j);
		return;
	}
	if (c->ext_pipelining) {
		c->step = ST_DATA; /* DATA was sent with the group */
		return;
	}
	if (c->accepted == 0) {
		txn_end(j, false);
		return;
	}
	c->step = ST_DATA;
	send_line(c, "DATA");
}

static void on_data_reply(smtpc_job *j, int code, const char *text)
{
	smtpc_conn *c = j->st;
	if (code != 354) {
		decide_rest(j, code, text, true);
		txn_end(j, false);
	} else if (c->accepted == 0) {
		/* a pipelined DATA accepted with no recipient: end it empty */
		c->step = ST_DISCARD;
		send_line(c, ".");
	} else {
		send_body(j);
	}
}

/* ---- connection set-up ---- */

/* End the transaction and the connection with a 451 of ours (text is
 * owned, freed here). */
static void give_up(smtpc_job *j, char *text)
{
	j->st->dead = true;
	finish(j, 451, text);
	free(text);
}

/* The TLSA base domain: the SNI name and first reference name. */
static const char *tls_base(const smtpc_job *j)
{
	return j->dane != NULL && j->dane_base != NULL ? j->dane_base : j->mx_host;
}

/* The set-up of the new SSL (bevtls_prep_fn): DANE's records and names
 * (the TLSA base domain, and the other name of an alias), or, without
 * DANE, that other name as a second name the certificate may carry. */
static bool names_prep(SSL *ssl, void *arg)
{
	const smtpc_job *j = arg;
	if (j->dane != NULL) {
		const char *names[] = {j->ref_name2};
		return dane_prepare(ssl, j->dane, tls_base(j), names, j->ref_name2 != NULL ? 1 : 0);
	}
	return j->ref_name2 == NULL || SSL_add1_host(ssl, j->ref_name2) == 1;
}

static void start_tls(smtpc_job *j)
{
	smtpc_conn *c = j->st;
	c->tls = true;
	bool dane_ok = j->dane == NULL || dane_ctx_enable(j->tls);
	if (!dane_ok || !bevtls_start_prep(j->base, &c->bev, c->fd, j->tls, false, tls_base(j),
	                                   j->dane != NULL || j->ref_name2 != NULL ? names_prep : NULL, j)) {
		if (!dane_ok)
			close(c->fd);
		c->fd = -1;
		c->dead = true;
		finish(j, 451, "451 4.7.5 TLS set-up failed on our side");
		return;
	}
	c->step = ST_HANDSHAKE;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	set_timeouts(c, j->command_timeout, j->command_timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* DANE's verdict on the finished handshake (RFC 7672 3): a match
 * authenticates the server; no match ends the transaction (451 4.7.5,
 * false); with no usable record TLS is all there is (RFC 7672 2.2). */
static bool dane_verdict_ok(smtpc_job *j, SSL *ssl)
{
	smtpc_conn *c = j->st;
	if (j->dane->n == 0) {
		j->dane_status = "unusable";
		j->tls_failure = TLSRPT_TLSA_INVALID;
		return true;
	}
	dane_verdict v = dane_check(ssl);
	if (!v.ok) {
		j->dane_status = "fail";
		j->dane_why = v.why;
		j->tls_failure = TLSRPT_VALIDATION_FAILURE;
		give_up(j, xasprintf("451 4.7.5 The certificate of %s does not match its DANE TLSA records (%s)",
		                     j->mx_host, v.why));
		return false;
	}
	c->dane_status = j->dane_status = v.usage == DANE_TA ? "dane-ta" : "dane-ee";
	c->tls_verified = j->tls_verified = true;
	return true;
}

static void after_tls(smtpc_job *j)
{
	smtpc_conn *c = j->st;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	c->tls_version = xstrdup(SSL_get_version(ssl));
	metrics_tls_seen(METRICS_OUTBOUND, c->tls_version);
	c->tls_cipher = SSL_get_cipher_name(ssl);
	j->tls_cipher = c->tls_cipher;
	c->tls_verified = SSL_get_verify_result(ssl) == X509_V_OK && SSL_get0_peer_certificate(ssl) != NULL;
	j->tls_version = xstrdup(c->tls_version);
	j->tls_verified = c->tls_verified;
	j->tls_verify_result = SSL_get_verify_result(ssl);
	if (j->dane != NULL && !dane_verdict_ok(j, ssl))
		return;
	if (j->require_verified && !c->tls_verified) {
		/* a REQUIRETLS message is returned rather than kept waiting for a
		 * certificate to change (RFC 8689 4.2.1, 5) */
		int code = j->requiretls ? 550 : 451;
		char *t = xasprintf("%d %s The certificate of %s does not verify (%s)%s", code,
		                    j->requiretls ? "5.7.10" : "4.7.5", j->mx_host,
		                    X509_verify_cert_error_string(SSL_get_verify_result(ssl)),
		                    j->requiretls ? "; REQUIRETLS needs a verified certificate" : "");
		c->dead = true;
		finish(j, code, t);
		free(t);
		return;
	}
	if (j->implicit_tls && !c->ext_starttls) {
		c->step = ST_GREETING; /* implicit TLS: the greeting comes inside */
		return;
	}
	c->step = ST_EHLO;
	send_line(c, "EHLO %s", j->helo);
}

static void send_b64(smtpc_conn *c, const char *prefix, const void *data, size_t n)
{
	char *b64 = sasl_b64_encode(data, n);
	send_line(c, "%s%s", prefix, b64);
	explicit_bzero(b64, strlen(b64));
	free(b64);
}

/* After EHLO (and TLS when there is to be TLS): log in, or go to MAIL. */
static void after_ehlo(smtpc_job *j)
{
	smtpc_conn *c = j->st;
	if (j->dane != NULL && !c->tls) {
		/* RFC 7672 2.2: secure TLSA records make TLS mandatory; a missing
		 * or refused STARTTLS may be an attacker's doing */
		j->dane_status = "no-starttls";
		j->tls_failure = TLSRPT_STARTTLS_NOT_SUPPORTED;
		give_up(j, xasprintf("451 4.7.5 %s has DANE TLSA records but did not start TLS; "
		                     "not sending in the clear", j->mx_host));
		return;
	}
	if (j->require_tls && !c->tls) {
		int code = j->requiretls ? 550 : 451;
		char *t = j->requiretls
		        ? xasprintf("550 5.7.10 %s offers no STARTTLS; REQUIRETLS forbids sending in the clear",
		                    j->mx_host)
		        : xasprintf("451 4.7.10 %s offers no STARTTLS; not sending credentials or mail in the clear",
		                    j->mx_host);
		c->dead = true;
		finish(j, code, t);
		free(t);
		return;
	}
	if (j->auth_user != NULL && !c->authed) {
		if (c->auth_login && !c->auth_plain) {
			c->step = ST_AUTH_USER;
			send_line(c, "AUTH LOGIN");
			return;
		}
		buf raw;
		buf_init(&raw, BUF_UNBOUNDED);
		BUF_PUTC(&raw, '\0');
		BUF_PUTS(&raw, j->auth_user);
		BUF_PUTC(&raw, '\0');
		BUF_PUTS(&raw, j->auth_pass ? j->auth_pass : "");
		c->step = ST_AUTH;
		send_b64(c, "AUTH PLAIN ", raw.data, raw.len);
		explicit_bzero(raw.data, raw.len);
		buf_free(&raw);
		return;
	}
	start_mail(j);
}

static void on_auth_reply(smtpc_job *j, int code, const char *text)
{
	smtpc_conn *c = j->st;
	if (c->step == ST_AUTH_USER && code == 334) {
		c->step = ST_AUTH_PASS;
		send_b64(c, "", j->auth_user, strlen(j->auth_user));
		return;
	}
	if (c->step == ST_AUTH_PASS && code == 334) {
		const char *pw = j->auth_pass ? j->auth_pass : "";
		c->step = ST_AUTH;
		send_b64(c, "", pw, strlen(pw));
		return;
	}
	if (code != 235) {
		/* a refused login is our configuration's problem: defer, so that
		 * mail flows again once it is fixed */
		char *t = xasprintf("451 4.7.0 %s refused our login: %s", j->mx_host, text);
		c->dead = true;
		finish(j, 451, t);
		free(t);
		return;
	}
	c->authed = true;
	start_mail(j);
}

#define MX_HELO_MAX 255 /* a domain name's length (RFC 1035 2.3.4) */

/* The name a 2xx greeting or EHLO/HELO reply starts with ("220 NAME ...",
 * "250-NAME ..."): kept in j->mx_helo for TLS-RPT; a word that is too long
 * or holds other than printable ASCII is no name and is not kept. */
static void note_mx_helo(smtpc_job *j, const char *text)
{
	if (strlen(text) < 5)
		return;
	const char *p = text + 4;
	size_t n = strcspn(p, " \r\n");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 127)
			return;
	if (n == 0 || n > MX_HELO_MAX)
		return;
	free(j->mx_helo);
	j->mx_helo = xstrndup(p, n);
}

/* One complete reply: code and the whole text (lines joined by '\n'). */
static void on_reply(smtpc_conn *c, int code, const char *text)
{
	smtpc_job *j = c->job;
	if (j == NULL) {
		/* idle: the server speaks first only to say goodbye (421);
		 * quitting: that was the reply to QUIT.  Not yet parked: the
		 * owner finds it dead when it tries to park it. */
		close_socket(c);
		if (c->notify != NULL) {
			c->notify(c->notify_arg, c);
			smtpc_conn_free(c);
		}
		return;
	}
	int cls = code / 100;
	c->replied = true;
	switch (c->step) {
	case ST_GREETING:
		if (cls != 2) {
			c->dead = true;
			finish_as(j, code, text, true);
			return;
		}
		if (j->mx_helo == NULL)
			note_mx_helo(j, text);
		c->step = ST_EHLO;
		send_line(c, "EHLO %s", j->helo);
		return;
	case ST_EHLO:
		if (cls != 2) {
			c->step = ST_HELO;
			send_line(c, "HELO %s", j->helo);
			return;
		}
		note_mx_helo(j, text);
		parse_ehlo(c, text);
		j->dsn_offered = c->ext_dsn;
		if (c->ext_starttls && !c->tls && j->tls != NULL) {
			c->step = ST_STARTTLS;
			send_line(c, "STARTTLS");
			return;
		}
		after_ehlo(j);
		return;
	case ST_HELO:
		if (cls != 2) {
			c->dead = true;
			finish_as(j, code, text, true);
			return;
		}
		note_mx_helo(j, text);
		after_ehlo(j);
		return;
	case ST_STARTTLS:
		if (code == 220)
			start_tls(j);
		else
			after_ehlo(j); /* refused: go on in the clear unless TLS is required */
		return;
	case ST_AUTH:
	case ST_AUTH_USER:
	case ST_AUTH_PASS:
		on_auth_reply(j, code, text);
		return;
	case ST_MAIL:
		if (code == 421 && j->reuse != NULL)
			j->stale = true; /* it timed us out while idle */
		on_mail_reply(j, code, text);
		return;
	case ST_RCPT:
		on_rcpt_reply(j, code, text);
		return;
	case ST_DATA:
		on_data_reply(j, code, text);
		return;
	case ST_BODY:
		decide_rest(j, code, text, true);
		set_timeouts(c, j->command_timeout, j->command_timeout);
		txn_end(j, cls == 2);
		return;
	case ST_DISCARD:
		txn_end(j, false);
		return;
	case ST_SKIP:
		if (code == 354) {
			send_line(c, "."); /* a DATA we did not want was accepted */
			c->skip++;
		}
		if (--c->skip == 0)
			txn_end(j, false);
		return;
	case ST_RSET:
		if (cls != 2)
			quit(j);
		else
			hand_back(j);
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
	smtpc_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;
	while (c->bev != NULL && (c->job == NULL || !c->finished) &&
	       (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		bool ok = len >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
		          line[2] >= '0' && line[2] <= '9' && (len == 3 || line[3] == ' ' || line[3] == '-');
		if (!ok || (c->reply.len > 0 && !buf_putc(&c->reply, '\n')) ||
		    !buf_append(&c->reply, line, len)) {
			free(line);
			c->dead = true;
			if (c->job != NULL)
				finish(c->job, 451, "451 4.5.0 The remote server sent a malformed or oversized reply");
			else
				on_reply(c, 0, "");
			return;
		}
		bool last = len == 3 || line[3] == ' ';
		int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		free(line);
		if (!last)
			continue;
		char *text = buf_steal(&c->reply);
		buf_init(&c->reply, REPLY_MAX);
		struct bufferevent *before = c->bev;
		bool idle = c->job == NULL;
		on_reply(c, code, text);
		free(text);
		if (idle || c->job == NULL || c->bev != before)
			return; /* the connection may be freed, or idle, or its
			         * bufferevent changed (STARTTLS) */
		in = bufferevent_get_input(c->bev);
	}
	if (c->bev != NULL && c->job != NULL && !c->finished && evbuffer_get_length(in) > REPLY_MAX) {
		c->dead = true;
		finish(c->job, 451, "451 4.5.0 The remote server sent an oversized reply");
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	smtpc_conn *c = arg;
	smtpc_job *j = c->job;
	if (j == NULL) {
		if (!(what & BEV_EVENT_CONNECTED))
			on_reply(c, 0, ""); /* idle or quitting: it is gone */
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		if (c->step == ST_CONNECT) {
			j->connected = true;
			c->step = ST_GREETING;
			struct sockaddr_storage me; /* TLS-RPT's sending-mta-ip */
			socklen_t melen = sizeof me;
			char ip[INET6_ADDRSTRLEN] = "";
			if (getsockname(c->fd, (struct sockaddr *)&me, &melen) == 0)
				inet_ntop(me.ss_family, me.ss_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&me)->sin6_addr
				          : (void *)&((struct sockaddr_in *)&me)->sin_addr, ip, sizeof ip);
			free(j->local_ip);
			j->local_ip = *ip ? xstrdup(ip) : NULL;
			int one = 1;
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			set_timeouts(c, j->command_timeout, j->command_timeout);
			if (j->implicit_tls && j->tls != NULL)
				start_tls(j);
		} else if (c->step == ST_HANDSHAKE) {
			after_tls(j);
		}
		return;
	}
	c->dead = true;
	if (j->reuse != NULL && !c->replied)
		j->stale = true;
	char *t;
	if (c->step == ST_CONNECT)
		t = xasprintf("451 4.4.1 Cannot connect to %s: %s", j->mx_host,
		              what & BEV_EVENT_TIMEOUT ? "timed out" : strerror(EVUTIL_SOCKET_ERROR()));
	else if (c->step == ST_HANDSHAKE) {
		t = xasprintf("451 4.7.5 TLS handshake with %s failed", j->mx_host);
		j->tls_failure = TLSRPT_VALIDATION_FAILURE;
		if (j->dane != NULL) {
			j->dane_status = "fail";
			j->dane_why = "TLS handshake failed";
		}
	}
	else if (c->step == ST_QUIT)
		t = xstrdup("221 2.0.0 closed"); /* everything was decided before QUIT */
	else
		t = xasprintf("451 4.4.2 Connection to %s %s", j->mx_host,
		              what & BEV_EVENT_TIMEOUT ? "timed out" : "lost");
	finish(j, 451, t);
	free(t);
}

static smtpc_conn *conn_new(smtpc_job *j)
{
	smtpc_conn *c = xcalloc(1, sizeof(*c));
	c->base = j->base;
	c->fd = -1;
	c->host = xstrdup(j->mx_host);
	c->opened = time(NULL);
	buf_init(&c->reply, REPLY_MAX);
	const struct sockaddr *sa = (const struct sockaddr *)&j->addr;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, c->ip, sizeof c->ip);
		c->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, c->ip, sizeof c->ip);
		c->port = ntohs(s4->sin_port);
	}
	return c;
}

/* A transaction on a connection that has already said EHLO. */
static void start_reused(smtpc_job *j)
{
	smtpc_conn *c = j->reuse;
	c->notify = NULL;
	c->job = j;
	j->st = c;
	j->connected = true;
	if (c->tls_version != NULL)
		j->tls_version = xstrdup(c->tls_version);
	j->tls_cipher = c->tls_cipher;
	j->tls_verified = c->tls_verified;
	j->dane_status = c->dane_status;
	j->dsn_offered = c->ext_dsn;
	if (c->dead || c->bev == NULL) {
		j->stale = true;
		finish(j, 451, "451 4.4.2 The connection closed while idle");
		return;
	}
	if ((j->require_tls && !c->tls) || (j->require_verified && !c->tls_verified)) {
		/* opened for mail that asked less (opportunistic TLS): this one
		 * needs the checks of a fresh connection (RFC 8689 4.2.1) */
		j->stale = true;
		c->dead = true;
		finish(j, 451, "451 4.7.5 The idle connection does not meet this message's TLS requirement");
		return;
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	set_timeouts(c, j->command_timeout, j->command_timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	start_mail(j);
}

/* The source address (route.h's choice) before connecting.  With
 * IP_BIND_ADDRESS_NO_PORT the port is picked at connect time, so many
 * connections from one address do not run out of ports at bind time.  A
 * bind failure (the address is gone: EADDRNOTAVAIL) is a temporary
 * failure of this address; the caller goes on with the next one. */
static bool bind_source(smtpc_conn *c, smtpc_job *j)
{
#ifdef IP_BIND_ADDRESS_NO_PORT
	int one = 1;
	(void)setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one); /* an optimisation only */
#endif
	if (bind(c->fd, (struct sockaddr *)&j->src, j->src_len) == 0)
		return true;
	int err = errno;
	char ip[INET6_ADDRSTRLEN] = "?";
	if (j->src.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&j->src)->sin6_addr, ip, sizeof ip);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&j->src)->sin_addr, ip, sizeof ip);
	char *t = xasprintf("451 4.4.0 Cannot bind the source address %s: %s", ip, strerror(err));
	c->dead = true;
	finish(j, 451, t);
	free(t);
	return false;
}

void smtpc_start(smtpc_job *j)
{
	j->codes = xcalloc(j->n_rcpts, sizeof(int));
	j->from_server = xcalloc(j->n_rcpts, sizeof(bool));
	j->replies = xcalloc(j->n_rcpts, sizeof(char *));
	j->kept = NULL;
	if (j->reuse != NULL) {
		start_reused(j);
		return;
	}
	smtpc_conn *c = conn_new(j);
	c->job = j;
	j->st = c;
	if (j->given_bev != NULL) { /* connected already: the greeting is next */
		c->bev = j->given_bev;
		j->given_bev = NULL;
		bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
		set_timeouts(c, j->command_timeout, j->command_timeout);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		j->connected = true;
		c->step = ST_GREETING;
		return;
	}
	c->fd = socket(j->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->dead = true;
		finish(j, 451, "451 4.3.0 Cannot create a socket");
		return;
	}
	if (j->src_len > 0 && !bind_source(c, j))
		return;
	c->bev = bevtls_plain(j->base, c->fd);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	set_timeouts(c, j->command_timeout, j->connect_timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&j->addr, (int)j->addr_len) != 0) {
		char *t = xasprintf("451 4.4.1 Cannot connect to %s: %s", j->mx_host, strerror(errno));
		c->dead = true;
		finish(j, 451, t);
		free(t);
	}
}

void smtpc_abort(smtpc_job *j)
{
	if (j->kept == j->st)
		j->kept = NULL; /* handed back, its done() not yet run: one connection */
	if (j->st != NULL) {
		smtpc_conn_free(j->st);
		j->st = NULL;
	}
	if (j->kept != NULL) {
		smtpc_conn_free(j->kept);
		j->kept = NULL;
	}
	smtpc_job_clear(j);
}

void smtpc_job_clear(smtpc_job *j)
{
	for (size_t i = 0; j->replies != NULL && i < j->n_rcpts; i++)
		free(j->replies[i]);
	free(j->replies);
	free(j->codes);
	free(j->from_server);
	free(j->tls_version);
	j->replies = NULL;
	j->codes = NULL;
	j->from_server = NULL;
	j->tls_version = NULL;
	j->tls_cipher = NULL;
	j->dane_status = NULL;
	j->dane_why = NULL;
	j->tls_failure = 0;
	j->tls_verify_result = 0;
	free(j->local_ip);
	j->local_ip = NULL;
	free(j->mx_helo);
	j->mx_helo = NULL;
}

/* ---- connections between transactions ---- */

bool smtpc_conn_park(smtpc_conn *c, smtpc_conn_fn *closed, void *arg)
{
	if (c->dead || c->bev == NULL)
		return false;
	c->job = NULL;
	c->finished = false;
	c->replied = false;
	c->notify = closed;
	c->notify_arg = arg;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	bufferevent_enable(c->bev, EV_READ);
	return true;
}

void smtpc_conn_hold(smtpc_conn *c)
{
	c->notify = NULL; /* its pool entry is gone */
	c->notify_arg = NULL;
}

void smtpc_conn_quit(smtpc_conn *c, smtpc_conn_fn *gone, void *arg)
{
	c->job = NULL;
	c->notify = gone;
	c->notify_arg = arg;
	if (c->dead || c->bev == NULL) {
		gone(arg, c);
		smtpc_conn_free(c);
		return;
	}
	c->step = ST_QUIT;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	set_timeouts(c, QUIT_TIMEOUT, QUIT_TIMEOUT);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	send_line(c, "QUIT");
}

const char *smtpc_conn_host(const smtpc_conn *c)
{
	return c->host;
}

const char *smtpc_conn_ip(const smtpc_conn *c)
{
	return c->ip;
}

int smtpc_conn_port(const smtpc_conn *c)
{
	return c->port;
}

bool smtpc_conn_dane(const smtpc_conn *c)
{
	return c->dane_status != NULL;
}

time_t smtpc_conn_opened(const smtpc_conn *c)
{
	return c->opened;
}
