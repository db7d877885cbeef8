/* test_throttle.c — unit tests for auth/throttle.c with an injected clock
 * (the "now" argument): the failure delay doubles up to its maximum, N
 * failures inside the window lock an address out, the lock-out and the
 * window expire; the account lock refuses unknown addresses only, never the
 * owner at a known one; a success forgives only its own account and
 * address pair; an IPv6 /64 is one address; rotation stays bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/throttle.h"
#include "lib/addrkey.h"

#define T0 ((time_t)1700000000)

static const config_auth cfg_default = {
	.fail_delay_ms = 100,
	.fail_delay_max_ms = 1000,
	.lockout_failures = 5,
	.lockout_window = 600,
	.lockout_seconds = 300,
	.known_days = 30,
};

/* The address-only view (a name that is no address: account NULL). */
static int fail_addr(throttle *t, const char *addr, time_t now)
{
	return throttle_failed(t, addr, NULL, now);
}

static bool addr_locked(throttle *t, const char *addr, time_t now)
{
	return throttle_refused(t, addr, NULL, now) == THROTTLE_ADDRESS;
}

static void test_new_free(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	assert_non_null(t);
	assert_int_equal(throttle_size(t), 0);
	assert_false(addr_locked(t, "192.0.2.1", T0));
	assert_int_equal(throttle_refused(t, "192.0.2.1", "a@example.org", T0), THROTTLE_NONE);
	assert_false(throttle_known(t, "192.0.2.1", "a@example.org", T0));
	assert_string_equal(throttle_scope_name(THROTTLE_NONE), "none");
	assert_string_equal(throttle_scope_name(THROTTLE_ADDRESS), "address");
	assert_string_equal(throttle_scope_name(THROTTLE_ACCOUNT), "account");
	throttle_free(&t);
	assert_null(t);
	throttle_free(&t); /* NULL is fine */
}

/* 100, 200, 400, 800, then the maximum 1000 for ever. */
static void test_delay_doubles_to_max(void **state)
{
	config_auth c = cfg_default;
	c.lockout_failures = 1000; /* no lock-out in this test */
	throttle *t = throttle_new(&c);
	static const int want[] = {100, 200, 400, 800, 1000, 1000, 1000, 1000};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(fail_addr(t, "k", T0 + (time_t)i), want[i]);
	for (int i = 0; i < 200; i++)
		assert_int_equal(fail_addr(t, "k", T0 + 10), 1000);
	assert_false(addr_locked(t, "k", T0 + 10));
	throttle_free(&t);
}

/* A maximum that is not a power-of-two multiple of the base is reached
 * exactly, and very large counts do not overflow. */
static void test_delay_cap_exact(void **state)
{
	config_auth c = {.fail_delay_ms = 250, .fail_delay_max_ms = 4000, .lockout_failures = 100000,
	                 .lockout_window = 600, .lockout_seconds = 300};
	throttle *t = throttle_new(&c);
	static const int want[] = {250, 500, 1000, 2000, 4000, 4000};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(fail_addr(t, "k", T0), want[i]);
	throttle_free(&t);

	c = (config_auth){.fail_delay_ms = 300, .fail_delay_max_ms = 1000, .lockout_failures = 100000,
	                  .lockout_window = 600, .lockout_seconds = 300};
	t = throttle_new(&c);
	assert_int_equal(fail_addr(t, "k", T0), 300);
	assert_int_equal(fail_addr(t, "k", T0), 600);
	assert_int_equal(fail_addr(t, "k", T0), 1000);   /* 1200 capped */
	for (int i = 0; i < 5000; i++)
		assert_int_equal(fail_addr(t, "k", T0), 1000);
	throttle_free(&t);

	c = (config_auth){.fail_delay_ms = 60000, .fail_delay_max_ms = 600000, .lockout_failures = 100000,
	                  .lockout_window = 600, .lockout_seconds = 300};
	t = throttle_new(&c);
	int d = 0;
	for (int i = 0; i < 100; i++)
		d = fail_addr(t, "k", T0);
	assert_int_equal(d, 600000);
	throttle_free(&t);
}

