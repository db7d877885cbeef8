/* match.c — compiling and testing one value pattern (see match.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "policy/match.h"

#include <fnmatch.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/strutil.h"
#include "policy/lists.h"

/* Does hay hold needle, ASCII case ignored? */
static bool contains_nocase(const char *hay, size_t n, const char *needle, size_t k)
{
	if (k == 0)
		return true;
	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

/* "/re/flags": the expression and its options; false when pattern is not
 * in that form. */
static bool split_regex(const char *pattern, char **re_r, uint32_t *opts_r, char **err_r)
{
	size_t n = strlen(pattern);
	if (n < 2 || pattern[0] != '/')
		return false;
	const char *close = strrchr(pattern, '/');
	if (close == pattern)
		return false;
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	for (const char *f = close + 1; *f; f++) {
		switch (*f) {
		case 'i': opts |= PCRE2_CASELESS; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'x': opts |= PCRE2_EXTENDED; break;
		default:
			*err_r = xasprintf("unknown regular expression flag '%c' in %s (known: i, m, s, x)", *f, pattern);
			return true;
		}
	}
	*re_r = xstrndup(pattern + 1, (size_t)(close - pattern - 1));
	*opts_r = opts;
	return true;
}

static bool compile_regex(const char *re, uint32_t opts, policy_match *m, char **err_r)
{
	int code;
	PCRE2_SIZE at;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &code, &at, NULL);
	if (c == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		*err_r = xasprintf("the regular expression /%s/ does not compile: %s (at character %zu)", re,
		                   (const char *)msg, (size_t)at + 1);
		return false;
	}
	/* JIT makes matching several times faster; without it (no JIT on
	 * this CPU) the interpreter gives the same answers */
	(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	m->re = c;
	return true;
}

bool policy_match_compile(const char *pattern, policy_match_domain dom, policy_match *m, char **err_r)
{
	memset(m, 0, sizeof(*m));
	*err_r = NULL;
	m->text = xstrdup(pattern);
	char *re = NULL;
	uint32_t opts = 0;
	if (split_regex(pattern, &re, &opts, err_r)) {
		m->kind = PM_REGEX;
		bool ok = *err_r == NULL && compile_regex(re, opts, m, err_r);
		free(re);
		if (!ok)
			policy_match_free(m);
		return ok;
	}
	if (strncmp(pattern, "list:", 5) == 0) {
		m->kind = PM_LIST;
		free(m->text);
		m->text = xstrdup(pattern + 5);
		if (m->text[0] == '\0') {
			*err_r = xstrdup("\"list:\" needs a list name, like \"list:blocked\"");
			policy_match_free(m);
			return false;
		}
		return true;
	}
	if (dom == PMD_IP) {
		m->kind = PM_NETWORK;
		if (!cidr_parse(pattern, &m->net)) {
			*err_r = xasprintf("\"%s\" is not an address or a network like \"192.0.2.0/24\"", pattern);
			policy_match_free(m);
			return false;
		}
		return true;
	}
	if (strpbrk(pattern, "*?") != NULL)
		m->kind = PM_GLOB;
	else
		m->kind = dom == PMD_TEXT ? PM_CONTAINS : PM_EXACT;
	return true;
}

static bool regex_test(const policy_match *m, const char *value, size_t len)
{
	pcre2_code *c = (pcre2_code *)m->re;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc = pcre2_match(c, (PCRE2_SPTR)value, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

bool policy_match_test(const policy_match *m, const char *value, size_t len, const struct policy_lists *lists)
{
	if (value == NULL)
		return false;
	switch (m->kind) {
	case PM_EXACT:
		return strlen(m->text) == len && strncasecmp(m->text, value, len) == 0;
	case PM_CONTAINS:
		return contains_nocase(value, len, m->text, strlen(m->text));
	case PM_GLOB: {
		char *v = xstrndup(value, len);
		bool r = fnmatch(m->text, v, FNM_CASEFOLD) == 0;
		free(v);
		return r;
	}
	case PM_REGEX:
		return regex_test(m, value, len);
	case PM_LIST: {
		char *v = xstrndup(value, len);
		bool r = policy_lists_match(lists, m->text, v);
		free(v);
		return r;
	}
	case PM_NETWORK: {
		char *v = xstrndup(value, len);
		bool r = cidr_contains(&m->net, v);
		free(v);
		return r;
	}
	}
	return false;
}

void policy_match_free(policy_match *m)
{
	free(m->text);
	if (m->re != NULL)
		pcre2_code_free((pcre2_code *)m->re);
	memset(m, 0, sizeof(*m));
}
