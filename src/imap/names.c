/* names.c — mailbox names in and out of a session (see names.h).  Decides
 * the form from the session's ENABLE mask; knows no encoding itself. */
#include "imap/names.h"

#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "imap/mailbox.h"
#include "mime/imapfmt.h"

bool imap_names_utf8(const imap_session *s)
{
	return (s->enabled & (IMAP_ENABLED_REV2 | IMAP_ENABLED_UTF8)) != 0;
}

bool imap_name_in(const imap_session *s, const imap_arg *a, char **name_r, const char **error_r)
{
	return imap_mailbox_parse(a, imap_names_utf8(s), name_r, error_r);
}

bool imap_name_arg(imap_session *s, const char *tag, const imap_arg *a, char **name_r)
{
	const char *str, *err = NULL;
	size_t len;
	if (a == NULL || !imap_arg_astring(a, &str, &len)) {
		*name_r = NULL;
		imap_tagged(s, tag, "BAD", "A mailbox name is needed");
		return false;
	}
	if (imap_name_in(s, a, name_r, &err))
		return true;
	imap_tagged(s, tag, "NO", "[CANNOT] %s", err);
	return false;
}

bool imap_name_out(const imap_session *s, buf *out, const char *name)
{
	char *enc = imap_mailbox_encode(name, imap_names_utf8(s));
	if (enc == NULL)
		return false;
	imap_write_string(out, enc, strlen(enc));
	free(enc);
	return true;
}
