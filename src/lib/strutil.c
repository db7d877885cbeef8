/* strutil.c — string list, case folding, checked allocation (see strutil.h). */
#include "lib/strutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (p == NULL)
		abort();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

void strlist_init(strlist *l)
{
	l->items = NULL;
	l->n = l->cap = 0;
}

void strlist_add_owned(strlist *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		char **p = realloc(l->items, l->cap * sizeof(*p));
		if (p == NULL)
			abort();
		l->items = p;
	}
	l->items[l->n++] = s;
}

char *strlist_join(const strlist *l, const char *sep)
{
	size_t n = 1, seplen = strlen(sep);
	for (size_t i = 0; i < l->n; i++)
		n += strlen(l->items[i]) + (i ? seplen : 0);
	char *out = xmalloc(n), *p = out;
	for (size_t i = 0; i < l->n; i++) {
		if (i) {
			memcpy(p, sep, seplen);
			p += seplen;
		}
		size_t k = strlen(l->items[i]);
		memcpy(p, l->items[i], k);
		p += k;
	}
	*p = '\0';
	return out;
}

void strlist_add(strlist *l, const char *s)
{
	strlist_add_owned(l, xstrdup(s));
}

bool strlist_contains(const strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

bool strlist_remove(strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i], s) == 0) {
			free(l->items[i]);
			l->items[i] = l->items[--l->n];
			return true;
		}
	}
	return false;
}

void strlist_free(strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	strlist_init(l);
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

void str_ascii_lower(char *s)
{
	for (; *s; s++)
		*s = lower(*s);
}

bool str_ascii_nieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (lower(a[i]) != lower(b[i]))
			return false;
		if (a[i] == '\0')
			return true;
	}
	return true;
}

bool str_ascii_ieq(const char *a, const char *b)
{
	size_t la = strlen(a);
	return la == strlen(b) && str_ascii_nieq(a, b, la);
}

bool str_secure_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	size_t n = la < lb ? la : lb;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

void str_secure_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void str_hex(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = in;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int str_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Word-at-a-time tests on eight bytes (each is exact about whether any byte
 * matches, which is all the callers ask). */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

size_t str_printable_run(const char *s, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		uint64_t del = w ^ (0x7f * ONES);
		if (((w & HIGHS) | ((w - 0x20 * ONES) & ~w & HIGHS) | ((del - ONES) & ~del & HIGHS)) != 0)
			break;
	}
	while (i < len && s[i] >= 0x20 && s[i] < 0x7f)
		i++;
	return i;
}

bool str_has_8bit(const char *s, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if ((w & HIGHS) != 0)
			return true;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}
