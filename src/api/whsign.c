/* whsign.c — webhook signatures and the retry schedule (see whsign.h).
 * It must not send anything or log. */
#include "api/whsign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

unsigned char *whsign_key(const char *secret, size_t *len_r)
{
	if (secret == NULL)
		return NULL;
	if (strncmp(secret, "whsec_", 6) != 0) {
		size_t n = strlen(secret);
		if (n == 0)
			return NULL;
		unsigned char *k = xmalloc(n);
		memcpy(k, secret, n);
		*len_r = n;
		return k;
	}
	const char *b64 = secret + 6;
	size_t n = strlen(b64);
	if (n == 0 || n % 4 != 0)
		return NULL;
	unsigned char *k = xmalloc(n / 4 * 3 + 1);
	int got = EVP_DecodeBlock(k, (const unsigned char *)b64, (int)n);
	if (got <= 0) {
		free(k);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding's bytes too */
	size_t len = (size_t)got;
	for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
		len--;
	*len_r = len;
	return k;
}

char *whsign_signature(const unsigned char *key, size_t key_len, const char *id, int64_t timestamp,
                       const char *body, size_t body_len)
{
	char *head = xasprintf("%s.%lld.", id, (long long)timestamp);
	size_t head_len = strlen(head);
	char *msg = xmalloc(head_len + body_len + 1);
	memcpy(msg, head, head_len);
	memcpy(msg + head_len, body, body_len);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, head_len + body_len, mac,
	         &mac_len) == NULL)
		abort(); /* SHA-256 is always there: a broken OpenSSL is a bug */
	free(head);
	free(msg);
	char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	EVP_EncodeBlock((unsigned char *)b64, mac, (int)mac_len);
	return xasprintf("v1,%s", b64);
}

int64_t whsign_backoff(int attempt, int64_t base, int64_t cap)
{
	int64_t d = base;
	for (int i = 1; i < attempt && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

int64_t whsign_next_try(int attempt, int64_t created, int64_t now, int64_t base, int64_t cap, int64_t retry_for)
{
	int64_t next = now + whsign_backoff(attempt, base, cap);
	return next - created > retry_for ? -1 : next;
}
