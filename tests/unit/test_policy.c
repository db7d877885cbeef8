/* test_policy.c — unit tests for the policy rules: patterns (policy/match.c:
 * exact, contains, wildcard, regular expression, networks), reading rules
 * (policy/rules.c: the stage each rule lands at, every error sentence),
 * and evaluation (policy/eval.c: each condition against facts, not_,
 * first decision wins, actions gather), and lib/cidr.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "policy/match.h"
#include "policy/rules.h"

/* ---- patterns ---- */

static bool m(const char *pattern, policy_match_domain dom, const char *value)
{
	policy_match pm;
	char *err = NULL;
	assert_true(policy_match_compile(pattern, dom, &pm, &err));
	bool r = policy_match_test(&pm, value, strlen(value), NULL);
	policy_match_free(&pm);
	return r;
}

static char *compile_error(const char *pattern, policy_match_domain dom)
{
	policy_match pm;
	char *err = NULL;
	assert_false(policy_match_compile(pattern, dom, &pm, &err));
	assert_non_null(err);
	return err;
}

static void test_patterns(void **state)
{
	(void)state;
	assert_true(m("bob@example.org", PMD_WORD, "Bob@Example.ORG"));
	assert_false(m("bob@example.org", PMD_WORD, "bob@example.org.evil"));
	assert_true(m("*.example.org", PMD_WORD, "mx.EXAMPLE.org"));
	assert_false(m("*.example.org", PMD_WORD, "example.org"));
	assert_true(m("bob+?@x", PMD_WORD, "bob+a@x"));
	assert_true(m("free money", PMD_TEXT, "Get FREE MONEY now"));
	assert_false(m("free money", PMD_WORD, "Get free money now"));
	assert_true(m("/^v[i1]agra$/i", PMD_WORD, "V1AGRA"));
	assert_false(m("/^v[i1]agra$/", PMD_WORD, "V1AGRA"));
	assert_true(m("/caf\\x{e9}/", PMD_TEXT, "un caf\xc3\xa9"));  /* UTF-8 aware */
	assert_true(m("/a.b/s", PMD_TEXT, "a\nb"));
	assert_false(m("/a.b/", PMD_TEXT, "a\nb"));
	assert_true(m("/x/", PMD_TEXT, "\xff\xfe x")); /* invalid UTF-8 is no error */
	assert_true(m("192.0.2.0/24", PMD_IP, "192.0.2.200"));
	assert_false(m("192.0.2.0/24", PMD_IP, "192.0.3.1"));
	assert_true(m("2001:db8::/32", PMD_IP, "2001:db8:1::5"));
	assert_true(m("192.0.2.7", PMD_IP, "::ffff:192.0.2.7"));
	assert_false(m("list:none", PMD_WORD, "x")); /* no lists: never in one */

	char *e = compile_error("/a(b/", PMD_WORD);
	assert_non_null(strstr(e, "the regular expression /a(b/ does not compile: "));
	assert_non_null(strstr(e, "(at character 4)"));
	free(e);
	e = compile_error("/a/z", PMD_WORD);
	assert_string_equal(e, "unknown regular expression flag 'z' in /a/z (known: i, m, s, x)");
	free(e);
	e = compile_error("10.0.0.0/40", PMD_IP);
	assert_string_equal(e, "\"10.0.0.0/40\" is not an address or a network like \"192.0.2.0/24\"");
	free(e);
	e = compile_error("list:", PMD_WORD);
	free(e);
}

