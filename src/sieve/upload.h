/* upload.h — whether a Sieve script may be stored (ManageSieve's PUTSCRIPT
 * and CHECKSCRIPT, the dashboard's Filters page): the checks that do not depend on the language (valid UTF-8,
 * RFC 5228 §2.1; no NUL), then the language's own compiler (sieve/sieve.h).
 * Pure, thread-safe: it runs on a worker thread. */
#ifndef YUBIN_SIEVE_UPLOAD_H
#define YUBIN_SIEVE_UPLOAD_H

#include <stddef.h>

typedef enum sieve_upload_status {
	SIEVE_UPLOAD_OK,        /* valid */
	SIEVE_UPLOAD_WARNINGS,  /* valid, with warnings in *msg_r: OK (WARNINGS) "..." */
	SIEVE_UPLOAD_ERROR,     /* invalid, *msg_r says why ("3:14: unknown command 'fileinot'") */
} sieve_upload_status;

/* A language checker: compile script[0..len) (valid UTF-8 without NUL by
 * then) and say how it went; *msg_r (malloc'd, or NULL) holds the errors
 * or warnings as "line:column: text", several separated by CRLF. */
typedef sieve_upload_status sieve_upload_fn(const char *script, size_t len, char **msg_r);

/* The whole check; *msg_r as above (NULL when there is nothing to say). */
sieve_upload_status sieve_upload_check(const char *script, size_t len, char **msg_r);

/* The language-independent part alone (exposed for the unit tests). */
sieve_upload_fn sieve_upload_encoding;

#endif
