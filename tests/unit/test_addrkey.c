/* test_addrkey.c — unit tests for lib/addrkey.c: the key under which the
 * per-address limits count a client (IPv4 itself, IPv6 its /64,
 * IPv4-mapped IPv6 the IPv4 address, anything else itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/addrkey.h"

static const struct {
	const char *ip, *key;
} cases[] = {
	{"192.0.2.7", "192.0.2.7"},
	{"127.0.0.1", "127.0.0.1"},
	{"0.0.0.0", "0.0.0.0"},
	{"255.255.255.255", "255.255.255.255"},
	{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
	{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
	{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
	{"2001:DB8:1:2::9", "2001:db8:1:2::/64"},         /* canonical text */
	{"2001:db8:1:3::1", "2001:db8:1:3::/64"},         /* the next /64 */
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::/64"},
	{"::1", "::/64"},
	{"fe80::1", "fe80::/64"},
	{"::ffff:192.0.2.7", "192.0.2.7"},                /* IPv4-mapped */
	{"::ffff:c000:207", "192.0.2.7"},
	{"?", "?"},                                       /* no address: itself */
	{"", ""},
	{"not an address", "not an address"},
};

static void test_keys(void **state)
{
	char key[ADDRKEY_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(key, 'x', sizeof key);
		addrkey_of(cases[i].ip, key);
		if (strcmp(key, cases[i].key) != 0)
			fail_msg("%s: key %s, want %s", cases[i].ip, key, cases[i].key);
	}
}

/* Two addresses of one /64 share a key; the IPv4 form and its mapped IPv6
 * form share one; neighbouring /64s and IPv4 addresses do not. */
static void test_grouping(void **state)
{
	char a[ADDRKEY_MAX], b[ADDRKEY_MAX];
	addrkey_of("2001:db8::1", a);
	addrkey_of("2001:db8::dead:beef:1:2", b);
	assert_string_equal(a, b);
	addrkey_of("2001:db8:0:1::1", b);
	assert_string_not_equal(a, b);
	addrkey_of("198.51.100.1", a);
	addrkey_of("198.51.100.2", b);
	assert_string_not_equal(a, b);
	addrkey_of("::ffff:198.51.100.1", b);
	assert_string_equal(a, "198.51.100.1");
	assert_string_equal(a, b);
}

/* Overlong garbage is cut to fit, never written past the buffer. */
static void test_long_text(void **state)
{
	char ip[200], key[ADDRKEY_MAX + 8];
	memset(ip, 'a', sizeof ip - 1);
	ip[sizeof ip - 1] = '\0';
	memset(key, 'Z', sizeof key);
	addrkey_of(ip, key);
	assert_int_equal(strlen(key), ADDRKEY_MAX - 1);
	for (size_t i = ADDRKEY_MAX; i < sizeof key; i++)
		assert_int_equal(key[i], 'Z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_long_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
