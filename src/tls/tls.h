/* tls.h — the one TLS layer for every protocol: the server context (TLS 1.2
 * and 1.3 only, server cipher order, one session ticket), and the self-signed
 * certificate that `serve --dev` makes on first start.  STARTTLS and implicit
 * TLS on connections are done by the protocol sessions with libevent's
 * OpenSSL bufferevents over a context from here. */
#ifndef YUBIN_TLS_H
#define YUBIN_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

/* A server context with the certificate chain and key from PEM files.
 * NULL with a malloc'd sentence in *err_r on failure. */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, char **err_r);
/* Write a new self-signed ECDSA P-256 certificate for hostname (and
 * localhost, 127.0.0.1, ::1), valid 825 days, and its key (mode 0600). */
bool tls_make_self_signed(const char *cert_file, const char *key_file,
                          const char *hostname, char **err_r);

/* Words for the log saying why a TLS connection failed: err is the
 * OpenSSL error code (0 when none was queued), handshake whether the
 * handshake had not finished.  A static string. */
const char *tls_failure_words(unsigned long err, bool handshake);

#endif
