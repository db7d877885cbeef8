/* test_spf.c — SPF (RFC 7208): record syntax (every error is a permerror),
 * macro expansion (the examples of section 7.4 and the escapes), and the
 * evaluator against an in-memory zone: results, include and redirect,
 * the DNS-term, void and MX limits, PTR validation, temperror, the
 * explanation, and cancelling with a look-up in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "msgauth/spf.h"
#include "msgauth/spfint.h"
#include "fakedns.h"

/* ---- record syntax */

static spf_record *parse(const char *text)
{
	char *err = NULL;
	spf_record *r = spf_record_parse(text, strlen(text), &err);
	assert_true((r == NULL) == (err != NULL));
	free(err);
	return r;
}

static void test_record_valid(void **state)
{
	static const char *const ok[] = {
		"v=spf1", "v=spf1 ", "V=SpF1 -ALL", "v=spf1  a  -all ", "v=spf1 +all ?all ~all",
		"v=spf1 a mx ptr a:mail.example.com mx:example.com/24 a/24//64 a//0",
		"v=spf1 ip4:1.2.3.4 ip4:10.0.0.0/8 ip4:0.0.0.0/0 ip6:2001:db8::/32 ip6:::1.1.1.1/0",
		"v=spf1 include:_spf.example.com exists:%{ir}.%{l1r-}.lp._spf.%{d2}",
		"v=spf1 a:foo:bar/baz.example.com a:foo.example.xn--zckzah a:%{H}.bar ptr:example.com",
		"v=spf1 redirect=_spf.example.com exp=explain.%{d}", "v=spf1 moo.cow-far_out=man:dog/cat",
		"v=spf1 default=+ foo=%{d}%%%_%-", "v=spf1 a:mail.example...com -all",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		spf_record *r = parse(ok[i]);
		if (r == NULL)
			fail_msg("refused: %s", ok[i]);
		spf_record_free(&r);
	}
}

static void test_record_errors(void **state)
{
	static const char *const bad[] = {
		"v=spf1 moo", "v=spf1 -all.", "v=spf1 -all:foo", "v=spf1 -all/8", "v=spf1 include",
		"v=spf1 include:", "v=spf1 include:a.example.com/24", "v=spf1 exists", "v=spf1 exists:",
		"v=spf1 exists:a.example.com/24", "v=spf1 ptr/0", "v=spf1 ptr:", "v=spf1 a:", "v=spf1 mx:",
		"v=spf1 a/33", "v=spf1 a//129", "v=spf1 a/24/64", "v=spf1 a/032", "v=spf1 a:foo-bar",
		"v=spf1 a:museum", "v=spf1 a:museum.", "v=spf1 a:111.222.33.44", "v=spf1 a:abc.123",
		"v=spf1 a:example.-com", "v=spf1 a:example.com:8080", "v=spf1 ip4", "v=spf1 ip4:1.2.3",
		"v=spf1 ip4:1.2.3.4/33", "v=spf1 ip4:1.2.3.4/032", "v=spf1 ip4:1.2.3.4//32",
		"v=spf1 ip4:1.2.3.4:8080", "v=spf1 ip4:01.2.3.4", "v=spf1 ip4:256.2.3.4", "v=spf1 ip6",
		"v=spf1 ip6::CAFE::BABE", "v=spf1 ip6:::1/129", "v=spf1 ip6:::1//33",
		"v=spf1 redirect=a.example.com redirect=b.example.com", "v=spf1 exp=a.example.com exp=b.example.com",
		"v=spf1 redirect=", "v=spf1 exp=", "v=spf1 redirect=-all", "v=spf1 exp=-all",
		"v=spf1 redirect:a.example.com", "v=spf1 1up=foo", "v=spf1 =all", "v=spf1 foo=%abc",
		"v=spf1 moo.cow/far_out=man:dog/cat", "v=spf1 exists:%(ir).sbl.example.com",
		"v=spf1 exists:foo%.sbl.example.com", "v=spf1 a:%{x}.example.com", "v=spf1 a:%{c}.example.com",
		"v=spf1 a:%{d0}.example.com", "v=spf1 a:%{d}.example.com%", "v=spf1 a:ctrl.example.com\rptr",
		"v=spf1 ip4:192.0.2.5\n", "v=spf1 a:\xef\xbb\xbfgarbage.example.net", ("v=spf1 \x96" "all"),
		"v=spf10", "v=spf1\t-all",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spf_record *r = parse(bad[i]);
		if (r != NULL)
			fail_msg("accepted: %s", bad[i]);
	}
	/* a NUL inside the record (its length says so) */
	char *err = NULL;
	assert_null(spf_record_parse("v=spf1 a:foo.example.com\0", 25, &err));
	assert_non_null(strstr(err, "0x00"));
	free(err);
	/* only len bytes are the record: what follows them is not read
	 * (fuzz_spf found terms read on past len, up to the next NUL) */
	spf_record *r = spf_record_parse("v=spf1 -all ip4:192.0.2.1", 11, &err);
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->terms[0].text, "-all");
	spf_record_free(&r);
	r = spf_record_parse("v=spf1 -allfoo", 11, &err);
	assert_non_null(r);
	assert_string_equal(r->terms[0].text, "-all");
	spf_record_free(&r);
}

