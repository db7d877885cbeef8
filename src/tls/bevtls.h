/* bevtls.h — the one place that knows how a connection's libevent
 * bufferevent and its socket belong together.  A plain bufferevent does not
 * own its socket (so that STARTTLS can keep the socket when it replaces the
 * bufferevent); a TLS one does (BEV_OPT_CLOSE_ON_FREE).  Used by the SMTP
 * server sessions and the SMTP client alike. */
#ifndef YUBIN_BEVTLS_H
#define YUBIN_BEVTLS_H

#include <event2/bufferevent.h>
#include <openssl/ssl.h>
#include <stdbool.h>

/* A plain bufferevent on fd that does not own it. */
struct bufferevent *bevtls_plain(struct event_base *base, int fd);
/* Replace *bev (plain, or NULL) by a TLS bufferevent on fd that owns fd;
 * accepting for a server, connecting for a client (sni: the name to ask
 * for and to check the certificate against, or NULL).  On failure fd is
 * closed, *bev is NULL and false is returned. */
bool bevtls_start(struct event_base *base, struct bufferevent **bev, int fd, SSL_CTX *ctx,
                  bool accepting, const char *sni);
/* Called with the new SSL before the handshake begins (DANE's per-
 * connection set-up); false stops the start as a failure. */
typedef bool bevtls_prep_fn(SSL *ssl, void *arg);
/* bevtls_start with prep(ssl, arg) run first (prep may be NULL). */
bool bevtls_start_prep(struct event_base *base, struct bufferevent **bev, int fd, SSL_CTX *ctx,
                       bool accepting, const char *sni, bevtls_prep_fn *prep, void *arg);
/* Close the connection: free *bev and close *fd unless the bufferevent
 * owned it (tls).  Both are reset.  For one end of a bufferevent pair (fd
 * -1) the other end gets an end of file. */
void bevtls_close(struct bufferevent **bev, int *fd, bool tls);

#endif
