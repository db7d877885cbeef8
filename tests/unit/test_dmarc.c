/* test_dmarc.c — DMARC (RFC 7489): the record (tags, defaults, the 6.6.3
 * rules for p= and rua=), the organizational domain from the Public
 * Suffix List, strict and relaxed alignment, the From domain, and the
 * evaluation against an in-memory zone: discovery at the From and the
 * organizational domain, sp for subdomains, pct with a fixed draw, none,
 * temperror, permerror, and cancelling with a look-up in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "msgauth/dmarc.h"
#include "fakedns.h"

static dmarc_psl *psl;

static int setup(void **state)
{
	char *err = NULL;
	psl = dmarc_psl_open(&err);
	if (psl == NULL)
		fail_msg("%s", err);
	return 0;
}

static int teardown(void **state)
{
	dmarc_psl_free(&psl);
	assert_null(psl);
	return 0;
}

/* ---- the record */

static dmarc_record_status parse(const char *text, dmarc_record *r)
{
	char *why = NULL;
	dmarc_record_status s = dmarc_record_parse(text, strlen(text), r, &why);
	assert_true((s == DMARC_RECORD_INVALID) == (why != NULL));
	free(why);
	return s;
}

static void test_record_full(void **state)
{
	dmarc_record r;
	assert_int_equal(parse("v=DMARC1; p=Reject; sp=quarantine; pct=20; adkim=s; aspf=r; "
	                       "rua=mailto:a@example.com,mailto:b@example.net!10m; ruf=mailto:f@example.com; "
	                       "fo=1:d; rf=afrf; ri=3600; future=x", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.pct, 20);
	assert_true(r.adkim_strict);
	assert_false(r.aspf_strict);
	assert_string_equal(r.rua, "mailto:a@example.com,mailto:b@example.net!10m");
	assert_string_equal(r.ruf, "mailto:f@example.com");
	assert_string_equal(r.fo, "1:d");
	assert_int_equal(r.ri, 3600);
	assert_false(r.p_assumed);
	assert_null(r.problem);
	dmarc_record_free(&r);
}

static void test_record_defaults(void **state)
{
	dmarc_record r;
	assert_int_equal(parse("v = DMARC1 ;p= quarantine ;", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);   /* no sp=: p */
	assert_int_equal(r.pct, 100);
	assert_false(r.adkim_strict || r.aspf_strict);
	assert_null(r.rua);
	assert_string_equal(r.fo, "0");
	assert_string_equal(r.rf, "afrf");
	assert_int_equal(r.ri, 86400);
	dmarc_record_free(&r);
}

static void test_record_not_dmarc(void **state)
{
	static const char *const texts[] = {
		"v=spf1 -all", "", "p=reject; v=DMARC1", "v=DMARC2; p=none", "v=dmarc1; p=none",
		"v=DMARC1p=none", " x v=DMARC1; p=none", "v=DMARC10; p=none",
	};
	dmarc_record r;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (parse(texts[i], &r) != DMARC_RECORD_NOT_DMARC)
			fail_msg("taken as DMARC: %s", texts[i]);
	char *why = NULL;
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none\0", 17, &r, &why), DMARC_RECORD_NOT_DMARC);
}

static void test_record_p_rules(void **state)
{
	dmarc_record r;
	/* 6.6.3: no valid p= and no valid rua=: unusable */
	static const char *const invalid[] = {
		"v=DMARC1", "v=DMARC1; p=block", "v=DMARC1; p=", "v=DMARC1; p=none; sp=drop",
		"v=DMARC1; p=bogus; rua=nothing", "v=DMARC1; rua=mailto", "v=DMARC1; rua=:x",
		"v=DMARC1; rua=mailto:a@b!", "v=DMARC1; rua=mailto:a@b!10x",
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (parse(invalid[i], &r) != DMARC_RECORD_INVALID)
			fail_msg("accepted: %s", invalid[i]);
	/* ... with one valid rua= URI: as if p=none */
	static const char *const assumed[] = {
		"v=DMARC1; rua=mailto:d@example.com", "v=DMARC1; p=block; rua=bad, mailto:d@example.com!5k",
		"v=DMARC1; p=reject; sp=nope; rua=mailto:d@example.com",
	};
	for (size_t i = 0; i < sizeof(assumed) / sizeof(assumed[0]); i++) {
		if (parse(assumed[i], &r) != DMARC_RECORD_OK)
			fail_msg("refused: %s", assumed[i]);
		assert_true(r.p_assumed);
		assert_int_equal(r.p, DMARC_POLICY_NONE);
		assert_int_equal(r.sp, DMARC_POLICY_NONE);
		dmarc_record_free(&r);
	}
}

static void test_record_bad_values(void **state)
{
	dmarc_record r;
	assert_int_equal(parse("v=DMARC1; p=reject; pct=101; adkim=x; aspf=strict; fo=2; ri=-1; rf=; junk; "
	                       "p=none", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);   /* the first p= counts */
	assert_int_equal(r.pct, 100);
	assert_false(r.adkim_strict || r.aspf_strict);
	assert_string_equal(r.fo, "0");
	assert_string_equal(r.rf, "afrf");
	assert_int_equal(r.ri, 86400);
	assert_non_null(r.problem);
	assert_non_null(strstr(r.problem, "invalid pct"));
	assert_non_null(strstr(r.problem, "repeated p"));
	assert_non_null(strstr(r.problem, "without =: junk"));
	dmarc_record_free(&r);
	assert_int_equal(parse("v=DMARC1; p=none; pct=0", &r), DMARC_RECORD_OK);
	assert_int_equal(r.pct, 0);
	dmarc_record_free(&r);
	assert_int_equal(parse("v=DMARC1; p=none; pct=050", &r), DMARC_RECORD_OK);
	assert_int_equal(r.pct, 50);
	dmarc_record_free(&r);
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
}

/* ---- organizational domain and alignment */

static void test_org_domain(void **state)
{
	static const char *const cases[][2] = {
		{"example.com", "example.com"},        {"Mail.Example.COM.", "example.com"},
		{"a.b.c.example.co.uk", "example.co.uk"}, {"co.uk", "co.uk"},
		{"com", "com"},                        {"x.y.test", "y.test"},
		{"foo.bar.blogspot.com", "bar.blogspot.com"},
		/* never a trailing dot, however many (fuzz_dmarc found "www.."
		 * giving "www.", whose own organizational domain was "www") */
		{"www..", "www"},                      {"Mail.Example.COM..", "example.com"},
		{"..", "."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *org = dmarc_org_domain(psl, cases[i][0]);
		if (strcmp(org, cases[i][1]) != 0)
			fail_msg("%s: %s, not %s", cases[i][0], org, cases[i][1]);
		free(org);
	}
}

static void test_alignment(void **state)
{
	static const struct {
		const char *from, *id;
		bool strict, aligned;
	} cases[] = {
		{"example.com", "example.com", true, true},   {"example.com", "EXAMPLE.com.", true, true},
		{"example.com", "mail.example.com", true, false},
		{"example.com", "mail.example.com", false, true},
		{"news.example.com", "bounce.example.com", false, true},
		{"news.example.com", "bounce.example.com", true, false},
		{"example.com", "example.net", false, false}, {"a.example.co.uk", "b.example.co.uk", false, true},
		{"example.co.uk", "other.co.uk", false, false}, {"a.bar.blogspot.com", "b.baz.blogspot.com", false, false},
		{"example.com", NULL, false, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (dmarc_aligned(psl, cases[i].from, cases[i].id, cases[i].strict) != cases[i].aligned)
			fail_msg("%s / %s %s: wrong", cases[i].from, cases[i].id, cases[i].strict ? "strict" : "relaxed");
}

/* ---- the From domain */

static void test_from_domain(void **state)
{
	static const struct {
		const char *msg;
		dmarc_from_status status;
		const char *domain;
	} cases[] = {
		{"From: a@Example.COM\nTo: b@x.test\n\nbody", DMARC_FROM_OK, "example.com"},
		{"To: b@x.test\r\nfrom: \"Joe, Jr\" <joe@sub.example.org>\r\n\r\n", DMARC_FROM_OK, "sub.example.org"},
		{"From: Alice\n <alice@folded.test> (home)\n\n", DMARC_FROM_OK, "folded.test"},
		{"To: b@x.test\n\nFrom: a@body.test\n", DMARC_FROM_MISSING, NULL},
		{"From: a@one.test\nFrom: a@two.test\n\n", DMARC_FROM_MULTIPLE, NULL},
		{"From: a@one.test, b@two.test\n\n", DMARC_FROM_MULTIPLE, NULL},
		{"From: a@one.test, b@one.test\n\n", DMARC_FROM_MULTIPLE, NULL},
		{"From: undisclosed:;\n\n", DMARC_FROM_INVALID, NULL},
		{"From: nobody\n\n", DMARC_FROM_INVALID, NULL},
		{"From: a@[192.0.2.1]\n\n", DMARC_FROM_INVALID, NULL},
		{"From:\n\n", DMARC_FROM_INVALID, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = NULL;
		dmarc_from_status s = dmarc_from_domain(cases[i].msg, strlen(cases[i].msg), &d);
		if (s != cases[i].status || (d == NULL) != (cases[i].domain == NULL) ||
		    (d != NULL && strcmp(d, cases[i].domain) != 0))
			fail_msg("case %zu: status %d domain %s", i, (int)s, d ? d : "(none)");
		free(d);
		if (s != DMARC_FROM_OK)
			assert_non_null(dmarc_from_problem(s));
	}
}

/* ---- the evaluation against a fake zone */

typedef fakedns_rr rr;

static const rr zone[] = {
	{"_dmarc.example.com", DNS_TYPE_TXT, DNS_OK, {"v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com", NULL}},
	{"_dmarc.strict.test", DNS_TYPE_TXT, DNS_OK, {"v=DMARC1; p=reject; adkim=s; aspf=s", "v=spf1 -all", NULL}},
	{"_dmarc.nosp.test", DNS_TYPE_TXT, DNS_OK, {"v=DMARC1; p=quarantine", NULL}},
	{"_dmarc.half.test", DNS_TYPE_TXT, DNS_OK, {"v=DMARC1; p=reject; pct=50", NULL}},
	{"_dmarc.two.test", DNS_TYPE_TXT, DNS_OK, {"v=DMARC1; p=none", "v=DMARC1; p=reject", NULL}},
	{"_dmarc.broken.test", DNS_TYPE_TXT, DNS_OK, {"v=DMARC1; p=never", NULL}},
	{"_dmarc.tmp.test", DNS_TYPE_TXT, DNS_TEMPFAIL, {NULL}},
	{"_dmarc.sub.tmporg.test", DNS_TYPE_TXT, DNS_NXDOMAIN, {NULL}},
	{"_dmarc.tmporg.test", DNS_TYPE_TXT, DNS_TEMPFAIL, {NULL}},
	{"_dmarc.own.example.com", DNS_TYPE_TXT, DNS_OK, {"v=DMARC1; p=none", NULL}},
	{"_dmarc.spfonly.test", DNS_TYPE_TXT, DNS_OK, {"v=spf1 -all", NULL}},
	{NULL, 0, DNS_OK, {NULL}},
};

typedef struct got {
	bool done;
	dmarc_outcome out;
	char *record_name, *dkim_domain, *from;
} got;

static void on_done(void *arg, const dmarc_outcome *out)
{
	got *g = arg;
	assert_false(g->done);
	g->done = true;
	g->out = *out;
	g->record_name = out->record_name ? xstrdup(out->record_name) : NULL;
	g->dkim_domain = out->dkim_domain ? xstrdup(out->dkim_domain) : NULL;
	g->from = out->from_domain ? xstrdup(out->from_domain) : NULL;
	g->out.record = NULL;
	g->out.problem = NULL;
	assert_true(out->result == DMARC_PASS || out->result == DMARC_FAIL || out->problem != NULL);
}

static void got_free(got *g)
{
	free(g->record_name);
	free(g->dkim_domain);
	free(g->from);
	memset(g, 0, sizeof(*g));
}

static int draw_value;
static int fixed_draw(void *ctx)
{
	return *(int *)ctx;
}

typedef struct scenario {
	const char *from;
	spf_result spf;
	const char *spf_domain;
	const char *dkim_pass;   /* a passing signature's d=, or NULL */
	const char *dkim_fail;   /* a failing signature's d=, or NULL */
} scenario;

static dmarc_result check(const scenario *s, got *g, fakedns *f)
{
	dkim_verdict v[2] = {{.result = DKIM_FAIL, .domain = (char *)s->dkim_fail},
	                     {.result = DKIM_PASS, .domain = (char *)s->dkim_pass}};
	dmarc_request req = {.from_status = DMARC_FROM_OK, .from_domain = s->from, .spf = s->spf,
	                     .spf_domain = s->spf_domain, .dkim = v, .n_dkim = 2, .psl = psl,
	                     .lookup = fakedns_lookup, .lookup_ctx = f, .draw = fixed_draw, .draw_ctx = &draw_value};
	got_free(g);
	assert_null(dmarc_check_start(&req, on_done, g));
	assert_true(g->done);
	return g->out.result;
}

static void test_eval_alignment(void **state)
{
	got g = {0};
	fakedns f = {.zone = zone};
	/* relaxed SPF: bounce.example.com aligns with example.com */
	scenario s = {"example.com", SPF_PASS, "bounce.example.com", NULL, NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_PASS);
	assert_true(g.out.spf_aligned);
	assert_false(g.out.dkim_aligned);
	assert_int_equal(g.out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(g.out.disposition, DMARC_POLICY_NONE);
	assert_string_equal(g.record_name, "_dmarc.example.com");
	assert_string_equal(g.from, "example.com");
	/* SPF that did not pass does not count, however aligned */
	s = (scenario){"example.com", SPF_SOFTFAIL, "example.com", NULL, NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.disposition, DMARC_POLICY_REJECT);
	/* a passing signature of another domain does not count, an aligned one does */
	s = (scenario){"example.com", SPF_FAIL, "example.com", "example.net", "example.com"};
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	s = (scenario){"example.com", SPF_NONE, NULL, "mail.example.com", NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_PASS);
	assert_true(g.out.dkim_aligned);
	assert_string_equal(g.dkim_domain, "mail.example.com");
	/* strict: only the exact name */
	s = (scenario){"strict.test", SPF_PASS, "mail.strict.test", "mail.strict.test", NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	s = (scenario){"strict.test", SPF_PASS, "Strict.Test", NULL, NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_PASS);
	s = (scenario){"strict.test", SPF_NONE, NULL, "strict.test", NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_PASS);
	got_free(&g);
	fakedns_free(&f);
}

static void test_eval_subdomain_policy(void **state)
{
	got g = {0};
	fakedns f = {.zone = zone};
	/* no record at the subdomain: the organizational domain's sp= */
	scenario s = {"news.example.com", SPF_FAIL, "news.example.com", NULL, NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.policy, DMARC_POLICY_QUARANTINE);
	assert_int_equal(g.out.disposition, DMARC_POLICY_QUARANTINE);
	assert_string_equal(g.record_name, "_dmarc.example.com");
	assert_int_equal(f.queries, 2);
	assert_string_equal(f.asked[0], "_dmarc.news.example.com");
	assert_string_equal(f.asked[1], "_dmarc.example.com");
	fakedns_free(&f);
	/* without sp=, p applies to subdomains */
	f = (fakedns){.zone = zone};
	s = (scenario){"a.b.nosp.test", SPF_NONE, NULL, NULL, NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.policy, DMARC_POLICY_QUARANTINE);
	/* a record at the subdomain itself wins: its p= */
	s = (scenario){"own.example.com", SPF_NONE, NULL, NULL, NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.policy, DMARC_POLICY_NONE);
	assert_int_equal(g.out.disposition, DMARC_POLICY_NONE);
	got_free(&g);
	fakedns_free(&f);
}

static void test_eval_pct(void **state)
{
	got g = {0};
	fakedns f = {.zone = zone};
	scenario s = {"half.test", SPF_FAIL, "half.test", NULL, NULL};
	draw_value = 49;   /* inside the 50 %: the policy */
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.disposition, DMARC_POLICY_REJECT);
	assert_false(g.out.sampled_out);
	draw_value = 50;   /* outside: one step milder */
	assert_int_equal(check(&s, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(g.out.disposition, DMARC_POLICY_QUARANTINE);
	assert_true(g.out.sampled_out);
	/* the random draw (no draw function) stays in range either way */
	dmarc_request req = {.from_status = DMARC_FROM_OK, .from_domain = "half.test", .spf = SPF_FAIL,
	                     .psl = psl, .lookup = fakedns_lookup, .lookup_ctx = &f};
	got_free(&g);
	assert_null(dmarc_check_start(&req, on_done, &g));
	assert_true(g.out.disposition == DMARC_POLICY_REJECT || g.out.disposition == DMARC_POLICY_QUARANTINE);
	got_free(&g);
	fakedns_free(&f);
}

static void test_eval_errors(void **state)
{
	got g = {0};
	fakedns f = {.zone = zone};
	scenario s = {"nowhere.test", SPF_PASS, "nowhere.test", NULL, NULL};
	assert_int_equal(check(&s, &g, &f), DMARC_NONE);
	assert_int_equal(g.out.disposition, DMARC_POLICY_NONE);
	s.from = "spfonly.test";   /* TXT records, none of them DMARC */
	assert_int_equal(check(&s, &g, &f), DMARC_NONE);
	s.from = "two.test";
	assert_int_equal(check(&s, &g, &f), DMARC_PERMERROR);
	s.from = "broken.test";
	assert_int_equal(check(&s, &g, &f), DMARC_PERMERROR);
	assert_int_equal(g.out.disposition, DMARC_POLICY_NONE);
	s.from = "tmp.test";
	assert_int_equal(check(&s, &g, &f), DMARC_TEMPERROR);
	s.from = "sub.tmporg.test";
	assert_int_equal(check(&s, &g, &f), DMARC_TEMPERROR);
	s.from = "bad_name!.test";
	assert_int_equal(check(&s, &g, &f), DMARC_PERMERROR);
	assert_int_equal(g.out.disposition, DMARC_POLICY_REJECT);
	/* a From field DMARC cannot use: permerror, reject, no look-up */
	int before = f.queries;
	dmarc_request req = {.from_status = DMARC_FROM_MULTIPLE, .psl = psl, .lookup = fakedns_lookup, .lookup_ctx = &f};
	got_free(&g);
	assert_null(dmarc_check_start(&req, on_done, &g));
	assert_int_equal(g.out.result, DMARC_PERMERROR);
	assert_int_equal(g.out.disposition, DMARC_POLICY_REJECT);
	assert_null(g.from);
	assert_int_equal(f.queries, before);
	assert_string_equal(dmarc_result_name(DMARC_TEMPERROR), "temperror");
	got_free(&g);
	fakedns_free(&f);
}

/* RFC 7489 6.6.2: nothing aligned passed, and an identifier that would
 * have aligned failed for now: temperror, and the policy is not applied. */
static dmarc_result check_temp(const char *from, spf_result spf, const char *spf_domain,
                               const dkim_verdict *v, size_t n, got *g, fakedns *f)
{
	dmarc_request req = {.from_status = DMARC_FROM_OK, .from_domain = from, .spf = spf,
	                     .spf_domain = spf_domain, .dkim = v, .n_dkim = n, .psl = psl,
	                     .lookup = fakedns_lookup, .lookup_ctx = f, .draw = fixed_draw, .draw_ctx = &draw_value};
	got_free(g);
	assert_null(dmarc_check_start(&req, on_done, g));
	assert_true(g->done);
	return g->out.result;
}

static void test_eval_temporary_failures(void **state)
{
	got g = {0};
	fakedns f = {.zone = zone};
	draw_value = 0;
	/* an aligned SPF temperror, no signature: temperror, no disposition */
	assert_int_equal(check_temp("example.com", SPF_TEMPERROR, "bounce.example.com", NULL, 0, &g, &f),
	                 DMARC_TEMPERROR);
	assert_int_equal(g.out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(g.out.disposition, DMARC_POLICY_NONE);
	assert_string_equal(g.record_name, "_dmarc.example.com");
	/* an SPF temperror for a domain that would not align: still fail */
	assert_int_equal(check_temp("example.com", SPF_TEMPERROR, "other.net", NULL, 0, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.disposition, DMARC_POLICY_REJECT);
	/* strict SPF: a subdomain would not align */
	assert_int_equal(check_temp("strict.test", SPF_TEMPERROR, "mail.strict.test", NULL, 0, &g, &f), DMARC_FAIL);
	/* an aligned DKIM temperror with SPF failing */
	dkim_verdict v[2] = {{.result = DKIM_FAIL, .domain = "example.com"},
	                     {.result = DKIM_TEMPERROR, .domain = "mail.example.com"}};
	assert_int_equal(check_temp("example.com", SPF_FAIL, "example.com", v, 2, &g, &f), DMARC_TEMPERROR);
	assert_int_equal(g.out.disposition, DMARC_POLICY_NONE);
	/* a DKIM temperror of another domain: fail */
	v[1].domain = "example.net";
	assert_int_equal(check_temp("example.com", SPF_FAIL, "example.com", v, 2, &g, &f), DMARC_FAIL);
	assert_int_equal(g.out.disposition, DMARC_POLICY_REJECT);
	/* a DKIM temperror whose d= is not known (the checks timed out) */
	dkim_verdict none = {.result = DKIM_TEMPERROR, .reason = "timed out"};
	assert_int_equal(check_temp("example.com", SPF_SOFTFAIL, "example.com", &none, 1, &g, &f), DMARC_TEMPERROR);
	/* both SPF and DKIM temperror (a DNS outage) */
	assert_int_equal(check_temp("example.com", SPF_TEMPERROR, "example.com", &none, 1, &g, &f), DMARC_TEMPERROR);
	/* an aligned pass wins over any temperror */
	dkim_verdict pass[2] = {{.result = DKIM_TEMPERROR, .domain = "example.com"},
	                        {.result = DKIM_PASS, .domain = "example.com"}};
	assert_int_equal(check_temp("example.com", SPF_TEMPERROR, "example.com", pass, 2, &g, &f), DMARC_PASS);
	/* no policy record: none, whatever failed */
	assert_int_equal(check_temp("nowhere.test", SPF_TEMPERROR, "nowhere.test", NULL, 0, &g, &f), DMARC_NONE);
	got_free(&g);
	fakedns_free(&f);
}

static void test_eval_async_and_cancel(void **state)
{
	got g = {0};
	fakedns f = {.zone = zone, .later = true};
	dmarc_request req = {.from_status = DMARC_FROM_OK, .from_domain = "news.example.com", .spf = SPF_PASS,
	                     .spf_domain = "example.com", .psl = psl, .lookup = fakedns_lookup, .lookup_ctx = &f};
	dmarc_check *c = dmarc_check_start(&req, on_done, &g);
	assert_non_null(c);
	assert_false(g.done);
	for (int i = 0; i < 2; i++)     /* the subdomain, then the organizational domain */
		fakedns_release(&f);
	assert_true(g.done);
	assert_int_equal(g.out.result, DMARC_PASS);
	got_free(&g);
	/* cancelled with a look-up in flight: the answer is dropped, done never runs */
	c = dmarc_check_start(&req, on_done, &g);
	assert_non_null(c);
	dmarc_check_cancel(&c);
	assert_null(c);
	fakedns_release(&f);
	assert_false(g.done);
	fakedns_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_full),          cmocka_unit_test(test_record_defaults),
		cmocka_unit_test(test_record_not_dmarc),     cmocka_unit_test(test_record_p_rules),
		cmocka_unit_test(test_record_bad_values),    cmocka_unit_test(test_org_domain),
		cmocka_unit_test(test_alignment),            cmocka_unit_test(test_from_domain),
		cmocka_unit_test(test_eval_alignment),       cmocka_unit_test(test_eval_subdomain_policy),
		cmocka_unit_test(test_eval_pct),             cmocka_unit_test(test_eval_errors),
		cmocka_unit_test(test_eval_async_and_cancel), cmocka_unit_test(test_eval_temporary_failures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
