/* spfmacro.c — SPF macros (RFC 7208 section 7): the syntax of macro-strings,
 * domain-specs and explain-strings, and their expansion with the
 * transformers (digits, r, delimiters) and URL escaping of upper-case
 * letters; the domain rules of 7.3 (trailing dot, 253-byte truncation).
 * It knows nothing of DNS: the caller supplies %{p} already validated. */
#include "msgauth/spfint.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"

#define MACRO_MAX_OUT 16384 /* an expansion past this is refused */
#define DELIMS ".-+,/_="

typedef enum item_kind { ITEM_LITERAL, ITEM_ESCAPE, ITEM_MACRO } item_kind;

typedef struct macro_item {
	item_kind kind;
	const char *text;   /* literal or escape: the bytes to copy */
	size_t len;
	char letter;        /* macro: lower-case letter */
	bool upper;         /* macro: URL-escape the value */
	int keep;           /* macro: right-hand parts to keep, 0 = all */
	bool reverse;
	char delims[sizeof DELIMS];
} macro_item;

static bool literal_char(unsigned char c, bool explain)
{
	return (c >= 0x21 && c <= 0x7e && c != '%') || (explain && c == ' ');
}

/* The macro after "%{" at p: letter, transformers, delimiters, "}". */
static bool read_macro(const char **pp, bool explain, macro_item *it)
{
	const char *p = *pp;
	char lower = (char)tolower((unsigned char)*p);
	if (*p == '\0' || !isalpha((unsigned char)*p) || strchr(explain ? "slodiphvcrt" : "slodiphv", lower) == NULL)
		return false;
	it->kind = ITEM_MACRO;
	it->letter = lower;
	it->upper = isupper((unsigned char)*p);
	p++;
	if (isdigit((unsigned char)*p)) {
		long n = 0;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			if (n > 1000)
				n = 1000; /* more parts than any name has */
		}
		if (n == 0)
			return false; /* RFC 7208 7.3: the value MUST be nonzero */
		it->keep = (int)n;
	}
	if (*p == 'r' || *p == 'R') {
		it->reverse = true;
		p++;
	}
	size_t nd = 0;
	while (*p != '\0' && strchr(DELIMS, *p) != NULL) {
		if (memchr(it->delims, *p, nd) == NULL)
			it->delims[nd++] = *p;
		p++;
	}
	if (*p != '}')
		return false;
	*pp = p + 1;
	return true;
}

/* The item at *pp, advancing it; false on a syntax error. */
static bool next_item(const char **pp, bool explain, macro_item *it)
{
	const char *p = *pp;
	memset(it, 0, sizeof(*it));
	if (*p != '%') {
		it->kind = ITEM_LITERAL;
		it->text = p;
		while (*p != '\0' && *p != '%') {
			if (!literal_char((unsigned char)*p, explain))
				return false;
			p++;
		}
		it->len = (size_t)(p - it->text);
		*pp = p;
		return true;
	}
	static const struct {
		char c;
		const char *out;
	} escapes[] = {{'%', "%"}, {'_', " "}, {'-', "%20"}};
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		if (p[1] == escapes[i].c) {
			it->kind = ITEM_ESCAPE;
			it->text = escapes[i].out;
			it->len = strlen(escapes[i].out);
			*pp = p + 2;
			return true;
		}
	}
	if (p[1] != '{')
		return false;
	*pp = p + 2;
	return read_macro(pp, explain, it);
}

bool spf_macro_valid(const char *s, bool explain)
{
	macro_item it;
	while (*s != '\0')
		if (!next_item(&s, explain, &it))
			return false;
	return true;
}

bool spf_macro_uses_p(const char *s)
{
	macro_item it;
	while (*s != '\0') {
		if (!next_item(&s, true, &it))
			return false;
		if (it.kind == ITEM_MACRO && it.letter == 'p')
			return true;
	}
	return false;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool toplabel_valid(const char *s, size_t n)
{
	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	bool alpha = false, dash = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '-')
			dash = true;
		else if (isalpha(c))
			alpha = true;
		else if (!isdigit(c))
			return false;
	}
	return alpha || dash;
}

bool spf_domain_spec_valid(const char *s)
{
	macro_item it = {.kind = ITEM_LITERAL};
	if (*s == '\0')
		return false;
	while (*s != '\0')
		if (!next_item(&s, false, &it))
			return false;
	if (it.kind != ITEM_LITERAL)
		return true; /* domain-end = macro-expand */
	/* domain-end = "." toplabel [ "." ], in the trailing literal */
	size_t n = it.len;
	if (n > 0 && it.text[n - 1] == '.')
		n--;
	const char *dot = NULL;
	for (size_t i = 0; i < n; i++)
		if (it.text[i] == '.')
			dot = it.text + i;
	return dot != NULL && toplabel_valid(dot + 1, (size_t)(it.text + n - dot - 1));
}

