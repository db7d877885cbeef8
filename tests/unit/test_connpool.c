/* test_connpool.c — connection slots: the per-destination and overall
 * limits, the line (first come, first served within a destination,
 * destinations taking turns) and leaving it.  Idle connections need a real
 * server; the end-to-end tests cover those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "delivery/connpool.h"

static const char *granted[64];
static size_t n_granted;

static void on_grant(void *arg, smtpc_conn *idle)
{
	assert_null(idle);
	granted[n_granted++] = arg;
}

static struct event_base *base;

static void turn(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static int setup(void **state)
{
	base = event_base_new();
	n_granted = 0;
	return 0;
}

static int teardown(void **state)
{
	event_base_free(base);
	return 0;
}

static bool acquire(connpool *cp, const char *dest, const char *who)
{
	smtpc_conn *idle = (smtpc_conn *)1;
	bool now = connpool_acquire(cp, dest, on_grant, (void *)who, &idle);
	if (now)
		assert_null(idle);
	return now;
}

static void test_per_destination_limit_and_order(void **state)
{
	connpool *cp = connpool_new(base, 10, 2);
	assert_true(acquire(cp, "a.test", "a1"));
	assert_true(acquire(cp, "a.test", "a2"));
	assert_false(acquire(cp, "a.test", "a3"));
	assert_false(acquire(cp, "a.test", "a4"));
	assert_true(acquire(cp, "b.test", "b1")); /* another destination is not held up */
	turn();
	assert_int_equal(n_granted, 0);
	connpool_release(cp, "a.test", NULL);
	assert_int_equal(n_granted, 0); /* handed out on the loop, not inside release */
	turn();
	assert_int_equal(n_granted, 1);
	assert_string_equal(granted[0], "a3");
	connpool_release(cp, "a.test", NULL);
	turn();
	assert_int_equal(n_granted, 2);
	assert_string_equal(granted[1], "a4");
	connpool_release(cp, "a.test", NULL);
	connpool_release(cp, "a.test", NULL);
	connpool_release(cp, "b.test", NULL);
	turn();
	assert_int_equal(n_granted, 2);
	connpool_free(&cp);
	assert_null(cp);
}

static void test_overall_limit_and_turns(void **state)
{
	connpool *cp = connpool_new(base, 1, 5);
	assert_true(acquire(cp, "a.test", "a1"));
	assert_false(acquire(cp, "a.test", "a2"));
	assert_false(acquire(cp, "a.test", "a3"));
	assert_false(acquire(cp, "b.test", "b1"));
	assert_false(acquire(cp, "c.test", "c1"));
	connpool_release(cp, "a.test", NULL);
	turn();
	/* one slot: a2 first (a.test was first in line), then the others take
	 * turns before a.test again */
	assert_int_equal(n_granted, 1);
	assert_string_equal(granted[0], "a2");
	connpool_release(cp, "a.test", NULL);
	turn();
	assert_string_equal(granted[1], "b1");
	connpool_release(cp, "b.test", NULL);
	turn();
	assert_string_equal(granted[2], "c1");
	connpool_release(cp, "c.test", NULL);
	turn();
	assert_string_equal(granted[3], "a3");
	assert_int_equal(n_granted, 4);
	connpool_release(cp, "a.test", NULL);
	turn();
	assert_int_equal(n_granted, 4);
	/* empty again: a newcomer gets a slot at once */
	assert_true(acquire(cp, "d.test", "d1"));
	connpool_release(cp, "d.test", NULL);
	connpool_free(&cp);
}

static void test_cancel_leaves_the_line(void **state)
{
	connpool *cp = connpool_new(base, 1, 1);
	assert_true(acquire(cp, "a.test", "a1"));
	assert_false(acquire(cp, "a.test", "a2"));
	assert_false(acquire(cp, "a.test", "a3"));
	connpool_cancel(cp, (void *)"a2");
	connpool_cancel(cp, (void *)"nobody");
	connpool_release(cp, "a.test", NULL);
	turn();
	assert_int_equal(n_granted, 1);
	assert_string_equal(granted[0], "a3");
	/* waiting at shutdown: freed with the pool */
	assert_false(acquire(cp, "b.test", "b1"));
	connpool_free(&cp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_per_destination_limit_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overall_limit_and_turns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_leaves_the_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