static void test_delay_zero(void **state)
{
	config_auth c = cfg_default;
	c.fail_delay_ms = 0;
	c.fail_delay_max_ms = 0;
	c.lockout_failures = 1000;
	throttle *t = throttle_new(&c);
	for (int i = 0; i < 20; i++)
		assert_int_equal(fail_addr(t, "k", T0), 0);
	throttle_free(&t);
}

/* Locked after exactly lockout_failures failures, for lockout_seconds. */
static void test_lockout_after_n(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 1; i < 5; i++) {
		fail_addr(t, "k", T0 + i);
		assert_false(addr_locked(t, "k", T0 + i));
	}
	fail_addr(t, "k", T0 + 5);
	assert_true(addr_locked(t, "k", T0 + 5));
	assert_true(addr_locked(t, "k", T0 + 5 + 299));
	/* other keys are not affected */
	assert_false(addr_locked(t, "other", T0 + 5));
	throttle_free(&t);
}

static void test_lockout_one_failure(void **state)
{
	config_auth c = cfg_default;
	c.lockout_failures = 1;
	throttle *t = throttle_new(&c);
	assert_int_equal(fail_addr(t, "k", T0), 100);
	assert_true(addr_locked(t, "k", T0));
	throttle_free(&t);
}

static void test_lockout_expiry(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 5; i++)
		fail_addr(t, "k", T0);
	assert_true(addr_locked(t, "k", T0));
	assert_true(addr_locked(t, "k", T0 + 299));
	assert_false(addr_locked(t, "k", T0 + 300));
	assert_false(addr_locked(t, "k", T0 + 100000));
	throttle_free(&t);
}

/* Failures further apart than the window never add up. */
static void test_window_expiry(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 4; i++)
		fail_addr(t, "k", T0);
	/* the window [T0, T0+600) is over: counting starts again */
	assert_int_equal(fail_addr(t, "k", T0 + 600), 100);
	assert_false(addr_locked(t, "k", T0 + 600));
	for (int i = 0; i < 3; i++)
		fail_addr(t, "k", T0 + 601);
	assert_false(addr_locked(t, "k", T0 + 601));
	/* the fifth failure inside the new window locks */
	fail_addr(t, "k", T0 + 1199);
	assert_true(addr_locked(t, "k", T0 + 1199));
	throttle_free(&t);
}

/* Still inside the window: the fifth failure locks. */
static void test_window_edge(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 4; i++)
		fail_addr(t, "k", T0);
	fail_addr(t, "k", T0 + 599);
	assert_true(addr_locked(t, "k", T0 + 599));
	throttle_free(&t);
}

/* After a lock-out the failures start counting again once the lock-out and
 * the window have passed: one more bad try now and then cannot keep an
 * address locked for ever. */
static void test_after_lockout_and_window(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 5; i++)
		fail_addr(t, "k", T0);
	fail_addr(t, "k", T0 + 300); /* inside the window: locked again */
	assert_true(addr_locked(t, "k", T0 + 599));
	assert_false(addr_locked(t, "k", T0 + 600));
	assert_int_equal(fail_addr(t, "k", T0 + 600), 100);
	assert_false(addr_locked(t, "k", T0 + 600));
	throttle_free(&t);
}

#define OWNER "owner@example.org"
#define OTHER "other@example.org"
#define HOME "198.51.100.7"

/* Failures for one account from many addresses lock the account for
 * unknown addresses, with the account named in the verdict; the owner from
 * an address that logged in before still gets checked, and so does anyone
 * logging in to another account. */
