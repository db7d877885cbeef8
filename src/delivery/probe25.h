/* probe25.h — is outbound port 25 open?  (OP25B: networks that block
 * outbound port 25.)  At start-up and every delivery.probe_interval, a
 * round of non-blocking TCP connects to delivery.probe_hosts (or the MX
 * hosts of delivery.probe_domain) on delivery.port, from the configured
 * source address, each closed as soon as it connects.  A round is "open"
 * when any target connects, "blocked" when every target failed (refused,
 * timed out, unreachable), and says nothing when no target could be found
 * (DNS).  The verdict changes only after delivery.probe_rounds consecutive
 * rounds disagree with it, both ways (hysteresis).  On a change it logs
 * route_change (or port25_blocked without a relay), counts the metric,
 * writes data_dir/route.state and tells its owner.  It must not decide
 * routes itself (route.c does, given probe25_blocked()) nor touch the
 * queue. */
#ifndef YUBIN_PROBE25_H
#define YUBIN_PROBE25_H

#include <event2/event.h>
#include <stdbool.h>

#include "dns/resolver.h"
#include "lib/config.h"

typedef struct probe25 probe25;
/* The verdict changed: blocked or open again. */
typedef void probe25_change_fn(void *arg, bool blocked);

/* NULL when no target is configured (no probe_hosts, no probe_domain):
 * then port 25 counts as open.  The first round starts on the loop at
 * once. */
probe25 *probe25_new(struct event_base *base, const config *cfg, dns_resolver *dns, probe25_change_fn *changed,
                     void *arg);
/* Stops a round in flight (its sockets closed, look-ups forgotten). */
void probe25_free(probe25 **p);
/* The verdict now (false for NULL). */
bool probe25_blocked(const probe25 *p);
/* A delivery found every MX of a domain unreachable at connect: probe again
 * soon (at most every few seconds).  It never changes the verdict by
 * itself: one dead domain is not OP25B. */
void probe25_hint(probe25 *p);

#endif
