/* mx.c — MX ordering (see mx.h). */
#include "delivery/mx.h"

#include <stdlib.h>
#include <string.h>

typedef struct mx_entry {
	const char *host;
	int pref;
	uint32_t key;   /* random tie-breaker */
} mx_entry;

static int cmp_entry(const void *a, const void *b)
{
	const mx_entry *x = a, *y = b;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

mx_status mx_order(const char *const *hosts, const int *prefs, size_t n,
                   uint32_t (*rnd)(void *), void *rnd_arg, strlist *hosts_r)
{
	/* RFC 7505: a single MX whose exchange is the root, "." */
	if (n == 1 && (strcmp(hosts[0], ".") == 0 || hosts[0][0] == '\0'))
		return MX_NULL;
	mx_entry *e = xcalloc(n, sizeof(*e));
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(hosts[i], ".") == 0 || hosts[i][0] == '\0')
			continue; /* a null MX among real ones is meaningless: skip it */
		e[m++] = (mx_entry){.host = hosts[i], .pref = prefs[i], .key = rnd(rnd_arg)};
	}
	qsort(e, m, sizeof(*e), cmp_entry);
	for (size_t i = 0; i < m; i++) {
		char *h = xstrdup(e[i].host);
		str_ascii_lower(h);
		size_t len = strlen(h);
		if (len > 1 && h[len - 1] == '.')
			h[len - 1] = '\0';
		if (strlist_contains(hosts_r, h))
			free(h);
		else
			strlist_add_owned(hosts_r, h);
	}
	free(e);
	return m == 0 ? MX_NULL : MX_HOSTS;
}
