/* address.c — RFC 5322 address-list parsing for ENVELOPE (see address.h):
 * a tokenizer (atoms, quoted strings, comments, domain literals, specials)
 * and a parser over its tokens.  Must not render anything. */
#include "mime/address.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"

typedef enum { T_ATOM, T_QSTR, T_COMMENT, T_DLIT, T_SPECIAL } tok_type;

typedef struct token {
	tok_type type;
	char c;              /* T_SPECIAL */
	bool space_before;   /* blanks or a comment before it */
	char *text;          /* atom; quoted string or comment content; literal */
	char *raw;           /* as written (quoted strings keep their quotes) */
} token;

typedef struct toks {
	token *t;
	size_t n, cap;
} toks;

static const char specials[] = "()<>[]:;@\\,.\"";

static token *push(toks *ts, tok_type type)
{
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 16;
		token *nt = xmalloc(ts->cap * sizeof *nt);
		if (ts->n)
			memcpy(nt, ts->t, ts->n * sizeof *nt);
		free(ts->t);
		ts->t = nt;
	}
	token *t = &ts->t[ts->n++];
	memset(t, 0, sizeof *t);
	t->type = type;
	return t;
}

/* A delimited run starting at s[*i] == open; nested for comments. */
static void delimited(const char *s, size_t *i, char open, char close, token *t)
{
	size_t a = *i;
	int depth = 0;
	buf b;
	buf_init(&b, BUF_UNBOUNDED);   /* no strlen here: that would be quadratic */
	do {
		char c = s[*i];
		if (c == '\\' && s[*i + 1] != '\0') {
			(*i)++;
			BUF_PUTC(&b, s[*i]);
		} else if (c == open && (open != close || depth == 0)) {
			if (depth++ > 0)
				BUF_PUTC(&b, c);
		} else if (c == close) {
			if (--depth > 0)
				BUF_PUTC(&b, c);
		} else {
			BUF_PUTC(&b, c);
		}
		(*i)++;
	} while (depth > 0 && s[*i] != '\0');
	t->text = buf_steal(&b);
	t->raw = xstrndup(s + a, *i - a);
}

static void tokenize(const char *s, toks *ts)
{
	size_t i = 0;
	bool space = false;
	while (s[i] != '\0') {
		char c = s[i];
		if (c == ' ' || c == '\t') {
			space = true;
			i++;
			continue;
		}
		token *t;
		if (c == '"' || c == '(' || c == '[') {
			t = push(ts, c == '"' ? T_QSTR : c == '(' ? T_COMMENT : T_DLIT);
			delimited(s, &i, c, c == '"' ? '"' : c == '(' ? ')' : ']', t);
		} else if (strchr(specials, c) != NULL) {
			t = push(ts, T_SPECIAL);
			t->c = c;
			i++;
		} else {
			size_t a = i;
			while (s[i] != '\0' && s[i] != ' ' && s[i] != '\t' && strchr(specials, s[i]) == NULL)
				i++;
			t = push(ts, T_ATOM);
			t->text = xstrndup(s + a, i - a);
			t->raw = xstrdup(t->text);
		}
		t->space_before = space;
		space = t->type == T_COMMENT;
	}
}

static bool is_special(const toks *ts, size_t i, char c)
{
	return i < ts->n && ts->t[i].type == T_SPECIAL && ts->t[i].c == c;
}

/* The display name from tokens [a, e): words joined as written, comments
 * dropped.  NULL when empty. */
static char *phrase(const toks *ts, size_t a, size_t e)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (size_t i = a; i < e; i++) {
		const token *t = &ts->t[i];
		if (t->type == T_COMMENT)
			continue;
		if (b.len > 0 && t->space_before)
			BUF_PUTC(&b, ' ');
		if (t->type == T_SPECIAL)
			BUF_PUTC(&b, t->c);
		else
			BUF_PUTS(&b, t->text);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Local part or domain from [a, e): raw tokens run together, comments out. */
static char *joined(const toks *ts, size_t a, size_t e)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (size_t i = a; i < e; i++) {
		const token *t = &ts->t[i];
		if (t->type == T_SPECIAL)
			BUF_PUTC(&b, t->c);
		else if (t->type != T_COMMENT)
			BUF_PUTS(&b, t->raw);
	}
	return buf_steal(&b);
}

