/* fetchbody.c — one body-part FETCH attribute: BODY[section]<partial> and
 * the BINARY forms (see fetch.h), read from the atom the tokenizer kept
 * whole.  Section grammar from RFC 9051 9 (section-spec) and RFC 3516. */
#include "imap/fetch.h"

#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "lib/buf.h"

typedef struct cursor {
	const char *s;
	size_t len, pos;
} cursor;

static bool take_word(cursor *c, const char *w)
{
	size_t n = strlen(w);
	if (c->len - c->pos < n || !str_ascii_nieq(c->s + c->pos, w, n))
		return false;
	c->pos += n;
	return true;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* section-part: nz-number *("." nz-number), and the "." before a text
 * part such as ".TEXT" after it. */
static bool read_parts(cursor *c, imap_fetch_body *b, const char **error_r)
{
	size_t max = 1;
	for (size_t i = c->pos; i < c->len; i++)
		max += c->s[i] == '.';
	b->parts = xcalloc(max, sizeof(*b->parts));
	while (c->pos < c->len && is_digit(c->s[c->pos])) {
		size_t st = c->pos;
		while (c->pos < c->len && is_digit(c->s[c->pos]))
			c->pos++;
		uint32_t n;
		if (!imap_parse_number(c->s + st, c->pos - st, &n) || n == 0) {
			*error_r = "Section part numbers must be 1 to 4294967295.";
			return false;
		}
		b->parts[b->nparts++] = n;
		if (c->pos == c->len)
			return true;
		if (c->s[c->pos] != '.' || c->pos + 1 == c->len) {
			*error_r = "Invalid section part number.";
			return false;
		}
		c->pos++;
	}
	return true;
}

/* One header-fld-name (astring) of a header-list. */
static bool read_field(cursor *c, imap_fetch_body *b)
{
	buf name;
	buf_init(&name, c->len);
	if (c->pos < c->len && c->s[c->pos] == '"') {
		c->pos++;
		for (;;) {
			if (c->pos >= c->len)
				goto bad;
			char ch = c->s[c->pos++];
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (c->pos >= c->len || (c->s[c->pos] != '"' && c->s[c->pos] != '\\'))
					goto bad;
				ch = c->s[c->pos++];
			}
			if (!buf_putc(&name, ch))
				goto bad;
		}
	} else {
		while (c->pos < c->len && imap_is_astring_char((unsigned char)c->s[c->pos]))
			if (!buf_putc(&name, c->s[c->pos++]))
				goto bad;
	}
	if (name.len == 0 || memchr(buf_str(&name), ':', name.len) != NULL)
		goto bad;
	strlist_add_owned(&b->fields, buf_steal(&name));
	return true;
bad:
	buf_free(&name);
	return false;
}

/* " (" header-fld-name *(SP header-fld-name) ")" up to the end of c. */
static bool read_header_list(cursor *c, imap_fetch_body *b, const char **error_r)
{
	*error_r = "HEADER.FIELDS needs a list of header field names.";
	if (!take_word(c, " ("))
		return false;
	for (;;) {
		if (!read_field(c, b))
			return false;
		if (c->pos < c->len && c->s[c->pos] == ' ') {
			c->pos++;
			continue;
		}
		if (c->pos < c->len && c->s[c->pos] == ')') {
			c->pos++;
			return c->pos == c->len;
		}
		return false;
	}
}

/* What follows the part numbers: HEADER, HEADER.FIELDS[.NOT] (...), TEXT,
 * and MIME after a part number. */
static bool read_section_text(cursor *c, imap_fetch_body *b, const char **error_r)
{
	*error_r = "Unknown section in BODY[].";
	if (take_word(c, "HEADER.FIELDS.NOT")) {
		b->text = IMAP_SECTION_HEADER_FIELDS_NOT;
		return read_header_list(c, b, error_r);
	}
	if (take_word(c, "HEADER.FIELDS")) {
		b->text = IMAP_SECTION_HEADER_FIELDS;
		return read_header_list(c, b, error_r);
	}
	if (take_word(c, "HEADER"))
		b->text = IMAP_SECTION_HEADER;
	else if (take_word(c, "TEXT"))
		b->text = IMAP_SECTION_TEXT;
	else if (b->nparts > 0 && take_word(c, "MIME"))
		b->text = IMAP_SECTION_MIME;
	else
		return false;
	return c->pos == c->len;
}

/* The bytes between "[" and "]". */
static bool read_section(const char *s, size_t len, imap_fetch_body *b, const char **error_r)
{
	cursor c = {s, len, 0};
	if (!read_parts(&c, b, error_r))
		return false;
	if (c.pos == c.len)
		return true;
	if (b->kind != IMAP_BODY_SECTION) {
		*error_r = "BINARY sections are part numbers only.";
		return false;
	}
	return read_section_text(&c, b, error_r);
}

/* "<" number64 "." nz-number64 ">" */
static bool read_partial(const char *s, size_t len, imap_fetch_body *b)
{
	if (len < 5 || s[0] != '<' || s[len - 1] != '>')
		return false;
	const char *dot = memchr(s, '.', len);
	if (dot == NULL)
		return false;
	size_t a = (size_t)(dot - s) - 1;
	if (!imap_parse_number64(s + 1, a, &b->start) ||
	    !imap_parse_number64(dot + 1, len - a - 3, &b->count) || b->count == 0)
		return false;
	b->partial = true;
	return true;
}

static const struct {
	const char *name;
	imap_body_kind kind;
	bool peek;
} body_names[] = {
	{"BODY", IMAP_BODY_SECTION, false},
	{"BODY.PEEK", IMAP_BODY_SECTION, true},
	{"BINARY", IMAP_BODY_BINARY, false},
	{"BINARY.PEEK", IMAP_BODY_BINARY, true},
	{"BINARY.SIZE", IMAP_BODY_BINARY_SIZE, true},
};

bool imap_fetch_body_parse(const char *s, size_t len, imap_fetch_body *b, const char **error_r)
{
	memset(b, 0, sizeof(*b));
	strlist_init(&b->fields);
	const char *open = memchr(s, '[', len);
	const char *close = open == NULL ? NULL : memchr(open, ']', len - (size_t)(open - s));
	*error_r = "Unknown FETCH attribute.";
	if (open == NULL || close == NULL)
		return false;
	size_t nl = (size_t)(open - s);
	bool known = false;
	for (size_t i = 0; i < sizeof(body_names) / sizeof(body_names[0]); i++) {
		if (strlen(body_names[i].name) == nl && str_ascii_nieq(s, body_names[i].name, nl)) {
			b->kind = body_names[i].kind;
			b->peek = body_names[i].peek;
			known = true;
		}
	}
	if (!known)
		return false;
	size_t sl = (size_t)(close - open) - 1;
	b->section = xstrndup(open + 1, sl);
	if (!read_section(open + 1, sl, b, error_r))
		return false;
	size_t rest = len - (size_t)(close - s) - 1;
	if (rest == 0)
		return true;
	if (b->kind == IMAP_BODY_BINARY_SIZE || !read_partial(close + 1, rest, b)) {
		*error_r = "Invalid <start.count> after the section.";
		return false;
	}
	return true;
}

void imap_fetch_body_free(imap_fetch_body *b)
{
	free(b->parts);
	free(b->section);
	strlist_free(&b->fields);
	memset(b, 0, sizeof(*b));
}