static void test_cidr(void **state)
{
	(void)state;
	cidr c;
	assert_true(cidr_parse("10.1.2.3/8", &c));
	assert_true(cidr_contains(&c, "10.255.0.1"));
	assert_false(cidr_contains(&c, "11.0.0.1"));
	assert_false(cidr_contains(&c, "::1"));
	assert_true(cidr_parse("0.0.0.0/0", &c));
	assert_true(cidr_contains(&c, "203.0.113.9"));
	assert_true(cidr_parse("::ffff:192.0.2.0/120", &c)); /* mapped: the IPv4 /24 */
	assert_true(cidr_contains(&c, "192.0.2.99"));
	assert_true(cidr_parse("2001:db8::1", &c));
	assert_true(cidr_contains(&c, "2001:DB8:0::1"));
	assert_false(cidr_contains(&c, "2001:db8::2"));
	assert_true(cidr_parse("2001:db8::/127", &c));
	assert_true(cidr_contains(&c, "2001:db8::1"));
	assert_false(cidr_contains(&c, "2001:db8::2"));
	assert_false(cidr_parse("", &c));
	assert_false(cidr_parse("1.2.3.4/", &c));
	assert_false(cidr_parse("1.2.3.4/-1", &c));
	assert_false(cidr_parse("1.2.3.4/3x", &c));
	assert_false(cidr_parse("host.example", &c));
	assert_false(cidr_contains(&c, "not an address"));
}

/* ---- reading rules ---- */

static policy_config *read_rules(const char *text, strlist *errs)
{
	config_t cf;
	config_init(&cf);
	char *full = NULL;
	if (asprintf(&full, "rules = ( %s );\n", text) < 0)
		abort();
	assert_int_equal(config_read_string(&cf, full), CONFIG_TRUE);
	free(full);
	policy_config *pc = policy_config_empty();
	strlist_init(errs);
	policy_rules_read(pc, config_lookup(&cf, "rules"), "f.conf", errs);
	if (errs->n == 0)
		policy_rules_check(pc->rules, NULL, "f.conf", errs);
	config_destroy(&cf);
	return pc;
}

