/* utf8.c — strict UTF-8 decoding and encoding (see utf8.h).  Pure functions
 * on byte ranges; no allocation. */
#include "lib/utf8.h"

#include <string.h>

size_t imap_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2; min = 0x80; cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3; min = 0x800; cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

bool imap_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		/* most text is ASCII: eight bytes at a time while it is */
		uint64_t w;
		if (i + 8 <= len && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0)) {
			i += 8;
			continue;
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = imap_utf8_decode(p + i, len - i, &cp);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t imap_utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}
