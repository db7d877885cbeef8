/* spfrecord.c — one SPF record as text → its terms (RFC 7208 sections 4.6,
 * 5, 6 and 12): mechanisms with their qualifier, domain-spec and CIDR
 * lengths, the redirect and exp modifiers, unknown modifiers checked and
 * dropped.  The whole record is checked before anything is evaluated, so
 * a syntax error anywhere is a permerror.  No DNS and no macro expansion. */
#include "msgauth/spfint.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

typedef enum arg_rule {
	ARG_NONE,          /* all */
	ARG_DOMAIN,        /* include, exists: ":" domain-spec */
	ARG_DOMAIN_OPT,    /* ptr: [ ":" domain-spec ] */
	ARG_DOMAIN_CIDR,   /* a, mx: [ ":" domain-spec ] [ dual-cidr-length ] */
	ARG_IP4,           /* ip4: ":" ip4-network [ ip4-cidr-length ] */
	ARG_IP6,           /* ip6: ":" ip6-network [ ip6-cidr-length ] */
} arg_rule;

static const struct {
	const char *name;
	spf_mech mech;
	arg_rule rule;
} mechanisms[] = {
	{"all", SPF_M_ALL, ARG_NONE},          {"include", SPF_M_INCLUDE, ARG_DOMAIN},
	{"a", SPF_M_A, ARG_DOMAIN_CIDR},       {"mx", SPF_M_MX, ARG_DOMAIN_CIDR},
	{"ptr", SPF_M_PTR, ARG_DOMAIN_OPT},    {"ip4", SPF_M_IP4, ARG_IP4},
	{"ip6", SPF_M_IP6, ARG_IP6},           {"exists", SPF_M_EXISTS, ARG_DOMAIN},
};

bool spf_is_record(const char *text, size_t len)
{
	return len >= 6 && str_ascii_nieq(text, "v=spf1", 6) && (len == 6 || text[6] == ' ');
}

/* A CIDR length: 1*DIGIT without a leading zero, at most max; -1 if not. */
static int cidr_value(const char *s, size_t n, int max)
{
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Take a trailing "/" 1*DIGIT off [s, *end): its length in *v_r (max
 * applies), or false when there is none; "//n" only when dbl. */
static bool strip_cidr(const char *s, size_t *end, bool dbl, int max, int *v_r, bool *bad_r)
{
	size_t e = *end, d = e;
	while (d > 0 && isdigit((unsigned char)s[d - 1]))
		d--;
	if (d == e || d == 0 || s[d - 1] != '/')
		return false;
	bool is_dbl = d >= 2 && s[d - 2] == '/';
	if (is_dbl != dbl)
		return false;
	*v_r = cidr_value(s + d, e - d, max);
	if (*v_r < 0)
		*bad_r = true;
	*end = d - (dbl ? 2 : 1);
	return true;
}

/* ip4-network: four decimal octets, no leading zeros (RFC 7208 5.6). */
static bool ip4_network(const char *s, size_t n, spf_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = 4;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0 && (i >= n || s[i++] != '.'))
			return false;
		size_t start = i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		int v = cidr_value(s + start, i - start, 255);
		if (v < 0)
			return false;
		ip->addr[part] = (unsigned char)v;
	}
	return i == n;
}

static bool ip6_network(const char *s, size_t n, spf_ip *ip)
{
	char text[64];
	if (n == 0 || n >= sizeof text)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	ip->family = 6;
	return inet_pton(AF_INET6, text, ip->addr) == 1;
}

/* ip4 / ip6: rest is ":" network [ "/" length ]. */
static bool parse_ip_arg(const char *rest, spf_term *t)
{
	bool v4 = t->mech == SPF_M_IP4, bad = false;
	if (rest[0] != ':')
		return false;
	rest++;
	size_t end = strlen(rest);
	int len;
	if (strip_cidr(rest, &end, false, v4 ? 32 : 128, &len, &bad)) {
		if (bad)
			return false;
		*(v4 ? &t->cidr4 : &t->cidr6) = len;
	}
	return v4 ? ip4_network(rest, end, &t->net) : ip6_network(rest, end, &t->net);
}

