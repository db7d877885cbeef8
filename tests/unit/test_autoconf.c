/* test_autoconf.c — unit tests for autoconf/: the offer read from the
 * listeners (order, de-duplication, port 25 left out), the Thunderbird
 * document (placeholders, escaping, order), the Autodiscover scanner
 * (well-formed requests, prefixes, references, and every refusal: DTD,
 * entities, unbalanced tags, bounds) and answers, and the Apple profile
 * (stable identifier, no password); the ports of each SRV service (the
 * standard port first, ManageSieve from its own listeners). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "autoconf/autoconf.h"

static config_listener listeners[] = {
	{ROLE_SMTP, "0.0.0.0", 25, 0},
	{ROLE_SUBMISSION, "0.0.0.0", 2525, 0},
	{ROLE_SUBMISSION, "0.0.0.0", 587, 0},
	{ROLE_IMAP, "0.0.0.0", 143, 0},
	{ROLE_IMAPS, "0.0.0.0", 993, 0},
	{ROLE_IMAPS, "::", 993, 0},
	{ROLE_SUBMISSIONS, "0.0.0.0", 465, 0},
	{ROLE_POP3S, "0.0.0.0", 995, 0},
	{ROLE_HTTPS, "0.0.0.0", 443, 0},
};

static void offer(autoconf_offer *o, int n_listeners)
{
	static config cfg;
	cfg.hostname = "mail.example.org";
	cfg.listeners = listeners;
	cfg.n_listeners = n_listeners;
	autoconf_offer_build(&cfg, o);
}

static void test_offer_order(void **state)
{
	autoconf_offer o;
	offer(&o, sizeof listeners / sizeof listeners[0]);
	static const struct { autoconf_proto p; int port; bool tls; } want[] = {
		{AUTOCONF_IMAP, 993, true}, {AUTOCONF_IMAP, 143, false}, {AUTOCONF_POP3, 995, true},
		{AUTOCONF_SMTP, 465, true}, {AUTOCONF_SMTP, 587, false}, {AUTOCONF_SMTP, 2525, false},
	};
	assert_int_equal(o.n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < o.n; i++) {
		assert_int_equal(o.v[i].proto, want[i].p);
		assert_int_equal(o.v[i].port, want[i].port);
		assert_int_equal(o.v[i].implicit_tls, want[i].tls);
	}
	assert_string_equal(o.hostname, "mail.example.org");
	assert_int_equal(autoconf_offer_first(&o, AUTOCONF_SMTP)->port, 465);
}

static void test_offer_only_starttls(void **state)
{
	autoconf_offer o;
	offer(&o, 4); /* 25, 2525, 587, 143 */
	assert_int_equal(o.n, 3);
	assert_int_equal(o.v[0].port, 143);
	assert_int_equal(o.v[1].port, 587);   /* the standard port before 2525 */
	assert_int_equal(o.v[2].port, 2525);
	assert_null(autoconf_offer_first(&o, AUTOCONF_POP3));
}

static bool has(const buf *b, const char *s)
{
	return strstr(buf_str(b), s) != NULL;
}

static size_t at(const buf *b, const char *s)
{
	const char *p = strstr(buf_str(b), s);
	assert_non_null(p);
	return (size_t)(p - buf_str(b));
}