static void test_owner_known_address_still_gets_in(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	throttle_succeeded(t, HOME, OWNER, T0);
	assert_true(throttle_known(t, HOME, OWNER, T0));
	char addr[32];
	for (int i = 0; i < 5; i++) {
		snprintf(addr, sizeof addr, "203.0.113.%d", i);
		assert_int_equal(throttle_refused(t, addr, OWNER, T0 + 1), THROTTLE_NONE);
		throttle_failed(t, addr, OWNER, T0 + 1);
	}
	/* the attackers' next address is refused without a check... */
	assert_int_equal(throttle_refused(t, "203.0.113.99", OWNER, T0 + 2), THROTTLE_ACCOUNT);
	/* ...and so is the owner from a network never used before, for a while */
	assert_int_equal(throttle_refused(t, "192.0.2.50", OWNER, T0 + 2), THROTTLE_ACCOUNT);
	assert_int_equal(throttle_refused(t, "192.0.2.50", OWNER, T0 + 301), THROTTLE_NONE);
	/* the owner at home is never refused */
	assert_int_equal(throttle_refused(t, HOME, OWNER, T0 + 2), THROTTLE_NONE);
	throttle_succeeded(t, HOME, OWNER, T0 + 2);
	/* the owner's success does not lift the lock for the others */
	assert_int_equal(throttle_refused(t, "203.0.113.99", OWNER, T0 + 3), THROTTLE_ACCOUNT);
	/* other accounts from the attackers' addresses are not the account's business */
	assert_int_equal(throttle_refused(t, "203.0.113.99", OTHER, T0 + 3), THROTTLE_NONE);
	throttle_free(&t);
}

/* One address failing against many accounts is locked out for every
 * account; the owners at their known addresses are not touched. */
static void test_attacker_address_locked(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	throttle_succeeded(t, HOME, OWNER, T0);
	char user[64];
	for (int i = 0; i < 5; i++) {
		snprintf(user, sizeof user, "user%d@example.org", i);
		throttle_failed(t, "203.0.113.1", user, T0 + 1);
	}
	assert_int_equal(throttle_refused(t, "203.0.113.1", OWNER, T0 + 1), THROTTLE_ADDRESS);
	assert_int_equal(throttle_refused(t, "203.0.113.1", "user9@example.org", T0 + 1),
	                 THROTTLE_ADDRESS);
	assert_int_equal(throttle_refused(t, "203.0.113.1", NULL, T0 + 1), THROTTLE_ADDRESS);
	/* one failure on each account: none of them is locked */
	assert_int_equal(throttle_refused(t, "203.0.113.2", "user1@example.org", T0 + 1), THROTTLE_NONE);
	assert_int_equal(throttle_refused(t, HOME, OWNER, T0 + 1), THROTTLE_NONE);
	/* the address lock runs out */
	assert_int_equal(throttle_refused(t, "203.0.113.1", OWNER, T0 + 301), THROTTLE_NONE);
	throttle_free(&t);
}

/* Failures of the owner at a known address do not count against the
 * account (only against the address): mistyping at home cannot lock the
 * account for travelling. */
static void test_known_failures_spare_account(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	throttle_succeeded(t, HOME, OWNER, T0);
	for (int i = 0; i < 4; i++)
		throttle_failed(t, HOME, OWNER, T0 + 1);
	throttle_failed(t, "203.0.113.1", OWNER, T0 + 1); /* 1 of 5 for the account */
	assert_int_equal(throttle_refused(t, "203.0.113.2", OWNER, T0 + 1), THROTTLE_NONE);
	throttle_failed(t, HOME, OWNER, T0 + 1); /* the fifth at home: the address locks */
	assert_int_equal(throttle_refused(t, HOME, OWNER, T0 + 1), THROTTLE_ADDRESS);
	assert_int_equal(throttle_refused(t, "203.0.113.2", OWNER, T0 + 1), THROTTLE_NONE);
	throttle_free(&t);
}

/* A success forgives the failures of its own account and address pair,
 * and nothing else: an attacker who owns an account cannot reset the
 * address's count by logging in to it between guesses. */
