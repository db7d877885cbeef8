/* test_mtasts.c — MTA-STS's pure parts (delivery/mtasts.h): TXT record
 * selection (RFC 8461 3.1), the policy parser's edge cases (3.2), the MX
 * pattern table (4.1), the cache decisions (5.1), the on-disk cache
 * (delivery/mtastsdb.h) across a reopen, and our own policy text and id
 * (msgauth/mtastsown.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/mtasts.h"
#include "delivery/mtastsdb.h"
#include "msgauth/dnsadvice.h"
#include "msgauth/mtastsown.h"

/* ---- TXT selection ---- */

static void test_txt_select(void **state)
{
	(void)state;
	static const struct {
		const char *v[3];
		size_t n;
		mtasts_txt want;
		const char *id;
	} cases[] = {
		{{"v=STSv1; id=20160831085700Z;"}, 1, MTASTS_TXT_FOUND, "20160831085700Z"},
		{{"v=STSv1;id=abc"}, 1, MTASTS_TXT_FOUND, "abc"},
		{{"v=STSv1 ; id=abc ; ext=whatever"}, 1, MTASTS_TXT_FOUND, "abc"},
		{{"v=spf1 -all", "v=STSv1; id=x1"}, 2, MTASTS_TXT_FOUND, "x1"},
		{{"v=STSv1; id=a", "v=STSv1; id=b"}, 2, MTASTS_TXT_NONE, NULL},    /* not exactly one */
		{{"v=STSv1; id=a", "v=STSv1; junk"}, 2, MTASTS_TXT_NONE, NULL},    /* two, one invalid */
		{{"v=spf1 -all"}, 1, MTASTS_TXT_NONE, NULL},
		{{"v=STSv10; id=a"}, 1, MTASTS_TXT_NONE, NULL},
		{{"v=STSv1"}, 1, MTASTS_TXT_NONE, NULL},                           /* no delimiter */
		{{"v=STSv1; id="}, 1, MTASTS_TXT_NONE, NULL},
		{{"v=STSv1; id=a-b"}, 1, MTASTS_TXT_NONE, NULL},                   /* not alphanumeric */
		{{"v=STSv1; id=123456789012345678901234567890123"}, 1, MTASTS_TXT_NONE, NULL}, /* 33 */
		{{"v=STSv1; id=12345678901234567890123456789012"}, 1, MTASTS_TXT_FOUND,
		 "12345678901234567890123456789012"},
		{{"V=STSv1; id=a"}, 1, MTASTS_TXT_NONE, NULL},                     /* %s: case-sensitive */
		{{"v=STSv1; other=1"}, 1, MTASTS_TXT_NONE, NULL},                  /* no id */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *id = NULL;
		const char *why = NULL;
		mtasts_txt t = mtasts_txt_select(cases[i].v, NULL, cases[i].n, &id, &why);
		if (t != cases[i].want)
			fail_msg("case %zu (%s): got %d", i, cases[i].v[0], (int)t);
		if (cases[i].id != NULL)
			assert_string_equal(id, cases[i].id);
		else
			assert_non_null(why);
		free(id);
	}
	/* a NUL inside the record (lens from the resolver) */
	const char *v[] = {"v=STSv1; id=a\0b"};
	size_t lens[] = {15};
	char *id = NULL;
	const char *why = NULL;
	assert_int_equal(mtasts_txt_select(v, lens, 1, &id, &why), MTASTS_TXT_NONE);
	assert_null(id);
}

/* ---- the policy ---- */

