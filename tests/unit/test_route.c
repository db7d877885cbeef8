/* test_route.c — delivery/route.c: the transport map's match order (exact,
 * nearest ".parent", "*"), named relays and relay.host, relay.domains and
 * relay.when, the OP25B fallback, source addresses by recipient and by
 * sender domain, TLS levels, the pool keys, and address ordering by
 * family.  Configs are loaded from text as the server loads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/route.h"

#define MINIMAL \
	"hostname = \"mx.example.net\";\n" \
	"tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n" \
	"listeners = ( { role = \"smtp\"; port = 25; } );\n"

static config *load(const char *text)
{
	char dir[] = "/tmp/yubin-test-route-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/yubin.conf", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(MINIMAL, fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	strlist errs;
	strlist_init(&errs);
	config *cfg = config_load(path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_error("  error: %s\n", errs.items[i]);
	assert_non_null(cfg);
	strlist_free(&errs);
	unlink(path);
	rmdir(dir);
	free(path);
	return cfg;
}

static const char map_conf[] =
	"relay: { host = \"smarthost.example\"; ports = [ 587 ]; domains = [ \"listed.example\" ]; };\n"
	"relays = ( { name = \"office\"; host = \"office.example\"; ports = [ 2525, 465 ]; verify = 0; } );\n"
	"transport = (\n"
	"  { domain = \"exact.example\"; route = \"relay:office\"; },\n"
	"  { domain = \".exact.example\"; route = \"host:[192.0.2.7]:2526\"; tls = \"encrypt\"; },\n"
	"  { domain = \".example\"; route = \"host:mx.fixed.example\"; tls = \"verify\"; source_ipv4 = \"127.0.0.3\"; },\n"
	"  { domain = \"v6.test\"; route = \"host:[2001:db8::7]\"; },\n"
	"  { domain = \"plain.test\"; tls = \"none\"; },\n"
	"  { domain = \"*\"; route = \"direct\"; source_ipv6 = \"::1\"; }\n"
	");\n"
	"sender_sources = ( { sender_domain = \"brand.example\"; source_ipv4 = \"127.0.0.2\"; },\n"
	"                   { sender_domain = \".corp.example\"; source_ipv4 = \"127.0.0.4\"; source_ipv6 = \"::1\"; } );\n"
	"delivery: { source_ipv4 = \"127.0.0.9\"; };\n";

static void test_match_order(void **state)
{
	(void)state;
	config *cfg = load(map_conf);
	route_decision r;
	/* exact beats ".exact.example" and ".example" */
	route_decide(cfg, false, "exact.example", NULL, &r);
	assert_int_equal(r.kind, ROUTE_RELAY);
	assert_string_equal(r.relay_name, "office");
	assert_string_equal(r.host, "office.example");
	assert_int_equal(r.n_ports, 2);
	assert_int_equal(r.ports[0], 2525);
	assert_int_equal(r.tls, ROUTE_TLS_ENCRYPT); /* verify = 0: TLS, any certificate */
	assert_string_equal(r.why, "transport");
	/* a subdomain: the nearest parent entry */
	route_decide(cfg, false, "a.b.exact.example", NULL, &r);
	assert_int_equal(r.kind, ROUTE_HOST);
	assert_string_equal(r.host, "192.0.2.7");
	assert_int_equal(r.ports[0], 2526);
	assert_int_equal(r.tls, ROUTE_TLS_ENCRYPT);
	/* ".example" matches other.example, not "example" itself */
	route_decide(cfg, false, "other.example", NULL, &r);
	assert_int_equal(r.kind, ROUTE_HOST);
	assert_string_equal(r.host, "mx.fixed.example");
	assert_int_equal(r.ports[0], 25); /* delivery.port */
	assert_int_equal(r.tls, ROUTE_TLS_VERIFY);
	assert_string_equal(r.source4, "127.0.0.3");
	route_decide(cfg, false, "example", NULL, &r);
	assert_int_equal(r.kind, ROUTE_DIRECT);
	assert_string_equal(r.matched, "*");
	/* case does not matter */
	route_decide(cfg, false, "EXACT.Example", NULL, &r);
	assert_int_equal(r.kind, ROUTE_RELAY);
	config_free(&cfg);
}

