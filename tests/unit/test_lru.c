/* test_lru.c — unit tests for lib/lru.c: records are created zeroed and
 * found again, the map never exceeds its maximum, eviction takes the entry
 * touched least recently, and removal keeps the hash chains intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/lru.h"

typedef struct rec {
	long n;
	char tag[3]; /* an odd size: records are padded for alignment */
} rec;

static void test_touch_find_remove(void **state)
{
	lru *l = lru_new(8, sizeof(rec));
	assert_null(lru_find(l, "a"));
	rec *r = lru_touch(l, "a");
	assert_int_equal(r->n, 0);
	assert_int_equal(r->tag[0], 0);
	r->n = 42;
	assert_ptr_equal(lru_find(l, "a"), r);
	assert_ptr_equal(lru_touch(l, "a"), r);
	assert_int_equal(((rec *)lru_find(l, "a"))->n, 42);
	assert_null(lru_find(l, "A"));
	assert_null(lru_find(l, ""));
	((rec *)lru_touch(l, ""))->n = 7; /* the empty key is a key */
	assert_int_equal(lru_size(l), 2);
	lru_remove(l, "a");
	lru_remove(l, "absent");
	assert_null(lru_find(l, "a"));
	assert_int_equal(((rec *)lru_find(l, ""))->n, 7);
	assert_int_equal(lru_size(l), 1);
	lru_free(&l);
	assert_null(l);
	lru_free(&l);
}

/* Full map: the entry touched least recently goes, not the oldest one. */
static void test_eviction_order(void **state)
{
	lru *l = lru_new(3, sizeof(rec));
	lru_touch(l, "a");
	lru_touch(l, "b");
	lru_touch(l, "c");
	lru_touch(l, "a"); /* now b is the least recent */
	lru_find(l, "b");  /* a look-up does not count as a touch */
	lru_touch(l, "d");
	assert_int_equal(lru_size(l), 3);
	assert_null(lru_find(l, "b"));
	assert_non_null(lru_find(l, "a"));
	assert_non_null(lru_find(l, "c"));
	assert_non_null(lru_find(l, "d"));
	lru_touch(l, "e"); /* then c */
	assert_null(lru_find(l, "c"));
	lru_remove(l, "a");
	lru_touch(l, "f"); /* room again: nothing evicted */
	assert_non_null(lru_find(l, "d"));
	assert_non_null(lru_find(l, "e"));
	assert_non_null(lru_find(l, "f"));
	assert_int_equal(lru_size(l), 3);
	lru_free(&l);
}

/* Many keys through a small map: always within the bound, every newest key
 * present with its own record, and a map of one works. */
static void test_bound_under_rotation(void **state)
{
	lru *l = lru_new(100, sizeof(rec));
	char key[32];
	for (long i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "k%ld", i);
		((rec *)lru_touch(l, key))->n = i;
		assert_true(lru_size(l) <= 100);
		if (i % 7 == 0) {
			snprintf(key, sizeof key, "k%ld", i - 3);
			lru_remove(l, key);
		}
	}
	for (long i = 19950; i < 20000; i++) {
		snprintf(key, sizeof key, "k%ld", i);
		rec *r = lru_find(l, key);
		if (i % 7 == 4 && i + 3 < 20000) /* removed on the way */
			assert_null(r);
		else
			assert_int_equal(r->n, i);
	}
	lru_free(&l);

	l = lru_new(1, sizeof(rec));
	((rec *)lru_touch(l, "x"))->n = 1;
	((rec *)lru_touch(l, "y"))->n = 2;
	assert_null(lru_find(l, "x"));
	assert_int_equal(((rec *)lru_find(l, "y"))->n, 2);
	assert_int_equal(lru_size(l), 1);
	lru_free(&l);
}

static void collect(const char *key, void *value, void *arg)
{
	char *out = arg;
	strcat(out, key);
	((rec *)value)->n++;
}

/* The walk goes from the least to the most recently touched entry and may
 * change records. */
static void test_walk_order(void **state)
{
	lru *l = lru_new(3, sizeof(rec));
	char seen[16] = "";
	lru_walk(l, collect, seen);
	assert_string_equal(seen, "");
	lru_touch(l, "a");
	lru_touch(l, "b");
	lru_touch(l, "c");
	lru_touch(l, "a");
	lru_touch(l, "d"); /* evicts b */
	lru_walk(l, collect, seen);
	assert_string_equal(seen, "cad");
	assert_int_equal(((rec *)lru_find(l, "a"))->n, 1);
	lru_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_touch_find_remove),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_bound_under_rotation),
		cmocka_unit_test(test_walk_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
