/* test_authres.c — Authentication-Results (RFC 8601): the field we build
 * (exact text, folding under 78 columns, quoting of non-token values,
 * comments for reasons and the DMARC policy, "none"), and finding the
 * fields that claim our authserv-id among folded fields, comments, quoted
 * ids, versions and other servers' fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "msgauth/authres.h"

static char *build(const authres_input *in)
{
	buf b;
	buf_init(&b, 1 << 16);
	assert_true(authres_build(in, &b));
	/* every line under 78 characters, continuation lines folded with a tab */
	const char *eol = in->crlf ? "\r\n" : "\n";
	for (const char *line = b.data; *line;) {
		const char *end = strstr(line, eol);
		assert_non_null(end);
		assert_true(end - line < AUTHRES_LINE_MAX);
		assert_true(line == b.data || *line == '\t');
		line = end + strlen(eol);
	}
	return buf_steal(&b);
}

static void test_build_all(void **state)
{
	dkim_verdict v[2] = {
		{.result = DKIM_PASS, .domain = "example.com", .selector = "yb202401-rsa", .b_prefix = "abc/12+="},
		{.result = DKIM_FAIL, .domain = "example.com", .selector = "old", .b_prefix = "QWERTYui",
		 .reason = "body hash did not verify (the body (or part) changed)"},
	};
	dmarc_record rec = {.p = DMARC_POLICY_REJECT};
	dmarc_outcome d = {.result = DMARC_PASS, .policy = DMARC_POLICY_REJECT, .from_domain = "example.com",
	                   .record = &rec};
	authres_input in = {.authserv_id = "mx.yubin.test", .crlf = true, .has_spf = true, .spf = SPF_PASS,
	                    .spf_domain = "bounce.example.com", .has_dkim = true, .dkim = v, .n_dkim = 2, .dmarc = &d};
	char *got = build(&in);
	assert_string_equal(got,
	        "Authentication-Results: mx.yubin.test;\r\n"
	        "\tspf=pass smtp.mailfrom=bounce.example.com;\r\n"
	        "\tdkim=pass header.d=example.com header.s=yb202401-rsa header.b=\"abc/12+=\";\r\n"
	        "\tdkim=fail header.d=example.com header.s=old header.b=QWERTYui (body hash did\r\n"
	        "\tnot verify \\(the body \\(or part\\) changed\\));\r\n"
	        "\tdmarc=pass (p=reject dis=none) header.from=example.com\r\n");
	free(got);
	/* the HELO identity as a result of its own, after MAIL FROM's */
	in.has_spf_helo = true;
	in.spf_helo_result = SPF_TEMPERROR;
	in.spf_helo_problem = "timed out";
	in.helo = "mx.example.com";
	in.has_dkim = false;
	in.dmarc = NULL;
	got = build(&in);
	assert_string_equal(got,
	        "Authentication-Results: mx.yubin.test;\r\n"
	        "\tspf=pass smtp.mailfrom=bounce.example.com;\r\n"
	        "\tspf=temperror (timed out) smtp.helo=mx.example.com\r\n");
	free(got);
}

static void test_build_other_forms(void **state)
{
	/* nothing checked: "none" (RFC 8601 2.2); LF line ends */
	authres_input in = {.authserv_id = "mx.yubin.test"};
	char *got = build(&in);
	assert_string_equal(got, "Authentication-Results: mx.yubin.test; none\n");
	free(got);
	/* no signatures, SPF of the HELO identity with an error, DMARC without a record */
	dmarc_outcome d = {.result = DMARC_TEMPERROR, .from_domain = "example.org",
	                   .problem = "the look-up of _dmarc.example.org failed for now"};
	in = (authres_input){.authserv_id = "mx.yubin.test", .has_spf = true, .spf = SPF_TEMPERROR,
	                     .spf_domain = "helo.example.org", .spf_helo = true, .spf_problem = "DNS timeout",
	                     .has_dkim = true, .dmarc = &d};
	got = build(&in);
	assert_string_equal(got,
	        "Authentication-Results: mx.yubin.test;\n"
	        "\tspf=temperror (DNS timeout) smtp.helo=helo.example.org;\n"
	        "\tdkim=none;\n"
	        "\tdmarc=temperror (the look-up of _dmarc.example.org failed for now)\n"
	        "\theader.from=example.org\n");
	free(got);
	/* a From DMARC cannot use: permerror, dis=reject, no header.from */
	d = (dmarc_outcome){.result = DMARC_PERMERROR, .disposition = DMARC_POLICY_REJECT,
	                    .problem = "the message has no From field"};
	in = (authres_input){.authserv_id = "mx.yubin.test", .dmarc = &d};
	got = build(&in);
	assert_string_equal(got, "Authentication-Results: mx.yubin.test;\n"
	                         "\tdmarc=permerror (dis=reject: the message has no From field)\n");
	free(got);
	/* pct lowered the disposition */
	dmarc_record rec = {.p = DMARC_POLICY_REJECT, .pct = 10};
	d = (dmarc_outcome){.result = DMARC_FAIL, .policy = DMARC_POLICY_REJECT,
	                    .disposition = DMARC_POLICY_QUARANTINE, .from_domain = "x.test", .record = &rec};
	got = build(&in);
	assert_string_equal(got, "Authentication-Results: mx.yubin.test;\n"
	                         "\tdmarc=fail (p=reject dis=quarantine) header.from=x.test\n");
	free(got);
}