static void test_thunderbird(void **state)
{
	autoconf_offer o;
	offer(&o, sizeof listeners / sizeof listeners[0]);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	autoconf_thunderbird(&o, "example.org", NULL, &b);
	assert_true(has(&b, "<emailProvider id=\"example.org\">"));
	assert_true(has(&b, "<username>%EMAILADDRESS%</username>"));
	assert_true(at(&b, "<port>993</port>") < at(&b, "<port>143</port>"));
	assert_true(at(&b, "<port>143</port>") < at(&b, "<port>995</port>"));
	assert_true(at(&b, "<port>995</port>") < at(&b, "<port>465</port>"));
	assert_true(at(&b, "<port>465</port>") < at(&b, "<port>587</port>"));
	assert_true(has(&b, "<port>993</port>\n      <socketType>SSL</socketType>"));
	assert_true(has(&b, "<port>587</port>\n      <socketType>STARTTLS</socketType>"));
	assert_false(has(&b, "<port>25</port>"));
	assert_false(has(&b, "plain"));
	buf_clear(&b);
	autoconf_thunderbird(&o, "example.org", "o'neil&co@example.org", &b);
	assert_true(has(&b, "<username>o&apos;neil&amp;co@example.org</username>"));
	assert_false(has(&b, "%EMAILADDRESS%"));
	buf_free(&b);
}

#define REQ(inner) "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">" \
	"<Request>" inner "</Request></Autodiscover>"
#define SCHEMA "<AcceptableResponseSchema>" AUTODISCOVER_SCHEMA_2006A "</AcceptableResponseSchema>"

static autodiscover_status parse(const char *body, autodiscover_request *req)
{
	return autodiscover_parse(body, strlen(body), req);
}

static void test_autodiscover_parse_ok(void **state)
{
	autodiscover_request req;
	assert_int_equal(parse(REQ("<EMailAddress> bob@example.org </EMailAddress>" SCHEMA), &req),
	                 AUTODISCOVER_OK);
	assert_string_equal(req.email, "bob@example.org");
	assert_string_equal(req.schema, AUTODISCOVER_SCHEMA_2006A);
	autodiscover_request_free(&req);
	/* prefixes, comments, CDATA, character references, a BOM */
	const char *odd = "\xEF\xBB\xBF<!-- hi --><a:Autodiscover xmlns:a='x'><a:Request>"
	                  "<a:EMailAddress>bob&#64;example&#x2E;org</a:EMailAddress>"
	                  "<a:AcceptableResponseSchema><![CDATA[s&<]]></a:AcceptableResponseSchema>"
	                  "<a:Other attr=\"1 &amp; 2\"/></a:Request></a:Autodiscover>\n";
	assert_int_equal(parse(odd, &req), AUTODISCOVER_OK);
	assert_string_equal(req.email, "bob@example.org");
	assert_string_equal(req.schema, "s&<");
	autodiscover_request_free(&req);
	/* an address elsewhere than Request does not count */
	assert_int_equal(parse("<Autodiscover><EMailAddress>x@y</EMailAddress></Autodiscover>", &req),
	                 AUTODISCOVER_OK);
	assert_null(req.email);
	autodiscover_request_free(&req);
}

