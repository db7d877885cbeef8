/* dkimkeys.h — DKIM private keys on disk: data_dir/dkim/<domain>/
 * <selector>.<rsa|ed25519>.key, PEM (PKCS#8), folders 0700 and files 0600
 * owned by the service user.  Generating, loading, choosing the keys a
 * domain signs with, and the DNS TXT record that publishes a key.  Blocking
 * file I/O: call it at start-up, from the CLI, or on a worker. */
#ifndef YUBIN_MSGAUTH_DKIMKEYS_H
#define YUBIN_MSGAUTH_DKIMKEYS_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <time.h>

#include "lib/strutil.h"
#include "msgauth/dkimtags.h"

#define DKIM_RSA_BITS 2048

typedef struct dkim_key {
	char *domain;      /* lower-case */
	char *selector;
	dkim_alg alg;      /* DKIM_ALG_RSA_SHA256 or DKIM_ALG_ED25519_SHA256 */
	EVP_PKEY *pkey;    /* the private key */
	char *path;
	time_t mtime;      /* when the file was written */
} dkim_key;

typedef struct dkim_keyset {
	dkim_key *keys;
	size_t n;
} dkim_keyset;

/* The default selector for a new key made at `now`: "ybYYYYMM-rsa" or
 * "ybYYYYMM-ed25519" (dated, so a rotated key gets a new DNS name; the
 * algorithm in it, so that both keys of a month have their own record).
 * malloc'd. */
char *dkim_default_selector(dkim_alg alg, time_t now);

/* Make a new key (RSA 2048 or Ed25519) and write it with O_EXCL: an
 * existing key for that selector, of either algorithm, is never replaced.
 * Creates the folders.  False with *err_r (malloc'd). */
bool dkim_key_generate(const char *data_dir, const char *domain, const char *selector,
		       dkim_alg alg, dkim_key *key_r, char **err_r);

/* Load the keys of domain (NULL: of every domain), sorted by domain, then
 * newest first.  A file that cannot be read or is not such a key is left
 * out and described in problems.  A missing folder is an empty set. */
void dkim_keys_load(const char *data_dir, const char *domain, dkim_keyset *set, strlist *problems);
void dkim_keyset_free(dkim_keyset *set);
/* Free what one key holds (not k itself). */
void dkim_key_free(dkim_key *k);

/* The keys domain signs with: per algorithm, the newest key (of the given
 * selector only, when selector is not NULL).  Fills picked[0..1] (RSA
 * first) and returns how many; they point into set. */
size_t dkim_keys_pick(const dkim_keyset *set, const char *domain, const char *selector,
		      const dkim_key *picked[2]);

/* "<selector>._domainkey.<domain>" (malloc'd). */
char *dkim_key_dns_name(const dkim_key *k);
/* "v=DKIM1; k=rsa; p=..." (malloc'd). */
char *dkim_key_txt_value(const dkim_key *k);
/* The record as a zone-file line: name, TXT, and the value as quoted
 * strings of at most 255 bytes each.  malloc'd. */
char *dkim_key_txt_record(const dkim_key *k);
/* Key size in bits (2048, or 256 for Ed25519). */
int dkim_key_bits(const dkim_key *k);

#endif
