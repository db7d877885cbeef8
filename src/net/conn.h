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
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

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
} conn_handler;

/* A connection on fd (non-blocking), TLS from the start when implicit_tls.
 * NULL when TLS cannot be set up (fd is then closed).  sid and ip are for
 * log lines. */
conn *conn_new(struct event_base *base, SSL_CTX *tls, int fd, bool implicit_tls, const char *sid,
               const char *ip, const conn_handler *h, void *owner);
void conn_free(conn *c);

/* Output: append to the buffer (replies, at most 64 KiB gathered); it
 * leaves at the end of the input batch, or at conn_flush. */
buf *conn_out(conn *c);
void conn_flush(conn *c);
/* Bulk output (a message, a long listing): after what is gathered. */
void conn_send(conn *c, const void *data, size_t len);
/* Seconds to wait for input (and for output to drain). */
void conn_set_timeout(conn *c, int secs);

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
const char *conn_tls_version(const conn *c);
const char *conn_tls_cipher(const conn *c);

#endif
