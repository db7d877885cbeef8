/* rewrite.h — the address rewriting of one configuration: the canonical
 * map, then masquerading, applied to one address for one target and
 * direction.  Built by the config reader (policy/polconf.c), used by the
 * SMTP session (envelope, smtp/rewrite_hdr.c for header fields).  Pure. */
#ifndef YUBIN_REWRITE_REWRITE_H
#define YUBIN_REWRITE_REWRITE_H

#include <stdbool.h>

#include "rewrite/canonical.h"
#include "rewrite/masquerade.h"

typedef struct rw_rules {
	rw_canon canon;
	rw_masq masq;
} rw_rules;

void rw_rules_init(rw_rules *r);
void rw_rules_free(rw_rules *r);
/* Does any rule apply to a header field in direction d? */
bool rw_rules_touch_headers(const rw_rules *r, rw_direction d);
/* Does any rule apply to target t in direction d? */
bool rw_rules_touch(const rw_rules *r, rw_target t, rw_direction d);

/* The rewritten address (malloc'd): canonical map first, then
 * masquerading of the result; NULL when the address stays as it is. */
char *rw_rules_apply(const rw_rules *r, rw_target t, rw_direction d, const char *address);

#endif
