/* hdrwrite.c — writing header fields (see hdrwrite.h).  Pure. */
#include "mime/hdrwrite.h"

#include <openssl/evp.h>
#include <string.h>

#define EW_MAX 75             /* RFC 2047 2: an encoded-word */
#define EW_OVERHEAD 12        /* "=?UTF-8?B?" and "?=" */

void mime_hfield_start(mime_hfield *f, buf *b, const char *name)
{
	f->b = b;
	BUF_PRINTF(b, "%s:", name);
	f->col = strlen(name) + 1;
}

/* Room left on the line for a token after its blank. */
size_t mime_hfield_room(const mime_hfield *f)
{
	return f->col + 1 < MIME_LINE_SOFT ? MIME_LINE_SOFT - f->col - 1 : 0;
}

/* A blank and the token, on a new line when it would not fit on this one
 * (never folding before an empty token: a line of blanks alone is not
 * allowed, RFC 5322 3.2.2). */
void mime_hfield_token(mime_hfield *f, const char *tok, size_t n)
{
	if (n > 0 && f->col + 1 + n > MIME_LINE_SOFT && f->col > 1) {
		BUF_PUTS(f->b, "\n ");
		f->col = 1;
	} else {
		BUF_PUTC(f->b, ' ');
		f->col++;
	}
	BUF_APPEND(f->b, tok, n);
	f->col += n;
}

/* Glued to the last token (the comma between addresses). */
void mime_hfield_glue(mime_hfield *f, const char *s)
{
	BUF_PUTS(f->b, s);
	f->col += strlen(s);
}

void mime_hfield_end(mime_hfield *f)
{
	BUF_PUTC(f->b, '\n');
}

/* Bytes of the UTF-8 sequence that starts with c (1 for anything else). */
static size_t utf8_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* s as encoded-words, each as long as the line allows (at most 75),
 * split between whole characters (RFC 2047 5: each word must decode on
 * its own). */
void mime_hfield_encoded(mime_hfield *f, const char *s)
{
	size_t len = strlen(s), at = 0;
	while (at < len) {
		size_t room = mime_hfield_room(f);
		size_t word = room >= EW_OVERHEAD + 8 && room < EW_MAX ? room : EW_MAX;
		size_t max_bytes = (word - EW_OVERHEAD) / 4 * 3, n = 0;
		while (at + n < len) {
			size_t c = utf8_len((unsigned char)s[at + n]);
			if (n + c > max_bytes)
				break;
			n += c;
		}
		if (n == 0) /* cannot happen: 45 bytes hold any character */
			n = utf8_len((unsigned char)s[at]);
		char enc[EW_MAX + 8];
		memcpy(enc, "=?UTF-8?B?", 10);
		int k = EVP_EncodeBlock((unsigned char *)enc + 10, (const unsigned char *)s + at, (int)n);
		memcpy(enc + 10 + k, "?=", 3);
		mime_hfield_token(f, enc, 10 + (size_t)k + 2);
		at += n;
	}
}

bool mime_plain_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return false;
	return true;
}

/* Unstructured text (RFC 5322 3.2.5) that can be written as it is: plain
 * printable ASCII, no "=?" (it would read as an encoded-word), no blanks
 * at the ends or in a row, no word longer than a line. */
static bool writable_as_is(const char *s)
{
	if (!mime_plain_ascii(s) || strstr(s, "=?") != NULL || *s == ' ' || strstr(s, "  ") != NULL)
		return false;
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == ' ')
		return false;
	for (const char *p = s; *p;) {
		size_t w = strcspn(p, " ");
		if (w > MIME_LINE_SOFT - 2)
			return false;
		p += w + (p[w] == ' ');
	}
	return true;
}

void mime_hfield_text(mime_hfield *f, const char *value)
{
	if (!writable_as_is(value)) {
		mime_hfield_encoded(f, value);
		return;
	}
	for (const char *p = value; *p;) {
		size_t w = strcspn(p, " ");
		mime_hfield_token(f, p, w);
		p += w + (p[w] == ' ');
	}
}

void mime_put_unstructured(buf *out, const char *name, const char *value)
{
	mime_hfield f;
	mime_hfield_start(&f, out, name);
	mime_hfield_text(&f, value);
	mime_hfield_end(&f);
}

