/* mtastsown.c — our own MTA-STS policy text and TXT id (see mtastsown.h).
 * Must not serve or look anything up. */
#include "msgauth/mtastsown.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "lib/strutil.h"

char *mtasts_own_policy(const config *cfg)
{
	return xasprintf("version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %d\r\n",
	                 cfg->mtasts.policy_mode ? cfg->mtasts.policy_mode : "testing", cfg->hostname,
	                 cfg->mtasts.policy_max_age);
}

char *mtasts_own_id(const char *policy)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)policy, strlen(policy), md);
	char *id = xmalloc(33);
	str_hex(md, 16, id);
	return id;
}
