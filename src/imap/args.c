/* args.c — typed reads of one argument (see args.h).  No allocation: the
 * results point into the command's tree. */
#include "imap/args.h"

#include <string.h>

#include "lib/strutil.h"

bool imap_is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

bool imap_is_astring_char(unsigned char c)
{
	return c == ']' || imap_is_atom_char(c);
}

bool imap_arg_atom_is(const imap_arg *a, const char *word)
{
	return a != NULL && a->type == IMAP_ARG_ATOM && str_ascii_ieq(a->str, word);
}

bool imap_arg_astring(const imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a == NULL)
		return false;
	if (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) {
		for (size_t i = 0; i < a->len; i++)
			if (!imap_is_astring_char((unsigned char)a->str[i]))
				return false;
	} else if (a->type != IMAP_ARG_QUOTED && a->type != IMAP_ARG_LITERAL) {
		return false;
	}
	*s_r = a->str;
	*len_r = a->len;
	return true;
}

bool imap_arg_list_mailbox(const imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a == NULL)
		return false;
	if (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) {
		for (size_t i = 0; i < a->len; i++) {
			unsigned char c = (unsigned char)a->str[i];
			if (!imap_is_astring_char(c) && c != '%' && c != '*')
				return false;
		}
		*s_r = a->str;
		*len_r = a->len;
		return true;
	}
	return imap_arg_astring(a, s_r, len_r);
}

bool imap_arg_string(const imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a == NULL || (a->type != IMAP_ARG_QUOTED && a->type != IMAP_ARG_LITERAL))
		return false;
	*s_r = a->str;
	*len_r = a->len;
	return true;
}

bool imap_arg_nstring(const imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a != NULL && a->type == IMAP_ARG_NIL) {
		*s_r = NULL;
		*len_r = 0;
		return true;
	}
	return imap_arg_string(a, s_r, len_r);
}

bool imap_parse_number64(const char *s, size_t len, uint64_t *n_r)
{
	if (len == 0)
		return false;
	uint64_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (n > (IMAP_NUMBER64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*n_r = n;
	return true;
}

bool imap_parse_number(const char *s, size_t len, uint32_t *n_r)
{
	uint64_t n;
	if (!imap_parse_number64(s, len, &n) || n > UINT32_MAX)
		return false;
	*n_r = (uint32_t)n;
	return true;
}

bool imap_arg_number(const imap_arg *a, uint32_t *n_r)
{
	return a != NULL && a->type == IMAP_ARG_ATOM && imap_parse_number(a->str, a->len, n_r);
}

bool imap_arg_number64(const imap_arg *a, uint64_t *n_r)
{
	return a != NULL && a->type == IMAP_ARG_ATOM && imap_parse_number64(a->str, a->len, n_r);
}
