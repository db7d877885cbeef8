/* smtp_submit_load.c — a bounded SMTP submission load generator for
 * bench/api.sh (Postfix's smtp-source speaks no TLS and no AUTH).
 *
 *   smtp_submit_load HOST PORT USER PASSWORD FROM TO SESSIONS MESSAGES
 *                    SECONDS MESSAGE_FILE MODE
 *
 * SESSIONS threads each open one connection: EHLO, STARTTLS, EHLO, AUTH
 * PLAIN once, then send messages until MESSAGES have been sent in all or
 * SECONDS have passed: MAIL FROM, RCPT TO and DATA pipelined in one write
 * (MODE "data", then the message and "." after the 354), or MAIL, RCPT and
 * BDAT n LAST with the message in one write (MODE "bdat", RFC 3030).
 * Every reply is read and checked; a message counts once its 250 has
 * arrived.  Once every session is logged in it prints "ready" and waits
 * for a line on its standard input, so that the log-ins (a password hash
 * each) are neither timed nor in the caller's CPU sample; the clock and
 * SECONDS start then.  At the end it prints one line:
 * "accepted=N failed=N seconds=S rate=R".
 * Bench tool, not part of the server: the certificate is not verified. */
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *host, *port, *user, *pass, *from, *to;
static char *msg;          /* dot-stuffed, CRLF, for DATA */
static size_t msg_len;
static char *raw;          /* as is, CRLF, for BDAT */
static size_t raw_len;
static long target;
static double deadline;
static int bdat;
static SSL_CTX *ctx;
static atomic_long started, accepted, failed;
static pthread_barrier_t ready, go;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct conn {
	int fd;
	SSL *ssl;
	char in[8192];
	size_t have;
} conn;

static int c_write(conn *c, const char *p, size_t n)
{
	while (n > 0) {
		int w = c->ssl ? SSL_write(c->ssl, p, (int)n) : (int)send(c->fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One reply (multi-line replies to their last line); its code, -1 on error. */
static int c_reply(conn *c)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->have);
		if (nl != NULL) {
			size_t len = (size_t)(nl - c->in) + 1;
			int code = len >= 4 ? atoi(c->in) : -1;
			int last = len >= 4 && c->in[3] == ' ';
			memmove(c->in, c->in + len, c->have - len);
			c->have -= len;
			if (last)
				return code;
			continue;
		}
		if (c->have == sizeof c->in)
			return -1;
		int r = c->ssl ? SSL_read(c->ssl, c->in + c->have, (int)(sizeof c->in - c->have))
		               : (int)recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);
		if (r <= 0)
			return -1;
		c->have += (size_t)r;
	}
}

static int c_cmd(conn *c, const char *line, int want)
{
	if (c_write(c, line, strlen(line)) != 0)
		return -1;
	return c_reply(c) == want ? 0 : -1;
}

static int c_open(conn *c)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
	struct timeval tv = {30, 0};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int ok = connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0;
	freeaddrinfo(ai);
	if (!ok || c_reply(c) != 220 || c_cmd(c, "EHLO load.bench.test\r\n", 250) != 0 ||
	    c_cmd(c, "STARTTLS\r\n", 220) != 0)
		return -1;
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1 || c_cmd(c, "EHLO load.bench.test\r\n", 250) != 0)
		return -1;
	/* AUTH PLAIN: base64 of "\0user\0pass" */
	unsigned char plain[512];
	int n = snprintf((char *)plain, sizeof plain, "%c%s%c%s", 0, user, 0, pass);
	char b64[800], line[900];
	EVP_EncodeBlock((unsigned char *)b64, plain, n);
	snprintf(line, sizeof line, "AUTH PLAIN %s\r\n", b64);
	return c_cmd(c, line, 235);
}