static void test_policy_valid(void **state)
{
	(void)state;
	static const char crlf[] = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
	                           "mx: *.example.net\r\nmx: backupmx.example.com.\r\nmax_age: 604800\r\n";
	mtasts_policy p;
	const char *why;
	assert_true(mtasts_policy_parse(crlf, strlen(crlf), &p, &why));
	assert_int_equal(p.mode, MTASTS_MODE_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.mx.n, 3);
	assert_string_equal(p.mx.items[1], "*.example.net");
	assert_string_equal(p.mx.items[2], "backupmx.example.com"); /* final dot off */
	mtasts_policy_clear(&p);
	/* LF only, no final newline, blanks, unknown keys, case of mx */
	static const char lf[] = "version: STSv1\nfoo: bar\nmode:testing  \nmx: MX.Example.COM\nmax_age: 86400";
	assert_true(mtasts_policy_parse(lf, strlen(lf), &p, &why));
	assert_int_equal(p.mode, MTASTS_MODE_TESTING);
	assert_string_equal(p.mx.items[0], "mx.example.com");
	mtasts_policy_clear(&p);
	/* mode none needs no mx; the first of a repeated key counts */
	static const char none[] = "version: STSv1\nmode: none\nmax_age: 0\nmode: enforce\nmax_age: 5\n";
	assert_true(mtasts_policy_parse(none, strlen(none), &p, &why));
	assert_int_equal(p.mode, MTASTS_MODE_NONE);
	assert_int_equal(p.max_age, 0);
	mtasts_policy_clear(&p);
	static const char year[] = "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557600\n";
	assert_true(mtasts_policy_parse(year, strlen(year), &p, &why));
	assert_int_equal(p.max_age, 31557600);
	mtasts_policy_clear(&p);
}

static void test_policy_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{"mode: enforce\nmx: a.b\nmax_age: 1\n", "no version"},
		{"version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", "version is not STSv1"},
		{"version: STSv1\nmx: a.b\nmax_age: 1\n", "no mode"},
		{"version: STSv1\nmode: bogus\nmx: a.b\nmax_age: 1\n", "mode is not"},
		{"version: STSv1\nmode: Enforce\nmx: a.b\nmax_age: 1\n", "mode is not"},
		{"version: STSv1\nmode: enforce\nmx: a.b\n", "no max_age"},
		{"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: abc\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 99999999999\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmax_age: 86400\n", "no mx"},
		{"version: STSv1\nmode: testing\nmax_age: 86400\n", "no mx"},
		{"version: STSv1\nmode: enforce\nmx: bad host\nmax_age: 86400\n", "mx pattern"},
		{"version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 86400\n", "mx pattern"},
		{"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 86400\njunk line\n", "key: value"},
		{"version: STSv1\rmode: enforce\nmx: a.b\nmax_age: 86400\n", "bare CR"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mtasts_policy p;
		const char *why = NULL;
		if (mtasts_policy_parse(cases[i].text, strlen(cases[i].text), &p, &why))
			fail_msg("case %zu accepted", i);
		assert_non_null(why);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why, cases[i].why);
		assert_int_equal(p.mx.n, 0);
	}
}

/* The 64 KiB cap: a policy padded past it is refused. */
static void test_policy_size_cap(void **state)
{
	(void)state;
	size_t n = MTASTS_POLICY_MAX + 1;
	char *big = malloc(n + 1);
	memset(big, '\n', n);
	memcpy(big, "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 86400\n", 52);
	big[n] = '\0';
	mtasts_policy p;
	const char *why;
	assert_false(mtasts_policy_parse(big, n, &p, &why));
	assert_non_null(strstr(why, "64 KiB"));
	assert_true(mtasts_policy_parse(big, n - 1, &p, &why)); /* 64 KiB exactly: fine */
	mtasts_policy_clear(&p);
	free(big);
}

/* ---- MX patterns ---- */

