/* dmarcorg.c — the organizational domain (RFC 7489 3.2) from the Public
 * Suffix List, through Debian's libpsl, and identifier alignment (3.1).
 *
 * psl_latest(NULL), not psl_builtin(): the built-in list is the copy
 * compiled into libpsl when Debian built it, frozen until libpsl itself is
 * updated, while psl_latest reads the list the publicsuffix package
 * installs (/usr/share/publicsuffix/public_suffix_list.dafsa, its
 * PSL_DISTFILE) and takes it when it is newer than the built-in copy, so a
 * stable update of publicsuffix reaches us without a new libpsl.  The
 * built-in copy stays as the fallback when the file cannot be read. */
#include "msgauth/dmarc.h"

#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

struct dmarc_psl {
	psl_ctx_t *owned;        /* from psl_latest; NULL when built-in */
	const psl_ctx_t *ctx;
};

dmarc_psl *dmarc_psl_open(char **err_r)
{
	dmarc_psl *p = xcalloc(1, sizeof(*p));
	p->owned = psl_latest(NULL);
	p->ctx = p->owned != NULL ? p->owned : psl_builtin();
	if (p->ctx == NULL) {
		free(p);
		*err_r = xasprintf("cannot load the Public Suffix List (%s; install the publicsuffix package)",
		                   psl_dist_filename() ? psl_dist_filename() : "libpsl has no list file");
		return NULL;
	}
	return p;
}

void dmarc_psl_free(dmarc_psl **pp)
{
	if (*pp == NULL)
		return;
	psl_free((*pp)->owned);
	free(*pp);
	*pp = NULL;
}

/* domain in lower case without trailing dots (malloc'd); every one goes,
 * so that "a.example.." is no organizational domain "example." with a dot
 * left over.  "." alone stays. */
static char *domain_norm(const char *domain)
{
	char *d = xstrdup(domain);
	str_ascii_lower(d);
	size_t n = strlen(d);
	while (n > 1 && d[n - 1] == '.')
		d[--n] = '\0';
	return d;
}

char *dmarc_org_domain(const dmarc_psl *psl, const char *domain)
{
	char *d = domain_norm(domain);
	/* NULL when d is itself a public suffix (or has no label more) */
	const char *reg = psl_registrable_domain(psl->ctx, d);
	if (reg == NULL || reg == d)
		return d;
	memmove(d, reg, strlen(reg) + 1);
	return d;
}

bool dmarc_aligned(const dmarc_psl *psl, const char *from_domain, const char *id, bool strict)
{
	if (id == NULL || from_domain == NULL)
		return false;
	char *a = strict ? domain_norm(from_domain) : dmarc_org_domain(psl, from_domain);
	char *b = strict ? domain_norm(id) : dmarc_org_domain(psl, id);
	bool same = strcmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}