/* a, mx, ptr, include, exists: [ ":" domain-spec ] [ dual-cidr-length ]. */
static bool parse_domain_arg(const char *rest, arg_rule rule, spf_term *t)
{
	size_t end = strlen(rest);
	bool bad = false;
	if (rule == ARG_DOMAIN_CIDR) {
		strip_cidr(rest, &end, true, 128, &t->cidr6, &bad);
		strip_cidr(rest, &end, false, 32, &t->cidr4, &bad);
		if (bad)
			return false;
	}
	if (end == 0)
		return rule != ARG_DOMAIN;
	if (rest[0] != ':')
		return false;
	t->domain = xstrndup(rest + 1, end - 1);
	return spf_domain_spec_valid(t->domain);
}

static bool parse_mechanism(const char *term, spf_term *t, char **err_r)
{
	t->qualifier = '+';
	if (strchr("+-~?", term[0]) != NULL)
		t->qualifier = *term++;
	size_t n = strcspn(term, ":/");
	t->cidr4 = 32;
	t->cidr6 = 128;
	for (size_t i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++) {
		if (strlen(mechanisms[i].name) != n || !str_ascii_nieq(term, mechanisms[i].name, n))
			continue;
		t->mech = mechanisms[i].mech;
		arg_rule rule = mechanisms[i].rule;
		bool ok = rule == ARG_NONE       ? term[n] == '\0'
		          : rule == ARG_IP4 || rule == ARG_IP6 ? parse_ip_arg(term + n, t)
		                                   : parse_domain_arg(term + n, rule, t);
		if (!ok)
			*err_r = xasprintf("syntax error in \"%s\"", t->text);
		return ok;
	}
	*err_r = xasprintf("unknown mechanism \"%s\"", t->text);
	return false;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static bool modifier_name(const char *s, size_t n)
{
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("-_.", s[i]) == NULL)
			return false;
	return true;
}

static bool parse_modifier(spf_record *r, const char *term, size_t n, char **err_r)
{
	const char *value = term + n + 1;
	char **slot = NULL;
	if (n == 8 && str_ascii_nieq(term, "redirect", 8))
		slot = &r->redirect;
	else if (n == 3 && str_ascii_nieq(term, "exp", 3))
		slot = &r->exp;
	if (!modifier_name(term, n)) {
		*err_r = xasprintf("invalid modifier \"%s\"", term);
	} else if (slot != NULL && *slot != NULL) {
		*err_r = xasprintf("%.*s= given twice", (int)n, term);
	} else if (slot != NULL ? !spf_domain_spec_valid(value) : !spf_macro_valid(value, false)) {
		*err_r = xasprintf("syntax error in \"%s\"", term);
	} else {
		if (slot != NULL)
			*slot = xstrdup(value);
		return true;
	}
	return false;
}

static bool parse_term(spf_record *r, const char *term, char **err_r)
{
	size_t n = strcspn(term, "=:/");
	if (term[n] == '=')
		return parse_modifier(r, term, n, err_r);
	r->terms = xrealloc(r->terms, sizeof(spf_term) * (r->n + 1));
	spf_term *t = &r->terms[r->n++];
	memset(t, 0, sizeof(*t));
	t->text = xstrdup(term);
	return parse_mechanism(term, t, err_r);
}

spf_record *spf_record_parse(const char *text, size_t len, char **err_r)
{
	*err_r = NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c > 0x7e) {
			*err_r = xasprintf("invalid byte 0x%02x in the record", c);
			return NULL;
		}
	}
	if (!spf_is_record(text, len)) {
		*err_r = xstrdup("not an SPF record");
		return NULL;
	}
	spf_record *r = xcalloc(1, sizeof(*r));
	/* text[len] need not be a NUL: every step stays below end */
	const char *p = text + 6, *end = text + len;
	while (*err_r == NULL) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);
		char *term = xstrndup(p, n);
		parse_term(r, term, err_r);
		free(term);
		p += n;
	}
	if (*err_r != NULL)
		spf_record_free(&r);
	return r;
}

void spf_record_free(spf_record **rp)
{
	spf_record *r = *rp;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->terms[i].text);
		free(r->terms[i].domain);
	}
	free(r->terms);
	free(r->redirect);
	free(r->exp);
	free(r);
	*rp = NULL;
}
