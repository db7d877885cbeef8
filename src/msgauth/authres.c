/* authres.c — Authentication-Results (RFC 8601): our field built from the
 * results (one resinfo per method and DKIM signature, each on its own
 * line, folded under 78 columns), and the search for fields that claim
 * our authserv-id so the caller can remove them (section 5).  Never
 * decides anything about the message itself. */
#include "msgauth/authres.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "mime/header.h"

/* ---- building */

/* RFC 2045 token: printable ASCII but SPACE and tspecials */
static bool is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!is_token_char((unsigned char)*s))
			return false;
	return true;
}

/* "name=value", the value a quoted-string when it is not a token. */
static void add_prop(strlist *words, const char *name, const char *value)
{
	if (value == NULL)
		return;
	if (is_token(value)) {
		strlist_add_owned(words, xasprintf("%s=%s", name, value));
		return;
	}
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PRINTF(&b, "%s=\"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			BUF_PUTC(&b, '\\');
		BUF_PUTC(&b, (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p);
	}
	BUF_PUTC(&b, '"');
	strlist_add_owned(words, buf_steal(&b));
}

/* "(text)" as words (folding may happen between them); parentheses and
 * backslashes quoted, control bytes made blanks. */
static void add_comment(strlist *words, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTC(&b, '(');
	for (const char *p = text; *p; p++) {
		bool blank = (unsigned char)*p <= ' ' || *p == 0x7f;
		if (blank && b.len > 1 && b.data[b.len - 1] != '(') {
			strlist_add_owned(words, buf_steal(&b));
			buf_init(&b, BUF_UNBOUNDED);
		}
		if (blank)
			continue;
		if (*p == '(' || *p == ')' || *p == '\\')
			BUF_PUTC(&b, '\\');
		BUF_PUTC(&b, *p);
	}
	BUF_PUTC(&b, ')');
	strlist_add_owned(words, buf_steal(&b));
}

static void spf_words(spf_result r, const char *problem, bool helo, const char *domain, strlist *w)
{
	strlist_add_owned(w, xasprintf("spf=%s", spf_result_name(r)));
	if (r == SPF_TEMPERROR || r == SPF_PERMERROR)
		add_comment(w, problem);
	add_prop(w, helo ? "smtp.helo" : "smtp.mailfrom", domain);
}

static void dkim_words(const dkim_verdict *v, strlist *w)
{
	strlist_add_owned(w, xasprintf("dkim=%s", v ? dkim_result_name(v->result) : "none"));
	if (v == NULL)
		return;
	add_prop(w, "header.d", v->domain);
	add_prop(w, "header.s", v->selector);
	add_prop(w, "header.b", v->b_prefix);
	add_comment(w, v->reason);
}

/* dmarc=<r> (p=<policy> dis=<disposition>) header.from=<d>; without a
 * record the comment says why (and dis= when it is not none). */
static void dmarc_words(const dmarc_outcome *o, strlist *w)
{
	strlist_add_owned(w, xasprintf("dmarc=%s", dmarc_result_name(o->result)));
	const char *dis = dmarc_policy_name(o->disposition);
	char *c = NULL;
	if (o->record != NULL)
		c = xasprintf("p=%s dis=%s", dmarc_policy_name(o->policy), dis);
	else if (o->disposition != DMARC_POLICY_NONE)
		c = xasprintf("dis=%s: %s", dis, o->problem ? o->problem : "");
	else if (o->result != DMARC_NONE && o->problem != NULL)
		c = xstrdup(o->problem);
	add_comment(w, c);
	free(c);
	add_prop(w, "header.from", o->from_domain);
}

typedef struct folder {
	buf *out;
	const char *eol;
	size_t col;
	bool ok;
} folder;

static void put(folder *f, const char *s)
{
	f->ok = f->ok && buf_puts(f->out, s);
	f->col += strlen(s);
}

/* One word: on the current line after a blank when it fits, else on a new
 * (folded) line. */
static void put_word(folder *f, const char *word, bool new_line)
{
	if (new_line || f->col + 1 + strlen(word) >= AUTHRES_LINE_MAX) {
		put(f, f->eol);
		put(f, "\t");
		f->col = 1;
	} else {
		put(f, " ");
	}
	put(f, word);
}

/* Every resinfo's words, in field order. */
static size_t collect(const authres_input *in, strlist *infos, size_t max)
{
	size_t n = 0;
	if (in->has_spf)
		spf_words(in->spf, in->spf_problem, in->spf_helo, in->spf_domain, &infos[n++]);
	if (in->has_spf_helo)
		spf_words(in->spf_helo_result, in->spf_helo_problem, true, in->helo, &infos[n++]);
	for (size_t i = 0; in->has_dkim && i < (in->n_dkim ? in->n_dkim : 1) && n < max; i++)
		dkim_words(in->n_dkim ? &in->dkim[i] : NULL, &infos[n++]);
	if (in->dmarc != NULL && n < max)
		dmarc_words(in->dmarc, &infos[n++]);
	return n;
}

bool authres_build(const authres_input *in, buf *out)
{
	enum { MAX_INFOS = DKIM_MAX_SIGNATURES + 3 };
	strlist infos[MAX_INFOS];
	for (size_t i = 0; i < MAX_INFOS; i++)
		strlist_init(&infos[i]);
	size_t n = collect(in, infos, MAX_INFOS), start = out->len;
	folder f = {.out = out, .eol = in->crlf ? "\r\n" : "\n", .ok = true};
	put(&f, "Authentication-Results:");
	char *id = is_token(in->authserv_id) ? xasprintf("%s;", in->authserv_id) : xstrdup("unknown;");
	put_word(&f, id, false);
	free(id);
	if (n == 0)
		put_word(&f, "none", false);   /* RFC 8601 2.2: no method was applied */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < infos[i].n; j++) {
			char *word = infos[i].items[j];
			if (j + 1 == infos[i].n && i + 1 < n)
				word = xasprintf("%s;", word);
			put_word(&f, word, j == 0);
			if (word != infos[i].items[j])
				free(word);
		}
		strlist_free(&infos[i]);
	}
	put(&f, f.eol);
	if (!f.ok)
		buf_truncate(out, start);
	return f.ok;
}

