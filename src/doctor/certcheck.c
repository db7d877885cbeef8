/* certcheck.c — `yubin doctor`'s certificate check: the chain in tls.cert
 * names the host name (RFC 6125 6.4: subjectAltName dNSName, wildcards in
 * the left-most label only, as OpenSSL's X509_check_host does), and the
 * autoconfig. / autodiscover. names of each domain (mail programs fetch
 * their settings there over HTTPS); it is in its validity period and does
 * not end within DOCTOR_CERT_DAYS days; tls.key is its key; the chain
 * verifies against the system's CAs (else: self-signed, or intermediates
 * missing from the file).  Reads the files only; the TLS layer's own
 * loading is tls/tls.c's. */
#include "doctor/doctor.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DOCTOR_CERT_DAYS 14

static STACK_OF(X509) *load_chain(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	ERR_clear_error();
	fclose(f);
	if (sk_X509_num(chain) == 0) {
		sk_X509_free(chain);
		return NULL;
	}
	return chain;
}

static void check_names(doctor *d, X509 *leaf, const char *path)
{
	const char *host = d->cfg->hostname;
	char *fix = xasprintf("get a certificate whose subjectAltName lists %s (and the autoconfig. and autodiscover. "
	                      "names of your domains), and set tls.cert and tls.key to it", host);
	if (X509_check_host(leaf, host, 0, 0, NULL) == 1)
		doctor_add(d, "cert", host, DOCTOR_OK, NULL, "%s is valid for %s", path, host);
	else
		doctor_add(d, "cert", host, DOCTOR_FAIL, fix,
		           "%s is not valid for %s: mail programs and servers that check will refuse it", path, host);
	for (size_t i = 0; i < d->domains.n; i++) {
		static const char *const pre[] = {"autoconfig", "autodiscover"};
		for (size_t k = 0; k < 2; k++) {
			char *name = xasprintf("%s.%s", pre[k], d->domains.items[i]);
			if (X509_check_host(leaf, name, 0, 0, NULL) != 1)
				doctor_add(d, "cert", name, DOCTOR_WARN, fix,
				           "the certificate does not name %s: mail programs fetching their settings there fail", name);
			else
				doctor_add(d, "cert", name, DOCTOR_OK, NULL, "the certificate names %s", name);
			free(name);
		}
	}
	free(fix);
}

static void check_dates(doctor *d, X509 *leaf)
{
	const char *host = d->cfg->hostname;
	int days = 0, secs = 0;
	const char *renew = "renew the certificate (with ACME / certbot: check that its timer runs), then restart yubin";
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
		doctor_add(d, "cert-expiry", host, DOCTOR_FAIL, "check the machine's clock, or use a certificate valid now",
		           "the certificate is not valid yet");
		return;
	}
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) || days < 0 || secs < 0) {
		doctor_add(d, "cert-expiry", host, DOCTOR_FAIL, renew, "the certificate has expired");
	} else if (days < DOCTOR_CERT_DAYS) {
		doctor_add(d, "cert-expiry", host, DOCTOR_FAIL, renew, "the certificate expires in %d days (under %d)", days,
		           DOCTOR_CERT_DAYS);
	} else {
		doctor_add(d, "cert-expiry", host, DOCTOR_OK, NULL, "valid for %d more days", days);
	}
}

static void check_key_and_chain(doctor *d, STACK_OF(X509) *chain)
{
	X509 *leaf = sk_X509_value(chain, 0);
	const char *host = d->cfg->hostname;
	EVP_PKEY *key = d->tls_key;
	if (key == NULL || X509_check_private_key(leaf, key) != 1)
		doctor_add(d, "cert-key", host, DOCTOR_FAIL, "set tls.key to the key the certificate was made for",
		           "%s %s", d->cfg->tls_key ? d->cfg->tls_key : "tls.key",
		           key ? "is not the certificate's key" : "cannot be read as a private key");
	else
		doctor_add(d, "cert-key", host, DOCTOR_OK, NULL, "tls.key is the certificate's key");
	ERR_clear_error();
	X509_STORE *store = X509_STORE_new();
	X509_STORE_set_default_paths(store);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *rest = sk_X509_dup(chain);
	(void)sk_X509_shift(rest);
	X509_STORE_CTX_init(ctx, store, leaf, rest);
	if (X509_verify_cert(ctx) == 1)
		doctor_add(d, "cert-chain", host, DOCTOR_OK, NULL, "the chain verifies against the system's CAs");
	else
		doctor_add(d, "cert-chain", host, DOCTOR_WARN,
		           "use a certificate from a public CA (Let's Encrypt) and put the intermediates after it in tls.cert",
		           "the chain does not verify against the system's CAs (%s): self-signed, or intermediates missing",
		           X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(rest);
	ERR_clear_error();
}

void doctor_load_tls_key(doctor *d)
{
	FILE *f = d->cfg->tls_key ? fopen(d->cfg->tls_key, "r") : NULL;
	d->tls_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	ERR_clear_error();
}

void doctor_check_cert(doctor *d)
{
	STACK_OF(X509) *chain = d->cfg->tls_cert ? load_chain(d->cfg->tls_cert) : NULL;
	if (chain == NULL) {
		doctor_add(d, "cert", d->cfg->hostname, DOCTOR_FAIL, "set tls.cert to a PEM certificate chain",
		           "%s cannot be read as a PEM certificate", d->cfg->tls_cert ? d->cfg->tls_cert : "tls.cert");
		return;
	}
	X509 *leaf = sk_X509_value(chain, 0);
	check_names(d, leaf, d->cfg->tls_cert);
	check_dates(d, leaf);
	check_key_and_chain(d, chain);
	sk_X509_pop_free(chain, X509_free);
}