static void test_record_terms(void **state)
{
	spf_record *r = parse("v=spf1 -a:Example.com/24//64 ~mx ?ip6:2001:db8::/32 exp=e.%{d} redirect=r.example.com");
	assert_non_null(r);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->terms[0].mech, SPF_M_A);
	assert_int_equal(r->terms[0].qualifier, '-');
	assert_string_equal(r->terms[0].domain, "Example.com");
	assert_int_equal(r->terms[0].cidr4, 24);
	assert_int_equal(r->terms[0].cidr6, 64);
	assert_string_equal(r->terms[0].text, "-a:Example.com/24//64");
	assert_int_equal(r->terms[1].mech, SPF_M_MX);
	assert_null(r->terms[1].domain);
	assert_int_equal(r->terms[1].cidr4, 32);
	assert_int_equal(r->terms[2].cidr6, 32);
	assert_int_equal(r->terms[2].net.family, 6);
	assert_string_equal(r->exp, "e.%{d}");
	assert_string_equal(r->redirect, "r.example.com");
	spf_record_free(&r);
	assert_null(r);
	assert_true(spf_is_record("v=spf1", 6));
	assert_false(spf_is_record("v=spf10", 7));
	assert_false(spf_is_record("v=spf", 5));
}

/* ---- macros */

static char *expand(const char *ip_text, const char *spec, bool explain)
{
	spf_ip ip;
	assert_true(spf_ip_parse(ip_text, &ip));
	spf_macro_env env = {
		.sender = "strong-bad@email.example.com", .local = "strong-bad",
		.sender_domain = "email.example.com", .domain = "email.example.com", .ip = &ip,
		.helo = "mx.example.org", .receiver = "rcv.example.net", .now = 1234,
	};
	assert_true(explain || spf_macro_valid(spec, false));
	return spf_macro_expand(&env, spec, explain);
}