static void test_pattern_table(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *host;
		bool match;
	} cases[] = {
		{"mail.example.com", "mail.example.com", true},
		{"mail.example.com", "MAIL.Example.Com.", true},
		{"mail.example.com", "mail.example.com.evil", false},
		{"mail.example.com", "xmail.example.com", false},
		{"*.example.com", "mx1.example.com", true},
		{"*.example.com", "MX1.EXAMPLE.COM.", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", ".example.com", false},
		{"*.example.com", "mx1.example.org", false},
		{"*.example.com", "mx1.xexample.com", false},
		{"*.mx.microsoft", "abc.mx.microsoft", true},
		{"192.0.2.1", "192.0.2.1", false},       /* address literals never match */
		{"mail.example.com", "[192.0.2.1]", false},
		{"mail.example.com", "", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (mtasts_pattern_match(cases[i].pattern, cases[i].host) != cases[i].match)
			fail_msg("case %zu: %s vs %s", i, cases[i].pattern, cases[i].host);
	mtasts_policy p;
	const char *why;
	static const char text[] = "version: STSv1\nmode: enforce\nmx: a.example\nmx: *.b.example\nmax_age: 1\n";
	assert_true(mtasts_policy_parse(text, strlen(text), &p, &why));
	assert_true(mtasts_mx_match(&p, "a.example"));
	assert_true(mtasts_mx_match(&p, "x.b.example"));
	assert_false(mtasts_mx_match(&p, "b.example"));
	assert_false(mtasts_mx_match(&p, "c.example"));
	mtasts_policy_clear(&p);
}

/* ---- the cache decisions ---- */

static void test_decide(void **state)
{
	(void)state;
	static const struct {
		bool cached;
		const char *cached_id;
		mtasts_txt txt;
		const char *txt_id;
		bool blocked;
		mtasts_action want;
	} cases[] = {
		{false, NULL, MTASTS_TXT_NONE, NULL, false, MTASTS_NO_POLICY},
		{false, NULL, MTASTS_TXT_FAILED, NULL, false, MTASTS_NO_POLICY},
		{false, NULL, MTASTS_TXT_FOUND, "a", false, MTASTS_FETCH},
		{false, NULL, MTASTS_TXT_FOUND, "a", true, MTASTS_NO_POLICY},
		{true, "a", MTASTS_TXT_FOUND, "a", false, MTASTS_USE_CACHED},
		{true, "a", MTASTS_TXT_FOUND, "b", false, MTASTS_FETCH},       /* a new id: fetch */
		{true, "a", MTASTS_TXT_FOUND, "b", true, MTASTS_USE_CACHED},   /* its fetch failed lately */
		{true, "a", MTASTS_TXT_NONE, NULL, false, MTASTS_USE_CACHED},  /* TXT stripped: keep it */
		{true, "a", MTASTS_TXT_FAILED, NULL, false, MTASTS_USE_CACHED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (mtasts_decide(cases[i].cached, cases[i].cached_id, cases[i].txt, cases[i].txt_id,
		                  cases[i].blocked) != cases[i].want)
			fail_msg("case %zu", i);
	assert_int_equal(mtasts_after_fetch(true, false), MTASTS_FETCH);
	assert_int_equal(mtasts_after_fetch(true, true), MTASTS_FETCH);
	assert_int_equal(mtasts_after_fetch(false, true), MTASTS_USE_CACHED);
	assert_int_equal(mtasts_after_fetch(false, false), MTASTS_NO_POLICY);
}

/* ---- the cache file ---- */

typedef struct loaded {
	int n;
	char domain[64];
	mtasts_policy p;
} loaded;

static void on_row(void *arg, const char *domain, mtasts_policy *p)
{
	loaded *l = arg;
	l->n++;
	snprintf(l->domain, sizeof l->domain, "%s", domain);
	mtasts_policy_clear(&l->p);
	l->p = *p;
}

static void test_cache_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_mtasts.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/mtasts.db", dir);
	char *err = NULL;
	mtastsdb *db = mtastsdb_open(path, &err);
	assert_non_null(db);
	static const char text[] = "version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 1000\n";
	assert_true(mtastsdb_store(db, "a.test", "id1", text, 5000, 6000, 5000, &err));
	assert_true(mtastsdb_store(db, "old.test", "id0", text, 100, 1100, 100, &err));
	mtastsdb_close(&db);
	db = mtastsdb_open(path, &err); /* as after a restart */
	assert_non_null(db);
	loaded l = {0};
	strlist_init(&l.p.mx);
	assert_true(mtastsdb_load(db, 5500, 100, on_row, &l, &err));
	assert_int_equal(l.n, 1); /* old.test expired at 1100 */
	assert_string_equal(l.domain, "a.test");
	assert_string_equal(l.p.id, "id1");
	assert_int_equal(l.p.expires, 6000);
	assert_int_equal(l.p.mode, MTASTS_MODE_ENFORCE);
	assert_string_equal(l.p.mx.items[0], "mx.a.test");
	mtasts_policy_clear(&l.p);
	l.n = 0;
	assert_true(mtastsdb_load(db, 6000, 100, on_row, &l, &err));
	assert_int_equal(l.n, 0); /* expired now */
	mtastsdb_close(&db);
	char *cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* ---- ours ---- */

static void test_own_policy(void **state)
{
	(void)state;
	config cfg = {0};
	cfg.hostname = "mail.example.org";
	cfg.mtasts.policy_mode = "testing";
	cfg.mtasts.policy_max_age = 604800;
	char *text = mtasts_own_policy(&cfg);
	assert_string_equal(text, "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 604800\r\n");
	mtasts_policy p;
	const char *why;
	assert_true(mtasts_policy_parse(text, strlen(text), &p, &why)); /* our parser takes it */
	assert_true(mtasts_mx_match(&p, "mail.example.org"));
	mtasts_policy_clear(&p);
	char *id = mtasts_own_id(text);
	assert_int_equal(strlen(id), 32);
	cfg.mtasts.policy_mode = "enforce";
	char *text2 = mtasts_own_policy(&cfg);
	char *id2 = mtasts_own_id(text2);
	assert_string_not_equal(id, id2); /* the id follows the policy */
	char *again = mtasts_own_id(text2);
	assert_string_equal(id2, again);
	/* and it is a valid TXT id */
	char *rec = xasprintf("v=STSv1; id=%s", id2);
	const char *v[] = {rec};
	char *got = NULL;
	assert_int_equal(mtasts_txt_select(v, NULL, 1, &got, &why), MTASTS_TXT_FOUND);
	assert_string_equal(got, id2);
	free(got);
	free(rec);
	free(again);
	free(id2);
	free(text2);
	free(id);
	free(text);
}

/* `dns records`: the _mta-sts TXT (with the id of the served policy) and
 * the mta-sts name only when an https listener can serve the policy. */
static const dnsadvice_rec *find_rec(const dnsadvice *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].name != NULL && strcmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

static void test_dns_advice(void **state)
{
	(void)state;
	config *cfg = config_new_defaults();
	free(cfg->hostname);
	cfg->hostname = xstrdup("mx.example.org");
	dkim_keyset keys = {0};
	dnsadvice a;
	dnsadvice_build(cfg, "example.org", &keys, &a);
	assert_null(find_rec(&a, "_mta-sts.example.org"));
	bool told = false;
	for (size_t i = 0; i < a.n; i++)
		told = told || (a.v[i].name == NULL && strstr(a.v[i].why, "publish no _mta-sts record") != NULL);
	assert_true(told);
	dnsadvice_free(&a);
	config_listener l = {.role = ROLE_HTTPS, .address = "0.0.0.0", .port = 443};
	cfg->listeners = &l;
	cfg->n_listeners = 1;
	dnsadvice_build(cfg, "example.org", &keys, &a);
	const dnsadvice_rec *txt = find_rec(&a, "_mta-sts.example.org");
	assert_non_null(txt);
	char *policy = mtasts_own_policy(cfg);
	char *id = mtasts_own_id(policy);
	char *want = xasprintf("v=STSv1; id=%s", id);
	assert_string_equal(txt->want, want);
	const dnsadvice_rec *cname = find_rec(&a, "mta-sts.example.org");
	assert_non_null(cname);
	assert_string_equal(cname->type, "CNAME");
	assert_string_equal(cname->value, "mx.example.org.");
	dnsadvice_free(&a);
	cfg->listeners = NULL;
	cfg->n_listeners = 0;
	free(want);
	free(id);
	free(policy);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt_select),      cmocka_unit_test(test_policy_valid),
		cmocka_unit_test(test_policy_invalid),  cmocka_unit_test(test_policy_size_cap),
		cmocka_unit_test(test_pattern_table),   cmocka_unit_test(test_decide),
		cmocka_unit_test(test_cache_file),      cmocka_unit_test(test_own_policy),
		cmocka_unit_test(test_dns_advice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
