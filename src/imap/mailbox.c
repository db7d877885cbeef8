/* mailbox.c — mailbox-name arguments (see mailbox.h): astring, encoding,
 * INBOX.  The encodings themselves live in mutf7.c and utf8.c. */
#include "imap/mailbox.h"

#include <string.h>

#include "imap/args.h"
#include "imap/mutf7.h"
#include "lib/utf8.h"
#include "lib/buf.h"
#include "lib/strutil.h"

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* The name in s[0..len) as UTF-8 without control characters, malloc'd. */
static char *decode_name(const char *s, size_t len, bool utf8, const char **error_r)
{
	buf out;
	buf_init(&out, IMAP_MAILBOX_MAX);
	if (utf8) {
		if (!imap_utf8_valid(s, len)) {
			*error_r = "Mailbox name is not valid UTF-8.";
			return NULL;
		}
		if (!buf_append(&out, s, len)) {
			buf_free(&out);
			*error_r = "Mailbox name is too long.";
			return NULL;
		}
	} else if (!imap_mutf7_decode(s, len, &out, error_r)) {
		buf_free(&out);
		return NULL;
	}
	if (has_control(buf_str(&out), out.len)) {
		buf_free(&out);
		*error_r = "Mailbox names cannot contain control characters.";
		return NULL;
	}
	return buf_steal(&out);
}

bool imap_mailbox_parse(const imap_arg *a, bool utf8, char **name_r, const char **error_r)
{
	const char *s;
	size_t len;
	*name_r = NULL;
	if (!imap_arg_astring(a, &s, &len)) {
		*error_r = "Expected a mailbox name.";
		return false;
	}
	if (len == 0) {
		*error_r = "Mailbox name is empty.";
		return false;
	}
	char *name = decode_name(s, len, utf8, error_r);
	if (name == NULL)
		return false;
	if (str_ascii_ieq(name, "INBOX"))
		memcpy(name, "INBOX", 5);
	*name_r = name;
	return true;
}

bool imap_mailbox_parse_pattern(const imap_arg *a, bool utf8, char **pattern_r,
                                const char **error_r)
{
	const char *s;
	size_t len;
	*pattern_r = NULL;
	if (!imap_arg_list_mailbox(a, &s, &len)) {
		*error_r = "Expected a mailbox name or pattern.";
		return false;
	}
	*pattern_r = decode_name(s, len, utf8, error_r);
	return *pattern_r != NULL;
}

char *imap_mailbox_encode(const char *name, bool utf8)
{
	size_t len = strlen(name);
	if (utf8)
		return imap_utf8_valid(name, len) ? xstrdup(name) : NULL;
	buf out;
	buf_init(&out, len * 4 + 16);
	if (!imap_mutf7_encode(name, len, &out)) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}