/* One message: 0 accepted, -1 the session is unusable. */
static int c_send(conn *c)
{
	static __thread char *head;
	static __thread size_t head_len;
	if (head == NULL) {
		head = malloc(2048);
		if (bdat)
			head_len = (size_t)snprintf(head, 2048, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nBDAT %zu LAST\r\n",
			                            from, to, raw_len);
		else
			head_len = (size_t)snprintf(head, 2048, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", from, to);
	}
	if (bdat) {
		/* one write: commands and chunk */
		char *all = malloc(head_len + raw_len);
		memcpy(all, head, head_len);
		memcpy(all + head_len, raw, raw_len);
		int w = c_write(c, all, head_len + raw_len);
		free(all);
		if (w != 0 || c_reply(c) != 250 || c_reply(c) != 250)
			return -1;
		return c_reply(c) == 250 ? 0 : -1;
	}
	if (c_write(c, head, head_len) != 0 || c_reply(c) != 250 || c_reply(c) != 250 || c_reply(c) != 354)
		return -1;
	if (c_write(c, msg, msg_len) != 0)
		return -1;
	return c_reply(c) == 250 ? 0 : -1;
}

static void *session(void *arg)
{
	(void)arg;
	conn c = {.fd = -1};
	int opened = c_open(&c) == 0;
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	if (!opened) {
		atomic_fetch_add(&failed, 1);
		fprintf(stderr, "session setup failed\n");
		goto out;
	}
	while (now() < deadline && atomic_fetch_add(&started, 1) < target) {
		if (c_send(&c) != 0) {
			atomic_fetch_add(&failed, 1);
			fprintf(stderr, "a message was not accepted\n");
			break;
		}
		atomic_fetch_add(&accepted, 1);
	}
	c_cmd(&c, "QUIT\r\n", 221);
out:
	if (c.ssl != NULL) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	if (c.fd >= 0)
		close(c.fd);
	return NULL;
}

/* The file (LF or CRLF lines) as CRLF, and its dot-stuffed form with the
 * ending ".". */
static void load_message(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	size_t cap = 1 << 20;
	raw = malloc(cap);
	msg = malloc(cap * 2 + 8);
	int ch, prev = 0, bol = 1;
	while ((ch = fgetc(f)) != EOF && raw_len + 2 < cap) {
		if (ch == '\n' && prev != '\r') {
			raw[raw_len++] = '\r';
			msg[msg_len++] = '\r';
		}
		if (bol && ch == '.')
			msg[msg_len++] = '.';
		raw[raw_len++] = (char)ch;
		msg[msg_len++] = (char)ch;
		bol = ch == '\n';
		prev = ch;
	}
	fclose(f);
	memcpy(msg + msg_len, ".\r\n", 3);
	msg_len += 3;
}

int main(int argc, char **argv)
{
	if (argc != 12) {
		fprintf(stderr, "usage: %s HOST PORT USER PASSWORD FROM TO SESSIONS MESSAGES SECONDS FILE data|bdat\n",
		        argv[0]);
		return 2;
	}
	host = argv[1], port = argv[2], user = argv[3], pass = argv[4], from = argv[5], to = argv[6];
	int sessions = atoi(argv[7]);
	target = atol(argv[8]);
	double seconds = atof(argv[9]);
	load_message(argv[10]);
	bdat = strcmp(argv[11], "bdat") == 0;
	if (sessions < 1 || sessions > 1000 || target < 1 || seconds <= 0)
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	pthread_t *t = calloc((size_t)sessions, sizeof *t);
	pthread_barrier_init(&ready, NULL, (unsigned)sessions + 1);
	pthread_barrier_init(&go, NULL, (unsigned)sessions + 1);
	for (int i = 0; i < sessions; i++)
		pthread_create(&t[i], NULL, session, NULL);
	pthread_barrier_wait(&ready);
	printf("ready\n");
	fflush(stdout);
	char line[16];
	if (fgets(line, sizeof line, stdin) == NULL)
		return 2; /* the caller went away */
	double t0 = now();
	deadline = t0 + seconds;
	pthread_barrier_wait(&go);
	for (int i = 0; i < sessions; i++)
		pthread_join(t[i], NULL);
	double el = now() - t0;
	long a = atomic_load(&accepted);
	printf("accepted=%ld failed=%ld seconds=%.3f rate=%.1f\n", a, atomic_load(&failed), el, a / el);
	SSL_CTX_free(ctx);
	free(t);
	return atomic_load(&failed) > 0 ? 1 : 0;
}
