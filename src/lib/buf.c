/* buf.c — bounded growable buffer (see buf.h).  Owns allocation and the hard
 * maximum; knows nothing about protocols. */
#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_clear(buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static bool buf_reserve(buf *b, size_t extra)
{
	if (extra > b->max - b->len)
		return false;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (p == NULL)
		abort(); /* out of memory is a broken environment, not a client error */
	b->data = p;
	b->cap = cap;
	return true;
}

bool buf_append(buf *b, const void *data, size_t n)
{
	if (!buf_reserve(b, n))
		return false;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool buf_puts(buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool buf_putc(buf *b, char c)
{
	return buf_append(b, &c, 1);
}

bool buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return false;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return true;
}

bool buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ok;
}

static void must_be_unbounded(const buf *b)
{
	if (b->max != BUF_UNBOUNDED) {
		fprintf(stderr, "BUG: an unchecked append to a bounded buffer (max %zu)\n", b->max);
		abort();
	}
}

void BUF_APPEND(buf *b, const void *data, size_t n)
{
	must_be_unbounded(b);
	if (!buf_append(b, data, n))
		abort(); /* past SIZE_MAX - 2: memory is exhausted long before */
}

void BUF_PUTS(buf *b, const char *s)
{
	BUF_APPEND(b, s, strlen(s));
}

void BUF_PUTC(buf *b, char c)
{
	BUF_APPEND(b, &c, 1);
}

void BUF_VPRINTF(buf *b, const char *fmt, va_list ap)
{
	must_be_unbounded(b);
	if (!buf_vprintf(b, fmt, ap))
		abort(); /* a bad format, or memory exhausted */
}

void BUF_PRINTF(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	BUF_VPRINTF(b, fmt, ap);
	va_end(ap);
}

void buf_truncate(buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void buf_consume(buf *b, size_t n)
{
	if (n >= b->len) {
		buf_clear(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *buf_str(const buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *buf_steal(buf *b)
{
	char *s = b->data != NULL ? b->data : strdup("");
	if (s == NULL)
		abort();
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}
