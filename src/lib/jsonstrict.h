/* jsonstrict.h — strict JSON (RFC 8259) for request bodies: cJSON's tree,
 * read only after a scan that refuses what cJSON lets through.
 *
 * Why cJSON here and jansson elsewhere: the HTTP API's POST /v1/messages
 * body is parsed once per message, and jansson's lexer reads a 4 KiB body
 * a byte at a time through a stream (about 50 µs a message on the bench
 * machine); cJSON takes a few µs.  cJSON is lenient, so the scan first
 * refuses, with the offset of the fault: bytes that are not UTF-8, control
 * characters in strings and outside them (cJSON takes any byte up to 0x20
 * as blank space), \u0000 (a NUL that would cut a C string short), non-ASCII
 * outside strings (a byte order mark included), and numbers outside RFC
 * 8259 6's grammar ("01", "+1", "1.", ".5").  After the parse: text after
 * the value, and an object naming a member twice (RFC 8259 4 leaves that
 * open; we refuse it, as jansson's JSON_REJECT_DUPLICATES did).
 *
 * Thread-safe: cJSON records every parse's error position in a process-wide
 * variable, so parses take a lock (a few µs of work under it). */
#ifndef YUBIN_LIB_JSONSTRICT_H
#define YUBIN_LIB_JSONSTRICT_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct json_strict_error {
	size_t offset;          /* byte offset of the fault */
	int line, column;       /* 1-based; the column counts bytes */
	char text[96];          /* what is wrong there */
} json_strict_error;

/* The value in s[0, len) (no NUL needed), or NULL with *err filled.
 * Free the tree with cJSON_Delete. */
cJSON *json_strict_parse(const char *s, size_t len, json_strict_error *err);

#endif
