/* header.c — walking and unfolding RFC 5322 header fields (see header.h).
 * Must not interpret any value: that is params.c and address.c. */
#include "mime/header.h"

#include <string.h>

#include "lib/strutil.h"

/* End of the line that starts at p: after its LF, or `end`. */
static size_t line_end(const char *data, size_t p, size_t end)
{
	const char *nl = memchr(data + p, '\n', end - p);
	return nl == NULL ? end : (size_t)(nl - data) + 1;
}

/* Content end of the line [p, le): before its CRLF / LF. */
static size_t content_end(const char *data, size_t p, size_t le)
{
	if (le > p && data[le - 1] == '\n')
		le--;
	if (le > p && data[le - 1] == '\r')
		le--;
	return le;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Fill in the name of the field line [p, ce). */
static void split_name(const char *data, size_t p, size_t ce, mime_field *f)
{
	f->name_start = f->name_end = f->value_start = p;
	if (is_wsp(data[p]))
		return;          /* a continuation with no field before it */
	const char *colon = memchr(data + p, ':', ce - p);
	if (colon == NULL)
		return;
	size_t ne = (size_t)(colon - data);
	while (ne > p && is_wsp(data[ne - 1]))
		ne--;            /* obsolete syntax: blanks before the colon */
	if (ne == p)
		return;
	f->name_end = ne;
	f->value_start = (size_t)(colon - data) + 1;
}

bool mime_header_next(const char *data, size_t end, size_t *pos, mime_field *f)
{
	size_t p = *pos;
	if (p >= end)
		return false;
	size_t le = line_end(data, p, end);
	size_t ce = content_end(data, p, le);
	if (ce == p)
		return false;    /* the blank line */
	f->start = p;
	split_name(data, p, ce, f);
	f->value_end = ce;
	while (le < end && is_wsp(data[le])) {
		size_t next = line_end(data, le, end);
		f->value_end = content_end(data, le, next);
		le = next;
	}
	f->end = le;
	*pos = le;
	return true;
}

bool mime_field_is(const char *data, const mime_field *f, const char *name)
{
	size_t n = strlen(name);
	return f->name_end - f->name_start == n &&
	       str_ascii_nieq(data + f->name_start, name, n);
}

bool mime_header_find(const char *data, size_t start, size_t end,
		      const char *name, mime_field *f)
{
	size_t pos = start;
	while (mime_header_next(data, end, &pos, f))
		if (mime_field_is(data, f, name))
			return true;
	return false;
}

char *mime_field_value(const char *data, const mime_field *f)
{
	size_t s = f->value_start, e = f->value_end;
	char *out = xmalloc(e - s + 1);
	size_t n = 0;
	for (size_t i = s; i < e; i++) {
		char c = data[i];
		if (c == '\r' || c == '\n')
			continue;
		out[n++] = c == '\0' ? ' ' : c;
	}
	size_t a = 0;
	while (a < n && is_wsp(out[a]))
		a++;
	while (n > a && is_wsp(out[n - 1]))
		n--;
	memmove(out, out + a, n - a);
	out[n - a] = '\0';
	return out;
}

char *mime_header_value(const char *data, size_t start, size_t end, const char *name)
{
	mime_field f;
	if (!mime_header_find(data, start, end, name, &f))
		return NULL;
	return mime_field_value(data, &f);
}
