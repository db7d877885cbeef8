/* mutf7.c — modified UTF-7 <-> UTF-8 (see mutf7.h).  Works on byte ranges,
 * appends to a bounded buf; no other allocation. */
#include "imap/mutf7.h"

#include <stdint.h>
#include <string.h>

#include "lib/utf8.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;
	return p == NULL ? -1 : (int)(p - b64);
}

static bool put_cp(buf *out, uint32_t cp)
{
	char tmp[4];
	size_t n = imap_utf8_encode(cp, tmp);
	return buf_append(out, tmp, n);
}

/* Decode the base64 run s[0..len) (between "&" and "-") into code points. */
static bool decode_run(const char *s, size_t len, buf *out, const char **error_r)
{
	uint32_t bits = 0, nbits = 0, high = 0;
	*error_r = "Invalid modified UTF-7 in the mailbox name.";
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return false;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return false;       /* high surrogate without a low one */
			if (!put_cp(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00)))
				goto full;
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return false;           /* low surrogate alone */
		} else if (u == 0 || (u >= 0x20 && u <= 0x7e)) {
			return false;           /* NUL, or ASCII that must stand for itself */
		} else if (!put_cp(out, u)) {
			goto full;
		}
	}
	/* leftover bits: fewer than 6 and all zero, and no surrogate pending */
	if (high != 0 || nbits >= 6 || bits != 0)
		return false;
	return true;
full:
	*error_r = "Mailbox name is too long.";
	return false;
}

bool imap_mutf7_decode(const char *s, size_t len, buf *out, const char **error_r)
{
	size_t i = 0;
	bool after_run = false;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e) {
			*error_r = "Mailbox names must be modified UTF-7 (printable ASCII only).";
			return false;
		}
		if (c != '&') {
			if (!buf_putc(out, (char)c))
				goto full;
			after_run = false;
			i++;
			continue;
		}
		const char *dash = memchr(s + i + 1, '-', len - i - 1);
		if (dash == NULL) {
			*error_r = "Unterminated & sequence in the mailbox name.";
			return false;
		}
		size_t runlen = (size_t)(dash - (s + i + 1));
		if (runlen == 0) {
			if (!buf_putc(out, '&'))
				goto full;
			after_run = false;
		} else {
			if (after_run) {
				*error_r = "Adjacent encoded sequences in the mailbox name must be joined.";
				return false;
			}
			if (!decode_run(s + i + 1, runlen, out, error_r))
				return false;
			after_run = true;
		}
		i += runlen + 2;
	}
	return true;
full:
	*error_r = "Mailbox name is too long.";
	return false;
}

/* The state of an encoded run: bits not yet written (fewer than 6). */
typedef struct run {
	bool open;
	uint32_t bits, nbits;
} run;

static bool run_unit(run *r, uint32_t u, buf *out)
{
	if (!r->open) {
		if (!buf_putc(out, '&'))
			return false;
		r->open = true;
		r->bits = r->nbits = 0;
	}
	r->bits = (r->bits << 16) | u;
	r->nbits += 16;
	while (r->nbits >= 6) {
		r->nbits -= 6;
		if (!buf_putc(out, b64[(r->bits >> r->nbits) & 0x3f]))
			return false;
	}
	r->bits &= (1u << r->nbits) - 1;
	return true;
}

/* Write the filler bits and the "-" that ends a run. */
static bool run_close(run *r, buf *out)
{
	if (!r->open)
		return true;
	r->open = false;
	if (r->nbits > 0 && !buf_putc(out, b64[(r->bits << (6 - r->nbits)) & 0x3f]))
		return false;
	return buf_putc(out, '-');
}

bool imap_mutf7_encode(const char *s, size_t len, buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	run r = {0};
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = imap_utf8_decode(p + i, len - i, &cp);
		if (n == 0 || cp == 0)
			return false;
		i += n;
		bool ok;
		if (cp >= 0x20 && cp <= 0x7e)
			ok = run_close(&r, out) && (cp == '&' ? buf_puts(out, "&-") : buf_putc(out, (char)cp));
		else if (cp >= 0x10000)
			ok = run_unit(&r, 0xd800 + ((cp - 0x10000) >> 10), out) &&
			     run_unit(&r, 0xdc00 + ((cp - 0x10000) & 0x3ff), out);
		else
			ok = run_unit(&r, cp, out);
		if (!ok)
			return false;
	}
	return run_close(&r, out);
}
