/* check.c — a script's checks before it is stored (see check.h). */
#include "managesieve/check.h"

#include <stdint.h>

#include "lib/strutil.h"
#include "lib/utf8.h"

/* The Sieve language's own check: compile the script and report
 * "line:col: text" (ERROR), or the warnings (WARNINGS).  This is the one
 * place where src/sieve's compiler plugs in (sieve_compile, once it is part
 * of the build: call it here and map its result); until then there is
 * nothing to add to the encoding checks. */
static msieve_check_status language_check(const char *script, size_t len, char **msg_r)
{
	(void)script;
	(void)len;
	*msg_r = NULL;
	return MSIEVE_CHECK_OK;
}

msieve_check_status msieve_check_encoding(const char *script, size_t len, char **msg_r)
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
			return MSIEVE_CHECK_ERROR;
		}
		if (cp == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	return MSIEVE_CHECK_OK;
}

msieve_check_status msieve_check_script(const char *script, size_t len, char **msg_r)
{
	msieve_check_status st = msieve_check_encoding(script, len, msg_r);
	if (st != MSIEVE_CHECK_OK)
		return st;
	return language_check(script, len, msg_r);
}