/* The value of a macro letter before its transformers. */
static char *letter_value(const spf_macro_env *env, char letter)
{
	char text[INET6_ADDRSTRLEN];
	switch (letter) {
	case 's': return xstrdup(env->sender);
	case 'l': return xstrdup(env->local);
	case 'o': return xstrdup(env->sender_domain);
	case 'd': return xstrdup(env->domain);
	case 'h': return xstrdup(env->helo ? env->helo : "unknown");
	case 'r': return xstrdup(env->receiver ? env->receiver : "unknown");
	case 'p': return xstrdup(env->validated ? env->validated : "unknown");
	case 'v': return xstrdup(env->ip->family == 4 ? "in-addr" : "ip6");
	case 't': return xasprintf("%lld", (long long)env->now);
	case 'c':
		inet_ntop(env->ip->family == 4 ? AF_INET : AF_INET6, env->ip->addr, text, sizeof text);
		return xstrdup(text);
	case 'i':
		break;
	default:
		return xstrdup(""); /* not reached: the syntax was checked */
	}
	if (env->ip->family == 4) {
		inet_ntop(AF_INET, env->ip->addr, text, sizeof text);
		return xstrdup(text);
	}
	/* IPv6: the 32 nibbles, dot-separated (RFC 7208 7.3) */
	char *rev = spf_ip_reverse_name(env->ip); /* nibbles reversed + ".ip6.arpa" */
	size_t n = 63;
	char *out = xmalloc(n + 1);
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = rev[62 - 2 * i];
		if (i < 31)
			out[2 * i + 1] = '.';
	}
	out[n] = '\0';
	free(rev);
	return out;
}

/* Split on the delimiters, reverse, keep the right-hand parts, join with
 * dots (RFC 7208 7.3), and URL-escape when asked; appended to out. */
static bool transform(const macro_item *it, const char *value, buf *out)
{
	const char *delims = it->delims[0] ? it->delims : ".";
	strlist parts;
	strlist_init(&parts);
	for (const char *p = value;;) {
		size_t n = strcspn(p, delims);
		strlist_add_owned(&parts, xstrndup(p, n));
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	/* reverse first, then keep the right-hand parts */
	size_t n = parts.n, first = 0;
	if (it->keep > 0 && (size_t)it->keep < n)
		first = n - (size_t)it->keep;
	char **order = xmalloc(sizeof(char *) * n);
	for (size_t k = 0; k < n; k++)
		order[k] = parts.items[it->reverse ? n - 1 - k : k];
	bool ok = true;
	for (size_t k = first; ok && k < n; k++) {
		if (k > first)
			ok = buf_putc(out, '.');
		for (const char *c = order[k]; ok && *c; c++) {
			unsigned char u = (unsigned char)*c;
			if (it->upper && !(isalnum(u) || strchr("-._~", u) != NULL))
				ok = buf_printf(out, "%%%02X", u);
			else
				ok = buf_putc(out, (char)u);
		}
	}
	free(order);
	strlist_free(&parts);
	return ok;
}

char *spf_macro_expand(const spf_macro_env *env, const char *s, bool explain)
{
	buf out;
	buf_init(&out, MACRO_MAX_OUT);
	macro_item it;
	bool ok = true;
	while (ok && *s != '\0') {
		if (!next_item(&s, explain, &it)) {
			ok = false;
		} else if (it.kind != ITEM_MACRO) {
			ok = buf_append(&out, it.text, it.len);
		} else {
			char *value = letter_value(env, it.letter);
			ok = transform(&it, value, &out);
			free(value);
		}
	}
	if (!ok) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

bool spf_name_usable(const char *name, bool multi_label)
{
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || name[0] == '[')
		return false;
	size_t labels = 0;
	for (size_t i = 0; i < len;) {
		size_t n = 0;
		while (i + n < len && name[i + n] != '.')
			n++;
		if (n == 0 || n > 63)
			return false;
		labels++;
		i += n + 1;
	}
	return labels >= (multi_label ? 2 : 1);
}

char *spf_expand_domain(const spf_macro_env *env, const char *spec)
{
	char *name = spf_macro_expand(env, spec, false);
	if (name == NULL)
		return NULL;
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		name[--len] = '\0';
	const char *start = name;
	while (strlen(start) > 253) {
		const char *dot = strchr(start, '.');
		if (dot == NULL)
			break;
		start = dot + 1;
	}
	char *out = spf_name_usable(start, false) ? xstrdup(start) : NULL;
	free(name);
	return out;
}
