/* dmarcrecord.c — the DMARC policy record (RFC 7489 6.3, 6.4): tag=value
 * pairs after a leading v=DMARC1, one parser per tag in a table, and the
 * 6.6.3 rule for a record without a usable p= (p=none when rua= names a
 * valid URI, else the record is unusable).  Pure: no DNS, no policy
 * decisions beyond the record itself. */
#include "msgauth/dmarc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"

typedef struct parse_state {
	dmarc_record *r;
	bool p_ok, sp_bad, rua_ok;
	unsigned seen;      /* bit per tag of the table */
	buf problems;
} parse_state;

/* One tag's parser: false when the value is not valid. */
typedef bool tag_fn(parse_state *st, const char *value);

static const char *const policy_names[] = {"none", "quarantine", "reject"};

const char *dmarc_policy_name(dmarc_policy p)
{
	return policy_names[p];
}

static bool parse_policy(const char *v, dmarc_policy *p_r)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (str_ascii_ieq(v, policy_names[i])) {
			*p_r = (dmarc_policy)i;
			return true;
		}
	return false;
}

static bool tag_p(parse_state *st, const char *v)
{
	st->p_ok = parse_policy(v, &st->r->p);
	return st->p_ok;
}

static bool tag_sp(parse_state *st, const char *v)
{
	st->sp_bad = !parse_policy(v, &st->r->sp);
	return !st->sp_bad;
}

/* 1*DIGIT up to max, into *n_r. */
static bool parse_uint(const char *v, unsigned long max, unsigned long *n_r)
{
	unsigned long n = 0;
	if (*v == '\0')
		return false;
	for (; *v; v++) {
		if (!isdigit((unsigned char)*v) || n > (max - (unsigned long)(*v - '0')) / 10)
			return false;
		n = n * 10 + (unsigned long)(*v - '0');
	}
	*n_r = n;
	return true;
}

static bool tag_pct(parse_state *st, const char *v)
{
	unsigned long n;
	if (!parse_uint(v, 100, &n))
		return false;
	st->r->pct = (int)n;
	return true;
}

static bool tag_ri(parse_state *st, const char *v)
{
	return parse_uint(v, 4294967295UL, &st->r->ri);
}

static bool parse_align(const char *v, bool *strict_r)
{
	if (!str_ascii_ieq(v, "r") && !str_ascii_ieq(v, "s"))
		return false;
	*strict_r = (*v == 's' || *v == 'S');
	return true;
}

static bool tag_adkim(parse_state *st, const char *v)
{
	return parse_align(v, &st->r->adkim_strict);
}

static bool tag_aspf(parse_state *st, const char *v)
{
	return parse_align(v, &st->r->aspf_strict);
}

/* A URI as dmarc-uri wants it (6.4): scheme ":" rest, then an optional
 * "!" size with a unit; no blanks. */
