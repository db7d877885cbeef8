/* test_throttle.c — unit tests for auth/throttle.c with an injected clock
 * (the "now" argument): the failure delay doubles up to its maximum, N
 * failures inside the window lock the key out, the lock-out and the window
 * expire, a success clears the failures, and the table stays bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/throttle.h"

/* The table's documented bound (MAX_KEYS in throttle.c). */
#define MAX_KEYS 65536

#define T0 ((time_t)1700000000)

static const config_auth cfg_default = {
	.fail_delay_ms = 100,
	.fail_delay_max_ms = 1000,
	.lockout_failures = 5,
	.lockout_window = 600,
	.lockout_seconds = 300,
};

static void test_new_free(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	assert_non_null(t);
	assert_int_equal(throttle_size(t), 0);
	assert_false(throttle_locked(t, "192.0.2.1", T0));
	throttle_success(t, "unknown", T0); /* nothing to clear: harmless */
	assert_int_equal(throttle_size(t), 0);
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
		assert_int_equal(throttle_fail(t, "k", T0 + (time_t)i), want[i]);
	for (int i = 0; i < 200; i++)
		assert_int_equal(throttle_fail(t, "k", T0 + 10), 1000);
	assert_false(throttle_locked(t, "k", T0 + 10));
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
		assert_int_equal(throttle_fail(t, "k", T0), want[i]);
	throttle_free(&t);

	c = (config_auth){.fail_delay_ms = 300, .fail_delay_max_ms = 1000, .lockout_failures = 100000,
	                  .lockout_window = 600, .lockout_seconds = 300};
	t = throttle_new(&c);
	assert_int_equal(throttle_fail(t, "k", T0), 300);
	assert_int_equal(throttle_fail(t, "k", T0), 600);
	assert_int_equal(throttle_fail(t, "k", T0), 1000);   /* 1200 capped */
	for (int i = 0; i < 5000; i++)
		assert_int_equal(throttle_fail(t, "k", T0), 1000);
	throttle_free(&t);

	c = (config_auth){.fail_delay_ms = 60000, .fail_delay_max_ms = 600000, .lockout_failures = 100000,
	                  .lockout_window = 600, .lockout_seconds = 300};
	t = throttle_new(&c);
	int d = 0;
	for (int i = 0; i < 100; i++)
		d = throttle_fail(t, "k", T0);
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
		assert_int_equal(throttle_fail(t, "k", T0), 0);
	throttle_free(&t);
}

/* Locked after exactly lockout_failures failures, for lockout_seconds. */
static void test_lockout_after_n(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 1; i < 5; i++) {
		throttle_fail(t, "k", T0 + i);
		assert_false(throttle_locked(t, "k", T0 + i));
	}
	throttle_fail(t, "k", T0 + 5);
	assert_true(throttle_locked(t, "k", T0 + 5));
	assert_true(throttle_locked(t, "k", T0 + 5 + 299));
	/* other keys are not affected */
	assert_false(throttle_locked(t, "other", T0 + 5));
	throttle_free(&t);
}

static void test_lockout_one_failure(void **state)
{
	config_auth c = cfg_default;
	c.lockout_failures = 1;
	throttle *t = throttle_new(&c);
	assert_int_equal(throttle_fail(t, "k", T0), 100);
	assert_true(throttle_locked(t, "k", T0));
	throttle_free(&t);
}

static void test_lockout_expiry(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 5; i++)
		throttle_fail(t, "k", T0);
	assert_true(throttle_locked(t, "k", T0));
	assert_true(throttle_locked(t, "k", T0 + 299));
	assert_false(throttle_locked(t, "k", T0 + 300));
	assert_false(throttle_locked(t, "k", T0 + 100000));
	throttle_free(&t);
}

/* Failures further apart than the window never add up. */
static void test_window_expiry(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 4; i++)
		throttle_fail(t, "k", T0);
	/* the window [T0, T0+600) is over: counting starts again */
	assert_int_equal(throttle_fail(t, "k", T0 + 600), 100);
	assert_false(throttle_locked(t, "k", T0 + 600));
	for (int i = 0; i < 3; i++)
		throttle_fail(t, "k", T0 + 601);
	assert_false(throttle_locked(t, "k", T0 + 601));
	/* the fifth failure inside the new window locks */
	throttle_fail(t, "k", T0 + 1199);
	assert_true(throttle_locked(t, "k", T0 + 1199));
	throttle_free(&t);
}