static void test_success_clears_only_its_pair(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	const char *x = "192.0.2.1";
	throttle_failed(t, x, OWNER, T0);
	throttle_failed(t, x, OWNER, T0);
	throttle_failed(t, x, OTHER, T0);
	throttle_failed(t, x, OTHER, T0);
	throttle_succeeded(t, x, OWNER, T0 + 1);
	/* the address keeps OTHER's two: the next failure is its third */
	assert_int_equal(throttle_failed(t, x, OTHER, T0 + 2), 400);
	throttle_failed(t, x, OTHER, T0 + 2);
	assert_int_equal(throttle_refused(t, x, OWNER, T0 + 2), THROTTLE_NONE);
	throttle_failed(t, x, "victim@example.org", T0 + 2); /* the fifth */
	assert_int_equal(throttle_refused(t, x, OWNER, T0 + 2), THROTTLE_ADDRESS);
	throttle_free(&t);

	/* guess, log in to one's own account, guess again: still counted */
	t = throttle_new(&cfg_default);
	for (int i = 0; i < 4; i++) {
		throttle_failed(t, x, "victim@example.org", T0);
		throttle_succeeded(t, x, "mine@example.org", T0);
	}
	assert_int_equal(throttle_refused(t, x, "victim@example.org", T0), THROTTLE_NONE);
	throttle_failed(t, x, "victim@example.org", T0);
	assert_int_equal(throttle_refused(t, x, "mine@example.org", T0), THROTTLE_ADDRESS);
	throttle_free(&t);
}

/* The owner mistyping from a new address and then getting in takes those
 * failures back from the account's count too. */
static void test_success_forgives_account_count(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	throttle_failed(t, "192.0.2.9", OWNER, T0);
	throttle_failed(t, "192.0.2.9", OWNER, T0);
	throttle_failed(t, "203.0.113.1", OWNER, T0);
	throttle_succeeded(t, "192.0.2.9", OWNER, T0 + 1);
	/* one failure left on the account: three more do not lock it */
	for (int i = 2; i < 5; i++) {
		char addr[32];
		snprintf(addr, sizeof addr, "203.0.113.%d", i);
		throttle_failed(t, addr, OWNER, T0 + 2);
	}
	assert_int_equal(throttle_refused(t, "203.0.113.50", OWNER, T0 + 2), THROTTLE_NONE);
	throttle_failed(t, "203.0.113.5", OWNER, T0 + 2);
	assert_int_equal(throttle_refused(t, "203.0.113.50", OWNER, T0 + 2), THROTTLE_ACCOUNT);
	/* ...and the forgiven address is known now */
	assert_int_equal(throttle_refused(t, "192.0.2.9", OWNER, T0 + 2), THROTTLE_NONE);
	throttle_free(&t);
}

/* A lock-out runs its course: a success from the owner's known address
 * while the account is locked leaves it locked for the rest, and failures
 * from before a window started are not taken from the new window. */
static void test_forgive_only_current_window(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	const char *x = "192.0.2.1";
	throttle_failed(t, x, OWNER, T0);
	throttle_failed(t, x, OWNER, T0);
	/* a new window for the address, with OTHER's failures in it */
	for (int i = 0; i < 4; i++)
		throttle_failed(t, x, OTHER, T0 + 700);
	throttle_succeeded(t, x, OWNER, T0 + 701); /* forgives nothing of OTHER's */
	throttle_failed(t, x, OTHER, T0 + 701);
	assert_int_equal(throttle_refused(t, x, OWNER, T0 + 701), THROTTLE_ADDRESS);
	throttle_free(&t);
}

/* A known address stays known for known_days after the last login. */
static void test_known_expiry(void **state)
{
	config_auth c = cfg_default;
	c.known_days = 1;
	throttle *t = throttle_new(&c);
	throttle_succeeded(t, HOME, OWNER, T0);
	assert_true(throttle_known(t, HOME, OWNER, T0 + 86399));
	assert_false(throttle_known(t, HOME, OWNER, T0 + 86400));
	throttle_succeeded(t, HOME, OWNER, T0 + 80000); /* renewed */
	assert_true(throttle_known(t, HOME, OWNER, T0 + 86400 + 79999));
	/* known to this account only */
	assert_false(throttle_known(t, HOME, OTHER, T0));
	assert_false(throttle_known(t, "198.51.100.8", OWNER, T0));
	throttle_free(&t);
}

/* An IPv6 /64 is one address: failures from its addresses add up, and a
 * login from one of them makes the whole /64 known. */
