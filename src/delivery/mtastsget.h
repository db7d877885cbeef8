/* mtastsget.h — the MTA-STS policy of a recipient domain, for the
 * outbound scheduler, on the event loop (RFC 8461 3, 5.1): look up the
 * `_mta-sts` TXT record with yubin's resolver, then use the cached policy
 * when the id is the same and it has not expired, else fetch it over HTTPS
 * (mtastsfetch.c on this module's own two worker threads, the address of
 * mta-sts.DOMAIN resolved here) and cache it in memory and in
 * data_dir/mtasts.db (mtastsdb.c) for max_age.  A failed fetch or a missing
 * TXT never drops a valid cached policy.  Cached policies are refreshed in
 * the background (mtasts.refresh_interval) before they expire.  Bounded:
 * MTASTSGET_CACHE_MAX domains in memory, MTASTSGET_FETCH_MAX fetches at
 * once (more: as if that fetch failed). */
#ifndef YUBIN_DELIVERY_MTASTSGET_H
#define YUBIN_DELIVERY_MTASTSGET_H

#include <event2/event.h>

#include "delivery/mtasts.h"
#include "dns/resolver.h"
#include "lib/config.h"

#define MTASTSGET_CACHE_MAX 10000
#define MTASTSGET_FETCH_MAX 64

typedef struct mtastsget mtastsget;

/* NULL with *err_r when the cache file cannot be opened; NULL with *err_r
 * NULL when mtasts.enable is 0. */
mtastsget *mtastsget_new(struct event_base *base, const config *cfg, dns_resolver *dns, char **err_r);
/* Pending look-ups are dropped (their callbacks do not run); fetches in
 * flight are stopped. */
void mtastsget_free(mtastsget **m);

/* The policy to apply to domain: p NULL for none (no policy, mode none,
 * or nothing usable); how says where it came from for the log
 * ("cached", "fetched", "none", "cached, fetch failed: ...").  Both are
 * valid during the call only.  Runs later, on the loop. */
typedef void mtastsget_fn(void *arg, const mtasts_policy *p, const char *how);
void mtastsget_lookup(mtastsget *m, const char *domain, mtastsget_fn *fn, void *arg);

/* During an mtastsget_fn call with p NULL: why the domain, which announces
 * a policy, has none that can be applied (MTASTS_FAIL_NONE when it has no
 * policy at all, or mode none), with *why_r (valid during the call) for
 * TLS-RPT's failure-reason-code.  A failed fetch under a usable cached
 * policy is not a failure here: the cached policy is applied. */
mtasts_failure mtastsget_failure(const mtastsget *m, const char **why_r);

#endif
