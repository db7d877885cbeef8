/* advice.h — the pure parts of `yubin doctor` (no DNS, no sockets), so
 * that the unit tests reach them: the SPF record to suggest when an
 * address is not covered, and the reading of an SRV answer's text. */
#ifndef YUBIN_DOCTOR_ADVICE_H
#define YUBIN_DOCTOR_ADVICE_H

#include <stdbool.h>

/* record with "ip4:IP" / "ip6:IP" put before its "all" mechanism (any
 * qualifier), or at the end when it has none: what to publish so that ip
 * matches before anything else decides.  malloc'd. */
char *doctor_spf_with_address(const char *record, const char *ip);

/* One SRV value as dns/resolver.h gives it, "priority weight port target":
 * the port and (pointing into v) the target.  False when malformed. */
bool doctor_srv_split(const char *v, int *port_r, const char **target_r);

#endif
