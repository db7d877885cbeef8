/* fingerprint.h — what a mail program shows about a certificate it cannot
 * verify (a self-signed one): the SHA-256 fingerprint of the certificate
 * in upper-case hex pairs joined by colons ("3F:A0:..."), the form
 * Thunderbird, Apple Mail and `openssl x509 -fingerprint -sha256` print,
 * and its subject and expiry, so a user can compare before trusting it. */
#ifndef YUBIN_TLS_FINGERPRINT_H
#define YUBIN_TLS_FINGERPRINT_H

#include <stdbool.h>

typedef struct tls_cert_info {
	char *sha256;     /* "AB:CD:..." (95 characters), malloc'd */
	char *subject;    /* one-line subject, "CN=mail.example.org", malloc'd */
	char *not_after;  /* expiry as OpenSSL prints it, malloc'd */
	char *spki_sha256; /* SHA-256 of the public key (SubjectPublicKeyInfo DER)
	                    * in lower-case hex: a DANE "3 1 1" TLSA record's
	                    * data (RFC 7671 5.1), malloc'd */
} tls_cert_info;

/* Read the first certificate of the PEM file cert_file (the server's own
 * certificate in a chain file).  False with a malloc'd sentence in *err_r
 * when the file cannot be read or holds no certificate. */
bool tls_cert_info_read(const char *cert_file, tls_cert_info *info_r, char **err_r);
void tls_cert_info_free(tls_cert_info *info);

#endif
