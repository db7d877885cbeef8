/* canonical.c — the canonical map (see canonical.h): its entries, the
 * names of targets and directions, and the look-up for one address.  Must
 * not know where addresses come from (envelope or header) or log. */
#include "rewrite/canonical.h"

#include <stdlib.h>
#include <string.h>

#include "envelope/address.h"
#include "lib/strutil.h"

static const char *const target_names[RW_TARGET_COUNT] = {
	[RW_ENV_SENDER] = "envelope_sender", [RW_ENV_RCPT] = "envelope_recipient",
	[RW_HDR_FROM] = "from",              [RW_HDR_TO] = "to",
	[RW_HDR_CC] = "cc",                  [RW_HDR_REPLY_TO] = "reply-to",
	[RW_HDR_SENDER] = "sender",
};

const char *rw_target_name(rw_target t)
{
	return (unsigned)t < RW_TARGET_COUNT ? target_names[t] : "?";
}

int rw_target_parse(const char *name)
{
	for (int t = 0; t < RW_TARGET_COUNT; t++)
		if (str_ascii_ieq(name, target_names[t]))
			return t;
	return -1;
}

int rw_target_of_field(const char *name, size_t len)
{
	for (int t = RW_HDR_FROM; t < RW_TARGET_COUNT; t++)
		if (strlen(target_names[t]) == len && str_ascii_nieq(name, target_names[t], len))
			return t;
	return -1;
}

unsigned rw_direction_parse(const char *name)
{
	static const struct { const char *name; unsigned dirs; } d[] = {
		{"inbound", RW_INBOUND}, {"outbound", RW_OUTBOUND}, {"both", RW_BOTH},
	};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
		if (str_ascii_ieq(name, d[i].name))
			return d[i].dirs;
	return 0;
}

/* "@domain" (domain_only) or a mailbox. */
static bool valid_key(const char *s, bool *domain_only_r)
{
	bool non_ascii = false; /* envelope_valid_domain only ever sets it */
	*domain_only_r = s[0] == '@';
	if (*domain_only_r)
		return s[1] != '\0' && envelope_valid_domain(s + 1, strlen(s + 1), true, &non_ascii);
	return envelope_valid_mailbox(s, true, &non_ascii);
}

bool rw_canon_add(rw_canon *c, const char *match, const char *replace, unsigned targets, unsigned dirs,
                  char **err_r)
{
	bool m_dom, r_dom;
	if (!valid_key(match, &m_dom)) {
		*err_r = xasprintf("match \"%s\" is neither an address nor \"@domain\"", match);
		return false;
	}
	if (!valid_key(replace, &r_dom)) {
		*err_r = xasprintf("replace \"%s\" is neither an address nor \"@domain\"", replace);
		return false;
	}
	if (r_dom && !m_dom) {
		*err_r = xasprintf("replace \"%s\" is a domain but match \"%s\" is an address: "
		                   "an address maps to an address", replace, match);
		return false;
	}
	c->e = xrealloc(c->e, (c->n + 1) * sizeof(*c->e));
	rw_canon_entry *e = &c->e[c->n++];
	e->match = xstrdup(match);
	str_ascii_lower(e->match);
	e->replace = xstrdup(replace);
	e->targets = targets;
	e->dirs = dirs;
	return true;
}

void rw_canon_free(rw_canon *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].match);
		free(c->e[i].replace);
	}
	free(c->e);
	c->e = NULL;
	c->n = 0;
}

/* The first entry for t and d whose match is key (exact or "@domain"). */
static const rw_canon_entry *find(const rw_canon *c, rw_target t, rw_direction d, const char *key, bool domain)
{
	for (size_t i = 0; i < c->n; i++) {
		const rw_canon_entry *e = &c->e[i];
		if ((e->targets & RW_TARGET_BIT(t)) && (e->dirs & d) && (e->match[0] == '@') == domain &&
		    str_ascii_ieq(e->match, key))
			return e;
	}
	return NULL;
}

char *rw_canon_apply(const rw_canon *c, rw_target t, rw_direction d, const char *address)
{
	const char *at = strrchr(address, '@');
	if (c->n == 0 || at == NULL || at == address)
		return NULL;
	const rw_canon_entry *e = find(c, t, d, address, false);
	char *out = NULL;
	if (e != NULL)
		out = xstrdup(e->replace);
	else if ((e = find(c, t, d, at, true)) != NULL)
		out = e->replace[0] == '@' ? xasprintf("%.*s%s", (int)(at - address), address, e->replace)
		                           : xstrdup(e->replace);
	if (out != NULL && strcmp(out, address) == 0) {
		free(out);
		out = NULL;
	}
	return out;
}