/* ---- finding our fields */

/* Skip blanks and (nested) comments in s; returns where they end. */
static const char *skip_cfws(const char *s)
{
	int depth = 0;
	for (; *s; s++) {
		if (depth > 0 && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '(')
			depth++;
		else if (*s == ')' && depth > 0)
			depth--;
		else if (depth == 0 && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			break;
	}
	return s;
}

/* The authserv-id at the start of an unfolded value (token or quoted
 * string, CFWS before it), malloc'd; NULL when there is none. */
static char *read_authserv_id(const char *value)
{
	const char *s = skip_cfws(value);
	if (*s != '"') {
		size_t n = 0;
		while (is_token_char((unsigned char)s[n]))
			n++;
		return n > 0 ? xstrndup(s, n) : NULL;
	}
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		BUF_PUTC(&b, *s);
	}
	return buf_steal(&b);
}

authres_range *authres_find_ours(const char *msg, size_t len, const char *authserv_id, size_t *n_r)
{
	authres_range *r = NULL;
	size_t n = 0, pos = 0;
	mime_field f;
	while (mime_header_next(msg, len, &pos, &f)) {
		if (!mime_field_is(msg, &f, "Authentication-Results"))
			continue;
		char *value = mime_field_value(msg, &f);
		char *id = read_authserv_id(value);
		if (id != NULL && str_ascii_ieq(id, authserv_id)) {
			r = xrealloc(r, (n + 1) * sizeof(*r));
			r[n++] = (authres_range){f.start, f.end};
		}
		free(id);
		free(value);
	}
	*n_r = n;
	return r;
}
