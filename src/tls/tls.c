/* tls.c — server TLS context and self-signed certificates (see tls.h). */
#include "tls/tls.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/strutil.h"

/* TLS 1.2 suites: forward secrecy and AEAD only, strongest first. */
static const char cipher_list[] =
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256";

static char *ssl_error(const char *what)
{
	char detail[256];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, detail, sizeof detail);
	ERR_clear_error();
	return xasprintf("%s: %s", what, e ? detail : "unknown error");
}

SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, char **err_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*err_r = ssl_error("cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
	                         SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle sessions hold no TLS buffers */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_set_cipher_list(ctx, cipher_list) != 1) {
		*err_r = ssl_error("cannot set TLS 1.2 ciphers");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		char *e = ssl_error("cannot load certificate");
		*err_r = xasprintf("%s (%s)", e, cert_file);
		free(e);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		char *e = ssl_error("cannot load private key");
		*err_r = xasprintf("%s (%s)", e, key_file);
		free(e);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*err_r = xasprintf("the private key %s does not match the certificate %s", key_file, cert_file);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static bool add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return false;
	bool ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static bool write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *x)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return false;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return false;
	}
	bool ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1
	              : PEM_write_X509(f, x) == 1;
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	return fclose(f) == 0 && ok;
}

bool tls_make_self_signed(const char *cert_file, const char *key_file, const char *hostname,
                          char **err_r)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	bool ok = false;
	if (key == NULL || x == NULL) {
		*err_r = ssl_error("cannot generate a key");
		goto out;
	}
	unsigned char serial[16];
	if (RAND_bytes(serial, sizeof serial) != 1) {
		*err_r = ssl_error("cannot get random bytes");
		goto out;
	}
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 825L * 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);
	char *san = xasprintf("DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
	ok = add_ext(x, NID_subject_alt_name, san) &&
	     add_ext(x, NID_basic_constraints, "critical,CA:FALSE") &&
	     add_ext(x, NID_ext_key_usage, "serverAuth") &&
	     X509_sign(x, key, EVP_sha256()) > 0;
	free(san);
	if (!ok) {
		*err_r = ssl_error("cannot build the certificate");
		goto out;
	}
	ok = write_pem(key_file, 0600, key, NULL) && write_pem(cert_file, 0644, NULL, x);
	if (!ok)
		*err_r = xasprintf("cannot write %s or %s", key_file, cert_file);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return ok;
}

const char *tls_failure_words(unsigned long err, bool handshake)
{
	static const struct {
		int reason;
		const char *words;
	} known[] = {
		{SSL_R_NO_SHARED_CIPHER, "no cipher in common with the client"},
		{SSL_R_NO_SHARED_GROUPS, "no key exchange group in common with the client"},
		{SSL_R_UNSUPPORTED_PROTOCOL, "the client offers only TLS versions older than 1.2"},
		{SSL_R_VERSION_TOO_LOW, "the client offers only TLS versions older than 1.2"},
		{SSL_R_WRONG_VERSION_NUMBER, "the client did not speak TLS (plain text on a TLS port?)"},
		{SSL_R_HTTP_REQUEST, "the client sent an HTTP request, not TLS"},
		{SSL_R_TLSV1_ALERT_UNKNOWN_CA, "the client does not trust our certificate (unknown CA)"},
		{SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, "the client rejected our certificate"},
		{SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, "the client does not trust our certificate"},
		{SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, "the client says our certificate has expired"},
		{SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, "the client refused our TLS version"},
	};
	int reason = ERR_GET_REASON(err);
	if (err == 0 || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return handshake ? "the client closed the connection during the TLS handshake"
		                 : "the client closed the connection without a TLS close";
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].reason == reason)
			return known[i].words;
	return handshake ? "the TLS handshake failed" : "TLS error";
}