static void test_ipv6_64_is_one_address(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	char a[ADDRKEY_MAX], b[ADDRKEY_MAX], other[ADDRKEY_MAX];
	char ip[64];
	for (int i = 1; i <= 5; i++) {
		snprintf(ip, sizeof ip, "2001:db8:5:6::%x", i * 4099);
		addrkey_of(ip, a);
		throttle_failed(t, a, NULL, T0);
	}
	addrkey_of("2001:db8:5:6:ffff::1", b);
	addrkey_of("2001:db8:5:7::1", other);
	assert_int_equal(throttle_refused(t, b, OWNER, T0), THROTTLE_ADDRESS);
	assert_int_equal(throttle_refused(t, other, OWNER, T0), THROTTLE_NONE);
	addrkey_of("2001:db8:9:9::1", a);
	throttle_succeeded(t, a, OWNER, T0);
	addrkey_of("2001:db8:9:9:abcd::2", b);
	assert_true(throttle_known(t, b, OWNER, T0));
	throttle_free(&t);
}

/* An attacker rotating through more addresses (and accounts) than the
 * tables hold cannot grow the memory past the bound; the account under
 * attack stays locked because it is touched all the time; the owner's
 * known address survives the attackers' failures. */
static void test_rotation_stays_bounded(void **state)
{
	config_auth c = cfg_default;
	c.lockout_failures = 3;
	throttle *t = throttle_new(&c);
	throttle_succeeded(t, HOME, OWNER, T0);
	char addr[64], user[64];
	int n = THROTTLE_MAX_ENTRIES + 5000;
	for (int i = 0; i < n; i++) {
		snprintf(addr, sizeof addr, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		snprintf(user, sizeof user, "u%d@example.org", i);
		time_t now = T0 + i / 1000;
		throttle_failed(t, addr, OWNER, now);
		throttle_failed(t, addr, user, now);
		assert_true(throttle_size(t) <= 4 * (size_t)THROTTLE_MAX_ENTRIES);
	}
	assert_true(throttle_size(t) <= 4 * (size_t)THROTTLE_MAX_ENTRIES);
	time_t end = T0 + n / 1000;
	assert_int_equal(throttle_refused(t, "10.200.0.1", OWNER, end), THROTTLE_ACCOUNT);
	assert_int_equal(throttle_refused(t, HOME, OWNER, end), THROTTLE_NONE);
	/* successes from rotating addresses are bounded too */
	for (int i = 0; i < n; i++) {
		snprintf(addr, sizeof addr, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		throttle_succeeded(t, addr, "mine@example.org", end);
	}
	assert_true(throttle_size(t) <= 4 * (size_t)THROTTLE_MAX_ENTRIES);
	throttle_free(&t);
}

/* Keys are compared whole, whatever their hash. */
static void test_keys_distinct(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	char key[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "user%d@example.org", i);
		assert_int_equal(fail_addr(t, key, T0), 100);
	}
	assert_int_equal(throttle_size(t), 10000);
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "user%d@example.org", i);
		assert_int_equal(fail_addr(t, key, T0), 200);
	}
	assert_int_equal(fail_addr(t, "", T0), 100);
	assert_int_equal(fail_addr(t, "user1@example.or", T0), 100);
	throttle_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_delay_doubles_to_max),
		cmocka_unit_test(test_delay_cap_exact),
		cmocka_unit_test(test_delay_zero),
		cmocka_unit_test(test_lockout_after_n),
		cmocka_unit_test(test_lockout_one_failure),
		cmocka_unit_test(test_lockout_expiry),
		cmocka_unit_test(test_window_expiry),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_after_lockout_and_window),
		cmocka_unit_test(test_owner_known_address_still_gets_in),
		cmocka_unit_test(test_attacker_address_locked),
		cmocka_unit_test(test_known_failures_spare_account),
		cmocka_unit_test(test_success_clears_only_its_pair),
		cmocka_unit_test(test_success_forgives_account_count),
		cmocka_unit_test(test_forgive_only_current_window),
		cmocka_unit_test(test_known_expiry),
		cmocka_unit_test(test_ipv6_64_is_one_address),
		cmocka_unit_test(test_rotation_stays_bounded),
		cmocka_unit_test(test_keys_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
