/* dnsbl.c — DNS blocklists and allowlists, the pure part (see dnsbl.h):
 * reading policy.dnsbl, building query names, matching return codes.
 * Owns no state and does no I/O; asking the resolver and caching answers
 * belong to dnsblq.c, and what a hit means to the policy steps. */
#include "policy/dnsbl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/polconf.h"

/* ---- return codes */

static bool parse_v4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

bool dnsbl_code_parse(const char *s, dnsbl_code *out)
{
	memset(out, 0, sizeof(*out));
	if (s[0] == '&') {
		uint32_t m;
		if (strchr(s + 1, '.') != NULL) {
			if (!parse_v4(s + 1, &m))
				return false;
		} else {
			char *end;
			if (s[1] < '0' || s[1] > '9')
				return false;
			unsigned long long v = strtoull(s + 1, &end, 10);
			if (*end != '\0' || v > UINT32_MAX)
				return false;
			m = (uint32_t)v;
		}
		out->mask = m;
		return m != 0;
	}
	const char *dash = strchr(s, '-');
	if (dash == NULL) {
		if (!parse_v4(s, &out->lo))
			return false;
		out->hi = out->lo;
		return true;
	}
	char first[INET_ADDRSTRLEN];
	size_t n = (size_t)(dash - s);
	if (n >= sizeof first)
		return false;
	memcpy(first, s, n);
	first[n] = '\0';
	return parse_v4(first, &out->lo) && parse_v4(dash + 1, &out->hi) && out->lo <= out->hi;
}

dnsbl_match dnsbl_answer_match(const dnsbl_list *l, const char *answer)
{
	uint32_t a;
	if (answer == NULL || !parse_v4(answer, &a) || (a >> 24) != 127)
		return DNSBL_BOGUS;
	if (l->n_codes == 0)
		return DNSBL_MATCH;
	for (size_t i = 0; i < l->n_codes; i++) {
		const dnsbl_code *c = &l->codes[i];
		if (c->mask != 0 ? (a & c->mask) != 0 : (a >= c->lo && a <= c->hi))
			return DNSBL_MATCH;
	}
	return DNSBL_NOMATCH;
}

/* ---- query names */

/* Append ".zone" to the len octets in name_r; false when it does not fit
 * in 253 octets. */
static bool add_zone(char name_r[DNSBL_NAME_MAX], size_t len, const char *zone)
{
	size_t z = strlen(zone);
	if (len + 1 + z > DNSBL_NAME_MAX - 1)
		return false;
	name_r[len] = '.';
	memcpy(name_r + len + 1, zone, z + 1);
	return true;
}

bool dnsbl_ip_query(const char *ip, const char *zone, char name_r[DNSBL_NAME_MAX])
{
	unsigned char b[16];
	size_t len = 0;
	const unsigned char *v4 = NULL;
	if (inet_pton(AF_INET, ip, b) == 1) {
		v4 = b;
	} else if (inet_pton(AF_INET6, ip, b) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(b, mapped, sizeof mapped) == 0)
			v4 = b + 12;
	} else {
		return false;
	}
	if (v4 != NULL) {
		len = (size_t)snprintf(name_r, DNSBL_NAME_MAX, "%u.%u.%u.%u", v4[3], v4[2], v4[1], v4[0]);
	} else {
		static const char hex[] = "0123456789abcdef";
		for (int i = 15; i >= 0; i--) {
			name_r[len++] = hex[b[i] & 0xf];
			name_r[len++] = '.';
			name_r[len++] = hex[b[i] >> 4];
			if (i > 0)
				name_r[len++] = '.';
		}
		name_r[len] = '\0';
	}
	return add_zone(name_r, len, zone);
}

bool dnsbl_domain_query(const char *domain, const char *zone, char name_r[DNSBL_NAME_MAX])
{
	size_t n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = domain[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		           c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false; /* "[192.0.2.1]", UTF-8, spaces */
		}
	}
	if (label == 0 || n >= DNSBL_NAME_MAX)
		return false;
	memcpy(name_r, domain, n);
	name_r[n] = '\0';
	str_ascii_lower(name_r);
	return add_zone(name_r, n, zone);
}

/* ---- policy.dnsbl */

static bool read_number(const config_setting_t *m, double *out)
{
	int t = config_setting_type(m);
	if (t == CONFIG_TYPE_FLOAT)
		*out = config_setting_get_float(m);
	else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		*out = (double)config_setting_get_int64(m);
	else
		return false;
	return true;
}

static bool is_array(const config_setting_t *m)
{
	int t = config_setting_type(m);
	return t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST;
}

static bool read_codes(dnsbl_list *l, const config_setting_t *m, const char *file, strlist *errs)
{
	if (!is_array(m)) {
		policy_config_error(errs, file, m,
		          "dnsbl codes must be a list of strings, like [ \"127.0.0.2-127.0.0.11\", \"&4\" ]");
		return false;
	}
	int n = config_setting_length(m);
	free(l->codes);
	l->codes = xcalloc((size_t)n + 1, sizeof(*l->codes));
	l->n_codes = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (v == NULL || !dnsbl_code_parse(v, &l->codes[l->n_codes])) {
			policy_config_error(errs, file, e,
			          "dnsbl code %d is not an address, a range \"127.0.0.2-127.0.0.11\" or a mask \"&4\"", i + 1);
			return false;
		}
		l->n_codes++;
	}
	return true;
}

