/* conn.h — one client connection's I/O, the same for every protocol
 * (SMTP, POP3, and IMAP to come): the bufferevent (plain, or TLS from the
 * first byte), the CRLF-only line reader with its length limit, output
 * gathered and sent in one write per batch (every reply, and every batch of
 * pipelined replies, leaves in one write), the read timeout, pausing while
 * work is done elsewhere, the switch to TLS after STARTTLS / STLS (anything
 * the client pipelined in the clear is dropped), and the orderly close.
 * What the bytes mean is the protocol's business: it gets them through the
 * handler. */
#ifndef YUBIN_NET_CONN_H
#define YUBIN_NET_CONN_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Output backpressure, the same for every protocol: while more than
 * CONN_OUT_HIGH bytes wait to be sent, no input is read or handled (a
 * client that sends commands and never reads the replies stops being
 * served, instead of growing the server); reading starts again once the
 * client has taken the output down to CONN_OUT_LOW. */
#define CONN_OUT_HIGH ((size_t)256 * 1024)
#define CONN_OUT_LOW ((size_t)64 * 1024)

typedef struct conn conn;

typedef struct conn_handler {
	/* Input is waiting in `in`: consume one unit (a line, a chunk).  Return
	 * false when nothing more can be done until more input arrives.  Called
	 * again and again while it returns true and the connection is neither
	 * paused, closing nor gone. */
	bool (*input)(void *owner, struct evbuffer *in);
	/* After each batch of input, when the connection is still up (set the
	 * timeout for the next wait, say). */
	void (*after_input)(void *owner);
	/* Nothing arrived within the timeout: say goodbye (conn_close_after). */
	void (*timeout)(void *owner);
	/* The connection is closed and no work for it is pending: free the
	 * owner, and the conn with conn_free. */
	void (*gone)(void *owner);
	/* The deadline set with conn_set_deadline passed (say goodbye); when
	 * NULL, timeout is called instead. */
	void (*deadline)(void *owner);
} conn_handler;

/* A connection on fd (non-blocking), TLS from the start when implicit_tls.
 * NULL when TLS cannot be set up (fd is then closed).  sid and ip are for
 * log lines. */
conn *conn_new(struct event_base *base, SSL_CTX *tls, int fd, bool implicit_tls, const char *sid,
               const char *ip, const conn_handler *h, void *owner);
/* A connection on bev, one end of a bufferevent pair (the server talking
 * to itself in memory: no socket, no TLS; the other end's owner sees our
 * close as an end of file). */
conn *conn_new_paired(struct event_base *base, struct bufferevent *bev, const char *sid, const char *ip,
                      const conn_handler *h, void *owner);
/* Free it; a command waiting in conn_when_drained is called first (and
 * finds the connection closing), so free the conn before what such a
 * command uses. */
void conn_free(conn *c);

/* Output.  Writing never fails and never cuts a reply: replies are
 * gathered so that a batch leaves in one write (at the end of the input
 * batch, or at conn_flush); past the gathering buffer's size what is
 * gathered is handed to the socket layer first.  A command whose output is
 * large makes it in parts and waits for the client to read between them
 * (conn_when_drained); everything else is bounded by the backpressure
 * above. */
void conn_write(conn *c, const void *data, size_t len);
void conn_puts(conn *c, const char *s);
void conn_printf(conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conn_vprintf(conn *c, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void conn_flush(conn *c);
/* Bytes written and not yet sent to the client. */
size_t conn_pending(const conn *c);
/* Call fn(arg) once the output waiting to be sent is at most CONN_OUT_LOW:
 * at once when it already is, else from the write callback.  One waiter
 * at a time; the connection closing calls it too (check conn_is_closing). */
void conn_when_drained(conn *c, void (*fn)(void *arg), void *arg);
/* Seconds to wait for input (and for output to drain). */
void conn_set_timeout(conn *c, int secs);
/* A deadline for the whole of a phase (until login, say) that input does
 * not reset, unlike the timeout: handler->deadline runs when it passes.
 * 0 cancels it. */
void conn_set_deadline(conn *c, int secs);

/* Read one CRLF-terminated line of at most max bytes (CRLF included).
 * 1: *line_r is the line (malloc'd, NUL-terminated, without CRLF); 2: the
 * same, but it holds a bare CR or LF or a NUL; 0: more input needed; -1:
 * longer than max (nothing consumed: close the connection). */
int conn_read_line(conn *c, struct evbuffer *in, size_t max, char **line_r);

/* Work for this connection runs elsewhere: read nothing until resumed.
 * Pauses nest; the last resume reads what is waiting. */
void conn_pause(conn *c);
void conn_resume(conn *c);
/* Send what is gathered, then close. */
void conn_close_after(conn *c);
/* Close now. */
void conn_end(conn *c);
/* After the reply that accepts STARTTLS / STLS has been appended: drop any
 * input that came with the command, send the reply in the clear, then
 * start TLS (the handshake; input is read again after it). */
void conn_start_tls(conn *c);

bool conn_is_tls(const conn *c);
bool conn_is_closing(const conn *c);   /* closing or gone */
bool conn_is_busy(const conn *c);      /* paused */
/* Has the client sent anything not read yet (in our buffer or still in the
 * socket)?  For a plain connection: the greeting pause's early-talker test. */
bool conn_input_waiting(const conn *c);
const char *conn_tls_version(const conn *c);
const char *conn_tls_cipher(const conn *c);

#endif
