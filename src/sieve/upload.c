/* upload.c — a script's checks before it is stored (see upload.h). */
#include "sieve/upload.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/strutil.h"
#include "lib/utf8.h"
#include "sieve/sieve.h"

/* Scripts a script includes (RFC 6609) are not looked up at upload: the
 * user may upload them afterwards, in any order.  Each counts as an empty
 * script here, is named in a warning, and is read when mail arrives (a
 * missing one is then a run-time error: the message is kept). */
typedef struct upload_includes {
	strlist names;
} upload_includes;

static bool include_later(void *ctx, const char *name, bool global, char **text_r, size_t *len_r)
{
	upload_includes *u = ctx;
	char *label = xasprintf("%s'%s'", global ? "global " : "", name);
	if (!strlist_contains(&u->names, label))
		strlist_add(&u->names, label);
	free(label);
	*text_r = xstrdup("");
	*len_r = 0;
	return true;
}

/* The Sieve language's own check (sieve/sieve.h): "line:col: text" for
 * the first error, or a warning naming the included scripts. */
static sieve_upload_status language_check(const char *script, size_t len, char **msg_r)
{
	*msg_r = NULL;
	upload_includes inc;
	strlist_init(&inc.names);
	sieve_loader loader = {include_later, &inc};
	sieve_script *compiled = NULL;
	sieve_error err = {0};
	sieve_upload_status st = SIEVE_UPLOAD_OK;
	if (!sieve_compile(script, len, &loader, &compiled, &err)) {
		*msg_r = xasprintf("%u:%u: %s", err.line, err.col, err.msg ? err.msg : "invalid script");
		sieve_error_free(&err);
		st = SIEVE_UPLOAD_ERROR;
	} else if (inc.names.n > 0) {
		char *names = strlist_join(&inc.names, ", ");
		*msg_r = xasprintf("included script%s %s not checked now: read when mail arrives",
		                   inc.names.n > 1 ? "s" : "", names);
		free(names);
		st = SIEVE_UPLOAD_WARNINGS;
	}
	sieve_script_free(&compiled);
	strlist_free(&inc.names);
	return st;
}

sieve_upload_status sieve_upload_encoding(const char *script, size_t len, char **msg_r)
{
	*msg_r = NULL;
	size_t line = 1, col = 1;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = script[i] == '\0' ? 0 : imap_utf8_decode((const unsigned char *)script + i, len - i, &cp);
		if (n == 0) {
			*msg_r = xasprintf("%zu:%zu: %s", line, col,
			                   script[i] == '\0' ? "NUL character in the script"
			                                     : "invalid UTF-8 in the script");
			return SIEVE_UPLOAD_ERROR;
		}
		if (cp == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	return SIEVE_UPLOAD_OK;
}

sieve_upload_status sieve_upload_check(const char *script, size_t len, char **msg_r)
{
	sieve_upload_status st = sieve_upload_encoding(script, len, msg_r);
	if (st != SIEVE_UPLOAD_OK)
		return st;
	return language_check(script, len, msg_r);
}
