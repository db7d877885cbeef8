/* dkimcanon.c — simple and relaxed canonicalization (see dkimcanon.h).
 * Must not decide which fields are hashed: that is dkimhash.c. */
#include "msgauth/dkimcanon.h"

#include <string.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* simple: the bytes as they are, every LF (bare or not) as CRLF. */
static bool header_simple(buf *out, const char *f, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (f[i] == '\n' && (i == 0 || f[i - 1] != '\r')) {
			if (!buf_append(out, "\r\n", 2))
				return false;
		} else if (!buf_putc(out, f[i])) {
			return false;
		}
	}
	return buf_append(out, "\r\n", 2);
}

/* relaxed (3.4.2): name lower-cased, no blanks around the colon, value
 * unfolded, runs of blanks as one space, none at either end. */
static bool header_relaxed(buf *out, const char *f, size_t len)
{
	const char *colon = memchr(f, ':', len);
	size_t ne = colon ? (size_t)(colon - f) : len;
	size_t vs = colon ? ne + 1 : len;
	while (ne > 0 && is_wsp(f[ne - 1]))
		ne--;
	bool ok = true;
	for (size_t i = 0; ok && i < ne; i++)
		ok = buf_putc(out, f[i] >= 'A' && f[i] <= 'Z' ? (char)(f[i] + 32) : f[i]);
	ok = ok && buf_putc(out, ':');
	bool blank = false, started = false;
	for (size_t i = vs; ok && i < len; i++) {
		char c = f[i];
		if (c == '\r' || c == '\n')
			continue;   /* unfold */
		if (is_wsp(c)) {
			blank = true;
			continue;
		}
		if (blank && started)
			ok = buf_putc(out, ' ');
		ok = ok && buf_putc(out, c);
		blank = false;
		started = true;
	}
	return ok && buf_append(out, "\r\n", 2);
}

bool dkim_canon_header(buf *out, const char *field, size_t len, dkim_canon c)
{
	return c == DKIM_CANON_RELAXED ? header_relaxed(out, field, len) : header_simple(out, field, len);
}

/* One line [p, e) of the body without its line end, relaxed: blanks at
 * the end dropped, inner runs as one space.  Sent in runs between blanks. */
static void line_relaxed(const char *p, const char *e, dkim_sink *sink, void *arg)
{
	while (e > p && is_wsp(e[-1]))
		e--;
	while (p < e) {
		const char *run = p;
		while (p < e && !is_wsp(*p))
			p++;
		sink(arg, run, (size_t)(p - run));
		if (p < e) {
			sink(arg, " ", 1);
			while (p < e && is_wsp(*p))
				p++;
		}
	}
}

/* Is the canonical line empty? (relaxed: only blanks) */
static bool line_empty(const char *p, const char *e, dkim_canon c)
{
	if (c == DKIM_CANON_RELAXED)
		while (p < e && is_wsp(*p))
			p++;
	return p == e;
}

void dkim_canon_body(const char *body, size_t len, dkim_canon c, dkim_sink *sink, void *arg)
{
	const char *p = body, *end = body + len;
	size_t empty = 0;        /* empty lines held back: they may be trailing */
	bool any = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *e = nl ? nl : end;
		if (nl != NULL && e > p && e[-1] == '\r')
			e--;
		if (line_empty(p, e, c)) {
			empty++;
		} else {
			for (; empty > 0; empty--)
				sink(arg, "\r\n", 2);
			if (c == DKIM_CANON_RELAXED)
				line_relaxed(p, e, sink, arg);
			else
				sink(arg, p, (size_t)(e - p));
			sink(arg, "\r\n", 2);
			any = true;
		}
		p = next;
	}
	if (!any && c == DKIM_CANON_SIMPLE)
		sink(arg, "\r\n", 2);
}
