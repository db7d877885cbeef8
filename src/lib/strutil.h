/* strutil.h — small string helpers that every subsystem needs: a string list,
 * ASCII case folding, and checked allocation.  Nothing protocol-specific. */
#ifndef YUBIN_STRUTIL_H
#define YUBIN_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* A growable list of owned C strings. */
typedef struct strlist {
	char **items;
	size_t n;
	size_t cap;
} strlist;

void strlist_init(strlist *l);
/* Append a copy of s. */
void strlist_add(strlist *l, const char *s);
/* Append s and take ownership of it. */
void strlist_add_owned(strlist *l, char *s);
bool strlist_contains(const strlist *l, const char *s);
/* Remove the first item equal to s (the last item takes its place); false
 * when there is none. */
bool strlist_remove(strlist *l, const char *s);
void strlist_free(strlist *l);
/* The items joined with sep (malloc'd; "" for an empty list). */
char *strlist_join(const strlist *l, const char *sep);

/* malloc/strdup that abort on failure (out of memory is not a client error). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lower-case the ASCII letters of s in place; other bytes (UTF-8) unchanged. */
void str_ascii_lower(char *s);
bool str_ascii_ieq(const char *a, const char *b);
bool str_ascii_nieq(const char *a, const char *b, size_t n);
/* The value of a hexadecimal digit (either case), or -1. */
int str_hexval(char c);
/* n bytes as 2n lowercase hex digits and a NUL into out (2n + 1 bytes). */
void str_hex(const void *in, size_t n, char *out);
/* The length of the run of printable ASCII (0x20 to 0x7e) that s[0, len)
 * starts with; eight bytes at a time, for the long texts the callers scan
 * before they look at the rare byte that is not. */
size_t str_printable_run(const char *s, size_t len);
/* Does s[0, len) hold a byte of 0x80 or more? */
bool str_has_8bit(const char *s, size_t len);
/* Constant-time comparison of two NUL-terminated strings. */
bool str_secure_eq(const char *a, const char *b);
/* Overwrite then free a secret. */
void str_secure_free(char *s);

#endif