static void test_autodiscover_parse_refused(void **state)
{
	static const struct { const char *body; autodiscover_status want; } cases[] = {
		{"<!DOCTYPE lolz [<!ENTITY lol \"lol\">]>" REQ("<EMailAddress>&lol;</EMailAddress>"),
		 AUTODISCOVER_DTD},
		{REQ("<EMailAddress>&lol;</EMailAddress>"), AUTODISCOVER_MALFORMED},
		{REQ("<EMailAddress>a&#0;b</EMailAddress>"), AUTODISCOVER_MALFORMED},
		{REQ("<EMailAddress>a&amp</EMailAddress>"), AUTODISCOVER_MALFORMED},
		{REQ("<EMailAddress>a</EMailAdress>"), AUTODISCOVER_MALFORMED},
		{REQ("<a:EMailAddress>a</b:EMailAddress>"), AUTODISCOVER_MALFORMED},
		{REQ("<a:b:EMailAddress>a</a:b:EMailAddress>"), AUTODISCOVER_MALFORMED},
		{REQ("<EMailAddress>a"), AUTODISCOVER_MALFORMED},
		{"<Other><Request/></Other>", AUTODISCOVER_MALFORMED},
		{"", AUTODISCOVER_MALFORMED},
		{"not xml", AUTODISCOVER_MALFORMED},
		{REQ("") "<Autodiscover/>", AUTODISCOVER_MALFORMED},
		{REQ("<x a=\"1\" b>"), AUTODISCOVER_MALFORMED},
		{REQ("<x a=\"<\"/>"), AUTODISCOVER_MALFORMED},
		{"<Autodiscover><!-- never closed", AUTODISCOVER_MALFORMED},
		{"<Autodiscover><a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p><q>", AUTODISCOVER_TOO_BIG},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		autodiscover_request req;
		autodiscover_status st = parse(cases[i].body, &req);
		if (st != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, st, cases[i].want);
		assert_null(req.email);
	}
	/* a value past its bound */
	size_t n = 5000;
	char *big = xmalloc(n + 200);
	strcpy(big, "<Autodiscover><Request><EMailAddress>");
	memset(big + strlen(big), 'a', n);
	strcpy(big + strlen("<Autodiscover><Request><EMailAddress>") + n, "</EMailAddress></Request></Autodiscover>");
	autodiscover_request req;
	assert_int_equal(parse(big, &req), AUTODISCOVER_TOO_BIG);
	free(big);
	/* a NUL inside */
	assert_int_equal(autodiscover_parse("<Autodiscover>\0</Autodiscover>", 30, &req), AUTODISCOVER_MALFORMED);
}

static void test_autodiscover_answers(void **state)
{
	autoconf_offer o;
	offer(&o, sizeof listeners / sizeof listeners[0]);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	autodiscover_settings(&o, "bob@example.org", &b);
	assert_true(has(&b, "<Response xmlns=\"" AUTODISCOVER_SCHEMA_2006A "\">"));
	assert_true(has(&b, "<Type>IMAP</Type>\n        <Server>mail.example.org</Server>\n        <Port>993</Port>"));
	assert_true(has(&b, "<Type>POP3</Type>\n        <Server>mail.example.org</Server>\n        <Port>995</Port>"));
	assert_true(has(&b, "<Type>SMTP</Type>\n        <Server>mail.example.org</Server>\n        <Port>465</Port>"));
	assert_true(has(&b, "<LoginName>bob@example.org</LoginName>"));
	assert_false(has(&b, "<Port>143</Port>"));   /* one Protocol per kind: the preferred */
	assert_false(has(&b, "<Encryption>TLS</Encryption>"));
	buf_clear(&b);
	autoconf_offer st;
	offer(&st, 4);
	autodiscover_settings(&st, "bob@example.org", &b);
	assert_true(has(&b, "<Port>143</Port>\n        <DomainRequired>off</DomainRequired>\n"
	                    "        <LoginName>bob@example.org</LoginName>\n        <SPA>off</SPA>\n"
	                    "        <SSL>on</SSL>\n        <Encryption>TLS</Encryption>"));
	assert_false(has(&b, "POP3"));
	buf_clear(&b);
	autodiscover_error(601, "12:00:00", 42, &b);
	assert_true(has(&b, "<Error Time=\"12:00:00\" Id=\"42\">\n      <ErrorCode>601</ErrorCode>"));
	buf_free(&b);
}

