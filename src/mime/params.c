/* params.c — RFC 2045 tokens and quoted strings, RFC 2231 parameter
 * continuations and charset tags (see params.h).  Knows nothing about which
 * field a value came from beyond type/subtype vs disposition type. */
#include "mime/params.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"

/* A parameter as written, before continuations are joined. */
typedef struct raw_param {
	char *base;      /* lower-cased name without suffixes */
	char *literal;   /* lower-cased name as written */
	int section;     /* -1 without "*n" */
	bool extended;   /* ended in '*' */
	char *value;
} raw_param;

static bool is_tspecial(unsigned char c)
{
	return c <= ' ' || c == 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static void skip_cfws(const char *s, size_t *i)
{
	for (;;) {
		while (s[*i] == ' ' || s[*i] == '\t')
			(*i)++;
		if (s[*i] != '(')
			return;
		int depth = 0;
		do {
			if (s[*i] == '\\' && s[*i + 1] != '\0')
				(*i)++;
			else if (s[*i] == '(')
				depth++;
			else if (s[*i] == ')')
				depth--;
			(*i)++;
		} while (depth > 0 && s[*i] != '\0');
	}
}

/* A token at s[*i] (8-bit bytes allowed), or NULL. Lower-cased. */
static char *read_token(const char *s, size_t *i)
{
	size_t a = *i;
	while (s[*i] != '\0' && !is_tspecial((unsigned char)s[*i]))
		(*i)++;
	if (*i == a)
		return NULL;
	char *t = xstrndup(s + a, *i - a);
	str_ascii_lower(t);
	return t;
}

/* A quoted string (s[*i] == '"'), unquoted; an unterminated one runs to
 * the end of the value. */
static char *read_quoted(const char *s, size_t *i)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);   /* no strlen here: that would be quadratic */
	(*i)++;
	while (s[*i] != '\0' && s[*i] != '"') {
		if (s[*i] == '\\' && s[*i + 1] != '\0')
			(*i)++;
		BUF_PUTC(&b, s[*i]);
		(*i)++;
	}
	if (s[*i] == '"')
		(*i)++;
	return buf_steal(&b);
}

/* A parameter value: a quoted string, a token (then comments may follow),
 * or else everything up to ';' trimmed (unquoted "foo bar.txt"). */
static char *read_value(const char *s, size_t *i)
{
	if (s[*i] == '"')
		return read_quoted(s, i);
	size_t a = *i;
	while (s[*i] != '\0' && !is_tspecial((unsigned char)s[*i]))
		(*i)++;
	size_t te = *i;
	skip_cfws(s, i);
	if (te > a && (s[*i] == ';' || s[*i] == '\0'))
		return xstrndup(s + a, te - a);
	*i = a;
	while (s[*i] != '\0' && s[*i] != ';')
		(*i)++;
	size_t e = *i;
	while (e > a && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	return xstrndup(s + a, e - a);
}

/* Split an attribute name into base, section and extended flag. */
static void split_attr(char *name, raw_param *rp)
{
	rp->literal = xstrdup(name);
	rp->section = -1;
	rp->extended = false;
	size_t n = strlen(name);
	if (n > 1 && name[n - 1] == '*') {
		rp->extended = true;
		name[--n] = '\0';
	}
	char *star = strchr(name, '*');
	if (star != NULL && star[1] != '\0' && strspn(star + 1, "0123456789") == strlen(star + 1) &&
	    strlen(star + 1) <= 3 && (star[1] != '0' || star[2] == '\0')) {
		rp->section = atoi(star + 1);
		*star = '\0';
	}
	rp->base = name;
}

static size_t parse_raw(const char *s, size_t i, raw_param *raw, size_t max)
{
	size_t n = 0;
	while (s[i] != '\0' && n < max) {
		skip_cfws(s, &i);
		if (s[i] != ';') {           /* junk between parameters */
			while (s[i] != '\0' && s[i] != ';')
				i++;
			continue;
		}
		i++;
		skip_cfws(s, &i);
		char *name = read_token(s, &i);
		if (name == NULL)
			continue;
		skip_cfws(s, &i);
		if (s[i] != '=') {
			free(name);
			continue;
		}
		i++;
		skip_cfws(s, &i);
		split_attr(name, &raw[n]);
		raw[n].value = read_value(s, &i);
		n++;
	}
	return n;
}

static void percent_decode(buf *b, const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++) {
		int h, l;
		if (s[i] == '%' && (h = str_hexval(s[i + 1])) >= 0 && (l = str_hexval(s[i + 2])) >= 0) {
			BUF_PUTC(b, (char)(h * 16 + l));
			i += 2;
		} else {
			BUF_PUTC(b, s[i]);
		}
	}
}

