/* fingerprint.c — a certificate file's fingerprint, subject and expiry
 * (see fingerprint.h).  Reads only; never touches the private key. */
#include "tls/fingerprint.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

static char *hex_pairs(const unsigned char *md, unsigned n)
{
	static const char hex[] = "0123456789ABCDEF";
	char *s = xcalloc(n ? 3 * (size_t)n : 1, 1);
	for (unsigned i = 0; i < n; i++) {
		s[3 * i] = hex[md[i] >> 4];
		s[3 * i + 1] = hex[md[i] & 15];
		s[3 * i + 2] = i + 1 < n ? ':' : '\0';
	}
	return s;
}

/* What OpenSSL prints for x into a memory BIO, as a string. */
static char *bio_text(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = xcalloc((size_t)(n > 0 ? n : 0) + 1, 1);
	if (n > 0)
		memcpy(s, data, (size_t)n);
	return s;
}

bool tls_cert_info_read(const char *cert_file, tls_cert_info *info_r, char **err_r)
{
	*info_r = (tls_cert_info){0};
	FILE *f = fopen(cert_file, "r");
	if (f == NULL) {
		*err_r = xasprintf("cannot read %s: %s", cert_file, strerror(errno));
		return false;
	}
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (x == NULL || X509_digest(x, EVP_sha256(), md, &n) != 1) {
		*err_r = xasprintf("%s holds no PEM certificate", cert_file);
		X509_free(x);
		return false;
	}
	info_r->sha256 = hex_pairs(md, n);
	/* the whole SubjectPublicKeyInfo DER (X509_pubkey_digest would hash
	 * only the key's bit string, which is not what selector 1 means) */
	unsigned char spki[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned k = 0;
	int der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	bool hashed = der_len > 0 && EVP_Digest(der, (size_t)der_len, spki, &k, EVP_sha256(), NULL) == 1;
	OPENSSL_free(der);
	if (hashed) {
		info_r->spki_sha256 = xmalloc(2 * (size_t)k + 1);
		str_hex(spki, k, info_r->spki_sha256);
	}
	BIO *b = BIO_new(BIO_s_mem());
	if (b != NULL && X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_ONELINE) >= 0)
		info_r->subject = bio_text(b);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	if (b != NULL && ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1)
		info_r->not_after = bio_text(b);
	BIO_free(b);
	X509_free(x);
	if (info_r->subject == NULL)
		info_r->subject = xstrdup("?");
	if (info_r->not_after == NULL)
		info_r->not_after = xstrdup("?");
	return true;
}

void tls_cert_info_free(tls_cert_info *info)
{
	free(info->sha256);
	free(info->subject);
	free(info->not_after);
	free(info->spki_sha256);
	*info = (tls_cert_info){0};
}