static void test_build_long_words(void **state)
{
	char domain[120];
	memset(domain, 'a', sizeof(domain) - 1);
	domain[sizeof(domain) - 1] = '\0';
	memcpy(domain + sizeof(domain) - 6, ".test", 5);
	authres_input in = {.authserv_id = "mx.yubin.test", .has_spf = true, .spf = SPF_FAIL, .spf_domain = domain};
	buf b;
	buf_init(&b, 1 << 16);
	assert_true(authres_build(&in, &b));
	/* an over-long word keeps a line of its own */
	char *want = xasprintf("Authentication-Results: mx.yubin.test;\n\tspf=fail\n\tsmtp.mailfrom=%s\n", domain);
	assert_string_equal(b.data, want);
	free(want);
	/* a quote and a backslash in a value are escaped */
	buf_clear(&b);
	in.spf_domain = "we\"ird\\";
	assert_true(authres_build(&in, &b));
	assert_non_null(strstr(b.data, "smtp.mailfrom=\"we\\\"ird\\\\\""));
	/* the buffer's maximum: false, and nothing left behind */
	buf small;
	buf_init(&small, 30);
	assert_true(buf_puts(&small, "X: y\n"));
	assert_false(authres_build(&in, &small));
	assert_int_equal(small.len, 5);
	buf_free(&small);
	buf_free(&b);
}

/* ---- finding ours */

static void expect_ranges(const char *msg, const char *id, const char *const *want)
{
	size_t n;
	authres_range *r = authres_find_ours(msg, strlen(msg), id, &n);
	size_t k = 0;
	while (want[k] != NULL)
		k++;
	if (n != k)
		fail_msg("%zu fields found, %zu wanted", n, k);
	for (size_t i = 0; i < n; i++) {
		size_t len = r[i].end - r[i].start;
		if (strlen(want[i]) != len || memcmp(msg + r[i].start, want[i], len) != 0)
			fail_msg("field %zu: %.*s", i, (int)len, msg + r[i].start);
	}
	free(r);
}

static void test_find_ours(void **state)
{
	static const char *const ours[] = {
		"Authentication-Results: MX.Yubin.Test; spf=pass smtp.mailfrom=x.test\r\n",
		"authentication-results:(a comment (nested)) mx.yubin.test 1;\r\n\tdkim=pass header.d=x.test\r\n",
		"Authentication-Results: \"mx.yubin.test\"; dmarc=pass\r\n",
		"Authentication-Results:\r\n mx.yubin.test;\r\n\tnone\r\n",
		"Authentication-Results: mx.yubin.test;dkim=fail\r\n",
		NULL,
	};
	char *msg = xasprintf("Received: from a\r\n%s"
	                      "Authentication-Results: mx.other.test; spf=pass smtp.mailfrom=mx.yubin.test\r\n"
	                      "%sX-Authentication-Results: mx.yubin.test; none\r\n"
	                      "Authentication-Results: (mx.yubin.test) mx.yubin.test.evil; spf=pass\r\n"
	                      "%s%s%s"
	                      "Subject: hi\r\n\r\n"
	                      "Authentication-Results: mx.yubin.test; in the body\r\n",
	                      ours[0], ours[1], ours[2], ours[3], ours[4]);
	expect_ranges(msg, "mx.yubin.test", ours);
	static const char *const other[] = {
		"Authentication-Results: mx.other.test; spf=pass smtp.mailfrom=mx.yubin.test\r\n", NULL};
	expect_ranges(msg, "MX.OTHER.TEST", other);
	static const char *const none[] = {NULL};
	expect_ranges(msg, "yubin.test", none);
	expect_ranges("Subject: no fields\n\nbody\n", "mx.yubin.test", none);
	free(msg);
	/* LF only, and a field cut off at the end of the data */
	static const char *const lf[] = {"Authentication-Results: mx.yubin.test; none", NULL};
	expect_ranges("Authentication-Results: mx.yubin.test; none", "mx.yubin.test", lf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_all),
		cmocka_unit_test(test_build_other_forms),
		cmocka_unit_test(test_build_long_words),
		cmocka_unit_test(test_find_ours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
