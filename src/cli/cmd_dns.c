/* cmd_dns.c — `yubin dns query NAME [TYPE]`: one look-up through the same
 * resolver and settings the server uses (dns.resolver, dns.timeout), so an
 * operator sees what delivery will see: the status, the DNSSEC verdict
 * (secure, insecure, or bogus with the reason; dns.trust_anchor), and the
 * records.  `yubin dns records DOMAIN` is handed
 * to cmd_dnsrecords.c. */
#include "cli/cli.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/resolver.h"

static const struct {
	const char *name;
	int type;
} types[] = {{"mx", DNS_TYPE_MX}, {"a", DNS_TYPE_A}, {"aaaa", DNS_TYPE_AAAA},
             {"txt", DNS_TYPE_TXT}, {"tlsa", DNS_TYPE_TLSA},
             {"ptr", DNS_TYPE_PTR}, {"srv", DNS_TYPE_SRV}, {"cname", DNS_TYPE_CNAME}};

typedef struct query {
	struct event_base *base;
	int type;
	int rc;
} query;

static void on_answer(void *arg, const dns_answer *ans)
{
	query *q = arg;
	static const char *const status[] = {"ok", "nodata", "nxdomain", "tempfail"};
	/* the DNSSEC verdict (RFC 4035 4.3): secure, insecure or bogus, and
	 * why a bogus answer failed validation */
	printf("status=%s secure=%s dnssec=%s", status[ans->status], ans->secure ? "yes" : "no",
	       ans->bogus ? "bogus" : ans->secure ? "secure" : "insecure");
	if (ans->bogus)
		cli_print_kv("why", ans->why_bogus);
	/* an alias: where the CNAME chain ends (the TLSA base domain DANE
	 * tries first, RFC 7672 2.2.2) */
	if (ans->canonname != NULL)
		cli_print_kv("canonical", ans->canonname);
	printf("\n");
	for (size_t i = 0; i < ans->values.n; i++) {
		if (q->type == DNS_TYPE_MX)
			printf("%d %s\n", ans->prefs[i], ans->values.items[i]);
		else
			printf("%s\n", ans->values.items[i]);
	}
	q->rc = ans->status == DNS_OK ? 0 : 1;
	event_base_loopbreak(q->base);
}

int cmd_dns(cli_ctx *ctx, int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "records") == 0)
		return cmd_dns_records(ctx, argv[2]);
	if ((argc != 3 && argc != 4) || strcmp(argv[1], "query") != 0) {
		fprintf(stderr, "usage: yubin dns query NAME [mx|a|aaaa|txt|tlsa|ptr|srv|cname]\n"
		                "       yubin dns records DOMAIN\n");
		return 2;
	}
	query q = {.type = -1, .rc = 1};
	const char *tname = argc == 4 ? argv[3] : "mx";
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(tname, types[i].name) == 0)
			q.type = types[i].type;
	if (q.type < 0) {
		cli_error("unknown record type %s (mx, a, aaaa, txt, tlsa, ptr, srv or cname)", tname);
		return 2;
	}
	struct event_base *base;
	dns_resolver *r = cli_open_resolver(ctx, &base);
	if (r == NULL)
		return 1;
	q.base = base;
	dns_lookup(r, argv[2], q.type, on_answer, &q);
	event_base_dispatch(base); /* until the answer (or the timeout) is in */
	dns_free(&r);
	event_base_free(base);
	return q.rc;
}
