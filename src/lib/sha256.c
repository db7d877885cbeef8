/* sha256.c — SHA-256 with the algorithm fetched once (see sha256.h). */
#include "lib/sha256.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/strutil.h"

static EVP_MD *md;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fetch(void)
{
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *sha256_md(void)
{
	pthread_once(&once, fetch);
	if (md == NULL)
		abort();
	return md;
}

void sha256_raw(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, sha256_md(), NULL) != 1 || n != 32)
		abort();
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char raw[32];
	sha256_raw(data, len, raw);
	str_hex(raw, sizeof raw, out);
}
