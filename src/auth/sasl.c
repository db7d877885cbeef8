/* sasl.c — PLAIN / LOGIN decoding and base64 (see sasl.h).  Base64 itself is
 * OpenSSL's EVP_DecodeBlock/EncodeBlock; this file adds the strictness that
 * EVP_DecodeBlock lacks (length, padding) and the mechanism formats. */
#include "auth/sasl.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

bool sasl_b64_decode(const char *in, char **out_r, size_t *len_r)
{
	size_t n = strlen(in);
	if (n % 4 != 0 || n > 65536)
		return false;
	size_t pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=') {
			if (i < n - 2)
				return false;
			pad++;
		} else if (!b64_char(c) || pad > 0) {
			return false;
		}
	}
	char *out = xmalloc(n / 4 * 3 + 1);
	int got = n ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n) : 0;
	if (got < 0) {
		free(out);
		return false;
	}
	size_t len = (size_t)got - pad;
	out[len] = '\0';
	*out_r = out;
	*len_r = len;
	return true;
}

char *sasl_b64_encode(const void *data, size_t n)
{
	char *out = xmalloc((n + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

sasl_status sasl_plain_parse(const char *b64, char **authcid_r, char **password_r)
{
	char *raw;
	size_t len;
	if (!sasl_b64_decode(b64, &raw, &len))
		return SASL_BAD_BASE64;
	const char *authz = raw;
	const char *nul1 = memchr(raw, '\0', len);
	const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - raw)) : NULL;
	if (nul1 == NULL || nul2 == NULL) {
		explicit_bzero(raw, len);
		free(raw);
		return SASL_MALFORMED;
	}
	const char *authc = nul1 + 1;
	const char *pass = nul2 + 1;
	size_t plen = len - (size_t)(pass - raw);
	bool ok = *authc != '\0' && plen > 0 && memchr(pass, '\0', plen) == NULL &&
	          (*authz == '\0' || strcmp(authz, authc) == 0);
	if (ok) {
		*authcid_r = xstrdup(authc);
		*password_r = xstrndup(pass, plen);
	}
	explicit_bzero(raw, len);
	free(raw);
	return ok ? SASL_OK : SASL_MALFORMED;
}

sasl_status sasl_login_field(const char *b64, char **field_r)
{
	char *raw;
	size_t len;
	if (!sasl_b64_decode(b64, &raw, &len))
		return SASL_BAD_BASE64;
	if (len == 0 || memchr(raw, '\0', len) != NULL) {
		explicit_bzero(raw, len);
		free(raw);
		return SASL_MALFORMED;
	}
	*field_r = raw;
	return SASL_OK;
}
