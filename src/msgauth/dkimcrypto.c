/* dkimcrypto.c — signing and checking header hashes, and key formats (see
 * dkimcrypto.h).  Both algorithms take the SHA-256 header hash that
 * dkimhash.c computed: RSA through EVP_PKEY_sign/verify with the hash
 * declared as SHA-256 (the same PKCS#1 v1.5 signature that
 * EVP_DigestSign would make over the data), Ed25519 through
 * EVP_DigestSign/Verify with the hash as its message, as RFC 8463 says.
 * One hash for both keeps a single path through dkimhash.c. */
#include "msgauth/dkimcrypto.h"

#include <openssl/decoder.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include "auth/sasl.h"
#include "lib/strutil.h"

static bool key_fits(EVP_PKEY *key, dkim_alg alg)
{
	int id = EVP_PKEY_get_base_id(key);
	return alg == DKIM_ALG_ED25519_SHA256 ? id == EVP_PKEY_ED25519
	       : alg == DKIM_ALG_RSA_SHA256 && id == EVP_PKEY_RSA;
}

/* An RSA context set up for PKCS#1 v1.5 over a SHA-256 hash. */
static EVP_PKEY_CTX *rsa_ctx(EVP_PKEY *key, bool sign)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (ctx != NULL && (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0)
		return ctx;
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

static bool rsa_sign(EVP_PKEY *key, const unsigned char *hash, unsigned char **sig_r, size_t *len_r)
{
	EVP_PKEY_CTX *ctx = rsa_ctx(key, true);
	size_t n = 0;
	bool ok = ctx != NULL && EVP_PKEY_sign(ctx, NULL, &n, hash, DKIM_HASH_LEN) > 0;
	*sig_r = ok ? xmalloc(n) : NULL;
	ok = ok && EVP_PKEY_sign(ctx, *sig_r, &n, hash, DKIM_HASH_LEN) > 0;
	*len_r = n;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static bool ed_sign(EVP_PKEY *key, const unsigned char *hash, unsigned char **sig_r, size_t *len_r)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n = 0;
	bool ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, key) > 0 &&
	          EVP_DigestSign(md, NULL, &n, hash, DKIM_HASH_LEN) > 0;
	*sig_r = ok ? xmalloc(n) : NULL;
	ok = ok && EVP_DigestSign(md, *sig_r, &n, hash, DKIM_HASH_LEN) > 0;
	*len_r = n;
	EVP_MD_CTX_free(md);
	return ok;
}

bool dkim_crypto_sign(EVP_PKEY *key, dkim_alg alg, const unsigned char hash[DKIM_HASH_LEN],
		      unsigned char **sig_r, size_t *len_r)
{
	*sig_r = NULL;
	bool ok = key_fits(key, alg) &&
	          (alg == DKIM_ALG_RSA_SHA256 ? rsa_sign(key, hash, sig_r, len_r)
	                                      : ed_sign(key, hash, sig_r, len_r));
	if (!ok) {
		free(*sig_r);
		*sig_r = NULL;
	}
	return ok;
}

bool dkim_crypto_verify(EVP_PKEY *key, dkim_alg alg, const unsigned char hash[DKIM_HASH_LEN],
			const unsigned char *sig, size_t len)
{
	if (!key_fits(key, alg))
		return false;
	bool ok;
	if (alg == DKIM_ALG_RSA_SHA256) {
		EVP_PKEY_CTX *ctx = rsa_ctx(key, false);
		ok = ctx != NULL && EVP_PKEY_verify(ctx, sig, len, hash, DKIM_HASH_LEN) == 1;
		EVP_PKEY_CTX_free(ctx);
	} else {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) > 0 &&
		     EVP_DigestVerify(md, sig, len, hash, DKIM_HASH_LEN) == 1;
		EVP_MD_CTX_free(md);
	}
	return ok;
}

/* A bare PKCS#1 RSAPublicKey (some old records publish that). */
static EVP_PKEY *rsa_pkcs1(const unsigned char *p, size_t len)
{
	EVP_PKEY *key = NULL;
	OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&key, "DER", "type-specific", "RSA",
	                                                    EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	if (d != NULL && !OSSL_DECODER_from_data(d, &p, &len)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	OSSL_DECODER_CTX_free(d);
	return key;
}

static EVP_PKEY *rsa_public(const unsigned char *p, size_t len, const char **err_r)
{
	const unsigned char *q = p;
	EVP_PKEY *key = d2i_PUBKEY(NULL, &q, (long)len);
	if (key == NULL)
		key = rsa_pkcs1(p, len);
	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		*err_r = "bad key: p= is not an RSA public key";
	} else if (EVP_PKEY_get_bits(key) < DKIM_RSA_MIN_BITS) {
		*err_r = "bad key: RSA key shorter than 1024 bits";
	} else {
		return key;
	}
	EVP_PKEY_free(key);
	return NULL;
}

EVP_PKEY *dkim_crypto_public_key(dkim_keytype type, const unsigned char *p, size_t len,
				 const char **err_r)
{
	if (type == DKIM_KEY_RSA)
		return rsa_public(p, len, err_r);
	if (type != DKIM_KEY_ED25519) {
		*err_r = "bad key: unknown key type k=";
		return NULL;
	}
	EVP_PKEY *key = len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, p, len) : NULL;
	if (key == NULL)
		*err_r = "bad key: p= is not a 32-byte Ed25519 key";
	return key;
}

char *dkim_crypto_public_text(EVP_PKEY *key)
{
	unsigned char raw[32], *der = NULL;
	size_t n = sizeof(raw);
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		if (!EVP_PKEY_get_raw_public_key(key, raw, &n))
			abort();   /* an Ed25519 key always has its public half */
		return sasl_b64_encode(raw, n);
	}
	int len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		abort();
	char *text = sasl_b64_encode(der, (size_t)len);
	OPENSSL_free(der);
	return text;
}

bool dkim_crypto_key_alg(EVP_PKEY *key, dkim_alg *alg_r)
{
	int id = EVP_PKEY_get_base_id(key);
	if (id == EVP_PKEY_RSA)
		*alg_r = DKIM_ALG_RSA_SHA256;
	else if (id == EVP_PKEY_ED25519)
		*alg_r = DKIM_ALG_ED25519_SHA256;
	else
		return false;
	return true;
}