static void test_macro_rfc_examples(void **state)
{
	static const struct {
		const char *ip, *spec, *out;
	} cases[] = {
		{"192.0.2.3", "%{s}", "strong-bad@email.example.com"},
		{"192.0.2.3", "%{o}", "email.example.com"},
		{"192.0.2.3", "%{d}", "email.example.com"},
		{"192.0.2.3", "%{d4}", "email.example.com"},
		{"192.0.2.3", "%{d3}", "email.example.com"},
		{"192.0.2.3", "%{d2}", "example.com"},
		{"192.0.2.3", "%{d1}", "com"},
		{"192.0.2.3", "%{dr}", "com.example.email"},
		{"192.0.2.3", "%{d2r}", "example.email"},
		{"192.0.2.3", "%{l}", "strong-bad"},
		{"192.0.2.3", "%{l-}", "strong.bad"},
		{"192.0.2.3", "%{lr}", "strong-bad"},
		{"192.0.2.3", "%{lr-}", "bad.strong"},
		{"192.0.2.3", "%{l1r-}", "strong"},
		{"192.0.2.3", "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
		{"192.0.2.3", "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
		{"192.0.2.3", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
		{"192.0.2.3", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
		{"192.0.2.3", "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
		{"2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}",
		 "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
		/* escapes, several delimiters, URL encoding of upper-case macros */
		{"192.0.2.3", "a%%b%_c%-d", "a%b c%20d"},
		{"192.0.2.3", "%{l2r+-}", "bad.strong"},
		{"192.0.2.3", "%{S}", "strong-bad%40email.example.com"},
		{"192.0.2.3", "%{h}.%{p}", "mx.example.org.unknown"},
		{"::ffff:192.0.2.3", "%{i}", "192.0.2.3"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = expand(cases[i].ip, cases[i].spec, false);
		assert_non_null(out);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("%s: got %s, want %s", cases[i].spec, out, cases[i].out);
		free(out);
	}
}

static void test_macro_explain(void **state)
{
	char *out = expand("2001:db8::cb01", "%{c} via %{r} at %{t}: %{v}", true);
	assert_string_equal(out, "2001:db8::cb01 via rcv.example.net at 1234: ip6");
	free(out);
	assert_true(spf_macro_valid("The %{x}-files.", true) == false);
	assert_false(spf_macro_valid("%{c}", false));
	assert_false(spf_macro_valid("a b", false));
	assert_true(spf_macro_valid("a b %{t}", true));
	assert_false(spf_macro_valid("\xef\xbb\xbf" "Explanation", true));
	assert_true(spf_macro_uses_p("x.%{p}.y"));
	assert_false(spf_macro_uses_p("x.%{d}"));
}

static void test_domain_rules(void **state)
{
	assert_true(spf_domain_spec_valid("%{d}"));
	assert_true(spf_domain_spec_valid("example.com."));
	assert_true(spf_domain_spec_valid("%{d}.bar"));
	assert_true(spf_domain_spec_valid("a.b%%"));
	assert_false(spf_domain_spec_valid(""));
	assert_false(spf_domain_spec_valid("%{d}x"));
	assert_false(spf_domain_spec_valid("%{d}.123"));
	/* 7.3: a long expansion loses labels on the left to fit 253 bytes */
	spf_ip ip;
	spf_ip_parse("192.0.2.3", &ip);
	char sender[200];
	memset(sender, 'a', 60);
	strcpy(sender + 60, ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.com");
	spf_macro_env env = {.sender = sender, .local = "x", .sender_domain = sender, .domain = sender, .ip = &ip};
	char *name = spf_expand_domain(&env, "%{o}.%{o}.%{o}.example.net.");
	assert_non_null(name);
	assert_true(strlen(name) <= 253);
	assert_true(strcmp(name + strlen(name) - 12, ".example.net") == 0);
	assert_true(strncmp(name, "com.", 4) == 0); /* whole labels dropped */
	free(name);
	/* a label over 63 bytes, an empty label: no usable name */
	env.helo = "%%%%%%%%%%%%%%%%%%%%%%";
	assert_null(spf_expand_domain(&env, "%{H}.bar"));
	assert_null(spf_expand_domain(&env, "mail.example...com"));
	assert_false(spf_name_usable("A2345678", true));
	assert_false(spf_name_usable("[1.2.3.5]", true));
	assert_true(spf_name_usable("example.com.", true));
}

static void test_addresses(void **state)
{
	spf_ip ip, net;
	assert_true(spf_ip_parse("::FFFF:1.2.3.4", &ip));
	assert_int_equal(ip.family, 4);
	assert_true(spf_ip_parse("1.2.3.0", &net));
	assert_true(spf_ip_in(&ip, &net, 24));
	assert_false(spf_ip_in(&ip, &net, 32));
	assert_true(spf_ip_in(&ip, &net, 0));
	assert_false(spf_ip_parse("1.2.3", &ip));
	assert_true(spf_ip_parse("2001:db8::1", &ip));
	assert_false(spf_ip_in(&ip, &net, 0)); /* families never mix */
	char *rev = spf_ip_reverse_name(&ip);
	assert_string_equal(rev, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	free(rev);
}

/* ---- the evaluator against a fake zone */

typedef fakedns_rr rr;

typedef struct got {
	bool done;
	spf_result result;
	char *mechanism, *explanation, *problem;
} got;

static void on_done(void *arg, const spf_outcome *out)
{
	got *g = arg;
	assert_false(g->done);
	g->done = true;
	g->result = out->result;
	g->mechanism = out->mechanism ? xstrdup(out->mechanism) : NULL;
	g->explanation = out->explanation ? xstrdup(out->explanation) : NULL;
	g->problem = out->problem ? xstrdup(out->problem) : NULL;
}

static void got_free(got *g)
{
	free(g->mechanism);
	free(g->explanation);
	free(g->problem);
	memset(g, 0, sizeof(*g));
}

/* check_host with a zone that answers at once: done before it returns */
static spf_result check(const rr *zone, const char *ip, const char *sender, got *g, int *queries_r)
{
	fakedns f = {.zone = zone};
	const char *at = strchr(sender, '@');
	spf_request req = {.ip = ip, .domain = at + 1, .sender = sender, .helo = "helo.example.org",
	                   .lookup = fakedns_lookup, .lookup_ctx = &f};
	assert_null(spf_check_host(&req, on_done, g));
	assert_true(g->done);
	if (queries_r)
		*queries_r = f.queries;
	fakedns_free(&f);
	return g->result;
}

#define TXT(n, ...) {n, DNS_TYPE_TXT, DNS_OK, {__VA_ARGS__, NULL}}
#define A(n, ...) {n, DNS_TYPE_A, DNS_OK, {__VA_ARGS__, NULL}}
#define MX(n, ...) {n, DNS_TYPE_MX, DNS_OK, {__VA_ARGS__, NULL}}
#define PTR(n, ...) {n, DNS_TYPE_PTR, DNS_OK, {__VA_ARGS__, NULL}}
#define FAIL(n, t) {n, t, DNS_TEMPFAIL, {NULL}}

static const rr basic_zone[] = {
	TXT("ex.com", "v=spf1 ip4:192.0.2.0/24 a:mail.ex.com -all exp=why.ex.com"),
	TXT("why.ex.com", "%{i} may not send for %{d} (%{l})"),
	A("mail.ex.com", "198.51.100.7"),
	TXT("soft.com", "v=spf1 ~all", "not spf"),
	TXT("two.com", "v=spf1 -all", "v=spf1 +all"),
	TXT("noexp.com", "v=spf1 -all"),
	TXT("bad.com", "v=spf1 ip4:1.2.3"),
	FAIL("tmp.com", DNS_TYPE_TXT),
	TXT("tmpa.com", "v=spf1 a:down.tmpa.com -all"),
	FAIL("down.tmpa.com", DNS_TYPE_A),
	{NULL, 0, 0, {NULL}},
};

static void test_eval_results(void **state)
{
	got g = {0};
	assert_int_equal(check(basic_zone, "192.0.2.9", "u@ex.com", &g, NULL), SPF_PASS);
	assert_string_equal(g.mechanism, "ip4:192.0.2.0/24");
	assert_null(g.explanation);
	got_free(&g);
	assert_int_equal(check(basic_zone, "198.51.100.7", "u@ex.com", &g, NULL), SPF_PASS);
	assert_string_equal(g.mechanism, "a:mail.ex.com");
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "joe@ex.com", &g, NULL), SPF_FAIL);
	assert_string_equal(g.mechanism, "-all");
	assert_string_equal(g.explanation, "203.0.113.1 may not send for ex.com (joe)");
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "joe@noexp.com", &g, NULL), SPF_FAIL);
	assert_string_equal(g.explanation, "noexp.com does not designate 203.0.113.1 as a permitted sender");
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "u@soft.com", &g, NULL), SPF_SOFTFAIL);
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "u@two.com", &g, NULL), SPF_PERMERROR);
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "u@bad.com", &g, NULL), SPF_PERMERROR);
	assert_non_null(strstr(g.problem, "ip4:1.2.3"));
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "u@nowhere.com", &g, NULL), SPF_NONE);
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "u@tmp.com", &g, NULL), SPF_TEMPERROR);
	got_free(&g);
	assert_int_equal(check(basic_zone, "203.0.113.1", "u@tmpa.com", &g, NULL), SPF_TEMPERROR);
	got_free(&g);
	/* malformed or single-label domains: none, without a look-up */
	int q = -1;
	assert_int_equal(check(basic_zone, "203.0.113.1", "u@localhost", &g, &q), SPF_NONE);
	assert_int_equal(q, 0);
	got_free(&g);
	assert_int_equal(check(basic_zone, "not-an-ip", "u@ex.com", &g, NULL), SPF_PERMERROR);
	got_free(&g);
}

