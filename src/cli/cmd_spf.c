/* cmd_spf.c — `yubin spf check IP MAILFROM [HELO]`: SPF (RFC 7208) for the
 * identities a client at IP would present, through the server's resolver
 * settings (dns.resolver, dns.timeout): the MAIL FROM identity (or
 * postmaster@HELO for the null sender, RFC 7208 2.4) and, given a HELO,
 * the HELO identity (2.3).  One key=value line per identity; exit 0 for
 * every SPF result (a result is an answer, not a failure of the command). */
#include "cli/cli.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/resolver.h"
#include "msgauth/spf.h"

#define SPF_CHECK_SECONDS 20 /* RFC 7208 4.6.4: at least 20 s before temperror */

typedef struct spf_cli {
	struct event_base *base;
	const char *identity;
	bool done;
} spf_cli;

static void on_done(void *arg, const spf_outcome *out)
{
	spf_cli *s = arg;
	printf("identity=%s result=%s", s->identity, spf_result_name(out->result));
	cli_print_kv("domain", out->domain);
	cli_print_kv("mechanism", out->mechanism);
	cli_print_kv("explanation", out->explanation);
	cli_print_kv("problem", out->problem);
	putchar('\n');
	s->done = true;
	event_base_loopbreak(s->base);
}

/* One check_host() on the loop, bounded by SPF_CHECK_SECONDS. */
static void check_one(spf_cli *s, const spf_request *req)
{
	s->done = false;
	spf_check *chk = spf_check_host(req, on_done, s);
	if (chk == NULL)
		return;
	struct timeval limit = {SPF_CHECK_SECONDS, 0};
	event_base_loopexit(s->base, &limit);
	event_base_dispatch(s->base);
	if (!s->done) {
		spf_check_cancel(&chk);
		printf("identity=%s result=temperror problem=\"no result within %d seconds\"\n", s->identity,
		       SPF_CHECK_SECONDS);
	}
}

int cmd_spf(cli_ctx *ctx, int argc, char **argv)
{
	if ((argc != 4 && argc != 5) || strcmp(argv[1], "check") != 0 || (argv[3][0] == '\0' && argc != 5)) {
		fprintf(stderr, "usage: yubin spf check IP MAILFROM [HELO]   (HELO needed when MAILFROM is \"\")\n");
		return 2;
	}
	const char *ip = argv[2], *mailfrom = argv[3], *helo = argc == 5 ? argv[4] : NULL;
	struct event_base *base;
	dns_resolver *r = cli_open_resolver(ctx, &base);
	if (r == NULL)
		return 1;
	spf_cli s = {.base = base, .identity = "mailfrom"};
	char *postmaster = helo ? xasprintf("postmaster@%s", helo) : NULL;
	const char *sender = mailfrom[0] != '\0' ? mailfrom : postmaster;
	const char *at = strrchr(sender, '@');
	spf_request req = {.ip = ip, .domain = at ? at + 1 : sender, .sender = sender, .helo = helo,
	                   .receiver = ctx->cfg->hostname, .lookup = dns_lookup_any, .lookup_ctx = r};
	check_one(&s, &req);
	if (helo != NULL) {
		s.identity = "helo";
		req.domain = helo;
		req.sender = postmaster;
		check_one(&s, &req);
	}
	free(postmaster);
	dns_free(&r);
	event_base_free(base);
	return 0;
}
