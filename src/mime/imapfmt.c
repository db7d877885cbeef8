/* imapfmt.c — IMAP strings: the choice between quoted string, literal and
 * literal8 (see imapfmt.h).  Knows nothing about messages. */
#include "mime/imapfmt.h"

#include <stdlib.h>
#include <string.h>

static bool quotable(const char *s, size_t n)
{
	if (n > IMAP_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0' || c == '\r' || c == '\n' || c == '"' || c == '\\' || c >= 0x80)
			return false;
	}
	return true;
}

bool imap_write_string(buf *out, const char *s, size_t n)
{
	if (quotable(s, n))
		return buf_putc(out, '"') && buf_append(out, s, n) && buf_putc(out, '"');
	const char *tilde = memchr(s, '\0', n) != NULL ? "~" : "";
	return buf_printf(out, "%s{%zu}\r\n", tilde, n) && buf_append(out, s, n);
}

bool imap_write_nstring(buf *out, const char *s)
{
	if (s == NULL)
		return buf_puts(out, "NIL");
	return imap_write_string(out, s, strlen(s));
}

bool imap_write_upper(buf *out, const char *s)
{
	char *u = xstrdup(s);
	for (char *p = u; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	bool ok = imap_write_string(out, u, strlen(u));
	free(u);
	return ok;
}