/* Still inside the window: the fifth failure locks. */
static void test_window_edge(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 4; i++)
		throttle_fail(t, "k", T0);
	throttle_fail(t, "k", T0 + 599);
	assert_true(throttle_locked(t, "k", T0 + 599));
	throttle_free(&t);
}

static void test_success_clears(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 4; i++)
		throttle_fail(t, "k", T0);
	throttle_fail(t, "other", T0);
	assert_int_equal(throttle_size(t), 2);
	throttle_success(t, "k", T0);
	assert_int_equal(throttle_size(t), 1);
	/* the delay starts again from the base, and four more failures do not lock */
	assert_int_equal(throttle_fail(t, "k", T0 + 1), 100);
	for (int i = 0; i < 3; i++)
		throttle_fail(t, "k", T0 + 1);
	assert_false(throttle_locked(t, "k", T0 + 1));
	/* the other key keeps its count */
	assert_int_equal(throttle_fail(t, "other", T0 + 1), 200);
	throttle_free(&t);
}

/* A lock-out runs its course even after a success. */
static void test_success_during_lockout(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 5; i++)
		throttle_fail(t, "k", T0);
	throttle_success(t, "k", T0 + 1);
	assert_true(throttle_locked(t, "k", T0 + 1));
	assert_false(throttle_locked(t, "k", T0 + 300));
	throttle_free(&t);
}

/* Once a lock-out is over, a successful login clears the failures like any
 * other success: the next mistyped password gets the base delay, not a new
 * lock-out. */
static void test_success_after_lockout_clears(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 5; i++)
		throttle_fail(t, "k", T0);
	assert_true(throttle_locked(t, "k", T0));
	assert_false(throttle_locked(t, "k", T0 + 300));
	throttle_success(t, "k", T0 + 300);
	int d = throttle_fail(t, "k", T0 + 301);
	bool locked = throttle_locked(t, "k", T0 + 301);
	if (d != 100 || locked)
		print_error("one failure after a successful login: delay %d (want 100), locked %d (want 0)\n",
		            d, locked);
	throttle_free(&t);
	assert_int_equal(d, 100);
	assert_false(locked);
}

/* After a lock-out the failures start counting again once the lock-out and
 * the window have passed. */
static void test_after_lockout_and_window(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	for (int i = 0; i < 5; i++)
		throttle_fail(t, "k", T0);
	assert_int_equal(throttle_fail(t, "k", T0 + 600), 100);
	assert_false(throttle_locked(t, "k", T0 + 600));
	throttle_free(&t);
}

/* Many keys from an attacker cannot grow the table past its bound. */
static void test_bounded_table(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	char key[32];
	for (int i = 0; i < MAX_KEYS + 100; i++) {
		snprintf(key, sizeof(key), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		throttle_fail(t, key, T0 + i / 1000);
		assert_true(throttle_size(t) <= MAX_KEYS);
	}
	assert_int_equal(throttle_size(t), MAX_KEYS);
	/* the newest keys are tracked */
	snprintf(key, sizeof(key), "10.%d.%d.%d", ((MAX_KEYS + 99) >> 16) & 255,
	         ((MAX_KEYS + 99) >> 8) & 255, (MAX_KEYS + 99) & 255);
	assert_int_equal(throttle_fail(t, key, T0 + 66), 200);
	/* when everything has expired, the next new key prunes the table */
	time_t later = T0 + 66 + 600 + 300 + 1;
	throttle_fail(t, "fresh", later);
	assert_int_equal(throttle_size(t), 1);
	assert_false(throttle_locked(t, key, later));
	throttle_free(&t);
}

/* Keys are compared whole, whatever their hash. */
static void test_keys_distinct(void **state)
{
	throttle *t = throttle_new(&cfg_default);
	char key[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "user%d@example.org", i);
		assert_int_equal(throttle_fail(t, key, T0), 100);
	}
	assert_int_equal(throttle_size(t), 10000);
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "user%d@example.org", i);
		assert_int_equal(throttle_fail(t, key, T0), 200);
	}
	assert_int_equal(throttle_fail(t, "", T0), 100);
	assert_int_equal(throttle_fail(t, "user1@example.or", T0), 100);
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
		cmocka_unit_test(test_success_clears),
		cmocka_unit_test(test_success_during_lockout),
		cmocka_unit_test(test_success_after_lockout_clears),
		cmocka_unit_test(test_after_lockout_and_window),
		cmocka_unit_test(test_bounded_table),
		cmocka_unit_test(test_keys_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
