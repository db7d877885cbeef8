/* masquerade.h — masquerading: an address at a host under one of the
 * listed domains takes that domain (user@host.example.org →
 * user@example.org), for the targets and directions configured, except
 * the listed user names or addresses.  The first listed domain that the
 * address's domain is strictly under wins, so list deeper domains first
 * to keep them ("a.example.org", "example.org").  Pure. */
#ifndef YUBIN_REWRITE_MASQUERADE_H
#define YUBIN_REWRITE_MASQUERADE_H

#include "lib/strutil.h"
#include "rewrite/canonical.h"

typedef struct rw_masq {
	strlist domains;    /* lower-case */
	strlist except;     /* user names ("root") or addresses, lower-case */
	unsigned targets;
	unsigned dirs;
} rw_masq;

void rw_masq_init(rw_masq *m);
void rw_masq_free(rw_masq *m);
/* Add a domain or an exception (lower-cased copies). */
void rw_masq_add_domain(rw_masq *m, const char *domain);
void rw_masq_add_except(rw_masq *m, const char *who);

/* The masqueraded address (malloc'd), or NULL when it stays as it is. */
char *rw_masq_apply(const rw_masq *m, rw_target t, rw_direction d, const char *address);

#endif
