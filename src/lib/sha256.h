/* sha256.h — SHA-256 through OpenSSL with the algorithm fetched once.
 * OpenSSL 3 looks EVP_sha256() up by name at every digest it starts
 * (some µs each); the queue's checksum, DKIM, the audit chain and the API
 * keys hash on every message or request, so they share one fetched
 * EVP_MD.  Aborts if OpenSSL has no SHA-256 (a broken environment). */
#ifndef YUBIN_SHA256_H
#define YUBIN_SHA256_H

#include <openssl/evp.h>
#include <stddef.h>

#define SHA256_HEX_LEN 64

/* The fetched SHA-256 for EVP_DigestInit_ex and EVP_Digest; never NULL. */
const EVP_MD *sha256_md(void);
/* The digest of len bytes at data (32 bytes into out). */
void sha256_raw(const void *data, size_t len, unsigned char out[32]);
/* ... as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
