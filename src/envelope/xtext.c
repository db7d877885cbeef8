/* xtext.c — RFC 3461 xtext and RFC 6533 utf-8-addr-xtext, both directions
 * (see xtext.h).  Owns only the encodings; what a decoded value may contain
 * is for the caller (dsnparam.c) to decide. */
#include "envelope/xtext.h"

#include <string.h>

static int hex_upper(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool xtext_decode(const char *s, size_t n, buf *out)
{
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			int hi = i + 2 < n ? hex_upper(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_upper(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || !buf_putc(out, (char)(hi * 16 + lo)))
				goto fail;
			i += 2;
			continue;
		}
		if (c < '!' || c > '~' || c == '=' || !buf_putc(out, (char)c))
			goto fail;
	}
	return true;
fail:
	buf_truncate(out, start);
	return false;
}

bool xtext_encode(const char *s, size_t n, buf *out)
{
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= '!' && c <= '~' && c != '+' && c != '=';
		if (!(plain ? buf_putc(out, (char)c) : buf_printf(out, "+%02X", c))) {
			buf_truncate(out, start);
			return false;
		}
	}
	return true;
}

/* Append code point cp as UTF-8. */
static bool put_utf8(buf *out, unsigned long cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	return buf_append(out, b, n);
}

/* Length of the valid UTF-8 sequence (2 to 4 bytes) at s[0..n), 0 if none;
 * its code point in *cp. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, *cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	if (*cp < min[len] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* "\x{HEX}" at s[0..n): its length, 0 when malformed; the code point in *cp. */
static size_t embedded_char(const char *s, size_t n, unsigned long *cp)
{
	if (n < 6 || s[0] != '\\' || s[1] != 'x' || s[2] != '{')
		return 0;
	size_t i = 3;
	*cp = 0;
	while (i < n && i < 3 + 7 && hex_upper(s[i]) >= 0)
		*cp = *cp * 16 + (unsigned long)hex_upper(s[i++]);
	size_t digits = i - 3;
	if (digits < 2 || digits > 6 || i >= n || s[i] != '}')
		return 0;
	if (*cp == 0 || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return i + 1;
}

bool xtext_utf8_decode(const char *s, size_t n, bool unitext, buf *out)
{
	size_t start = out->len;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned long cp;
		size_t len;
		if (u[i] == '\\') {
			len = embedded_char(s + i, n - i, &cp);
		} else if (u[i] >= '!' && u[i] <= '~' && u[i] != '+' && u[i] != '=') {
			len = 1, cp = u[i];
		} else if (unitext && u[i] >= 0x80) {
			len = utf8_seq(u + i, n - i, &cp);
		} else {
			len = 0;
		}
		if (len == 0 || !put_utf8(out, cp)) {
			buf_truncate(out, start);
			return false;
		}
		i += len;
	}
	return true;
}

bool xtext_utf8_encode(const char *s, buf *out)
{
	size_t start = out->len, n = strlen(s);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned long cp = u[i];
		size_t len = 1;
		if (u[i] >= 0x80) {
			len = utf8_seq(u + i, n - i, &cp);
			if (len == 0)
				len = 1, cp = 0xfffd;
		}
		bool plain = cp >= '!' && cp <= '~' && cp != '+' && cp != '=' && cp != '\\';
		if (!(plain ? buf_putc(out, (char)cp) : buf_printf(out, "\\x{%02lX}", cp))) {
			buf_truncate(out, start);
			return false;
		}
		i += len;
	}
	return true;
}
