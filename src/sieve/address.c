/* address.c — the parts of addresses that the address and envelope tests
 * compare (RFC 5228 2.7.4: :all, :localpart, :domain; RFC 5233 subaddress:
 * :user and :detail with '+' as the separator), and reading the one
 * address of redirect and vacation's :from and :addresses.  Header values are parsed by
 * src/mime's address list parser (groups and comments included). */
#include <stdlib.h>
#include <string.h>

#include "envelope/address.h"
#include "mime/address.h"
#include "sieve/sieve_int.h"

#define SIEVE_DETAIL_SEP '+'

/* A quoted-string local part without its quotes and backslashes. */
static char *unquote(const char *local)
{
	size_t n = strlen(local);
	if (n < 2 || local[0] != '"' || local[n - 1] != '"')
		return xstrdup(local);
	char *out = xmalloc(n), *o = out;
	for (size_t i = 1; i + 1 < n; i++) {
		if (local[i] == '\\' && i + 2 < n)
			i++;
		*o++ = local[i];
	}
	*o = '\0';
	return out;
}

/* The parts compare the local part unquoted; :all keeps the quotes (the
 * address as written), as Pigeonhole does. */
static bool part_of_quoted(const char *local, const char *host, int part, char **out_r);

/* local@host split into the asked part; false when that part is absent
 * (a :detail without a separator, RFC 5233 4). */
static bool part_of(const char *local, const char *host, int part, char **out_r)
{
	const char *sep = strchr(local, SIEVE_DETAIL_SEP);
	switch (part) {
	case AP_LOCAL:
		*out_r = xstrdup(local);
		return true;
	case AP_DOMAIN:
		*out_r = xstrdup(host);
		return true;
	case AP_USER:
		*out_r = sep != NULL ? xstrndup(local, (size_t)(sep - local)) : xstrdup(local);
		return true;
	case AP_DETAIL:
		if (sep == NULL)
			return false;
		*out_r = xstrdup(sep + 1);
		return true;
	default:
		*out_r = *host != '\0' ? xasprintf("%s@%s", local, host) : xstrdup(local);
		return true;
	}
}

static bool part_of_quoted(const char *local, const char *host, int part, char **out_r)
{
	if (part == AP_ALL)
		return part_of(local, host, part, out_r);
	char *plain = unquote(local);
	bool ok = part_of(plain, host, part, out_r);
	free(plain);
	return ok;
}

void sieve_address_parts(const char *value, int part, strlist *out)
{
	mime_addrlist l;
	mime_parse_addresses(value, &l);
	for (size_t i = 0; i < l.n; i++) {
		const mime_address *a = &l.items[i];
		if (a->mailbox == NULL || a->host == NULL)
			continue;   /* a group's start or end */
		char *p;
		if (part_of_quoted(a->mailbox, a->host, part, &p))
			strlist_add_owned(out, p);
	}
	mime_addrlist_free(&l);
}

bool sieve_addr_part(const char *addr, int part, char **out_r)
{
	if (*addr == '\0') {
		/* the null reverse-path is "" for :all only (RFC 5228 5.4) */
		if (part != AP_ALL)
			return false;
		*out_r = xstrdup("");
		return true;
	}
	const char *at = strrchr(addr, '@');
	char *local = at != NULL ? xstrndup(addr, (size_t)(at - addr)) : xstrdup(addr);
	bool ok = part_of(local, at != NULL ? at + 1 : "", part, out_r);
	free(local);
	return ok;
}

char *sieve_address_spec(const char *s)
{
	mime_addrlist l;
	mime_parse_addresses(s, &l);
	char *out = NULL;
	if (l.n == 1 && l.items[0].mailbox != NULL && l.items[0].host != NULL &&
	    l.items[0].route == NULL && *l.items[0].host != '\0') {
		out = xasprintf("%s@%s", l.items[0].mailbox, l.items[0].host);
		bool non_ascii;
		if (!envelope_valid_mailbox(out, true, &non_ascii)) {
			free(out);
			out = NULL;
		}
	}
	mime_addrlist_free(&l);
	return out;
}

bool sieve_valid_address(const char *s)
{
	char *spec = sieve_address_spec(s);
	free(spec);
	return spec != NULL;
}
