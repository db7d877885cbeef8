/* charset.c — charsets to UTF-8 and RFC 2047 encoded-words (see
 * charset.h).  Conversion goes through iconv, one descriptor a call (the
 * callers are workers, and iconv_t is not shareable between threads). */
#include "mime/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/utf8.h"
#include "mime/decode.h"
#include "lib/strutil.h"

#define REPLACEMENT "\xEF\xBF\xBD"
#define HEADER_MAX ((size_t)1 << 20)

/* s as UTF-8, each byte that is not part of valid UTF-8 replaced. */
static bool utf8_sanitize(buf *out, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t k = imap_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0) {
			if (!buf_puts(out, REPLACEMENT))
				return false;
			i++;
		} else {
			if (!buf_append(out, s + i, k))
				return false;
			i += k;
		}
	}
	return true;
}

static bool is_utf8_name(const char *cs)
{
	return cs == NULL || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	       strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

bool mime_charset_to_utf8(buf *out, const char *charset, const char *s, size_t n)
{
	if (is_utf8_name(charset))
		return utf8_sanitize(out, s, n);
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return utf8_sanitize(out, s, n);
	char tmp[1024];
	char *in = (char *)s;
	size_t left = n;
	bool ok = true;
	while (ok && left > 0) {
		char *o = tmp;
		size_t room = sizeof tmp;
		size_t r = iconv(cd, &in, &left, &o, &room);
		ok = buf_append(out, tmp, (size_t)(o - tmp));
		if (r == (size_t)-1 && errno != E2BIG && ok) {
			/* EILSEQ / EINVAL: one byte that cannot be converted */
			ok = buf_puts(out, REPLACEMENT);
			in++;
			left--;
		}
	}
	iconv_close(cd);
	return ok;
}

/* The Q encoding (RFC 2047 4.2): "_" is a space, =XX a byte. */
static bool q_decode(buf *out, const char *s, size_t n)
{
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		int hi, lo;
		if (s[i] == '_') {
			ok = buf_putc(out, ' ');
		} else if (s[i] == '=' && i + 2 < n && (hi = str_hexval(s[i + 1])) >= 0 &&
		           (lo = str_hexval(s[i + 2])) >= 0) {
			ok = buf_putc(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			ok = buf_putc(out, s[i]);
		}
	}
	return ok;
}

/* An encoded-word at s: "=?charset?enc?text?=" with no blanks inside.
 * Appends its decoded UTF-8 to out (when out is not NULL) and returns its
 * length, or 0 when s starts none. */
static size_t encoded_word(buf *out, const char *s)
{
	if (s[0] != '=' || s[1] != '?')
		return 0;
	const char *cs = s + 2, *q1 = strchr(cs, '?');
	if (q1 == NULL || q1 == cs || q1[1] == '\0' || q1[2] != '?')
		return 0;
	char enc = q1[1];
	const char *text = q1 + 3, *end = strstr(text, "?=");
	if (end == NULL || (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q'))
		return 0;
	for (const char *p = cs; p < end; p++)
		if (*p == ' ' || *p == '\t')
			return 0;
	if (out == NULL)
		return (size_t)(end + 2 - s);
	char *charset = xstrndup(cs, (size_t)(q1 - cs));
	char *star = strchr(charset, '*'); /* RFC 2231 5: charset*language */
	if (star != NULL)
		*star = '\0';
	buf raw;
	buf_init(&raw, HEADER_MAX);
	bool ok = enc == 'B' || enc == 'b' ? mime_base64_decode(&raw, text, 0, (size_t)(end - text))
	                                   : q_decode(&raw, text, (size_t)(end - text));
	ok = ok && mime_charset_to_utf8(out, charset, raw.data ? raw.data : "", raw.len);
	buf_free(&raw);
	free(charset);
	return ok ? (size_t)(end + 2 - s) : 0; /* too long: kept as written */
}

char *mime_decode_header(const char *s)
{
	buf out;
	buf_init(&out, HEADER_MAX);
	size_t n = strlen(s), i = 0;
	while (i < n) {
		size_t mark = out.len;
		size_t len = s[i] == '=' ? encoded_word(&out, s + i) : 0;
		buf_truncate(&out, len > 0 ? out.len : mark);
		if (len > 0) {
			i += len;
			/* blanks between two encoded-words go (RFC 2047 6.2) */
			size_t j = i;
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j > i && encoded_word(NULL, s + j) > 0)
				i = j;
			continue;
		}
		size_t j = i + 1;
		while (j < n && s[j] != '=')
			j++;
		if (!utf8_sanitize(&out, s + i, j - i))
			break; /* past HEADER_MAX: the prefix */
		i = j;
	}
	return buf_steal(&out);
}
