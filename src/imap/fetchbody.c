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
	bool literal;      /* a header field name came as a literal */
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

/* A literal header-fld-name: "{" n ["+"] "}" CRLF and n bytes (the parser
 * kept them inside the atom).  Only names that can be written back quoted
 * in the reply are taken: no CR, LF, NUL or 8-bit bytes. */
static bool read_literal_field(cursor *c, buf *name)
{
	size_t n = 0, st = ++c->pos;
	while (c->pos < c->len && is_digit(c->s[c->pos]) && n <= c->len)
		n = n * 10 + (size_t)(c->s[c->pos++] - '0');
	if (c->pos == st)
		return false;
	if (c->pos < c->len && c->s[c->pos] == '+')
		c->pos++;
	if (c->len - c->pos < 3 || memcmp(c->s + c->pos, "}\r\n", 3) != 0 || n > c->len - c->pos - 3)
		return false;
	c->pos += 3;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->s[c->pos + i];
		if (ch < 0x20 || ch >= 0x7f)
			return false;
	}
	c->literal = true;
	bool ok = buf_append(name, c->s + c->pos, n);
	c->pos += n;
	return ok;
}

/* One header-fld-name (astring) of a header-list. */
static bool read_field(cursor *c, imap_fetch_body *b)
{
	buf name;
	buf_init(&name, c->len); /* KEEP: bounded, checked */
	if (c->pos < c->len && c->s[c->pos] == '{') {
		if (!read_literal_field(c, &name))
			goto bad;
	} else if (c->pos < c->len && c->s[c->pos] == '"') {
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

/* b->section written again from what was read, for a reply that cannot
 * carry the literal the client used: part numbers, the section keyword and
 * the field names as atoms, or quoted when they are not atoms. */
static void rewrite_section(imap_fetch_body *b)
{
	static const char *const words[] = {
		[IMAP_SECTION_WHOLE] = "", [IMAP_SECTION_HEADER] = "HEADER",
		[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[IMAP_SECTION_TEXT] = "TEXT", [IMAP_SECTION_MIME] = "MIME",
	};
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	for (size_t i = 0; i < b->nparts; i++)
		BUF_PRINTF(&out, "%s%u", i > 0 ? "." : "", (unsigned)b->parts[i]);
	if (b->text != IMAP_SECTION_WHOLE)
		BUF_PRINTF(&out, "%s%s", b->nparts > 0 ? "." : "", words[b->text]);
	for (size_t i = 0; i < b->fields.n; i++) {
		const char *f = b->fields.items[i];
		bool atom = true;
		for (const char *p = f; *p != '\0'; p++)
			atom = atom && imap_is_astring_char((unsigned char)*p) && *p != ']';
		BUF_PUTS(&out, i == 0 ? " (" : " ");
		if (atom) {
			BUF_PUTS(&out, f);
		} else {
			BUF_PUTC(&out, '"');
			for (const char *p = f; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					BUF_PUTC(&out, '\\');
				BUF_PUTC(&out, *p);
			}
			BUF_PUTC(&out, '"');
		}
	}
	if (b->fields.n > 0)
		BUF_PUTC(&out, ')');
	free(b->section);
	b->section = buf_steal(&out);
}

/* The bytes between "[" and "]". */
static bool read_section(const char *s, size_t len, imap_fetch_body *b, const char **error_r)
{
	cursor c = {s, len, 0, false};
	if (!read_parts(&c, b, error_r))
		return false;
	if (c.pos == c.len)
		return true;
	if (b->kind != IMAP_BODY_SECTION) {
		*error_r = "BINARY sections are part numbers only.";
		return false;
	}
	if (!read_section_text(&c, b, error_r))
		return false;
	if (c.literal)
		rewrite_section(b);
	return true;
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
	/* the last "]" closes the section: a literal field name may hold one,
	 * the <partial> after it cannot */
	const char *open = memchr(s, '[', len);
	const char *close = NULL;
	for (size_t i = len; open != NULL && i > (size_t)(open - s) && close == NULL; i--)
		if (s[i - 1] == ']')
			close = s + i - 1;
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
