/* dkimcrypto.h — the public-key half of DKIM on OpenSSL 3: signing and
 * checking a header hash with rsa-sha256 (RSASSA-PKCS1-v1_5, RFC 8017) or
 * ed25519-sha256 (PureEdDSA over the SHA-256 hash, RFC 8463 3), and the
 * key formats of the p= tag.  Knows nothing about messages or tags. */
#ifndef YUBIN_MSGAUTH_DKIMCRYPTO_H
#define YUBIN_MSGAUTH_DKIMCRYPTO_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "msgauth/dkimhash.h"
#include "msgauth/dkimtags.h"

/* RSA keys below this are refused when verifying (RFC 8301 3.2). */
#define DKIM_RSA_MIN_BITS 1024

/* Sign the header hash; the signature (malloc'd) in *sig_r.  False when
 * the key does not fit the algorithm or OpenSSL fails. */
bool dkim_crypto_sign(EVP_PKEY *key, dkim_alg alg, const unsigned char hash[DKIM_HASH_LEN],
		      unsigned char **sig_r, size_t *len_r);
/* True when sig is alg's signature of hash under key. */
bool dkim_crypto_verify(EVP_PKEY *key, dkim_alg alg, const unsigned char hash[DKIM_HASH_LEN],
			const unsigned char *sig, size_t len);

/* The public key of a key record: k=rsa takes a DER SubjectPublicKeyInfo
 * (what everyone publishes) or a bare RSAPublicKey, of at least
 * DKIM_RSA_MIN_BITS; k=ed25519 the 32 raw bytes.  NULL with *err_r
 * (a static sentence) when it is not such a key. */
EVP_PKEY *dkim_crypto_public_key(dkim_keytype type, const unsigned char *p, size_t len,
				 const char **err_r);
/* The p= value to publish for key: base64 of the SubjectPublicKeyInfo
 * for RSA, of the raw 32 bytes for Ed25519.  malloc'd. */
char *dkim_crypto_public_text(EVP_PKEY *key);
/* Which algorithm a private key signs with; false when neither. */
bool dkim_crypto_key_alg(EVP_PKEY *key, dkim_alg *alg_r);

#endif