static bool read_check(dnsbl_list *l, const config_setting_t *m, const char *file, strlist *errs)
{
	static const struct { const char *word; unsigned bit; } words[] = {
		{"sender", DNSBL_CHECK_SENDER}, {"helo", DNSBL_CHECK_HELO}, {"client", DNSBL_CHECK_CLIENT}};
	if (!is_array(m) || config_setting_length(m) == 0) {
		policy_config_error(errs, file, m,
		          "dnsbl check must be a list of \"sender\", \"helo\" and \"client\"");
		return false;
	}
	l->check = 0;
	for (int i = 0; i < config_setting_length(m); i++) {
		const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
		const char *v = config_setting_get_string(e);
		size_t k;
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (v != NULL && strcmp(v, words[k].word) == 0)
				break;
		if (k == sizeof(words) / sizeof(words[0])) {
			policy_config_error(errs, file, e,
			          "dnsbl check entries are \"sender\", \"helo\" or \"client\"");
			return false;
		}
		l->check |= words[k].bit;
	}
	return true;
}

static bool valid_zone(const char *z)
{
	char tmp[DNSBL_NAME_MAX];
	return z[0] != '\0' && z[strlen(z) - 1] != '.' && dnsbl_domain_query("x", z, tmp);
}

/* One member of a list group; false after adding an error. */
static bool read_member(dnsbl_list *l, const config_setting_t *m, const char *file, strlist *errs)
{
	const char *name = config_setting_name(m);
	const char *sv = config_setting_get_string(m);
	if (strcmp(name, "name") == 0 || strcmp(name, "zone") == 0) {
		bool zone = name[0] == 'z';
		if (sv == NULL || sv[0] == '\0' || (zone && !valid_zone(sv))) {
			policy_config_error(errs, file, m, zone ? "dnsbl zone must be a domain name in quotes, like \"zen.spamhaus.org\""
			                                 : "dnsbl name must be a non-empty string");
			return false;
		}
		char **f = zone ? &l->zone : &l->name;
		free(*f);
		*f = xstrdup(sv);
		if (zone)
			str_ascii_lower(*f);
		return true;
	}
	if (strcmp(name, "type") == 0) {
		if (sv != NULL && (strcmp(sv, "ip") == 0 || strcmp(sv, "domain") == 0)) {
			l->type = sv[0] == 'i' ? DNSBL_IP : DNSBL_DOMAIN;
			return true;
		}
		policy_config_error(errs, file, m, "dnsbl type must be \"ip\" or \"domain\"");
		return false;
	}
	if (strcmp(name, "weight") == 0) {
		if (read_number(m, &l->weight) && l->weight > -1e6 && l->weight < 1e6)
			return true;
		policy_config_error(errs, file, m, "dnsbl weight must be a number, like 1.0 or -5.0");
		return false;
	}
	if (strcmp(name, "codes") == 0)
		return read_codes(l, m, file, errs);
	if (strcmp(name, "check") == 0)
		return read_check(l, m, file, errs);
	policy_config_error(errs, file, m, "unknown dnsbl setting \"%s\" (known: name, zone, type, codes, weight, check)", name);
	return false;
}

static void list_clear(dnsbl_list *l)
{
	free(l->name);
	free(l->zone);
	free(l->codes);
}

static bool read_list(dnsbl_lists *out, const config_setting_t *g, const char *file, strlist *errs)
{
	int line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		policy_config_error(errs, file, g, "each dnsbl must be a group like { name = \"zen\"; zone = \"zen.spamhaus.org\"; }");
		return false;
	}
	dnsbl_list l = {.type = DNSBL_IP, .check = DNSBL_CHECK_SENDER, .weight = 1.0, .line = line};
	bool ok = true;
	for (int i = 0; i < config_setting_length(g); i++)
		ok = read_member(&l, config_setting_get_elem(g, (unsigned)i), file, errs) && ok;
	if (ok && (l.name == NULL || l.zone == NULL)) {
		policy_config_error(errs, file, g, "a dnsbl needs a name and a zone");
		ok = false;
	}
	for (size_t i = 0; ok && i < out->n; i++)
		if (strcmp(out->v[i].name, l.name) == 0) {
			policy_config_error(errs, file, g, "two dnsbl lists are named \"%s\"", l.name);
			ok = false;
		}
	if (!ok) {
		list_clear(&l);
		return false;
	}
	out->v = xrealloc(out->v, sizeof(*out->v) * (out->n + 1));
	out->v[out->n++] = l;
	return true;
}

dnsbl_lists *dnsbl_lists_read(const config_setting_t *s, const char *file, strlist *errs)
{
	dnsbl_lists *out = xcalloc(1, sizeof(*out));
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		policy_config_error(errs, file, s,
		          "policy.dnsbl must be a list in parentheses: ( { name = ...; zone = ...; }, ... )");
		dnsbl_lists_free(&out);
		return NULL;
	}
	bool ok = true;
	for (int i = 0; i < config_setting_length(s); i++)
		ok = read_list(out, config_setting_get_elem(s, (unsigned)i), file, errs) && ok;
	if (!ok)
		dnsbl_lists_free(&out);
	return out;
}

void dnsbl_lists_free(dnsbl_lists **lp)
{
	dnsbl_lists *l = *lp;
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		list_clear(&l->v[i]);
	free(l->v);
	free(l);
	*lp = NULL;
}

bool dnsbl_config_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	dnsbl_lists_free(&pc->dnsbl);
	pc->dnsbl = dnsbl_lists_read(s, file, errors);
	return pc->dnsbl != NULL;
}

bool dnsbl_config_read_score(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	double v;
	if (!read_number(s, &v) || v < 0 || v > 1e6) {
		policy_config_error(errors, file, s, "policy.dnsbl_reject_score must be a number from 0 (off) up, like 1.0");
		return false;
	}
	pc->dnsbl_reject_score = v;
	return true;
}
