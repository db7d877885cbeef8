/* mtasts_serve.c — serving our MTA-STS policy (see mtasts_serve.h).  Must
 * not build the policy text (msgauth/mtastsown.c does).  The local-domain
 * check reads the account database on the loop, as autoconf's does: one
 * indexed read of a small table. */
#include "http/mtasts_serve.h"

#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "lib/log.h"
#include "msgauth/mtastsown.h"
#include "net/server.h"

/* The DOMAIN of a Host field "mta-sts.DOMAIN[:port]" (lower case, no
 * final dot), or NULL. */
static char *policy_domain(const char *host)
{
	if (host == NULL || host[0] == '[')
		return NULL;
	char *h = xstrndup(host, strcspn(host, ":"));
	str_ascii_lower(h);
	size_t n = strlen(h);
	if (n > 0 && h[n - 1] == '.')
		h[--n] = '\0';
	char *d = NULL;
	if (n > 8 && strncmp(h, "mta-sts.", 8) == 0)
		d = xstrdup(h + 8);
	free(h);
	return d;
}

void mtasts_serve_policy(http_req *r)
{
	server *srv = http_req_server(r);
	char *domain = policy_domain(http_req_header(r, "Host"));
	if (domain == NULL || !accounts_domain_is_local(srv->acc, domain)) {
		log_event(LOG_LVL_INFO, "mtasts_serve", "req=%s client=%s domain=%s status=404", http_req_id(r),
		          http_req_ip(r), domain ? domain : "-");
		http_problem(r, 404, "not-found", "No MTA-STS policy for this host",
		             "The policy is served for mta-sts.DOMAIN, DOMAIN one of this server's", NULL);
		free(domain);
		return;
	}
	char *policy = mtasts_own_policy(srv->cfg);
	log_event(LOG_LVL_INFO, "mtasts_serve", "req=%s client=%s domain=%s status=200 mode=%s", http_req_id(r),
	          http_req_ip(r), domain, srv->cfg->mtasts.policy_mode);
	http_add_header(r, "Cache-Control", "no-cache");
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_reply(r, 200, "text/plain", policy, strlen(policy));
	free(policy);
	free(domain);
}