static const rr include_zone[] = {
	TXT("top.com", "v=spf1 include:fails.com include:passes.com -all exp=top-exp.com"),
	TXT("fails.com", "v=spf1 -all exp=inner-exp.com"),
	TXT("passes.com", "v=spf1 ip4:192.0.2.1 -all"),
	TXT("top-exp.com", "top"),
	TXT("inner-exp.com", "inner"),
	TXT("incnone.com", "v=spf1 include:nowhere.com +all"),
	TXT("inctmp.com", "v=spf1 include:tmp.com +all"),
	FAIL("tmp.com", DNS_TYPE_TXT),
	TXT("redir.com", "v=spf1 exp=top-exp.com redirect=target.com"),
	TXT("target.com", "v=spf1 a -all"),
	A("target.com", "192.0.2.55"),
	A("redir.com", "192.0.2.66"),
	TXT("redirnone.com", "v=spf1 redirect=nowhere.com"),
	TXT("redirafter.com", "v=spf1 ip4:192.0.2.1 redirect=target.com"),
	{NULL, 0, 0, {NULL}},
};

static void test_eval_include_redirect(void **state)
{
	got g = {0};
	/* an included fail does not match; the include's exp= is not used */
	assert_int_equal(check(include_zone, "192.0.2.9", "u@top.com", &g, NULL), SPF_FAIL);
	assert_string_equal(g.explanation, "top");
	got_free(&g);
	assert_int_equal(check(include_zone, "192.0.2.1", "u@top.com", &g, NULL), SPF_PASS);
	assert_string_equal(g.mechanism, "include:passes.com");
	got_free(&g);
	assert_int_equal(check(include_zone, "192.0.2.1", "u@incnone.com", &g, NULL), SPF_PERMERROR);
	got_free(&g);
	assert_int_equal(check(include_zone, "192.0.2.1", "u@inctmp.com", &g, NULL), SPF_TEMPERROR);
	got_free(&g);
	/* redirect: the target's <domain> for "a", and the original exp= dropped */
	assert_int_equal(check(include_zone, "192.0.2.55", "u@redir.com", &g, NULL), SPF_PASS);
	got_free(&g);
	assert_int_equal(check(include_zone, "192.0.2.66", "u@redir.com", &g, NULL), SPF_FAIL);
	assert_string_equal(g.explanation, "redir.com does not designate 192.0.2.66 as a permitted sender");
	got_free(&g);
	assert_int_equal(check(include_zone, "192.0.2.1", "u@redirnone.com", &g, NULL), SPF_PERMERROR);
	got_free(&g);
	/* a mechanism that matches first wins over redirect= */
	assert_int_equal(check(include_zone, "192.0.2.1", "u@redirafter.com", &g, NULL), SPF_PASS);
	got_free(&g);
}

