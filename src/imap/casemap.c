/* casemap.c — i;unicode-casemap keys (see casemap.h) through ICU: the
 * string goes to UTF-16, each code point to u_totitle (the simple mapping
 * RFC 5051 2 asks for, not SpecialCasing), NFD by ICU's normalizer, and
 * back to UTF-8. */
#include "imap/casemap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "lib/strutil.h"

/* Longer strings are compared on this many bytes: a sort key does not
 * need more, and it bounds the work a crafted Subject can cause. */
#define CASEMAP_MAX 4096

static UChar *to_utf16(const char *s, size_t n, int32_t *len_r)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t need = 0;
	u_strFromUTF8WithSub(NULL, 0, &need, s, (int32_t)n, 0xFFFD, NULL, &e);
	UChar *u = xcalloc((size_t)need + 1, sizeof(UChar));
	e = U_ZERO_ERROR;
	u_strFromUTF8WithSub(u, need + 1, len_r, s, (int32_t)n, 0xFFFD, NULL, &e);
	if (U_FAILURE(e))
		*len_r = 0;
	return u;
}

/* Every code point to its titlecase (a BMP character may map outside the
 * BMP, so the result may be longer: at most twice). */
static UChar *titlecase(const UChar *u, int32_t n, int32_t *len_r)
{
	UChar *t = xcalloc((size_t)n * 2 + 1, sizeof(UChar));
	int32_t i = 0, o = 0;
	while (i < n) {
		UChar32 c;
		U16_NEXT(u, i, n, c);
		UBool err = 0;
		U16_APPEND(t, o, n * 2, u_totitle(c), err);
		if (err)
			break;
	}
	*len_r = o;
	return t;
}

static UChar *decompose(const UChar *u, int32_t n, int32_t *len_r)
{
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *nfd = unorm2_getNFDInstance(&e);
	if (U_FAILURE(e))
		return NULL;
	int32_t need = unorm2_normalize(nfd, u, n, NULL, 0, &e);
	if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e))
		return NULL;
	UChar *d = xcalloc((size_t)need + 1, sizeof(UChar));
	e = U_ZERO_ERROR;
	*len_r = unorm2_normalize(nfd, u, n, d, need + 1, &e);
	if (U_FAILURE(e)) {
		free(d);
		return NULL;
	}
	return d;
}

static char *to_utf8(const UChar *u, int32_t n)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t need = 0;
	u_strToUTF8(NULL, 0, &need, u, n, &e);
	char *s = xcalloc((size_t)need + 1, 1);
	e = U_ZERO_ERROR;
	u_strToUTF8(s, need + 1, NULL, u, n, &e);
	if (U_FAILURE(e))
		s[0] = '\0';
	return s;
}

char *imap_casemap_key(const char *s, size_t n)
{
	if (n > CASEMAP_MAX)
		n = CASEMAP_MAX;
	int32_t ulen, tlen, dlen;
	UChar *u = to_utf16(s, n, &ulen);
	UChar *t = titlecase(u, ulen, &tlen);
	UChar *d = decompose(t, tlen, &dlen);
	char *key = d != NULL ? to_utf8(d, dlen) : to_utf8(t, tlen);
	free(u);
	free(t);
	free(d);
	return key;
}
