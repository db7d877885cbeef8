/* jsonstrict.c — strict JSON on cJSON (see jsonstrict.h): the scan before
 * the parse, the lock around it, and the checks after it. */
#include "lib/jsonstrict.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "lib/utf8.h"

static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

static bool fail(json_strict_error *e, const char *s, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* off == SIZE_MAX: a fault with no one place (a duplicate member). */
static bool fail(json_strict_error *e, const char *s, size_t off, const char *fmt, ...)
{
	e->offset = off;
	e->line = e->column = 0;
	if (off != SIZE_MAX) {
		e->line = 1;
		size_t bol = 0;
		for (size_t i = 0; i < off; i++)
			if (s[i] == '\n') {
				e->line++;
				bol = i + 1;
			}
		e->column = (int)(off - bol) + 1;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
	return false;
}

static bool digit(const char *s, size_t len, size_t i)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

static bool hex4(const char *s, size_t len, size_t i)
{
	if (i + 4 > len)
		return false;
	for (size_t k = i; k < i + 4; k++)
		if (!isxdigit((unsigned char)s[k]))
			return false;
	return true;
}

/* The end of the number at s[i] by RFC 8259 6 (-? int frac? exp?), or
 * SIZE_MAX when it is not one or runs on into more number characters. */
static size_t number_end(const char *s, size_t len, size_t i)
{
	if (s[i] == '-')
		i++;
	if (!digit(s, len, i))
		return SIZE_MAX;
	if (s[i] == '0')
		i++;
	else
		while (digit(s, len, i))
			i++;
	if (i < len && s[i] == '.') {
		if (!digit(s, len, ++i))
			return SIZE_MAX;
		while (digit(s, len, i))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!digit(s, len, i))
			return SIZE_MAX;
		while (digit(s, len, i))
			i++;
	}
	if (i < len && strchr("0123456789.eE+-", s[i]) != NULL)
		return SIZE_MAX;
	return i;
}

/* The length of the run at s of string bytes that need no look: not '"',
 * '\\' or a control character (UTF-8 was checked before), eight at a
 * time. */
static size_t plain_string_run(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		uint64_t q = w ^ ('"' * ones), b = w ^ ('\\' * ones);
		if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - 0x20 * ones) & ~w)) & highs)
			break;
	}
	while (i < len && s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20)
		i++;
	return i;
}

/* What cJSON would let through, refused with its place. */
static bool scan(const char *s, size_t len, json_strict_error *e)
{
	if (!imap_utf8_valid(s, len)) {
		size_t i = 0;
		uint32_t cp;
		size_t n;
		while (i < len && (n = imap_utf8_decode((const unsigned char *)s + i, len - i, &cp)) > 0)
			i += n;
		return fail(e, s, i, "bytes that are not UTF-8");
	}
	bool in_string = false;
	size_t opened = 0; /* where the string we are in began */
	for (size_t i = 0; i < len; i++) {
		if (in_string)
			i += plain_string_run(s + i, len - i);
		if (i >= len)
			break;
		unsigned char c = (unsigned char)s[i];
		if (in_string) {
			if (c == '"') {
				in_string = false;
			} else if (c == '\\') {
				/* cJSON reads a bad unicode escape as U+0000 */
				if (i + 1 < len && s[i + 1] == 'u') {
					if (!hex4(s, len, i + 2))
						return fail(e, s, i, "a \\u escape without four hexadecimal digits");
					if (memcmp(s + i + 2, "0000", 4) == 0)
						return fail(e, s, i, "\\u0000 in a string");
					i += 5;
				} else if (i + 1 < len && strchr("\"\\/bfnrt", s[i + 1]) != NULL && s[i + 1] != '\0') {
					i++;
				} else {
					return fail(e, s, i, "a backslash that is not an escape");
				}
			} else if (c < 0x20) {
				return fail(e, s, i, "a control character in a string (0x%02x: escape it)", c);
			}
		} else if (c == '"') {
			in_string = true;
			opened = i;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t end = number_end(s, len, i);
			if (end == SIZE_MAX)
				return fail(e, s, i, "a malformed number");
			i = end - 1;
		} else if (c >= 0x80) {
			return fail(e, s, i, "a character outside a string that JSON does not have");
		} else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			return fail(e, s, i, "a control character (0x%02x)", c);
		}
	}
	return in_string ? fail(e, s, opened, "a string that does not end") : true;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* A member that an object of v (v included) names twice, or NULL.  Small
 * objects are compared pair by pair, large ones sorted. */
static const cJSON *find_duplicate(const cJSON *v)
{
	size_t n = 0;
	for (const cJSON *c = v->child; c != NULL; c = c->next) {
		n++;
		const cJSON *d = c->child != NULL ? find_duplicate(c) : NULL;
		if (d != NULL)
			return d;
	}
	if (!cJSON_IsObject(v) || n < 2)
		return NULL;
	if (n <= 16) {
		for (const cJSON *a = v->child; a != NULL; a = a->next)
			for (const cJSON *b = a->next; b != NULL; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return b;
		return NULL;
	}
	const cJSON **k = xcalloc(n, sizeof(*k));
	size_t i = 0;
	for (const cJSON *c = v->child; c != NULL; c = c->next)
		k[i++] = c;
	qsort(k, n, sizeof(*k), key_cmp);
	const cJSON *d = NULL;
	for (i = 1; i < n && d == NULL; i++)
		if (strcmp(k[i - 1]->string, k[i]->string) == 0)
			d = k[i];
	free(k);
	return d;
}

cJSON *json_strict_parse(const char *s, size_t len, json_strict_error *err)
{
	if (!scan(s, len, err))
		return NULL;
	const char *end = NULL;
	pthread_mutex_lock(&parse_lock);
	cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, false);
	pthread_mutex_unlock(&parse_lock);
	size_t off = end != NULL && end >= s ? (size_t)(end - s) : 0;
	if (root == NULL) {
		if (off >= len || (off + 1 == len && len > 0))
			fail(err, s, len, "the text ends before the value does");
		else
			fail(err, s, off, "unexpected '%c'", s[off] >= 0x20 && s[off] < 0x7f ? s[off] : '?');
		return NULL;
	}
	while (off < len && strchr(" \t\r\n", s[off]) != NULL)
		off++;
	const cJSON *d = NULL;
	if (off < len)
		fail(err, s, off, "text after the value");
	else if ((d = find_duplicate(root)) != NULL)
		fail(err, s, SIZE_MAX, "duplicate member \"%.40s\" in an object", d->string);
	else
		return root;
	cJSON_Delete(root);
	return NULL;
}
