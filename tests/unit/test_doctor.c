/* test_doctor.c — unit tests for doctor/advice.c: the SPF record `yubin
 * doctor` suggests (the address goes before the "all" term, whatever its
 * qualifier, never inside another term that merely contains "all"), and
 * the reading of SRV answer texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "doctor/advice.h"

static void test_spf_with_address(void **state)
{
	static const struct {
		const char *record, *ip, *want;
	} cases[] = {
		{"v=spf1 mx -all", "192.0.2.25", "v=spf1 mx ip4:192.0.2.25 -all"},
		{"v=spf1 mx ~all", "2001:db8::25", "v=spf1 mx ip6:2001:db8::25 ~all"},
		{"v=spf1 ?all", "192.0.2.25", "v=spf1 ip4:192.0.2.25 ?all"},
		{"v=spf1 a all", "192.0.2.25", "v=spf1 a ip4:192.0.2.25 all"},
		{"v=spf1 +ALL", "192.0.2.25", "v=spf1 ip4:192.0.2.25 +ALL"},
		/* "all" inside other terms is not the all mechanism */
		{"v=spf1 a:all.example include:_spf.allmail.test -all", "192.0.2.25",
		 "v=spf1 a:all.example include:_spf.allmail.test ip4:192.0.2.25 -all"},
		{"v=spf1 include:install.test", "192.0.2.25", "v=spf1 include:install.test ip4:192.0.2.25"},
		/* no all: at the end, before which a redirect= applies only when
		 * nothing matched (RFC 7208 6.1), so the address still matches */
		{"v=spf1 redirect=_spf.example.org", "192.0.2.25", "v=spf1 redirect=_spf.example.org ip4:192.0.2.25"},
		{"v=spf1 exists:%{i}.all.test -all", "192.0.2.25", "v=spf1 exists:%{i}.all.test ip4:192.0.2.25 -all"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = doctor_spf_with_address(cases[i].record, cases[i].ip);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_srv_split(void **state)
{
	int port = 0;
	const char *target = NULL;
	assert_true(doctor_srv_split("0 1 993 mail.example.org", &port, &target));
	assert_int_equal(port, 993);
	assert_string_equal(target, "mail.example.org");
	assert_true(doctor_srv_split("0 0 0 .", &port, &target));
	assert_int_equal(port, 0);
	assert_string_equal(target, ".");
	assert_false(doctor_srv_split("0 1 993", &port, &target));
	assert_false(doctor_srv_split("0 1 993 ", &port, &target));
	assert_false(doctor_srv_split("0 1 70000 host", &port, &target));
	assert_false(doctor_srv_split("garbage", &port, &target));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spf_with_address),
		cmocka_unit_test(test_srv_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
