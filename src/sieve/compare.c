/* compare.c — comparators (RFC 4790: i;octet, i;ascii-casemap,
 * i;ascii-numeric) and match types (RFC 5228 2.7.1: :is, :contains,
 * :matches with its captures for RFC 5229's ${0}..${9}; RFC 5231 :value and
 * :count).  Work is bounded: :matches backtracks only to the last '*', so
 * one comparison costs at most value length times key length steps. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

int sieve_relop_parse(const char *s)
{
	static const char *const ops[] = {"gt", "ge", "lt", "le", "eq", "ne"};
	for (int i = 0; i < 6; i++)
		if (str_ascii_ieq(s, ops[i]))
			return i;
	return -1;
}

/* RFC 4790 9.2.1: i;ascii-casemap works as i;octet on both strings
 * "internally converted to upper case" -- which matters for ordering: "_"
 * sorts after "A".  (Pigeonhole folds to lower case and so orders "_"
 * before "a"; we follow the RFC.) */
static unsigned char fold(int cmp, unsigned char c)
{
	return cmp == CMP_CASEMAP && c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* i;ascii-numeric: the leading digits as a number; none is +infinity. */
static int numeric_cmp(const char *a, const char *b)
{
	bool ia = !isdigit((unsigned char)*a), ib = !isdigit((unsigned char)*b);
	if (ia || ib)
		return ia && ib ? 0 : ia ? 1 : -1;
	while (*a == '0' && isdigit((unsigned char)a[1]))
		a++;
	while (*b == '0' && isdigit((unsigned char)b[1]))
		b++;
	size_t la = 0, lb = 0;
	while (isdigit((unsigned char)a[la]))
		la++;
	while (isdigit((unsigned char)b[lb]))
		lb++;
	if (la != lb)
		return la < lb ? -1 : 1;
	int r = memcmp(a, b, la);
	return r < 0 ? -1 : r > 0;
}

static int order(int cmp, const char *a, const char *b)
{
	if (cmp == CMP_NUMERIC)
		return numeric_cmp(a, b);
	for (;; a++, b++) {
		unsigned char x = fold(cmp, (unsigned char)*a), y = fold(cmp, (unsigned char)*b);
		if (x != y)
			return x < y ? -1 : 1;
		if (x == 0)
			return 0;
	}
}

static bool rel_holds(int rel, int c)
{
	switch (rel) {
	case REL_GT: return c > 0;
	case REL_GE: return c >= 0;
	case REL_LT: return c < 0;
	case REL_LE: return c <= 0;
	case REL_EQ: return c == 0;
	default: return c != 0;
	}
}

static bool contains(int cmp, const char *v, const char *k)
{
	size_t lv = strlen(v), lk = strlen(k);
	for (size_t i = 0; i + lk <= lv; i++) {
		size_t j = 0;
		while (j < lk && fold(cmp, (unsigned char)v[i + j]) == fold(cmp, (unsigned char)k[j]))
			j++;
		if (j == lk)
			return true;
	}
	return false;
}

static size_t charlen(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '\0' || ((unsigned char)s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

typedef struct pat_tok {
	char kind;          /* 'c' a literal byte, '?', '*' */
	unsigned char c;
	int wild;           /* number of the wildcard (0-based), -1 for literals */
} pat_tok;

/* :matches: '*' any run, '?' one character, '\' quotes the next. */
static bool glob(int cmp, const char *v, const char *k, char **captures)
{
	size_t plen = 0, kl = strlen(k), vl = strlen(v);
	pat_tok *p = xmalloc((kl + 1) * sizeof(*p));
	int nwild = 0;
	for (size_t i = 0; i < kl; i++) {
		if (k[i] == '\\' && i + 1 < kl)
			p[plen++] = (pat_tok){'c', (unsigned char)k[++i], -1};
		else if (k[i] == '*' || k[i] == '?')
			p[plen++] = (pat_tok){k[i], 0, nwild++};
		else
			p[plen++] = (pat_tok){'c', (unsigned char)k[i], -1};
	}
	size_t (*cap)[2] = xcalloc((size_t)nwild + 1, sizeof(*cap));
	size_t pi = 0, si = 0, star_pi = 0, star_start = 0, star_si = 0;
	bool have_star = false, ok = true;
	while (si < vl) {
		if (pi < plen && p[pi].kind == '?') {
			size_t n = charlen(v + si);
			cap[p[pi].wild][0] = si;
			cap[p[pi].wild][1] = si + n;
			si += n;
			pi++;
		} else if (pi < plen && p[pi].kind == 'c' &&
			   fold(cmp, p[pi].c) == fold(cmp, (unsigned char)v[si])) {
			si++;
			pi++;
		} else if (pi < plen && p[pi].kind == '*') {
			have_star = true;
			star_pi = pi;
			star_start = star_si = si;
			cap[p[pi].wild][0] = cap[p[pi].wild][1] = si;
			pi++;
		} else if (have_star) {
			star_si += charlen(v + star_si);
			si = star_si;
			pi = star_pi + 1;
			cap[p[star_pi].wild][0] = star_start;
			cap[p[star_pi].wild][1] = si;
		} else {
			ok = false;
			break;
		}
	}
	while (ok && pi < plen && p[pi].kind == '*') {
		cap[p[pi].wild][0] = cap[p[pi].wild][1] = vl;
		pi++;
	}
	ok = ok && pi == plen;
	if (ok && captures != NULL) {
		captures[0] = xstrdup(v);
		for (int w = 0; w < nwild && w < 9; w++)
			captures[w + 1] = xstrndup(v + cap[w][0], cap[w][1] - cap[w][0]);
	}
	free(cap);
	free(p);
	return ok;
}

bool sieve_match(int cmp, int match, int rel, const char *value, const char *key,
		 char **captures)
{
	switch (match) {
	case MT_IS:
		return order(cmp, value, key) == 0;
	case MT_CONTAINS:
		return contains(cmp, value, key);
	case MT_MATCHES:
		return glob(cmp, value, key, captures);
	default:
		return rel_holds(rel, order(cmp, value, key));
	}
}

static void set_captures(sieve_interp *it, char **caps)
{
	for (int i = 0; i < 10; i++) {
		free(it->match[i]);
		it->match[i] = caps[i];
		caps[i] = NULL;
	}
}

/* Count the cost of one comparison; false (runtime error) past the bound. */
static bool charge(sieve_interp *it, int match, const char *v, const char *k)
{
	uint64_t lv = strlen(v) + 1, lk = strlen(k) + 1;
	it->work += match == MT_MATCHES || match == MT_CONTAINS ? lv * lk : lv + lk;
	if (it->work <= SIEVE_MAX_WORK)
		return true;
	sieve_rt_error(it, "the tests compared more than %d octets", SIEVE_MAX_WORK);
	return false;
}

bool sieve_match_values(sieve_interp *it, const sieve_opts *o, const strlist *values,
			const strlist *keys)
{
	if (o->match == MT_COUNT) {
		char count[32];
		snprintf(count, sizeof(count), "%zu", values->n);
		for (size_t k = 0; k < keys->n; k++)
			if (rel_holds(o->rel, order(o->cmp, count, keys->items[k])))
				return true;
		return false;
	}
	bool want_caps = o->match == MT_MATCHES && it->variables;
	for (size_t v = 0; v < values->n; v++)
		for (size_t k = 0; k < keys->n; k++) {
			if (!charge(it, o->match, values->items[v], keys->items[k]))
				return false;
			char *caps[10] = {0};
			if (sieve_match(o->cmp, o->match, o->rel, values->items[v], keys->items[k],
					want_caps ? caps : NULL)) {
				if (want_caps)
					set_captures(it, caps);
				return true;
			}
		}
	return false;
}
