/* dkimdns.c — dkim_lookup_fn on dns_lookup (see dkimdns.h).  Nothing else. */
#include "msgauth/dkimdns.h"

void dkim_lookup_dns(void *resolver, const char *name, int rrtype, dns_callback *cb, void *cb_arg)
{
	dns_lookup(resolver, name, rrtype, cb, cb_arg);
}
