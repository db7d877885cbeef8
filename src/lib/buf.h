/* buf.h — the one growable byte buffer used for every protocol line, reply,
 * header and path.  Two kinds, told apart when the buffer is made:
 *  - bounded (buf_init with a maximum): an append that would pass the
 *    maximum fails and leaves the buffer unchanged, so no caller can grow
 *    memory without bound on behalf of a client; the compiler makes every
 *    caller look at the result (a cut line is never sent as if whole);
 *  - unbounded (buf_init with BUF_UNBOUNDED): for text built from what is
 *    already in memory and bounded there (a response made from an index, a
 *    header from a parsed message).  Its appends are spelt in capitals,
 *    BUF_PUTS and the like: they cannot fail, and return nothing.  Using
 *    them on a bounded buffer is a bug that aborts on the first call, so
 *    the tests find it, rather than cutting text when it runs long.
 * Contents are always NUL-terminated; binary data may contain NULs. */
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
#define BUF_MUST_CHECK __attribute__((warn_unused_result))
/* The maximum of an unbounded buffer. */
#define BUF_UNBOUNDED ((size_t)-2)

/* Append n bytes; false (buffer unchanged) if len would pass max. */
bool buf_append(buf *b, const void *data, size_t n) BUF_MUST_CHECK;
bool buf_puts(buf *b, const char *s) BUF_MUST_CHECK;
bool buf_putc(buf *b, char c) BUF_MUST_CHECK;
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3))) BUF_MUST_CHECK;
bool buf_vprintf(buf *b, const char *fmt, va_list ap) BUF_MUST_CHECK;

/* Appends to an unbounded buffer (BUF_UNBOUNDED); abort on a bounded one. */
void BUF_APPEND(buf *b, const void *data, size_t n);
void BUF_PUTS(buf *b, const char *s);
void BUF_PUTC(buf *b, char c);
void BUF_PRINTF(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void BUF_VPRINTF(buf *b, const char *fmt, va_list ap);
/* Cut the contents back to len bytes (len <= current length). */
void buf_truncate(buf *b, size_t len);
/* Drop the first n bytes (n <= len). */
void buf_consume(buf *b, size_t n);
/* Contents as a C string ("" when empty). */
const char *buf_str(const buf *b);
/* Hand the storage to the caller (a malloc'd string, "" if empty) and reset. */
char *buf_steal(buf *b);

#endif
