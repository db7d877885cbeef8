/* tableset.c — a list's entries in memory (see tableset.h): names in a
 * sorted array searched by bisection, networks in an array scanned in
 * order.  It parses and matches; loading and reloading are the backends'. */
#include "policy/tableset.h"

#include "lib/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef cidr net;

struct tableset {
	strlist entries;       /* as added */
	char **names;          /* lower-cased, sorted after seal */
	size_t n_names, cap_names;
	net *nets;
	size_t n_nets, cap_nets;
	bool sealed;
};

tableset *tableset_new(void)
{
	tableset *s = xcalloc(1, sizeof(*s));
	strlist_init(&s->entries);
	return s;
}

void tableset_free(tableset **sp)
{
	tableset *s = *sp;
	if (s == NULL)
		return;
	strlist_free(&s->entries);
	for (size_t i = 0; i < s->n_names; i++)
		free(s->names[i]);
	free(s->names);
	free(s->nets);
	free(s);
	*sp = NULL;
}

/* "192.0.2.0/24", "2001:db8::/32" or a single address (lib/cidr.h), with
 * a sentence for what is wrong. */
static bool parse_net(const char *entry, net *n_r, char **err_r)
{
	char text[TABLESET_MAX_ENTRY + 1];
	const char *slash = strchr(entry, '/');
	size_t alen = slash != NULL ? (size_t)(slash - entry) : strlen(entry);
	memcpy(text, entry, alen);
	text[alen] = '\0';
	if (!cidr_parse(text, n_r)) {
		*err_r = xasprintf("%s is not an IP address or network", entry);
		return false;
	}
	bool mapped = n_r->family == AF_INET && strchr(text, ':') != NULL;
	if (!cidr_parse(entry, n_r)) {
		*err_r = xasprintf("%s: the prefix length must be %s to %d", entry, mapped ? "96" : "0",
		                   n_r->family == AF_INET && !mapped ? 32 : 128);
		return false;
	}
	int max = n_r->family == AF_INET ? 32 : 128;
	unsigned char host[16];
	memcpy(host, n_r->addr, 16);
	for (int bit = n_r->bits; bit < max; bit++)
		host[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
	if (memcmp(host, n_r->addr, 16) != 0) {
		char want[INET6_ADDRSTRLEN];
		inet_ntop(n_r->family, host, want, sizeof want);
		*err_r = xasprintf("%s has bits set after the prefix; the network is %s/%d", entry, want,
		                   mapped ? n_r->bits : (int)strtol(slash + 1, NULL, 10));
		return false;
	}
	return true;
}

/* Text made of digits and dots, or holding a colon or a slash, is meant as
 * an address or a network. */
static bool looks_like_ip(const char *e)
{
	if (strchr(e, ':') != NULL || strchr(e, '/') != NULL)
		return true;
	return strspn(e, "0123456789.") == strlen(e);
}

/* A name entry: printable, no blanks, a wildcard only as "*." in front. */
static bool check_name(const char *e, char **err_r)
{
	for (const unsigned char *p = (const unsigned char *)e; *p; p++)
		if (*p <= ' ' || *p == 0x7f) {
			*err_r = xasprintf("%s: blanks and control characters are not allowed in an entry", e);
			return false;
		}
	const char *star = strchr(e, '*');
	if (star != NULL && (star != e || e[1] != '.' || e[2] == '\0' || strchr(e + 1, '*') != NULL)) {
		*err_r = xasprintf("%s: a wildcard must be the whole first label, as in *.example.org", e);
		return false;
	}
	if (strcmp(e, "@") == 0) {
		*err_r = xstrdup("@: a domain must follow the @");
		return false;
	}
	return true;
}

/* Checks entry; the network in *n_r and true in *is_net_r, or the stored
 * name in *name_r. */
static bool classify(const char *entry, bool *is_net_r, net *n_r, char **name_r, char **err_r)
{
	*name_r = NULL;
	*is_net_r = false;
	if (*entry == '\0') {
		*err_r = xstrdup("an entry is empty");
		return false;
	}
	if (strlen(entry) > TABLESET_MAX_ENTRY) {
		*err_r = xasprintf("an entry is longer than %d bytes", TABLESET_MAX_ENTRY);
		return false;
	}
	if (looks_like_ip(entry) && strchr(entry, '@') == NULL) {
		*is_net_r = true;
		return parse_net(entry, n_r, err_r);
	}
	if (!check_name(entry, err_r))
		return false;
	*name_r = xstrdup(entry);
	str_ascii_lower(*name_r);
	return true;
}

bool tableset_check(const char *entry, char **norm_r, char **err_r)
{
	bool is_net;
	net n;
	char *name;
	*norm_r = NULL;
	if (!classify(entry, &is_net, &n, &name, err_r))
		return false;
	*norm_r = is_net ? xstrdup(entry) : name;
	if (is_net)
		str_ascii_lower(*norm_r);
	return true;
}

bool tableset_add(tableset *s, const char *entry, char **err_r)
{
	if (s->entries.n >= TABLESET_MAX_ENTRIES) {
		*err_r = xasprintf("more than %d entries", TABLESET_MAX_ENTRIES);
		return false;
	}
	bool is_net;
	net n;
	char *name;
	if (!classify(entry, &is_net, &n, &name, err_r))
		return false;
	if (is_net) {
		if (s->n_nets == s->cap_nets) {
			s->cap_nets = s->cap_nets ? s->cap_nets * 2 : 16;
			s->nets = xrealloc(s->nets, s->cap_nets * sizeof(net));
		}
		s->nets[s->n_nets++] = n;
	} else {
		if (s->n_names == s->cap_names) {
			s->cap_names = s->cap_names ? s->cap_names * 2 : 16;
			s->names = xrealloc(s->names, s->cap_names * sizeof(char *));
		}
		s->names[s->n_names++] = name;
	}
	strlist_add(&s->entries, entry);
	s->sealed = false;
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void tableset_seal(tableset *s)
{
	if (s->n_names > 1)
		qsort(s->names, s->n_names, sizeof(char *), cmp_names);
	s->sealed = true;
}

static bool has_name(const tableset *s, const char *name)
{
	if (s->n_names == 0)
		return false;
	return bsearch(&name, s->names, s->n_names, sizeof(char *), cmp_names) != NULL;
}

/* Whether domain (lower-cased) is on the list as a domain: "domain",
 * "@domain" or a wildcard over one of its parents. */
static bool has_domain(const tableset *s, const char *domain, char *probe)
{
	probe[0] = '@';
	strcpy(probe + 1, domain);
	if (has_name(s, domain) || has_name(s, probe))
		return true;
	probe[0] = '*';
	for (const char *dot = strchr(domain, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
		strcpy(probe + 1, dot);
		if (has_name(s, probe))
			return true;
	}
	return false;
}

bool tableset_contains(const tableset *s, const char *key)
{
	size_t len = strlen(key);
	if (len == 0 || len > TABLESET_MAX_ENTRY || !s->sealed)
		return false;
	char lower[TABLESET_MAX_ENTRY + 1], probe[TABLESET_MAX_ENTRY + 2];
	memcpy(lower, key, len + 1);
	str_ascii_lower(lower);
	if (has_name(s, lower))
		return true;
	const char *at = strrchr(lower, '@');
	const char *domain = at != NULL ? at + 1 : lower;
	if (*domain == '\0')
		return false;
	/* a plain name is a domain too: HELO names, sender domains */
	return has_domain(s, domain, probe);
}

bool tableset_contains_ip(const tableset *s, const char *ip)
{
	for (size_t i = 0; i < s->n_nets; i++)
		if (cidr_contains(&s->nets[i], ip))
			return true;
	return false;
}

const strlist *tableset_entries(const tableset *s)
{
	return &s->entries;
}
