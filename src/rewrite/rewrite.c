/* rewrite.c — one configuration's address rewriting (see rewrite.h): the
 * canonical map, then masquerading.  Must not log. */
#include "rewrite/rewrite.h"

#include <stdlib.h>
#include <string.h>

void rw_rules_init(rw_rules *r)
{
	memset(&r->canon, 0, sizeof r->canon);
	rw_masq_init(&r->masq);
}

void rw_rules_free(rw_rules *r)
{
	rw_canon_free(&r->canon);
	rw_masq_free(&r->masq);
}

static bool touches(const rw_rules *r, unsigned targets, rw_direction d)
{
	for (size_t i = 0; i < r->canon.n; i++)
		if ((r->canon.e[i].targets & targets) && (r->canon.e[i].dirs & d))
			return true;
	return r->masq.domains.n > 0 && (r->masq.targets & targets) && (r->masq.dirs & d);
}

bool rw_rules_touch_headers(const rw_rules *r, rw_direction d)
{
	return touches(r, RW_HEADER_TARGETS, d);
}

bool rw_rules_touch(const rw_rules *r, rw_target t, rw_direction d)
{
	return touches(r, RW_TARGET_BIT(t), d);
}

char *rw_rules_apply(const rw_rules *r, rw_target t, rw_direction d, const char *address)
{
	char *c = rw_canon_apply(&r->canon, t, d, address);
	char *m = rw_masq_apply(&r->masq, t, d, c != NULL ? c : address);
	if (m == NULL)
		return c;
	free(c);
	if (strcmp(m, address) == 0) {
		free(m);
		return NULL;
	}
	return m;
}
