/* test_mx.c — MX ordering: preference, shuffling among equals, null MX,
 * duplicates and case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "delivery/mx.h"

static uint32_t counter_rnd(void *arg)
{
	uint32_t *c = arg;
	return (*c)++;
}

static uint32_t reverse_rnd(void *arg)
{
	uint32_t *c = arg;
	return 1000 - (*c)++;
}

static void test_preference_order(void **state)
{
	const char *hosts[] = {"c.example", "a.example", "b.example"};
	int prefs[] = {30, 10, 20};
	uint32_t c = 0;
	strlist out;
	strlist_init(&out);
	assert_int_equal(mx_order(hosts, prefs, 3, counter_rnd, &c, &out), MX_HOSTS);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.items[0], "a.example");
	assert_string_equal(out.items[1], "b.example");
	assert_string_equal(out.items[2], "c.example");
	strlist_free(&out);
}

static void test_equal_preference_shuffled(void **state)
{
	const char *hosts[] = {"x.example", "y.example", "z.example"};
	int prefs[] = {10, 10, 5};
	uint32_t c = 0;
	strlist a, b;
	strlist_init(&a);
	strlist_init(&b);
	mx_order(hosts, prefs, 3, counter_rnd, &c, &a);
	c = 0;
	mx_order(hosts, prefs, 3, reverse_rnd, &c, &b);
	assert_string_equal(a.items[0], "z.example");
	assert_string_equal(b.items[0], "z.example");
	/* the two equal ones come in the order the random keys give */
	assert_string_equal(a.items[1], "x.example");
	assert_string_equal(b.items[1], "y.example");
	strlist_free(&a);
	strlist_free(&b);
}

static void test_null_mx(void **state)
{
	const char *hosts[] = {"."};
	int prefs[] = {0};
	uint32_t c = 0;
	strlist out;
	strlist_init(&out);
	assert_int_equal(mx_order(hosts, prefs, 1, counter_rnd, &c, &out), MX_NULL);
	assert_int_equal(out.n, 0);
	/* a root exchange among real ones is ignored */
	const char *mixed[] = {".", "mx.example"};
	int mp[] = {0, 10};
	assert_int_equal(mx_order(mixed, mp, 2, counter_rnd, &c, &out), MX_HOSTS);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.items[0], "mx.example");
	strlist_free(&out);
}

static void test_duplicates_and_case(void **state)
{
	const char *hosts[] = {"MX.Example.", "mx.example", "other.example"};
	int prefs[] = {20, 10, 15};
	uint32_t c = 0;
	strlist out;
	strlist_init(&out);
	mx_order(hosts, prefs, 3, counter_rnd, &c, &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.items[0], "mx.example");
	assert_string_equal(out.items[1], "other.example");
	strlist_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preference_order),
		cmocka_unit_test(test_equal_preference_shuffled),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_duplicates_and_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
