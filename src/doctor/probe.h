/* probe.h — the small blocking client `yubin doctor`'s network checks talk
 * through: a TCP connection (plain, or TLS after connect or after a
 * STARTTLS), line by line, every connect, handshake, read and write
 * bounded by one timeout, every line by a fixed length and every reply by
 * a fixed number of lines.  Certificates are not verified here (the
 * certificate check is certcheck.c's); the handshake only has to work. */
#ifndef YUBIN_DOCTOR_PROBE_H
#define YUBIN_DOCTOR_PROBE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/strutil.h"

#define PROBE_LINE_MAX 2048     /* longest line read */
#define PROBE_REPLY_LINES 64    /* lines of one multi-line reply */
#define PROBE_SESSION_FACTOR 4  /* a whole session: this many timeouts at most,
                                 * however the peer trickles its bytes */

typedef struct probe {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int timeout_ms;
	long long deadline_ms;  /* CLOCK_MONOTONIC: the end of the whole session */
	char buf[PROBE_LINE_MAX];
	size_t len;
	char *error;          /* the last failure, in words (malloc'd) */
} probe;

/* Connect to ip:port within timeout seconds; everything after must end
 * within PROBE_SESSION_FACTOR * timeout of now.  False with p->error. */
bool probe_connect(probe *p, const char *ip, int port, int timeout);
/* TLS handshake on the connection, with SNI server_name.  False with p->error. */
bool probe_tls(probe *p, const char *server_name);
/* Send line and CRLF.  False with p->error. */
bool probe_send(probe *p, const char *line);
/* One line without its CRLF into out (malloc'd).  False with p->error on a
 * timeout, a close, or a line longer than PROBE_LINE_MAX. */
bool probe_line(probe *p, char **out);
/* One SMTP reply (RFC 5321 4.2): its code, each line's text after the code
 * in lines.  -1 with p->error when none came or it is malformed. */
int probe_smtp_reply(probe *p, strlist *lines);
/* Lines up to and including the first starting with prefix (an IMAP tag, a
 * POP3 "+OK"/"-ERR"); the last one in *last_r (malloc'd), all in lines
 * when not NULL.  False with p->error. */
bool probe_until(probe *p, const char *const *prefixes, strlist *lines, char **last_r);
void probe_close(probe *p);

#endif
