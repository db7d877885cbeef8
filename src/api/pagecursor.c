/* pagecursor.c — opaque list cursors (see pagecursor.h).  It must not know
 * what a list holds. */
#include "api/pagecursor.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

char *pagecursor_encode(const json_t *state)
{
	char *js = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
	if (js == NULL)
		abort(); /* a state built in code always prints */
	size_t n = strlen(js);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)js, (int)n);
	free(js);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

json_t *pagecursor_decode(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > PAGECURSOR_MAX || n % 4 == 1)
		return NULL;
	char *b64 = xmalloc(n + 4);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			free(b64);
			return NULL;
		}
		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	size_t pad = (4 - n % 4) % 4;
	memset(b64 + n, '=', pad);
	b64[n + pad] = '\0';
	unsigned char *raw = xmalloc((n + pad) / 4 * 3 + 1);
	int len = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)(n + pad));
	free(b64);
	json_t *j = NULL;
	if (len > 0) {
		len -= (int)pad;
		j = json_loadb((const char *)raw, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
		if (j != NULL && !json_is_object(j)) {
			json_decref(j);
			j = NULL;
		}
	}
	free(raw);
	return j;
}
