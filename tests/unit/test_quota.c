/* test_quota.c — the quota arithmetic of store/quota.c: effective limits
 * (own values over defaults, none, 0), the fit check at and around the
 * limit (and without overflow), the 90 % / 85 % warning state, and the
 * CLI's values with their error sentences; and the warning message of
 * delivery/quotawarn.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "delivery/quotawarn.h"
#include "store/quota.h"

static void test_effective(void **state)
{
	(void)state;
	quota_limits l = quota_effective(NULL, 1000, 0);
	assert_true(l.bytes == 1000 && l.messages == 0 && quota_limited(l));
	l = quota_effective(NULL, 0, 0);
	assert_false(quota_limited(l));
	accounts_quota q = {.storage = ACC_QUOTA_NONE, .messages = 5};
	l = quota_effective(&q, 1000, 9);
	assert_true(l.bytes == 0 && l.messages == 5);
	q = (accounts_quota){.storage = ACC_QUOTA_DEFAULT, .messages = ACC_QUOTA_DEFAULT};
	l = quota_effective(&q, 1000, 9);
	assert_true(l.bytes == 1000 && l.messages == 9);
	q.storage = 42;
	assert_int_equal(quota_effective(&q, 0, 0).bytes, 42);
}

static void test_over(void **state)
{
	(void)state;
	quota_limits l = {.bytes = 1000, .messages = 3};
	assert_false(quota_over(l, 0, 0, 1000, 1));      /* exactly at the limit: fits */
	assert_true(quota_over(l, 0, 0, 1001, 1));
	assert_true(quota_over(l, 999, 0, 2, 1));
	assert_false(quota_over(l, 999, 2, 1, 1));
	assert_true(quota_over(l, 0, 3, 0, 1));           /* the fourth message */
	assert_true(quota_over(l, 2000, 0, 0, 0));        /* already past it */
	assert_false(quota_over(l, 1000, 3, 0, 0));       /* at it, nothing more */
	assert_true(quota_over(l, 10, 0, UINT64_MAX, 1)); /* no wrap-around */
	assert_false(quota_over((quota_limits){0}, UINT64_MAX, UINT64_MAX, UINT64_MAX, 1));
	assert_false(quota_over((quota_limits){.messages = 2}, UINT64_MAX, 1, UINT64_MAX, 1));
}

static void test_warn_state(void **state)
{
	(void)state;
	quota_limits l = {.bytes = 1000, .messages = 100};
	unsigned send;
	static const struct {
		uint64_t bytes, messages;
		unsigned before, after, send;
	} cases[] = {
		{899, 0, 0, 0, 0},
		{900, 0, 0, ACC_QUOTA_WARNED_STORAGE, ACC_QUOTA_WARNED_STORAGE},     /* crossing */
		{950, 0, ACC_QUOTA_WARNED_STORAGE, ACC_QUOTA_WARNED_STORAGE, 0},     /* once */
		{5000, 0, ACC_QUOTA_WARNED_STORAGE, ACC_QUOTA_WARNED_STORAGE, 0},
		{860, 0, ACC_QUOTA_WARNED_STORAGE, ACC_QUOTA_WARNED_STORAGE, 0},     /* between: kept */
		{860, 0, 0, 0, 0},
		{849, 0, ACC_QUOTA_WARNED_STORAGE, 0, 0},                            /* re-armed */
		{850, 90, 0, ACC_QUOTA_WARNED_MESSAGES, ACC_QUOTA_WARNED_MESSAGES},
		{990, 99, 0, 3, 3},                                                  /* both at once */
		{990, 10, ACC_QUOTA_WARNED_MESSAGES, ACC_QUOTA_WARNED_STORAGE, ACC_QUOTA_WARNED_STORAGE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned after = quota_warn_state(l, cases[i].bytes, cases[i].messages, cases[i].before, &send);
		assert_int_equal(after, cases[i].after);
		assert_int_equal(send, cases[i].send);
	}
	/* a limit removed clears its bit without a warning */
	assert_int_equal(quota_warn_state((quota_limits){0}, 5000, 500, 3, &send), 0);
	assert_int_equal(send, 0);
	/* the largest limits do not overflow */
	quota_limits big = {.bytes = 1ULL << 50, .messages = 1ULL << 40};
	assert_int_equal(quota_warn_state(big, (1ULL << 50) - 1, 0, 0, &send), ACC_QUOTA_WARNED_STORAGE);
	assert_int_equal(quota_warn_state(big, 1ULL << 49, 0, 0, &send), 0);
}

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool sizes;
		bool ok;
		int64_t v;
		const char *err;
	} cases[] = {
		{"default", true, true, ACC_QUOTA_DEFAULT, NULL},
		{"none", false, true, ACC_QUOTA_NONE, NULL},
		{"1", true, true, 1, NULL},
		{"10K", true, true, 10240, NULL},
		{"10k", true, true, 10240, NULL},
		{"3M", true, true, 3 << 20, NULL},
		{"2G", true, true, 2LL << 30, NULL},
		{"1048576G", true, true, 1LL << 50, NULL},
		{"1048577G", true, false, 0, "is too large"},
		{"0", true, false, 0, "0 is not a limit: say none for no limit"},
		{"0K", true, false, 0, "0 is not a limit: say none for no limit"},
		{"10K", false, false, 0, "must be a number of messages, none or default"},
		{"10T", true, false, 0, "must be a number of bytes (with K, M or G), none or default"},
		{"10KB", true, false, 0, "must be a number of bytes (with K, M or G), none or default"},
		{"", true, false, 0, "must be a number of bytes (with K, M or G), none or default"},
		{"-1", false, false, 0, "must be a number of messages, none or default"},
		{"+1", false, false, 0, "must be a number of messages, none or default"},
		{" 1", false, false, 0, "must be a number of messages, none or default"},
		{"99999999999999999999", false, false, 0, "must be a number of messages, none or default"},
		{"None", false, false, 0, "must be a number of messages, none or default"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = 12345;
		const char *err = NULL;
		bool ok = quota_parse_value(cases[i].in, cases[i].sizes, &v, &err);
		if (ok != cases[i].ok)
			fail_msg("%s: %d", cases[i].in, ok);
		if (ok)
			assert_int_equal(v, cases[i].v);
		else
			assert_string_equal(err, cases[i].err);
	}
}

