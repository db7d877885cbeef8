/* preview.c — a message's preview text (see preview.h).  Only the start of
 * the part is looked at (PREVIEW_SCAN bytes): the preview is short, and a
 * huge part must not cost more than a small one. */
#include "mime/preview.h"
#include "mime/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/utf8.h"
#include "lib/buf.h"
#include "lib/strutil.h"
#include "mime/charset.h"
#include "mime/decode.h"

#define PREVIEW_SCAN ((size_t)64 << 10)
#define PREVIEW_TEXT_MAX ((size_t)512 << 10)

/* The first text/plain or text/html part that is not an attachment, in
 * the order the parts come (so the plain alternative wins when it is
 * first); encapsulated messages are not looked into. */
static const mime_part *text_part(const mime_message *m)
{
	const mime_part *p = m->root;
	while (p != NULL) {
		if (p->multipart && p->children != NULL) {
			p = p->children;
			continue;
		}
		bool attachment = p->disposition != NULL && strcmp(p->disposition, "attachment") == 0;
		if (!attachment && (mime_part_is(p, "text", "plain") || mime_part_is(p, "text", "html")))
			return p;
		while (p != NULL && p->next == NULL)
			p = p->parent;
		if (p != NULL)
			p = p->next;
	}
	return NULL;
}

static const struct {
	const char *name;
	const char *utf8;
} entities[] = {
	{"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"},
	{"nbsp", " "}, {"copy", "\xC2\xA9"}, {"reg", "\xC2\xAE"}, {"hellip", "\xE2\x80\xA6"},
	{"mdash", "\xE2\x80\x94"}, {"ndash", "\xE2\x80\x93"}, {"rsquo", "\xE2\x80\x99"},
	{"lsquo", "\xE2\x80\x98"}, {"ldquo", "\xE2\x80\x9C"}, {"rdquo", "\xE2\x80\x9D"},
	{"euro", "\xE2\x82\xAC"},
};

/* An entity at s ("&name;", "&#n;", "&#xh;"): its UTF-8 into out (room for
 * 4 bytes) and its length, or 0. */
static size_t entity(const char *s, size_t n, char *out, size_t *olen)
{
	size_t e = 1;
	while (e < n && e < 12 && s[e] != ';')
		e++;
	if (e >= n || s[e] != ';' || e < 2)
		return 0;
	if (s[1] == '#') {
		char *end;
		unsigned long cp = s[2] == 'x' || s[2] == 'X' ? strtoul(s + 3, &end, 16) : strtoul(s + 2, &end, 10);
		if (end != s + e || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		*olen = imap_utf8_encode((uint32_t)cp, out);
		return e + 1;
	}
	for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
		size_t l = strlen(entities[k].name);
		if (l == e - 1 && strncmp(s + 1, entities[k].name, l) == 0) {
			*olen = strlen(entities[k].utf8);
			memcpy(out, entities[k].utf8, *olen);
			return e + 1;
		}
	}
	return 0;
}

/* The end of an element whose content is not text (script, style, head),
 * or 0 when s does not open one. */
static size_t skip_element(const char *s, size_t n)
{
	static const char *const names[] = {"script", "style", "head", "title"};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		size_t l = strlen(names[k]);
		if (n > l + 1 && strncasecmp(s + 1, names[k], l) == 0 &&
		    (s[l + 1] == '>' || s[l + 1] == ' ' || s[l + 1] == '\t' || s[l + 1] == '\n')) {
			for (size_t i = l + 1; i + l + 2 < n; i++)
				if (s[i] == '<' && s[i + 1] == '/' && strncasecmp(s + i + 2, names[k], l) == 0) {
					const char *gt = memchr(s + i, '>', n - i);
					return gt ? (size_t)(gt - s) + 1 : n;
				}
			return n;
		}
	}
	return 0;
}

bool mime_html_text(const char *s, size_t n, buf *out)
{
	bool ok = true;
	for (size_t i = 0; ok && i < n;) {
		if (s[i] == '<') {
			size_t k = skip_element(s + i, n - i);
			const char *e;
			if (k > 0)
				i += k;
			else if (n - i >= 4 && strncmp(s + i, "<!--", 4) == 0)
				i = (e = memmem(s + i + 4, n - i - 4, "-->", 3)) ? (size_t)(e - s) + 3 : n;
			else
				i = (e = memchr(s + i, '>', n - i)) ? (size_t)(e - s) + 1 : n;
			ok = buf_putc(out, ' ');
		} else if (s[i] == '&') {
			char u[4];
			size_t ul = 0, k = entity(s + i, n - i, u, &ul);
			ok = k > 0 ? buf_append(out, u, ul) : buf_putc(out, '&');
			i += k > 0 ? k : 1;
		} else {
			ok = buf_putc(out, s[i++]);
		}
	}
	return ok;
}

/* White space runs (ASCII blanks, line ends, NBSP) to one space, trimmed,
 * cut at MIME_PREVIEW_MAX characters; control characters dropped. */
static char *collapse(const char *s, size_t n)
{
	buf out;
	buf_init(&out, MIME_PREVIEW_MAX * 4 + 1);
	size_t chars = 0;
	bool space = false;
	for (size_t i = 0; i < n && chars < MIME_PREVIEW_MAX;) {
		uint32_t cp;
		size_t k = imap_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0) {
			i++;
			continue;
		}
		if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\f' || cp == '\v' || cp == 0xA0) {
			space = out.len > 0;
		} else if (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0)) {
			if (space) { /* a space and a character, or the end here */
				if (chars + 2 > MIME_PREVIEW_MAX || !buf_putc(&out, ' '))
					break;
				chars++;
			}
			space = false;
			if (!buf_append(&out, s + i, k))
				break;
			chars++;
		}
		i += k;
	}
	return buf_steal(&out);
}

char *mime_preview(const mime_message *m)
{
	const mime_part *p = text_part(m);
	if (p == NULL)
		return xstrdup("");
	buf text;
	buf_init(&text, PREVIEW_TEXT_MAX * 3);
	char *r;
	if (!mime_part_text(m, p, PREVIEW_SCAN, &text)) {
		r = xstrdup("");
	} else if (mime_part_is(p, "text", "html")) {
		buf plain;
		buf_init(&plain, PREVIEW_TEXT_MAX * 3);
		r = mime_html_text(text.data ? text.data : "", text.len, &plain) || plain.len > 0
		        ? collapse(plain.data ? plain.data : "", plain.len) : xstrdup("");
		buf_free(&plain);
	} else {
		r = collapse(text.data ? text.data : "", text.len);
	}
	buf_free(&text);
	return r;
}