static const rr limit_zone[] = {
	/* a chain of includes: l0 includes l1 ... l10 which has ip4 */
	TXT("l0.com", "v=spf1 include:l1.com -all"), TXT("l1.com", "v=spf1 include:l2.com -all"),
	TXT("l2.com", "v=spf1 include:l3.com -all"), TXT("l3.com", "v=spf1 include:l4.com -all"),
	TXT("l4.com", "v=spf1 include:l5.com -all"), TXT("l5.com", "v=spf1 include:l6.com -all"),
	TXT("l6.com", "v=spf1 include:l7.com -all"), TXT("l7.com", "v=spf1 include:l8.com -all"),
	TXT("l8.com", "v=spf1 include:l9.com -all"), TXT("l9.com", "v=spf1 include:l10.com -all"),
	TXT("l10.com", "v=spf1 ip4:192.0.2.1 include:l11.com -all"), TXT("l11.com", "v=spf1 +all"),
	TXT("loop.com", "v=spf1 redirect=loop.com"),
	TXT("void2.com", "v=spf1 a:n1.com a:n2.com ?all"),
	TXT("void3.com", "v=spf1 a:n1.com a:n2.com a:n3.com ?all"),
	TXT("mx11.com", "v=spf1 mx -all"),
	MX("mx11.com", "m1.com", "m2.com", "m3.com", "m4.com", "m5.com", "m6.com", "m7.com", "m8.com", "m9.com",
	   "m10.com", "m11.com"),
	TXT("mx10.com", "v=spf1 mx -all"),
	MX("mx10.com", "m1.com", "m2.com", "m3.com", "m4.com", "m5.com", "m6.com", "m7.com", "m8.com", "m9.com",
	   "m10.com"),
	A("m10.com", "192.0.2.10"),
	{NULL, 0, 0, {NULL}},
};

