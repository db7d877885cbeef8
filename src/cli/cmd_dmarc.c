/* cmd_dmarc.c — `yubin dmarc check FROMDOMAIN [--spf RESULT:DOMAIN]
 * [--dkim RESULT:DOMAIN]... [--draw N]`: DMARC (RFC 7489) for a From domain
 * and SPF / DKIM results given on the command line, with the policy looked
 * up through the server's resolver settings (dns.resolver, dns.timeout).
 * Prints one key=value line and the Authentication-Results field the
 * server would add; exit 0 for every DMARC result.  --draw fixes the pct
 * draw (0..99) for tests.  Owns the arguments and the output only. */
#include "cli/cli.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/resolver.h"
#include "msgauth/authres.h"
#include "msgauth/dmarc.h"

#define DMARC_CHECK_SECONDS 20

typedef struct dmarc_cli {
	struct event_base *base;
	const config *cfg;
	dmarc_request req;
	dkim_verdict dkim[DKIM_MAX_SIGNATURES];
	int draw;
	bool done;
} dmarc_cli;

static int usage(void)
{
	fprintf(stderr, "usage: yubin dmarc check FROMDOMAIN [--spf RESULT:DOMAIN] [--dkim RESULT:DOMAIN]... "
	                "[--draw 0-99]\n"
	                "  RESULT: SPF none|neutral|pass|fail|softfail|temperror|permerror, "
	                "DKIM pass|fail|neutral|permerror|temperror\n");
	return 2;
}

/* "RESULT:DOMAIN" with RESULT one of the n names name(0..n-1). */
static bool parse_pair(char *arg, const char *(*name)(int), int n, int *result_r, char **domain_r)
{
	char *colon = strchr(arg, ':');
	if (colon == NULL || colon[1] == '\0')
		return false;
	*colon = '\0';
	*domain_r = colon + 1;
	for (int i = 0; i < n; i++)
		if (strcmp(arg, name(i)) == 0) {
			*result_r = i;
			return true;
		}
	return false;
}

static const char *spf_name(int r)
{
	return spf_result_name((spf_result)r);
}

static const char *dkim_name(int r)
{
	return dkim_result_name((dkim_result)r);
}

static int fixed_draw(void *ctx)
{
	return *(int *)ctx;
}

/* Fill s->req from the options after FROMDOMAIN; false on a usage error. */
static bool parse_options(dmarc_cli *s, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int r;
		char *domain, *end;
		if (i + 1 >= argc)
			return false;
		char *value = argv[++i];
		if (strcmp(argv[i - 1], "--spf") == 0 && s->req.spf_domain == NULL &&
		    parse_pair(value, spf_name, SPF_PERMERROR + 1, &r, &domain)) {
			s->req.spf = (spf_result)r;
			s->req.spf_domain = domain;
		} else if (strcmp(argv[i - 1], "--dkim") == 0 && s->req.n_dkim < DKIM_MAX_SIGNATURES &&
		           parse_pair(value, dkim_name, DKIM_TEMPERROR + 1, &r, &domain)) {
			s->dkim[s->req.n_dkim++] = (dkim_verdict){.result = (dkim_result)r, .domain = domain};
		} else if (strcmp(argv[i - 1], "--draw") == 0 && s->req.draw == NULL) {
			s->draw = (int)strtol(value, &end, 10);
			if (*value == '\0' || *end != '\0' || s->draw < 0 || s->draw > 99)
				return false;
			s->req.draw = fixed_draw;
			s->req.draw_ctx = &s->draw;
		} else {
			return false;
		}
	}
	return true;
}

static void on_done(void *arg, const dmarc_outcome *out)
{
	dmarc_cli *s = arg;
	printf("dmarc=%s policy=%s disposition=%s spf_aligned=%s dkim_aligned=%s", dmarc_result_name(out->result),
	       dmarc_policy_name(out->policy), dmarc_policy_name(out->disposition), out->spf_aligned ? "yes" : "no",
	       out->dkim_aligned ? "yes" : "no");
	cli_print_kv("record", out->record_name);
	cli_print_kv("dkim_domain", out->dkim_domain);
	cli_print_kv("problem", out->problem);
	putchar('\n');
	authres_input in = {.authserv_id = s->cfg->hostname, .has_spf = s->req.spf_domain != NULL,
	                    .spf = s->req.spf, .spf_domain = s->req.spf_domain, .has_dkim = true,
	                    .dkim = s->dkim, .n_dkim = s->req.n_dkim, .dmarc = out};
	buf b;
	buf_init(&b, 1 << 16);
	if (authres_build(&in, &b))
		fputs(b.data, stdout);
	buf_free(&b);
	s->done = true;
	event_base_loopbreak(s->base);
}

/* The check on the loop, bounded by DMARC_CHECK_SECONDS. */
static void run_check(dmarc_cli *s)
{
	dmarc_check *chk = dmarc_check_start(&s->req, on_done, s);
	if (chk == NULL)
		return;
	struct timeval limit = {DMARC_CHECK_SECONDS, 0};
	event_base_loopexit(s->base, &limit);
	event_base_dispatch(s->base);
	if (!s->done) {
		dmarc_check_cancel(&chk);
		printf("dmarc=temperror problem=\"no result within %d seconds\"\n", DMARC_CHECK_SECONDS);
	}
}

int cmd_dmarc(cli_ctx *ctx, int argc, char **argv)
{
	dmarc_cli s = {.cfg = ctx->cfg, .req = {.from_status = DMARC_FROM_OK, .spf = SPF_NONE}};
	if (argc < 3 || strcmp(argv[1], "check") != 0 || !parse_options(&s, argc - 3, argv + 3))
		return usage();
	s.req.from_domain = argv[2];
	char *err = NULL;
	dmarc_psl *psl = dmarc_psl_open(&err);
	if (psl == NULL) {
		cli_error("%s", err);
		free(err);
		return 1;
	}
	dns_resolver *r = cli_open_resolver(ctx, &s.base);
	if (r == NULL) {
		dmarc_psl_free(&psl);
		return 1;
	}
	s.req.psl = psl;
	s.req.lookup = dns_lookup_any;
	s.req.lookup_ctx = r;
	s.req.dkim = s.dkim;
	run_check(&s);
	dns_free(&r);
	event_base_free(s.base);
	dmarc_psl_free(&psl);
	return fflush(stdout) == 0 ? 0 : 1;
}
