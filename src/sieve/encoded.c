/* encoded.c — RFC 5228 2.4.2.4 encoded-character: "${hex:41 42}" and
 * "${unicode:1F600}" inside strings, decoded once at compile time when the
 * capability is required.  A malformed form stays as written; a code
 * point that is a surrogate or past U+10FFFF is an error. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "sieve/sieve_int.h"

/* Decode "<blank* seq blank*>}" of hex groups of at most maxdig digits
 * starting at s; returns the position after '}' or NULL when malformed. */
static const char *decode_seq(const char *s, int maxdig, bool unicode, buf *out, bool *bad_r)
{
	bool any = false;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s == '}')
			return any ? s + 1 : NULL;
		int n = 0;
		uint32_t v = 0;
		while (isxdigit((unsigned char)s[n])) {
			if (n >= maxdig)
				return NULL;
			v = v * 16 + (uint32_t)str_hexval(s[n]);
			n++;
		}
		if (n == 0 || (s[n] != '}' && !strchr(" \t\r\n", s[n])))
			return NULL;
		s += n;
		any = true;
		if (!unicode) {
			BUF_PUTC(out, (char)v);
		} else if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
			*bad_r = true;
			return NULL;
		} else {
			char u[4];
			BUF_APPEND(out, u, imap_utf8_encode(v, u));
		}
	}
}

bool sieve_encoded_decode(char **sp, char **why_r)
{
	const char *s = *sp;
	if (strstr(s, "${") == NULL)
		return true;
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	while (*s != '\0') {
		if (s[0] == '$' && s[1] == '{') {
			bool hex = str_ascii_nieq(s + 2, "hex:", 4);
			bool uni = str_ascii_nieq(s + 2, "unicode:", 8);
			if (hex || uni) {
				buf tmp;
				buf_init(&tmp, BUF_UNBOUNDED);
				bool bad = false;
				const char *e = decode_seq(s + (hex ? 6 : 10), hex ? 2 : 8, uni, &tmp, &bad);
				if (bad) {
					buf_free(&tmp);
					buf_free(&b);
					*why_r = xstrdup("encoded-character: invalid Unicode code point");
					return false;
				}
				if (e != NULL) {
					BUF_APPEND(&b, tmp.data, tmp.len);
					buf_free(&tmp);
					s = e;
					continue;
				}
				buf_free(&tmp);
			}
		}
		BUF_PUTC(&b, *s++);
	}
	free(*sp);
	*sp = buf_steal(&b);
	return true;
}