static void add(mime_addrlist *l, char *name, char *route, char *mailbox, char *host)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		mime_address *na = xmalloc(l->cap * sizeof *na);
		if (l->n)
			memcpy(na, l->items, l->n * sizeof *na);
		free(l->items);
		l->items = na;
	}
	l->items[l->n++] = (mime_address){ name, route, mailbox, host };
}

/* An addr-spec in [a, e): local part before the last '@', domain after. */
static void addr_spec(const toks *ts, size_t a, size_t e, char *name, char *route,
		      mime_addrlist *out)
{
	size_t at = e;
	for (size_t i = a; i < e; i++)
		if (is_special(ts, i, '@'))
			at = i;
	char *local = joined(ts, a, at);
	char *host = at < e ? joined(ts, at + 1, e) : xstrdup("");
	if (local[0] == '\0' && host[0] == '\0' && name == NULL) {
		free(local);
		free(host);
		free(route);
		return;
	}
	add(out, name, route, local, host);
}

/* "<" [route ":"] addr-spec ">" starting after '<'; returns after '>'. */
static size_t angle(const toks *ts, size_t i, char *name, mime_addrlist *out)
{
	size_t e = i;
	while (e < ts->n && !is_special(ts, e, '>'))
		e++;
	char *route = NULL;
	if (is_special(ts, i, '@')) {
		size_t colon = i;
		while (colon < e && !is_special(ts, colon, ':'))
			colon++;
		if (colon < e) {
			route = joined(ts, i, colon);
			i = colon + 1;
		}
	}
	addr_spec(ts, i, e, name, route, out);
	return e < ts->n ? e + 1 : e;
}

/* The last comment in [a, e) as a name, or NULL. */
static char *comment_name(const toks *ts, size_t a, size_t e)
{
	for (size_t i = e; i-- > a;)
		if (ts->t[i].type == T_COMMENT && ts->t[i].text[0] != '\0')
			return xstrdup(ts->t[i].text);
	return NULL;
}

/* One item from i: a group start, a name-addr or an addr-spec. */
static size_t item(const toks *ts, size_t i, bool *in_group, mime_addrlist *out)
{
	size_t j = i;
	while (j < ts->n && !is_special(ts, j, ',') && !is_special(ts, j, ';') &&
	       !is_special(ts, j, '<') && !(is_special(ts, j, ':') && !*in_group))
		j++;
	if (j < ts->n && ts->t[j].c == ':') {
		char *group = phrase(ts, i, j);
		add(out, NULL, NULL, group != NULL ? group : xstrdup(""), NULL);
		*in_group = true;
		return j + 1;
	}
	if (j < ts->n && ts->t[j].c == '<') {
		size_t k = angle(ts, j + 1, phrase(ts, i, j), out);
		while (k < ts->n && !is_special(ts, k, ',') && !is_special(ts, k, ';'))
			k++;                     /* comments and junk after '>' */
		return k;
	}
	size_t k = i;
	while (k < j && ts->t[k].type == T_COMMENT)
		k++;
	if (k < j) /* comments alone (an empty group's "(none)") are no address */
		addr_spec(ts, i, j, comment_name(ts, i, j), NULL, out);
	return j;
}

void mime_parse_addresses(const char *value, mime_addrlist *out)
{
	memset(out, 0, sizeof *out);
	toks ts = { NULL, 0, 0 };
	tokenize(value, &ts);
	bool in_group = false;
	size_t i = 0;
	while (i < ts.n) {
		if (is_special(&ts, i, ',')) {
			i++;
		} else if (is_special(&ts, i, ';')) {
			if (in_group)
				add(out, NULL, NULL, NULL, NULL);
			in_group = false;
			i++;
		} else {
			i = item(&ts, i, &in_group, out);
		}
	}
	if (in_group)
		add(out, NULL, NULL, NULL, NULL);
	for (size_t k = 0; k < ts.n; k++) {
		free(ts.t[k].text);
		free(ts.t[k].raw);
	}
	free(ts.t);
}

void mime_addrlist_free(mime_addrlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].route);
		free(l->items[i].mailbox);
		free(l->items[i].host);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}