static bool uri_valid(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n), *bang = memchr(s, '!', n);
	if (colon == NULL || colon == s || !isalpha((unsigned char)s[0]) || (bang && bang < colon + 2))
		return false;
	for (const char *p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
			return false;
	size_t end = bang ? (size_t)(bang - s) : n;
	for (size_t i = (size_t)(colon - s) + 1; i < end; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	if (bang == NULL)
		return end > (size_t)(colon - s) + 1;
	size_t i = end + 1, digits = 0;
	while (i < n && isdigit((unsigned char)s[i]))
		i++, digits++;
	if (i < n && strchr("kmgt", s[i]) != NULL)
		i++;
	return digits > 0 && i == n;
}

/* A comma-separated list of URIs: true when at least one is valid (the
 * 6.6.3 test for rua=). */
static bool uri_list_valid(const char *v)
{
	bool any = false;
	while (*v) {
		size_t n = strcspn(v, ",");
		size_t a = 0, b = n;
		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		any = any || uri_valid(v + a, b - a);
		v += n + (v[n] == ',');
	}
	return any;
}

static bool tag_rua(parse_state *st, const char *v)
{
	st->r->rua = xstrdup(v);
	st->rua_ok = uri_list_valid(v);
	return st->rua_ok;
}

static bool tag_ruf(parse_state *st, const char *v)
{
	st->r->ruf = xstrdup(v);
	return uri_list_valid(v);
}

/* Colon-separated words, each one of allowed (NULL: any token). */
static bool word_list_valid(const char *v, const char *const *allowed)
{
	do {
		size_t n = strcspn(v, ":");
		bool ok = n > 0;
		for (size_t i = 0; ok && i < n; i++)
			ok = isalnum((unsigned char)v[i]) || v[i] == '-';
		for (size_t i = 0; ok && allowed != NULL; i++) {
			if (allowed[i] == NULL)
				return false;
			if (strlen(allowed[i]) == n && str_ascii_nieq(v, allowed[i], n))
				break;
		}
		if (!ok)
			return false;
		v += n;
	} while (*v++ == ':');
	return true;
}

static bool tag_fo(parse_state *st, const char *v)
{
	static const char *const fo[] = {"0", "1", "d", "s", NULL};
	if (!word_list_valid(v, fo))
		return false;
	free(st->r->fo);
	st->r->fo = xstrdup(v);
	return true;
}

static bool tag_rf(parse_state *st, const char *v)
{
	if (!word_list_valid(v, NULL))
		return false;
	free(st->r->rf);
	st->r->rf = xstrdup(v);
	return true;
}

static const struct {
	const char *name;
	tag_fn *parse;
} tags[] = {
	{"p", tag_p},         {"sp", tag_sp},     {"pct", tag_pct}, {"adkim", tag_adkim},
	{"aspf", tag_aspf},   {"rua", tag_rua},   {"ruf", tag_ruf}, {"fo", tag_fo},
	{"rf", tag_rf},       {"ri", tag_ri},
};
#define N_TAGS (sizeof(tags) / sizeof(tags[0]))

static void note(parse_state *st, const char *what, const char *name)
{
	if (st->problems.len > 0)
		BUF_PUTS(&st->problems, "; ");
	BUF_PRINTF(&st->problems, "%s %s", what, name);
}

/* One "name=value" (already trimmed, NUL-terminated in place). */
static void parse_tag(parse_state *st, char *tag)
{
	char *eq = strchr(tag, '=');
	if (eq == NULL) {
		note(st, "ignored text without =:", tag);
		return;
	}
	char *name_end = eq, *value = eq + 1;
	while (name_end > tag && (name_end[-1] == ' ' || name_end[-1] == '\t'))
		name_end--;
	*name_end = '\0';
	value += strspn(value, " \t");
	for (size_t i = 0; i < N_TAGS; i++) {
		if (!str_ascii_ieq(tag, tags[i].name))
			continue;
		if (st->seen & (1u << i))
			note(st, "ignored a repeated", tags[i].name);
		else if (!tags[i].parse(st, value))
			note(st, "ignored an invalid", tags[i].name);
		st->seen |= 1u << i;
		return;
	}
	/* unknown tags are ignored (6.3) */
}

/* Is tag "v = DMARC1" (blanks allowed around "=", the value exactly so)? */
static bool is_version_tag(const char *tag)
{
	if (*tag != 'v' && *tag != 'V')
		return false;
	tag += 1 + strspn(tag + 1, " \t");
	if (*tag != '=')
		return false;
	tag += 1 + strspn(tag + 1, " \t");
	return strcmp(tag, "DMARC1") == 0;
}

/* Split text into trimmed tags and hand them out; false when the first is
 * not v=DMARC1. */
static bool parse_tags(parse_state *st, char *text)
{
	bool first = true;
	for (char *tag = text; tag != NULL;) {
		char *semi = strchr(tag, ';'), *end;
		if (semi != NULL)
			*semi = '\0';
		tag += strspn(tag, " \t");
		end = tag + strlen(tag);
		while (end > tag && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (first && !is_version_tag(tag))
			return false;
		if (!first && *tag != '\0')
			parse_tag(st, tag);
		first = false;
		tag = semi ? semi + 1 : NULL;
	}
	return true;
}

static void record_defaults(dmarc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->pct = 100;
	r->fo = xstrdup("0");
	r->rf = xstrdup("afrf");
	r->ri = 86400;
}

dmarc_record_status dmarc_record_parse(const char *text, size_t len, dmarc_record *r, char **why_r)
{
	if (memchr(text, '\0', len) != NULL)
		return DMARC_RECORD_NOT_DMARC;
	char *copy = xstrndup(text, len);
	parse_state st = {.r = r};
	record_defaults(r);
	buf_init(&st.problems, BUF_UNBOUNDED);
	bool dmarc = parse_tags(&st, copy);
	free(copy);
	if (!(st.seen & (1u << 1)))   /* no sp= (tags[1]): p applies to subdomains too */
		r->sp = r->p;
	dmarc_record_status s = DMARC_RECORD_OK;
	if (!dmarc) {
		s = DMARC_RECORD_NOT_DMARC;
	} else if ((!st.p_ok || st.sp_bad) && !st.rua_ok) {
		*why_r = xasprintf("DMARC record without a valid p= tag%s", st.sp_bad ? " or with an invalid sp=" : "");
		s = DMARC_RECORD_INVALID;
	} else if (!st.p_ok || st.sp_bad) {
		r->p = r->sp = DMARC_POLICY_NONE;   /* 6.6.3: as if v=DMARC1; p=none */
		r->p_assumed = true;
	}
	r->problem = st.problems.len > 0 && s == DMARC_RECORD_OK ? buf_steal(&st.problems) : NULL;
	buf_free(&st.problems);
	if (s != DMARC_RECORD_OK)
		dmarc_record_free(r);
	return s;
}

void dmarc_record_free(dmarc_record *r)
{
	free(r->rua);
	free(r->ruf);
	free(r->fo);
	free(r->rf);
	free(r->problem);
	memset(r, 0, sizeof(*r));
}
