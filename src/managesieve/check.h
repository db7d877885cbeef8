/* check.h — whether a Sieve script may be stored (PUTSCRIPT) or passes
 * CHECKSCRIPT: the checks that do not depend on the language (valid UTF-8,
 * RFC 5228 §2.1; no NUL), then the language's own compiler (sieve/sieve.h).
 * Pure, thread-safe: it runs on a worker thread. */
#ifndef YUBIN_MANAGESIEVE_CHECK_H
#define YUBIN_MANAGESIEVE_CHECK_H

#include <stddef.h>

typedef enum msieve_check_status {
	MSIEVE_CHECK_OK,        /* valid */
	MSIEVE_CHECK_WARNINGS,  /* valid, with warnings in *msg_r: OK (WARNINGS) "..." */
	MSIEVE_CHECK_ERROR,     /* invalid, *msg_r says why ("3:14: unknown command 'fileinot'") */
} msieve_check_status;

/* A language checker: compile script[0..len) (valid UTF-8 without NUL by
 * then) and say how it went; *msg_r (malloc'd, or NULL) holds the errors
 * or warnings as "line:column: text", several separated by CRLF. */
typedef msieve_check_status msieve_check_fn(const char *script, size_t len, char **msg_r);

/* The whole check; *msg_r as above (NULL when there is nothing to say). */
msieve_check_status msieve_check_script(const char *script, size_t len, char **msg_r);

/* The language-independent part alone (exposed for the unit tests). */
msieve_check_fn msieve_check_encoding;

#endif