static void expect_error(const char *rule, const char *sentence)
{
	strlist errs;
	policy_config *pc = read_rules(rule, &errs);
	if (errs.n == 0)
		fail_msg("no error for %s", rule);
	if (strstr(errs.items[0], sentence) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", sentence, errs.items[0]);
	assert_true(strncmp(errs.items[0], "f.conf:1: ", 10) == 0);
	strlist_free(&errs);
	policy_config_free(&pc);
}

static void test_rule_errors(void **state)
{
	(void)state;
	expect_error("{ name = \"a\"; sender = 5; }", "rule a: sender must be a string or a non-empty list");
	expect_error("{ name = \"a\"; sender = []; }", "rule a: sender must be a string or a non-empty list");
	expect_error("{ name = \"a\"; nope = 1; }", "rule a: unknown setting \"nope\" (conditions:");
	expect_error("{ name = \"a\"; action = \"reject\"; code = 250; }", "rule a: code must be a reply code from 400 to 599");
	expect_error("{ name = \"a\"; action = \"reject\"; status = \"4.7.1\"; }", "rule a: status 4.7.1 does not fit action \"reject\"");
	expect_error("{ name = \"a\"; action = \"accept\"; text = \"hi\"; }", "rule a: code, status and text go with");
	expect_error("{ name = \"a\"; text = \"two\\nlines\"; action = \"reject\"; }", "rule a: text must be one line");
	expect_error("{ name = \"a\"; redirect = \"nobody\"; }", "rule a: redirect must be one address");
	expect_error("{ name = \"a\"; bcc = [ \"x@y\", \"bad\" ]; }", "rule a: bcc: \"bad\" is not an address");
	expect_error("{ name = \"a\"; remove_header = \"X Y\"; }", "rule a: remove_header: \"X Y\" is not a header field name");
	expect_error("{ name = \"a\"; header = \"no colon\"; }", "rule a: header must be \"Field-Name: pattern\"");
	expect_error("{ name = \"a\"; header = [ \"A: x\", \"B: y\" ]; }", "one field name per condition");
	expect_error("{ name = \"a\"; spam_score = \"about 5\"; }", "rule a: spam_score must be a number or a comparison");
	expect_error("{ name = \"a\"; weekday = \"someday\"; }", "rule a: weekday: \"someday\" is not one of sun, mon");
	expect_error("{ name = \"a\"; role = \"imap\"; }", "rule a: role: \"imap\" is not one of smtp, submission, submissions");
	expect_error("{ name = \"a\"; authenticated = \"yes\"; }", "rule a: authenticated must be true or false");
	expect_error("{ name = \"a\"; size_over = \"big\"; }", "rule a: size_over must be a number of bytes");
	expect_error("{ name = \"a\"; stage = \"later\"; }", "rule a: stage must be");
	expect_error("{ name = \"a\"; body = \"x\"; stage = \"mail\"; }", "rule a: stage \"mail\" is too early: its conditions are known only at \"data\"");
	expect_error("{ name = \"has space\"; }", "rule #1: needs a name");
	expect_error("{ name = \"a\"; }, { name = \"a\"; }", "rule a: the name is used by the rule on line 1 too");
	expect_error("{ name = \"a\"; client = \"list:x\"; }", "rule a: there is no list \"x\" in policy.lists");
	expect_error("\"not a group\"", "rule #1: each rule must be a group");
}

/* ---- evaluation ---- */

static const char MSG[] =
	"Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\n"
	"From: Alice <a@remote.example>\n"
	"Subject: =?UTF-8?B?w6ljb25vbWlzZXo=?= today\n"
	"X-Twice: one\n"
	"X-Twice: two\n"
	"Content-Type: multipart/mixed; boundary=b\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"caf=E9 cr=E8me\n"
	"--b\n"
	"Content-Type: application/octet-stream\n"
	"\n"
	"BINARYSECRET\n"
	"--b--\n";

typedef struct eval_case {
	const char *rule;
	policy_stage stage;
	bool hit;
} eval_case;

static policy_facts facts(void)
{
	static strlist rcpts;
	strlist_init(&rcpts);
	static const char *const rl[] = {"bob@example.org", "carol@other.example"};
	rcpts.items = (char **)rl;
	rcpts.n = 2;
	static policy_dnsbl_hit hits[] = {{"zen", "127.0.0.2", 2.0, "192.0.2.1", false}, {"wl", "127.0.0.5", -1.5, "192.0.2.1", false}};
	policy_facts f = {.client_ip = "192.0.2.7", .client_name = "mx.remote.example", .helo = "mx.remote.example",
	                  .role = ROLE_SMTP, .sender = "a@remote.example", .rcpts = &rcpts, .size = 5000, .msg = MSG,
	                  .msg_len = sizeof MSG - 1, .spf = "softfail", .dkim = "pass", .dmarc = NULL, .dnsbl = hits,
	                  .n_dnsbl = 2, .dnsbl_score = 0.5, .has_spam_score = true, .spam_score = 7.5, .virus = "",
	                  .now = 1704110400 /* 2024-01-01 12:00 UTC, a Monday */};
	return f;
}

static bool eval_one(const char *rule, policy_stage st, const policy_facts *f, policy_verdict *v)
{
	strlist errs;
	policy_config *pc = read_rules(rule, &errs);
	if (errs.n != 0)
		fail_msg("%s: %s", rule, errs.items[0]);
	strlist_free(&errs);
	assert_true(policy_rules_at(pc->rules, st));
	policy_eval_env env = {.body_limit = 4096};
	policy_verdict_init(v);
	policy_rules_eval(pc->rules, st, f, &env, v);
	bool hit = v->matched.n > 0;
	policy_config_free(&pc);
	return hit;
}

static void test_conditions(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	static const eval_case cases[] = {
		{"client = \"192.0.2.0/24\"", POLICY_CONNECT, true},
		{"not_client = \"192.0.2.0/24\"", POLICY_CONNECT, false},
		{"client = [ \"10.0.0.0/8\", \"192.0.2.7\" ]", POLICY_CONNECT, true},
		{"client_name = \"*.remote.example\"", POLICY_CONNECT, true},
		{"role = [ \"submission\", \"submissions\" ]", POLICY_CONNECT, false},
		{"time = \"11:00-13:00\"", POLICY_CONNECT, true},
		{"time = \"22:00-11:30\"", POLICY_CONNECT, false},
		{"time = \"22:00-12:30\"", POLICY_CONNECT, true},
		{"weekday = [ \"sat\", \"sun\" ]", POLICY_CONNECT, false},
		{"weekday = \"mon\"", POLICY_CONNECT, true},
		{"helo = \"/^mx\\\\./\"", POLICY_HELO, true},
		{"authenticated = false", POLICY_MAIL, true},
		{"user = \"*\"", POLICY_MAIL, false},
		{"sender_domain = \"remote.example\"", POLICY_MAIL, true},
		{"sender = \"\"", POLICY_MAIL, false},
		{"dnsbl = \"zen\"", POLICY_MAIL, true},
		{"dnsbl = \"spamcop\"", POLICY_MAIL, false},
		{"dnsbl_score = \">= 1\"", POLICY_MAIL, false},
		{"dnsbl_score = \"< 1\"", POLICY_MAIL, true},
		{"rcpt_domain = \"other.example\"", POLICY_DATA, true}, /* explicit data: any recipient */
		{"size_over = 4999", POLICY_DATA, true},
		{"size_over = 5000", POLICY_DATA, false},
		{"header = \"Subject: /^économisez/\"", POLICY_DATA, true}, /* decoded */
		{"header = \"subject: today\"", POLICY_DATA, true},
		{"header = \"X-Twice: two\"", POLICY_DATA, true},           /* any field of the name */
		{"header = \"X-Missing: *\"", POLICY_DATA, false},
		{"not_header = \"X-Missing: *\"", POLICY_DATA, true},
		{"body = \"café crème\"", POLICY_DATA, true},                /* QP + Latin-1 decoded */
		{"body = \"BINARYSECRET\"", POLICY_DATA, false},             /* not text */
		{"body = \"Content-Type\"", POLICY_DATA, false},             /* the header is not body */
		{"spf = [ \"fail\", \"softfail\" ]", POLICY_DATA, true},
		{"dkim = \"fail\"", POLICY_DATA, false},
		{"dmarc = \"none\"", POLICY_DATA, true},                     /* unknown counts as none */
		{"spam_score = 7.5", POLICY_DATA, true},
		{"spam_score = \"> 7.5\"", POLICY_DATA, false},
		{"virus = false", POLICY_DATA, true},
		{"virus = \"Eicar*\"", POLICY_DATA, false},
	};
	policy_facts f = facts();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *rule = NULL;
		const char *stage = cases[i].stage == POLICY_DATA ? " stage = \"data\";" : "";
		if (asprintf(&rule, "{ name = \"r\"; %s;%s }", cases[i].rule, stage) < 0)
			abort();
		policy_verdict v;
		bool hit = eval_one(rule, cases[i].stage, &f, &v);
		if (hit != cases[i].hit)
			fail_msg("%s: %s", cases[i].rule, hit ? "matched" : "did not match");
		policy_verdict_free(&v);
		free(rule);
	}
}

