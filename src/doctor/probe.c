/* probe.c — the bounded blocking line client of `yubin doctor`'s network
 * checks (probe.h).  Owns sockets and TLS sessions of the doctor only;
 * nothing here knows a protocol beyond "lines" and SMTP's reply shape. */
#include "doctor/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static bool fail(probe *p, char *why)
{
	free(p->error);
	p->error = why;
	return false;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events, at most the probe's timeout and never
 * past the session's deadline. */
static bool wait_fd(probe *p, short events, const char *what)
{
	struct pollfd pfd = {.fd = p->fd, .events = events};
	int r;
	for (;;) {
		long long left = p->deadline_ms - now_ms();
		if (left <= 0)
			return fail(p, xasprintf("no complete exchange within %d seconds",
			                         PROBE_SESSION_FACTOR * p->timeout_ms / 1000));
		bool capped = left < p->timeout_ms;
		r = poll(&pfd, 1, capped ? (int)left : p->timeout_ms);
		if ((r < 0 && errno == EINTR) || (r == 0 && capped))
			continue; /* interrupted, or the session's deadline (said above) */
		break;
	}
	if (r == 0)
		return fail(p, xasprintf("no %s within %d seconds", what, p->timeout_ms / 1000));
	if (r < 0)
		return fail(p, xasprintf("%s: %s", what, strerror(errno)));
	return true;
}

bool probe_connect(probe *p, const char *ip, int port, int timeout)
{
	*p = (probe){.fd = -1, .timeout_ms = timeout * 1000,
	             .deadline_ms = now_ms() + (long long)PROBE_SESSION_FACTOR * timeout * 1000};
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*s6);
	} else {
		return fail(p, xasprintf("%s is not an address", ip));
	}
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p->fd < 0)
		return fail(p, xasprintf("socket: %s", strerror(errno)));
	if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		return fail(p, xasprintf("connection refused or unreachable (%s)", strerror(errno)));
	if (!wait_fd(p, POLLOUT, "connection"))
		return false;
	int err = 0;
	socklen_t el = sizeof err;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0)
		return fail(p, xasprintf("cannot connect (%s)", strerror(err ? err : errno)));
	return true;
}

/* Drive one TLS call to completion (the socket is non-blocking). */
static bool tls_wait(probe *p, int r, const char *what)
{
	int e = SSL_get_error(p->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(p, POLLIN, what);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(p, POLLOUT, what);
	char ebuf[256];
	unsigned long code = ERR_get_error();
	ERR_error_string_n(code, ebuf, sizeof ebuf);
	ERR_clear_error();
	return fail(p, xasprintf("%s failed (%s)", what, code ? ebuf : "the connection closed"));
}

bool probe_tls(probe *p, const char *server_name)
{
	p->ctx = SSL_CTX_new(TLS_client_method());
	if (p->ctx == NULL)
		return fail(p, xstrdup("cannot make a TLS context"));
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
	p->ssl = SSL_new(p->ctx);
	if (p->ssl == NULL || SSL_set_fd(p->ssl, p->fd) != 1)
		return fail(p, xstrdup("cannot start TLS"));
	if (server_name != NULL)
		SSL_set_tlsext_host_name(p->ssl, server_name);
	p->len = 0; /* what came before the handshake is not trusted after it */
	for (;;) {
		int r = SSL_connect(p->ssl);
		if (r == 1)
			return true;
		if (!tls_wait(p, r, "TLS handshake"))
			return false;
	}
}

bool probe_send(probe *p, const char *line)
{
	char *data = xasprintf("%s\r\n", line);
	size_t n = strlen(data), off = 0;
	bool ok = true;
	while (ok && off < n) {
		ssize_t w;
		if (p->ssl != NULL) {
			int r = SSL_write(p->ssl, data + off, (int)(n - off));
			if (r <= 0) {
				ok = tls_wait(p, r, "write");
				continue;
			}
			w = r;
		} else {
			w = send(p->fd, data + off, n - off, MSG_NOSIGNAL);
			if (w < 0) {
				ok = (errno == EAGAIN || errno == EINTR) ? wait_fd(p, POLLOUT, "write")
				                                         : fail(p, xasprintf("write: %s", strerror(errno)));
				continue;
			}
		}
		off += (size_t)w;
	}
	free(data);
	return ok;
}

/* Read more into buf; false with p->error. */
static bool fill(probe *p)
{
	if (p->len == sizeof p->buf)
		return fail(p, xasprintf("a line longer than %d bytes", PROBE_LINE_MAX));
	for (;;) {
		if (p->ssl != NULL) {
			int r = SSL_read(p->ssl, p->buf + p->len, (int)(sizeof p->buf - p->len));
			if (r > 0) {
				p->len += (size_t)r;
				return true;
			}
			if (SSL_get_error(p->ssl, r) == SSL_ERROR_ZERO_RETURN)
				return fail(p, xstrdup("the server closed the connection"));
			if (!tls_wait(p, r, "reply"))
				return false;
			continue;
		}
		ssize_t r = recv(p->fd, p->buf + p->len, sizeof p->buf - p->len, 0);
		if (r > 0) {
			p->len += (size_t)r;
			return true;
		}
		if (r == 0)
			return fail(p, xstrdup("the server closed the connection"));
		if (errno != EAGAIN && errno != EINTR)
			return fail(p, xasprintf("read: %s", strerror(errno)));
		if (!wait_fd(p, POLLIN, "reply"))
			return false;
	}
}

bool probe_line(probe *p, char **out)
{
	for (;;) {
		char *nl = memchr(p->buf, '\n', p->len);
		if (nl != NULL) {
			size_t n = (size_t)(nl - p->buf);
			*out = xstrndup(p->buf, n > 0 && p->buf[n - 1] == '\r' ? n - 1 : n);
			p->len -= n + 1;
			memmove(p->buf, nl + 1, p->len);
			return true;
		}
		if (!fill(p))
			return false;
	}
}

int probe_smtp_reply(probe *p, strlist *lines)
{
	for (int i = 0; i < PROBE_REPLY_LINES; i++) {
		char *line;
		if (!probe_line(p, &line))
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			fail(p, xasprintf("not an SMTP reply: \"%.60s\"", line));
			free(line);
			return -1;
		}
		int code = atoi(line);
		bool last = line[3] != '-';
		strlist_add(lines, line[3] ? line + 4 : "");
		free(line);
		if (last)
			return code;
	}
	fail(p, xasprintf("a reply of more than %d lines", PROBE_REPLY_LINES));
	return -1;
}

bool probe_until(probe *p, const char *const *prefixes, strlist *lines, char **last_r)
{
	for (int i = 0; i < PROBE_REPLY_LINES; i++) {
		char *line;
		if (!probe_line(p, &line))
			return false;
		for (size_t k = 0; prefixes[k] != NULL; k++)
			if (strncmp(line, prefixes[k], strlen(prefixes[k])) == 0) {
				*last_r = line;
				return true;
			}
		if (lines != NULL)
			strlist_add(lines, line);
		free(line);
	}
	return fail(p, xasprintf("no end of the reply after %d lines", PROBE_REPLY_LINES));
}

void probe_close(probe *p)
{
	if (p->ssl != NULL) {
		SSL_shutdown(p->ssl);
		SSL_free(p->ssl);
	}
	SSL_CTX_free(p->ctx);
	if (p->fd >= 0)
		close(p->fd);
	free(p->error);
	*p = (probe){.fd = -1};
}
