/* mtastsown.h — the MTA-STS policy this server publishes for its domains
 * (RFC 8461 3.2): its text, served at https://mta-sts.DOMAIN/.well-known/
 * mta-sts.txt (http/mtasts_serve.c), and the id of the `_mta-sts` TXT
 * record that goes with it (msgauth/dnsadvice.c), made from the text's
 * hash so that it changes whenever the policy does (3.1).  Pure. */
#ifndef YUBIN_MSGAUTH_MTASTSOWN_H
#define YUBIN_MSGAUTH_MTASTSOWN_H

#include "lib/config.h"

/* "version: STSv1", mode (mtasts.policy_mode), "mx: HOSTNAME" (the host
 * our MX records name), max_age (mtasts.policy_max_age); CRLF lines.
 * The same for every local domain.  malloc'd. */
char *mtasts_own_policy(const config *cfg);
/* The TXT id for that text: 32 hex digits of its SHA-256.  malloc'd. */
char *mtasts_own_id(const char *policy);

#endif
