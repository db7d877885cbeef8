/* dkimdns.h — the verifier's key look-ups through the server's resolver
 * (dns/resolver.h), on its event loop.  Kept apart from dkimverify.c so
 * that the verifier and its tests need no libunbound. */
#ifndef YUBIN_MSGAUTH_DKIMDNS_H
#define YUBIN_MSGAUTH_DKIMDNS_H

#include "msgauth/dkimverify.h"

/* A dkim_lookup_fn whose ctx is a dns_resolver *:
 *   dkim_verify_start(msg, len, time(NULL), dkim_lookup_dns, resolver, done, arg); */
void dkim_lookup_dns(void *resolver, const char *name, int rrtype, dns_callback *cb, void *cb_arg);

#endif
