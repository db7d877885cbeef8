/* masquerade.c — masquerading (see masquerade.h): the domain an address
 * takes, and its exceptions.  Must not log or know where the address is. */
#include "rewrite/masquerade.h"

#include <stdlib.h>
#include <string.h>

void rw_masq_init(rw_masq *m)
{
	strlist_init(&m->domains);
	strlist_init(&m->except);
	m->targets = 0;
	m->dirs = 0;
}

void rw_masq_free(rw_masq *m)
{
	strlist_free(&m->domains);
	strlist_free(&m->except);
}

static void add_lower(strlist *l, const char *s)
{
	char *c = xstrdup(s);
	str_ascii_lower(c);
	strlist_add_owned(l, c);
}

void rw_masq_add_domain(rw_masq *m, const char *domain)
{
	add_lower(&m->domains, domain[0] == '@' ? domain + 1 : domain);
}

void rw_masq_add_except(rw_masq *m, const char *who)
{
	add_lower(&m->except, who);
}

/* Is the user name or the whole address among the exceptions? */
static bool excepted(const rw_masq *m, const char *address, size_t local_len)
{
	for (size_t i = 0; i < m->except.n; i++) {
		const char *x = m->except.items[i];
		if (strchr(x, '@') != NULL ? str_ascii_ieq(x, address)
		                           : strlen(x) == local_len && str_ascii_nieq(x, address, local_len))
			return true;
	}
	return false;
}

char *rw_masq_apply(const rw_masq *m, rw_target t, rw_direction d, const char *address)
{
	const char *at = strrchr(address, '@');
	if (m->domains.n == 0 || !(m->targets & RW_TARGET_BIT(t)) || !(m->dirs & d) || at == NULL || at == address)
		return NULL;
	const char *host = at + 1;
	size_t hlen = strlen(host);
	for (size_t i = 0; i < m->domains.n; i++) {
		const char *dom = m->domains.items[i];
		size_t dlen = strlen(dom);
		if (hlen == dlen && str_ascii_ieq(host, dom))
			return NULL; /* already the domain itself */
		if (hlen > dlen + 1 && host[hlen - dlen - 1] == '.' && str_ascii_ieq(host + hlen - dlen, dom)) {
			if (excepted(m, address, (size_t)(at - address)))
				return NULL;
			return xasprintf("%.*s@%s", (int)(at - address), address, dom);
		}
	}
	return NULL;
}