static void test_eval_limits(void **state)
{
	got g = {0};
	int q = 0;
	/* ten includes deep is the limit: ip4 in the tenth still matches */
	assert_int_equal(check(limit_zone, "192.0.2.1", "u@l0.com", &g, &q), SPF_PASS);
	got_free(&g);
	/* the eleventh DNS term ends it */
	assert_int_equal(check(limit_zone, "192.0.2.2", "u@l0.com", &g, NULL), SPF_PERMERROR);
	assert_non_null(strstr(g.problem, "10 DNS"));
	got_free(&g);
	assert_int_equal(check(limit_zone, "192.0.2.2", "u@loop.com", &g, &q), SPF_PERMERROR);
	assert_true(q <= SPF_MAX_DNS_TERMS + 1);
	got_free(&g);
	assert_int_equal(check(limit_zone, "192.0.2.2", "u@void2.com", &g, NULL), SPF_NEUTRAL);
	got_free(&g);
	assert_int_equal(check(limit_zone, "192.0.2.2", "u@void3.com", &g, NULL), SPF_PERMERROR);
	assert_non_null(strstr(g.problem, "void"));
	got_free(&g);
	assert_int_equal(check(limit_zone, "192.0.2.10", "u@mx11.com", &g, NULL), SPF_PERMERROR);
	got_free(&g);
	assert_int_equal(check(limit_zone, "192.0.2.10", "u@mx10.com", &g, &q), SPF_PASS);
	assert_int_equal(q, 1 + 1 + 10); /* TXT, MX, one A per name */
	got_free(&g);
}

static const rr ptr_zone[] = {
	TXT("p.com", "v=spf1 ptr -all exp=pexp.com"),
	TXT("pexp.com", "host %{p}"),
	PTR("9.2.0.192.in-addr.arpa", "evil.org", "mail.p.com", "other.p.com"),
	A("mail.p.com", "192.0.2.9"),
	A("other.p.com", "192.0.2.8"),
	A("evil.org", "192.0.2.9"),
	PTR("8.2.0.192.in-addr.arpa", "other.p.com"),
	TXT("many.com", "v=spf1 ptr:many.com -all"),
	PTR("7.2.0.192.in-addr.arpa", "h1.org", "h2.org", "h3.org", "h4.org", "h5.org", "h6.org", "h7.org",
	    "h8.org", "h9.org", "h10.org", "x.many.com"),
	A("x.many.com", "192.0.2.7"),
	{NULL, 0, 0, {NULL}},
};

static void test_eval_ptr(void **state)
{
	got g = {0};
	assert_int_equal(check(ptr_zone, "192.0.2.9", "u@p.com", &g, NULL), SPF_PASS);
	got_free(&g);
	/* other.p.com does not point back at .9 but at .8 */
	assert_int_equal(check(ptr_zone, "192.0.2.8", "u@p.com", &g, NULL), SPF_PASS);
	got_free(&g);
	assert_int_equal(check(ptr_zone, "192.0.2.6", "u@p.com", &g, NULL), SPF_FAIL);
	assert_string_equal(g.explanation, "host unknown");
	got_free(&g);
	/* only the first 10 PTR names are checked */
	assert_int_equal(check(ptr_zone, "192.0.2.7", "u@many.com", &g, NULL), SPF_FAIL);
	got_free(&g);
}

static void test_eval_async_and_cancel(void **state)
{
	fakedns f = {.zone = basic_zone, .later = true};
	got g = {0};
	spf_request req = {.ip = "192.0.2.9", .domain = "ex.com", .sender = "u@ex.com",
	                   .lookup = fakedns_lookup, .lookup_ctx = &f};
	spf_check *c = spf_check_host(&req, on_done, &g);
	assert_non_null(c);
	assert_false(g.done);
	/* answer later: the result comes from the callback */
	f.later = false;
	fakedns_release(&f);
	assert_true(g.done);
	assert_int_equal(g.result, SPF_PASS);
	got_free(&g);
	/* cancelled with the question in flight: the late answer is dropped */
	f.later = true;
	c = spf_check_host(&req, on_done, &g);
	assert_non_null(c);
	spf_check_cancel(&c);
	assert_null(c);
	fakedns_release(&f);
	assert_false(g.done);
	fakedns_free(&f);
	assert_string_equal(spf_result_name(SPF_PERMERROR), "permerror");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_valid),        cmocka_unit_test(test_record_errors),
		cmocka_unit_test(test_record_terms),        cmocka_unit_test(test_macro_rfc_examples),
		cmocka_unit_test(test_macro_explain),       cmocka_unit_test(test_domain_rules),
		cmocka_unit_test(test_addresses),           cmocka_unit_test(test_eval_results),
		cmocka_unit_test(test_eval_include_redirect), cmocka_unit_test(test_eval_limits),
		cmocka_unit_test(test_eval_ptr),            cmocka_unit_test(test_eval_async_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