static void test_format(void **state)
{
	(void)state;
	char out[32];
	quota_format_value(ACC_QUOTA_DEFAULT, true, out, sizeof out);
	assert_string_equal(out, "default");
	quota_format_value(ACC_QUOTA_NONE, true, out, sizeof out);
	assert_string_equal(out, "none");
	quota_format_value(1536 * 1024, true, out, sizeof out);
	assert_string_equal(out, "1536K");
	quota_format_value(2LL << 30, true, out, sizeof out);
	assert_string_equal(out, "2G");
	quota_format_value(1LL << 50, true, out, sizeof out);
	assert_string_equal(out, "1048576G");
	quota_format_value(1000, true, out, sizeof out);
	assert_string_equal(out, "1000");
	quota_format_value(1024, false, out, sizeof out);
	assert_string_equal(out, "1024");
}

static void test_warning_text(void **state)
{
	(void)state;
	buf b;
	buf_init(&b, 8192);
	quota_limits l = {.bytes = 10 << 20, .messages = 1000};
	assert_true(quota_warn_build(&b, "mx.example.org", "alice@example.org", l, 9646899, 12,
	                             ACC_QUOTA_WARNED_STORAGE, 1796568629));
	assert_true(buf_putc(&b, '\0'));
	const char *m = b.data;
	assert_non_null(strstr(m, "Return-Path: <>\nDelivered-To: alice@example.org\n"));
	assert_non_null(strstr(m, "\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: <alice@example.org>\n"));
	assert_non_null(strstr(m, "\nSubject: Your mailbox is almost full\nDate: Sun, 06 Dec 2026 14:50:29 +0000\n"));
	assert_non_null(strstr(m, "\nAuto-Submitted: auto-generated\n"));
	assert_non_null(strstr(m, "\n\nYour mailbox alice@example.org has used 90 % or more of its storage quota.\n"));
	assert_non_null(strstr(m, "\n  storage:  9.2 MiB of 10 MiB (91 %)\n  messages: 12 of 1000 (1 %)\n"));
	assert_null(strchr(m, '\r'));
	buf_free(&b);
	/* both at once, one resource limited only, past the limit */
	buf_init(&b, 8192);
	l = (quota_limits){.messages = 10};
	assert_true(quota_warn_build(&b, "h", "bob@example.org", l, 5, 11, 3, 0));
	assert_true(buf_putc(&b, '\0'));
	assert_non_null(strstr(b.data, "of its storage and message count quota.\n\n  messages: 11 of 10 (110 %)\n\n"));
	assert_null(strstr(b.data, "storage:"));
	buf_free(&b);
	/* a buffer too small says so */
	buf_init(&b, 64);
	assert_false(quota_warn_build(&b, "h", "bob@example.org", l, 5, 11, 2, 0));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_effective),
		cmocka_unit_test(test_over),
		cmocka_unit_test(test_warn_state),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_warning_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