/* Append the value of one piece, taking the charset'lang' prefix off the
 * first extended piece. */
static void add_piece(mime_param *out, buf *b, const raw_param *rp, bool first)
{
	const char *v = rp->value;
	if (rp->extended && first) {
		const char *q1 = strchr(v, '\'');
		const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
		if (q2 != NULL) {
			out->charset = xstrndup(v, (size_t)(q1 - v));
			out->language = xstrndup(q1 + 1, (size_t)(q2 - q1 - 1));
			v = q2 + 1;
		}
	}
	if (rp->extended)
		percent_decode(b, v);
	else
		BUF_PUTS(b, v);
}

static const raw_param *find_section(const raw_param *raw, size_t n, const char *base, int sec)
{
	for (size_t i = 0; i < n; i++)
		if (raw[i].section == sec && strcmp(raw[i].base, base) == 0)
			return &raw[i];
	return NULL;
}

static void merge(raw_param *raw, size_t n, mime_params *out)
{
	out->items = n ? xcalloc(n, sizeof *out->items) : NULL;
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		const raw_param *rp = &raw[i];
		bool orphan = rp->section > 0 && find_section(raw, n, rp->base, 0) == NULL;
		const char *name = orphan ? rp->literal : rp->base;
		if (rp->section > 0 && !orphan)
			continue;                 /* joined into its section 0 */
		if (mime_params_get(out, name) != NULL)
			continue;                 /* the first one wins */
		mime_param *p = &out->items[out->n++];
		memset(p, 0, sizeof *p);
		p->name = xstrdup(name);
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		if (orphan || rp->section < 0) {
			add_piece(p, &b, rp, !orphan);
		} else {
			const raw_param *piece;
			for (int k = 0; (piece = find_section(raw, n, rp->base, k)) != NULL; k++)
				add_piece(p, &b, piece, k == 0);
		}
		p->value = buf_steal(&b);
	}
}

static void parse_params(const char *s, size_t i, mime_params *params_r)
{
	raw_param raw[MIME_MAX_PARAMS];
	size_t n = parse_raw(s, i, raw, MIME_MAX_PARAMS);
	merge(raw, n, params_r);
	for (size_t k = 0; k < n; k++) {
		free(raw[k].base);
		free(raw[k].literal);
		free(raw[k].value);
	}
}

void mime_parse_content_type(const char *value, char **type_r, char **subtype_r,
			     mime_params *params_r)
{
	size_t i = 0;
	skip_cfws(value, &i);
	*type_r = read_token(value, &i);
	*subtype_r = NULL;
	skip_cfws(value, &i);
	if (*type_r != NULL && value[i] == '/') {
		i++;
		skip_cfws(value, &i);
		*subtype_r = read_token(value, &i);
	}
	if (*subtype_r == NULL) {
		free(*type_r);
		*type_r = NULL;
	}
	parse_params(value, i, params_r);
}

void mime_parse_disposition(const char *value, char **type_r, mime_params *params_r)
{
	size_t i = 0;
	skip_cfws(value, &i);
	*type_r = read_token(value, &i);
	parse_params(value, i, params_r);
}

const char *mime_params_get(const mime_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].name, name) == 0)
			return p->items[i].value;
	return NULL;
}

char *mime_param_encode_2231(const mime_param *p)
{
	static const char hex[] = "0123456789ABCDEF";
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PRINTF(&b, "%s'%s'", p->charset ? p->charset : "", p->language ? p->language : "");
	for (const unsigned char *s = (const unsigned char *)p->value; *s != '\0'; s++) {
		if (*s > ' ' && *s < 0x7f && !is_tspecial(*s) && *s != '*' && *s != '\'' && *s != '%') {
			BUF_PUTC(&b, (char)*s);
		} else {
			BUF_PUTC(&b, '%');
			BUF_PUTC(&b, hex[*s >> 4]);
			BUF_PUTC(&b, hex[*s & 15]);
		}
	}
	return buf_steal(&b);
}

void mime_params_free(mime_params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].name);
		free(p->items[i].value);
		free(p->items[i].charset);
		free(p->items[i].language);
	}
	free(p->items);
	p->items = NULL;
	p->n = 0;
}