static void test_rcpt_stage_and_first_decision(void **state)
{
	(void)state;
	policy_facts f = facts();
	f.rcpt = "carol@other.example";
	policy_verdict v;
	assert_true(eval_one("{ name = \"tag\"; rcpt_domain = \"other.example\"; add_header = \"X-A: 1\"; bcc = \"c@d\"; },"
	                     "{ name = \"stop\"; client = \"192.0.2.7\"; stage = \"rcpt\"; action = \"tempfail\"; text = \"later\"; },"
	                     "{ name = \"never\"; rcpt = \"*\"; action = \"reject\"; }",
	                     POLICY_RCPT, &f, &v));
	assert_int_equal(v.matched.n, 2);
	assert_string_equal(v.matched.items[0], "tag");
	assert_string_equal(v.matched.items[1], "stop");
	assert_int_equal(v.decision, POLICY_TEMPFAIL);
	assert_string_equal(v.by, "rule stop");
	assert_string_equal(v.add_headers.items[0], "X-A: 1");
	assert_string_equal(v.add_rcpts.items[0], "c@d");
	int code;
	const char *status, *text;
	policy_verdict_reply(&v, POLICY_RCPT, &code, &status, &text);
	assert_int_equal(code, 451);
	assert_string_equal(status, "4.7.1");
	assert_string_equal(text, "later");
	policy_verdict_free(&v);
	/* only this recipient counts at RCPT */
	f.rcpt = "bob@example.org";
	assert_false(eval_one("{ name = \"x\"; rcpt_domain = \"other.example\"; }", POLICY_RCPT, &f, &v));
	policy_verdict_free(&v);
	/* the default replies */
	policy_verdict d;
	policy_verdict_init(&d);
	policy_verdict_decide(&d, POLICY_REJECT, 0, NULL, NULL, "x");
	policy_verdict_reply(&d, POLICY_CONNECT, &code, &status, &text);
	assert_int_equal(code, 554);
	policy_verdict_reply(&d, POLICY_MAIL, &code, &status, &text);
	assert_int_equal(code, 550);
	assert_string_equal(status, "5.7.1");
	policy_verdict_free(&d);
}

