/* section.c — parsing the section text of BODY[...] and BINARY[...]
 * (RFC 9051 section-spec, see imapfmt.h).  Must not look at a message:
 * fetch.c resolves a parsed section against one. */
#include "mime/imapfmt.h"

#include <string.h>

static bool keyword(const char *s, size_t *i, const char *kw)
{
	size_t n = strlen(kw);
	if (!str_ascii_nieq(s + *i, kw, n))
		return false;
	*i += n;
	return true;
}

static bool astring_char(char c)
{
	return (unsigned char)c > ' ' && c != 0x7f && strchr("(){\"\\%*", c) == NULL;
}

/* One header-fld-name: an atom or a quoted string. */
static char *field_name(const char *s, size_t *i)
{
	size_t a = *i;
	if (s[a] == '"') {
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		for ((*i)++; s[*i] != '"'; (*i)++) {
			if (s[*i] == '\0')
				return buf_free(&b), NULL;
			if (s[*i] == '\\' && s[*i + 1] != '\0')
				(*i)++;
			BUF_PUTC(&b, s[*i]);
		}
		(*i)++;
		return buf_steal(&b);
	}
	while (astring_char(s[*i]))
		(*i)++;
	return *i > a ? xstrndup(s + a, *i - a) : NULL;
}

/* " (" name *(SP name) ")" at the end of s. */
static bool field_list(const char *s, size_t i, strlist *fields)
{
	if (s[i++] != ' ' || s[i++] != '(')
		return false;
	for (;;) {
		char *name = field_name(s, &i);
		if (name == NULL)
			return false;
		strlist_add_owned(fields, name);
		if (s[i] == ')')
			return s[i + 1] == '\0';
		if (s[i++] != ' ')
			return false;
	}
}

static bool section_text(const char *s, size_t i, imap_section *sec)
{
	if (keyword(s, &i, "HEADER.FIELDS.NOT")) {
		sec->kind = MIME_SECTION_HEADER_FIELDS_NOT;
		return field_list(s, i, &sec->fields);
	}
	if (keyword(s, &i, "HEADER.FIELDS")) {
		sec->kind = MIME_SECTION_HEADER_FIELDS;
		return field_list(s, i, &sec->fields);
	}
	if (keyword(s, &i, "HEADER"))
		sec->kind = MIME_SECTION_HEADER;
	else if (keyword(s, &i, "TEXT"))
		sec->kind = MIME_SECTION_TEXT;
	else if (sec->nparts > 0 && keyword(s, &i, "MIME"))
		sec->kind = MIME_SECTION_MIME;
	else
		return false;
	return s[i] == '\0';
}

/* The part numbers; *i ends after the last number's '.' (or at the end). */
static imap_fetch_status numbers(const char *s, size_t *i, imap_section *sec, bool *more)
{
	*more = true;
	while (s[*i] >= '0' && s[*i] <= '9') {
		if (s[*i] == '0')
			return IMAP_FETCH_SYNTAX;    /* nz-number */
		unsigned long v = 0;
		while (s[*i] >= '0' && s[*i] <= '9') {
			v = v * 10 + (unsigned long)(s[(*i)++] - '0');
			if (v > 4000000000UL)
				return IMAP_FETCH_SYNTAX;
		}
		if (sec->nparts == MIME_SECTION_MAX_PARTS)
			return IMAP_FETCH_NO_PART;
		sec->part[sec->nparts++] = (unsigned)v;
		if (s[*i] == '\0') {
			*more = false;
			return IMAP_FETCH_OK;
		}
		if (s[(*i)++] != '.')
			return IMAP_FETCH_SYNTAX;
	}
	return IMAP_FETCH_OK;
}

imap_fetch_status imap_section_parse(const char *spec, imap_section *sec_r)
{
	memset(sec_r, 0, sizeof *sec_r);
	strlist_init(&sec_r->fields);
	sec_r->kind = MIME_SECTION_BODY;
	size_t i = 0;
	bool more;
	imap_fetch_status st = numbers(spec, &i, sec_r, &more);
	if (st == IMAP_FETCH_OK && more && (sec_r->nparts > 0 || spec[0] != '\0') &&
	    !section_text(spec, i, sec_r))
		st = IMAP_FETCH_SYNTAX;
	if (st == IMAP_FETCH_SYNTAX)
		imap_section_free(sec_r);
	return st;
}

void imap_section_free(imap_section *sec)
{
	strlist_free(&sec->fields);
}