static void test_relay_domains_and_op25b(void **state)
{
	(void)state;
	config *cfg = load(map_conf);
	route_decision r;
	/* relay.domains: listed.example would match "*" = direct explicitly,
	 * and an explicit transport route wins over relay.domains */
	route_decide(cfg, false, "listed.example", NULL, &r);
	assert_int_equal(r.kind, ROUTE_HOST);
	config_free(&cfg);

	cfg = load("relay: { host = \"smarthost.example\"; ports = [ 587 ]; domains = [ \"listed.test\" ]; };\n");
	route_decide(cfg, false, "listed.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_RELAY);
	assert_string_equal(r.why, "relay.domains");
	assert_string_equal(r.relay_name, "");
	assert_int_equal(r.tls, ROUTE_TLS_VERIFY);
	route_decide(cfg, false, "other.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_DIRECT);
	/* port 25 blocked: what went direct goes through the relay */
	route_decide(cfg, true, "other.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_RELAY);
	assert_string_equal(r.why, "op25b");
	assert_string_equal(r.host, "smarthost.example");
	config_free(&cfg);

	/* relay.when = "blocked": the relay is the fallback only */
	cfg = load("relay: { host = \"smarthost.example\"; when = \"blocked\"; };\n");
	route_decide(cfg, false, "any.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_DIRECT);
	route_decide(cfg, true, "any.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_RELAY);
	assert_string_equal(r.why, "op25b");
	config_free(&cfg);

	/* relay.when = "always" (the default): all mail, blocked or not */
	cfg = load("relay: { host = \"smarthost.example\"; };\n");
	route_decide(cfg, false, "any.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_RELAY);
	assert_string_equal(r.why, "relay");
	config_free(&cfg);

	/* no relay at all: blocked or not, direct (nothing else to do) */
	cfg = load("");
	route_decide(cfg, true, "any.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_DIRECT);
	assert_null(r.source4);
	assert_int_equal(r.tls, ROUTE_TLS_MAY);
	config_free(&cfg);
}

static void test_sources(void **state)
{
	(void)state;
	config *cfg = load(map_conf);
	route_decision r;
	/* the recipient's entry has none: the sender domain's, then global */
	route_decide(cfg, false, "someone.test", "brand.example", &r);
	assert_string_equal(r.source4, "127.0.0.2");
	assert_string_equal(r.source6, "::1"); /* from the "*" transport entry */
	route_decide(cfg, false, "someone.test", "x.corp.example", &r);
	assert_string_equal(r.source4, "127.0.0.4");
	route_decide(cfg, false, "someone.test", "corp.example", &r); /* ".corp.example" is subdomains only */
	assert_string_equal(r.source4, "127.0.0.9");
	route_decide(cfg, false, "someone.test", NULL, &r); /* null sender */
	assert_string_equal(r.source4, "127.0.0.9");
	/* the recipient domain's entry wins over the sender's */
	route_decide(cfg, false, "other.example", "brand.example", &r);
	assert_string_equal(r.source4, "127.0.0.3");
	config_free(&cfg);
}

static void test_tls_levels_and_keys(void **state)
{
	(void)state;
	config *cfg = load(map_conf);
	route_decision r;
	route_decide(cfg, false, "plain.test", NULL, &r);
	assert_int_equal(r.kind, ROUTE_DIRECT);
	assert_int_equal(r.tls, ROUTE_TLS_NONE);
	char *k = route_pool_key(&r, "plain.test");
	assert_string_equal(k, "plain.test|tls=none|src=127.0.0.9,-");
	free(k);
	route_decide(cfg, false, "exact.example", NULL, &r);
	k = route_pool_key(&r, "exact.example");
	assert_string_equal(k, "[relay:office]|tls=encrypt|src=127.0.0.9,-");
	free(k);
	k = route_describe(&r);
	assert_string_equal(k, "relay:office");
	free(k);
	route_decide(cfg, false, "v6.test", NULL, &r);
	k = route_describe(&r);
	assert_string_equal(k, "host:[2001:db8::7]:25");
	free(k);
	config_free(&cfg);
	/* the DANE levels: their own pool key; a relay keeps its floor for
	 * when DANE does not apply */
	cfg = load("relays = ( { name = \"office\"; host = \"office.example\"; ports = [ 2525 ]; verify = 0; } );\n"
	           "transport = ( { domain = \"d.test\"; tls = \"dane-only\"; },\n"
	           "  { domain = \"r.test\"; route = \"relay:office\"; tls = \"dane\"; } );\n");
	route_decide(cfg, false, "d.test", NULL, &r);
	assert_int_equal(r.tls, ROUTE_TLS_DANE_ONLY);
	assert_int_equal(r.tls_floor, ROUTE_TLS_NONE);
	k = route_pool_key(&r, "d.test");
	assert_string_equal(k, "d.test|tls=dane-only|src=-,-");
	free(k);
	route_decide(cfg, false, "r.test", NULL, &r);
	assert_int_equal(r.tls, ROUTE_TLS_DANE);
	assert_int_equal(r.tls_floor, ROUTE_TLS_ENCRYPT);
	config_free(&cfg);
	/* no map, no sources: today's keys (the domain, "[relay]") */
	cfg = load("relay: { host = \"smarthost.example\"; domains = [ \"r.test\" ]; };\n");
	route_decide(cfg, false, "d.test", NULL, &r);
	k = route_pool_key(&r, "d.test");
	assert_string_equal(k, "d.test");
	free(k);
	route_decide(cfg, false, "r.test", NULL, &r);
	k = route_pool_key(&r, "r.test");
	assert_string_equal(k, "[relay]");
	free(k);
	config_free(&cfg);
}

static void test_order_addrs(void **state)
{
	(void)state;
	strlist ips;
	strlist_init(&ips);
	strlist_add(&ips, "192.0.2.1");
	strlist_add(&ips, "2001:db8::1");
	strlist_add(&ips, "192.0.2.2");
	strlist_add(&ips, "2001:db8::2");
	route_order_addrs(&ips, ROUTE_FAMILY_IPV6);
	assert_string_equal(ips.items[0], "2001:db8::1");
	assert_string_equal(ips.items[1], "2001:db8::2");
	assert_string_equal(ips.items[2], "192.0.2.1");
	assert_string_equal(ips.items[3], "192.0.2.2");
	route_order_addrs(&ips, ROUTE_FAMILY_IPV4);
	assert_string_equal(ips.items[0], "192.0.2.1");
	assert_string_equal(ips.items[1], "192.0.2.2");
	assert_string_equal(ips.items[2], "2001:db8::1");
	route_order_addrs(&ips, ROUTE_FAMILY_ANY);
	assert_string_equal(ips.items[0], "192.0.2.1");
	assert_int_equal(route_family_parse("ipv6"), ROUTE_FAMILY_IPV6);
	assert_int_equal(route_family_parse("any"), ROUTE_FAMILY_ANY);
	strlist_free(&ips);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_order),
		cmocka_unit_test(test_relay_domains_and_op25b),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_tls_levels_and_keys),
		cmocka_unit_test(test_order_addrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
