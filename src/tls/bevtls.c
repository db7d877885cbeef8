/* bevtls.c — bufferevents and socket ownership (see bevtls.h). */
#include "tls/bevtls.h"

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <unistd.h>

struct bufferevent *bevtls_plain(struct event_base *base, int fd)
{
	return bufferevent_socket_new(base, fd, 0);
}

bool bevtls_start(struct event_base *base, struct bufferevent **bev, int fd, SSL_CTX *ctx,
                  bool accepting, const char *sni)
{
	return bevtls_start_prep(base, bev, fd, ctx, accepting, sni, NULL, NULL);
}

bool bevtls_start_prep(struct event_base *base, struct bufferevent **bev, int fd, SSL_CTX *ctx,
                       bool accepting, const char *sni, bevtls_prep_fn *prep, void *arg)
{
	if (*bev != NULL)
		bufferevent_free(*bev); /* plain: the socket stays open */
	*bev = NULL;
	SSL *ssl = SSL_new(ctx);
	if (ssl != NULL && sni != NULL) {
		SSL_set_tlsext_host_name(ssl, sni);
		SSL_set1_host(ssl, sni);
	}
	if (ssl != NULL && prep != NULL && !prep(ssl, arg)) {
		SSL_free(ssl);
		ssl = NULL;
	}
	if (ssl != NULL)
		*bev = bufferevent_openssl_socket_new(base, fd, ssl,
		                                      accepting ? BUFFEREVENT_SSL_ACCEPTING
		                                                : BUFFEREVENT_SSL_CONNECTING,
		                                      BEV_OPT_CLOSE_ON_FREE);
	if (*bev == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		close(fd);
		return false;
	}
	return true;
}

void bevtls_close(struct bufferevent **bev, int *fd, bool tls)
{
	if (*bev != NULL) {
		/* one end of a pair: the other end hears an end of file, as a
		 * socket's peer would (a pair's free alone tells it nothing) */
		if (bufferevent_pair_get_partner(*bev) != NULL)
			bufferevent_flush(*bev, EV_WRITE, BEV_FINISHED);
		bufferevent_free(*bev);
		*bev = NULL;
		if (tls)
			*fd = -1;
	}
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
