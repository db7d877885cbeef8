/* buf.h — the one growable byte buffer used for every protocol line, reply,
 * header and path.  Each buffer has a hard maximum: an append that would pass
 * it fails (returns false) and leaves the buffer unchanged, so no caller can
 * grow memory without bound on behalf of a client.  Contents are always
 * NUL-terminated for convenience; binary data may contain NULs. */
#ifndef YUBIN_BUF_H
#define YUBIN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
	char *data;      /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;      /* allocated bytes, including room for the NUL */
	size_t max;      /* hard limit on len */
} buf;

/* A buffer that may hold up to max bytes.  Allocates nothing yet. */
void buf_init(buf *b, size_t max);
/* Free the storage; the buffer can be reused after buf_init. */
void buf_free(buf *b);
/* Forget the contents, keep the storage. */
void buf_clear(buf *b);
/* Append n bytes; false (buffer unchanged) if len would pass max. */
bool buf_append(buf *b, const void *data, size_t n);
bool buf_puts(buf *b, const char *s);
bool buf_putc(buf *b, char c);
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Cut the contents back to len bytes (len <= current length). */
void buf_truncate(buf *b, size_t len);
/* Drop the first n bytes (n <= len). */
void buf_consume(buf *b, size_t n);
/* Contents as a C string ("" when empty). */
const char *buf_str(const buf *b);
/* Hand the storage to the caller (a malloc'd string, "" if empty) and reset. */
char *buf_steal(buf *b);

#endif