/* A name DNS could not give for now: a refusal that hangs on it defers;
 * an accept that hangs on it does not apply. */
static void test_client_name_tempfail(void **state)
{
	(void)state;
	policy_facts f = facts();
	f.client_name = "";
	f.client_name_tempfail = true;
	policy_verdict v;
	assert_true(eval_one("{ name = \"ok\"; client_name = \"*.good.example\"; action = \"accept\"; },"
	                     "{ name = \"no-name\"; client_name = \"unknown\"; action = \"reject\"; }",
	                     POLICY_CONNECT, &f, &v));
	assert_int_equal(v.decision, POLICY_TEMPFAIL);
	assert_int_equal(v.code, 450);
	assert_string_equal(v.status, "4.7.25");
	assert_string_equal(v.by, "rule no-name");
	assert_int_equal(v.matched.n, 1);
	policy_verdict_free(&v);
	/* a rule whose other conditions fail is simply not matched */
	assert_false(eval_one("{ name = \"x\"; client_name = \"unknown\"; client = \"10.0.0.0/8\"; action = \"reject\"; }",
	                      POLICY_CONNECT, &f, &v));
	policy_verdict_free(&v);
	/* without the DNS failure, "unknown" is a plain refusal */
	f.client_name_tempfail = false;
	assert_true(eval_one("{ name = \"no-name\"; client_name = \"unknown\"; action = \"reject\"; }", POLICY_CONNECT, &f, &v));
	assert_int_equal(v.decision, POLICY_REJECT);
	policy_verdict_free(&v);
}

static void test_body_limit(void **state)
{
	(void)state;
	/* text past body_scan_limit is not looked at */
	char big[9000];
	int n = snprintf(big, sizeof big, "Subject: x\n\n");
	memset(big + n, 'a', 5000);
	strcpy(big + n + 5000, " needle\n");
	policy_facts f = facts();
	f.msg = big;
	f.msg_len = strlen(big);
	policy_verdict v;
	assert_false(eval_one("{ name = \"x\"; body = \"needle\"; }", POLICY_DATA, &f, &v));
	policy_verdict_free(&v);
	assert_true(eval_one("{ name = \"x\"; body = \"aaaa\"; }", POLICY_DATA, &f, &v));
	policy_verdict_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_rcpt_stage_and_first_decision),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_client_name_tempfail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
