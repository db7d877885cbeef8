/* address.c — the syntax of an envelope address (see address.h): the
 * RFC 5321 4.1.2 mailbox, with the RFC 6531 UTF-8 extension, and the UTF-8
 * check it needs.  Owns only the grammar; what a command does with an
 * address that fails it is for the protocol (smtp/parse.c) to decide. */
#include "envelope/address.h"

#include <string.h>

bool envelope_valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t len;
		unsigned min;
		unsigned cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2; min = 0x80; cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3; min = 0x800; cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4; min = 0x10000; cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Dot-string or quoted-string local part of length n. */
static bool valid_local(const char *s, size_t n, bool utf8, bool *non_ascii)
{
	if (n == 0 || n > 64)
		return false;
	if (s[0] == '"') {
		if (n < 2 || s[n - 1] != '"')
			return false;
		for (size_t i = 1; i + 1 < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '\\') {
				i++;
				if (i + 1 >= n || (unsigned char)s[i] < 0x20)
					return false;
			} else if (c >= 0x80) {
				*non_ascii = true;
			} else if (c < 0x20 || c == '"' || c == 0x7f) {
				return false;
			}
		}
	} else {
		if (s[0] == '.' || s[n - 1] == '.')
			return false;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '.') {
				if (s[i + 1] == '.')
					return false;
			} else if (c >= 0x80) {
				*non_ascii = true;
			} else if (!is_atext(c)) {
				return false;
			}
		}
	}
	return !*non_ascii || (utf8 && envelope_valid_utf8(s, n));
}

bool envelope_valid_domain(const char *s, size_t n, bool utf8, bool *non_ascii)
{
	if (n == 0 || n > 255)
		return false;
	if (s[0] == '[') {
		/* address literal: accept IPv4 / IPv6: / general forms by charset */
		if (s[n - 1] != ']' || n < 3)
			return false;
		for (size_t i = 1; i + 1 < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x21 || c > 0x7e || c == '[' || c == ']' || c == '\\')
				return false;
		}
		return true;
	}
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (c >= 0x80) {
			*non_ascii = true;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9') || (c == '-' && label > 0))) {
			return false;
		}
		if (++label > 63)
			return false;
	}
	if (label == 0 || s[n - 1] == '-')
		return false;
	return !*non_ascii || (utf8 && envelope_valid_utf8(s, n));
}

bool envelope_valid_mailbox(const char *mbox, bool utf8, bool *non_ascii_r)
{
	*non_ascii_r = false;
	const char *at = strrchr(mbox, '@');
	if (at == NULL)
		return false;
	/* a quoted local part may contain '@': the domain is after the last one */
	bool na = false;
	if (!valid_local(mbox, (size_t)(at - mbox), utf8, &na))
		goto out;
	if (!envelope_valid_domain(at + 1, strlen(at + 1), utf8, &na))
		goto out;
	*non_ascii_r = na;
	return true;
out:
	*non_ascii_r = na;
	return false;
}
