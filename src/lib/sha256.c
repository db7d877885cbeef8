/* sha256.c — SHA-256 with the algorithm fetched once (see sha256.h). */
#include "lib/sha256.h"

#include <pthread.h>
#include <stdlib.h>

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

void hex_lower(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char raw[32];
	sha256_raw(data, len, raw);
	hex_lower(raw, sizeof raw, out);
}