static void test_mobileconfig(void **state)
{
	autoconf_offer o;
	offer(&o, sizeof listeners / sizeof listeners[0]);
	buf a, b;
	buf_init(&a, BUF_UNBOUNDED);
	buf_init(&b, BUF_UNBOUNDED);
	assert_true(autoconf_mobileconfig(&o, "bob@example.org", "U1", "U2", &a));
	assert_true(autoconf_mobileconfig(&o, "bob@example.org", "U3", "U4", &b));
	size_t ia = at(&a, "<string>org.example.mail.yubin."), ib = at(&b, "<string>org.example.mail.yubin.");
	assert_memory_equal(buf_str(&a) + ia, buf_str(&b) + ib, strlen("<string>org.example.mail.yubin.") + 16);
	assert_true(has(&a, "<string>com.apple.mail.managed</string>"));
	assert_true(has(&a, "<key>IncomingMailServerPortNumber</key>\n\t\t\t<integer>993</integer>"));
	assert_true(has(&a, "<key>OutgoingMailServerPortNumber</key>\n\t\t\t<integer>465</integer>"));
	assert_true(has(&a, "<string>EmailTypeIMAP</string>"));
	assert_false(has(&a, "Password</key>\n\t\t\t<string>"));
	buf_clear(&b);
	assert_true(autoconf_mobileconfig(&o, "eve@example.org", "U1", "U2", &b));
	assert_false(strncmp(buf_str(&a) + ia, buf_str(&b) + at(&b, "<string>org.example.mail.yubin."),
	                     strlen("<string>org.example.mail.yubin.") + 16) == 0);
	autoconf_offer none;
	offer(&none, 3); /* no IMAP or POP3 */
	buf_clear(&b);
	assert_false(autoconf_mobileconfig(&none, "bob@example.org", "U1", "U2", &b));
	assert_int_equal(b.len, 0);
	buf_free(&a);
	buf_free(&b);
}

static const autoconf_srv_service *srv_service(const char *label)
{
	for (size_t i = 0; i < autoconf_n_srv_services; i++)
		if (strcmp(autoconf_srv_services[i].label, label) == 0)
			return &autoconf_srv_services[i];
	fail_msg("no SRV service %s", label);
	return NULL;
}

static void test_srv_ports(void **state)
{
	static config_listener ls[] = {
		{ROLE_SUBMISSION, "0.0.0.0", 2525, 0}, {ROLE_SUBMISSION, "::", 2525, 0},
		{ROLE_SUBMISSION, "0.0.0.0", 1587, 0}, {ROLE_SUBMISSION, "0.0.0.0", 587, 0},
		{ROLE_IMAPS, "0.0.0.0", 993, 0},       {ROLE_MANAGESIEVE, "0.0.0.0", 14190, 0},
		{ROLE_MANAGESIEVE, "::", 4190, 0},
	};
	config cfg = {.hostname = "mail.example.org", .listeners = ls, .n_listeners = sizeof ls / sizeof ls[0]};
	static const struct { const char *label; size_t n; int ports[3]; } want[] = {
		{"_submission", 3, {587, 1587, 2525}}, {"_imaps", 1, {993}}, {"_sieve", 2, {4190, 14190}},
		{"_pop3", 0, {0}}, {"_submissions", 0, {0}},
	};
	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
		int ports[AUTOCONF_MAX_ENDPOINTS];
		size_t n = autoconf_srv_ports(&cfg, srv_service(want[w].label), ports, AUTOCONF_MAX_ENDPOINTS);
		assert_int_equal(n, want[w].n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(ports[i], want[w].ports[i]);
	}
	int two[2];
	assert_int_equal(autoconf_srv_ports(&cfg, srv_service("_submission"), two, 2), 2);
	assert_int_equal(two[0], 1587); /* the first two found, in order */
	assert_int_equal(two[1], 2525);
	/* ManageSieve is in no client document: not in the offer */
	autoconf_offer o;
	autoconf_offer_build(&cfg, &o);
	for (size_t i = 0; i < o.n; i++)
		assert_int_not_equal(o.v[i].port, 4190);
	assert_int_equal(srv_service("_sieve")->role, ROLE_MANAGESIEVE);
	assert_int_equal(srv_service("_sieve")->priority, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_order),
		cmocka_unit_test(test_offer_only_starttls),
		cmocka_unit_test(test_thunderbird),
		cmocka_unit_test(test_autodiscover_parse_ok),
		cmocka_unit_test(test_autodiscover_parse_refused),
		cmocka_unit_test(test_autodiscover_answers),
		cmocka_unit_test(test_mobileconfig),
		cmocka_unit_test(test_srv_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
