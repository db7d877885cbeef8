/* mx.h — choosing where mail for a domain goes (RFC 5321 5.1, RFC 7505):
 * MX hosts by preference, shuffled among equal preference; a null MX means
 * the domain accepts no mail.  Pure: the look-ups are the caller's. */
#ifndef YUBIN_MX_H
#define YUBIN_MX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strutil.h"

typedef enum mx_status {
	MX_HOSTS,     /* hosts_r holds the hosts to try, in order */
	MX_NULL,      /* null MX ("0 ."): bounce with 5.1.10 */
} mx_status;

/* Order n MX records (hosts[i] with prefs[i]) into hosts_r.  rnd returns a
 * random number (rand_r-like) for the shuffle; tests pass a fixed one.
 * Duplicate hosts are listed once, at their best preference. */
mx_status mx_order(const char *const *hosts, const int *prefs, size_t n,
                   uint32_t (*rnd)(void *), void *rnd_arg, strlist *hosts_r);

#endif
