/* test_greylist.c — unit tests for policy/greylist.c: a new triplet waits
 * the delay, a retry in the window passes and is then remembered until it
 * expires, a retry after the window starts again, a client network that
 * passed often enough goes through at once, pruning keeps the bound, the
 * state survives closing the database, and the network keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/greylist.h"

static const greylist_rules rules = {
	.delay = 300, .retry_window = 86400, .expire = 30 * 86400,
	.auto_allow = 3, .auto_allow_time = 86400, .max_entries = 100000,
};

static char dbpath[64];

static greylist *open_db(void)
{
	char *err = NULL;
	greylist *g = greylist_open(dbpath, &err);
	assert_non_null(g);
	assert_null(err);
	return g;
}

static int setup(void **state)
{
	strcpy(dbpath, "/tmp/test_greylist_XXXXXX");
	int fd = mkstemp(dbpath);
	assert_true(fd >= 0);
	close(fd);
	unlink(dbpath);
	return 0;
}

static int teardown(void **state)
{
	char p[96];
	unlink(dbpath);
	snprintf(p, sizeof p, "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", dbpath);
	unlink(p);
	return 0;
}

/* check() that must not fail; the seconds to wait (0 for a pass). */
static int chk(greylist *g, const greylist_rules *r, const char *net, const char *from, const char *to,
               time_t now)
{
	int wait = -1;
	char *err = NULL;
	greylist_result res = greylist_check(g, r, net, from, to, now, &wait, &err);
	assert_null(err);
	assert_int_not_equal(res, GREYLIST_ERROR);
	if (res == GREYLIST_PASS)
		return 0;
	assert_true(wait > 0);
	return wait;
}

static void test_triplet(void **state)
{
	greylist *g = open_db();
	const char *n = "192.0.2.0/24";
	time_t t = 1000000;
	assert_int_equal(chk(g, &rules, n, "a@x.test", "b@y.test", t), 300);
	assert_int_equal(chk(g, &rules, n, "a@x.test", "b@y.test", t + 100), 200);   /* too early */
	assert_int_equal(chk(g, &rules, n, "a@x.test", "c@y.test", t + 100), 300);   /* another triplet */
	assert_int_equal(chk(g, &rules, n, "", "b@y.test", t + 100), 300);           /* the null sender */
	assert_int_equal(chk(g, &rules, "192.0.3.0/24", "a@x.test", "b@y.test", t + 100), 300);
	assert_int_equal(chk(g, &rules, n, "a@x.test", "b@y.test", t + 300), 0);     /* after the delay */
	assert_int_equal(chk(g, &rules, n, "a@x.test", "b@y.test", t + 301), 0);     /* remembered */
	/* a pass renews: still known 29 days after the last pass */
	assert_int_equal(chk(g, &rules, n, "a@x.test", "b@y.test", t + 20 * 86400), 0);
	assert_int_equal(chk(g, &rules, n, "a@x.test", "b@y.test", t + 49 * 86400), 0);
	/* ...and forgotten after expire without a pass */
	assert_int_equal(chk(g, &rules, n, "a@x.test", "b@y.test", t + 80 * 86400), 300);
	/* a retry after the window is a new first sight */
	assert_int_equal(chk(g, &rules, n, "a@x.test", "c@y.test", t + 100 + 86401), 300);
	assert_int_equal(chk(g, &rules, n, "a@x.test", "c@y.test", t + 100 + 86401 + 299), 1);
	/* a clock that went back never passes early */
	assert_int_equal(chk(g, &rules, n, "q@x.test", "c@y.test", t + 500), 300);
	assert_int_equal(chk(g, &rules, n, "q@x.test", "c@y.test", t + 400), 300);
	greylist_close(&g);
	assert_null(g);
}

static void test_auto_allow(void **state)
{
	greylist *g = open_db();
	const char *n = "2001:db8:1:2::/64";
	time_t t = 2000000;
	for (int i = 0; i < 3; i++) {
		char to[32];
		snprintf(to, sizeof to, "r%d@y.test", i);
		assert_int_equal(chk(g, &rules, n, "a@x.test", to, t), 300);
		assert_int_equal(chk(g, &rules, n, "a@x.test", to, t + 300), 0);
	}
	/* three passes: the network's new triplets go through at once */
	assert_int_equal(chk(g, &rules, n, "new@x.test", "r9@y.test", t + 400), 0);
	/* another network does not */
	assert_int_equal(chk(g, &rules, "2001:db8:1:3::/64", "new@x.test", "r9@y.test", t + 400), 300);
	/* a day without a pass: waits again */
	assert_int_equal(chk(g, &rules, n, "new2@x.test", "r9@y.test", t + 400 + 86401), 300);
	/* auto_allow 0: never */
	greylist_rules off = rules;
	off.auto_allow = 0;
	assert_int_equal(chk(g, &off, "198.51.100.0/24", "a@x.test", "1@y.test", t), 300);
	for (int i = 0; i < 5; i++)
		assert_int_equal(chk(g, &off, "198.51.100.0/24", "a@x.test", "1@y.test", t + 300 + i), 0);
	assert_int_equal(chk(g, &off, "198.51.100.0/24", "a@x.test", "2@y.test", t + 400), 300);
	greylist_close(&g);
}

static void test_persist_prune(void **state)
{
	greylist *g = open_db();
	time_t t = 3000000;
	assert_int_equal(chk(g, &rules, "192.0.2.0/24", "a@x.test", "b@y.test", t), 300);
	greylist_close(&g);
	g = open_db();
	assert_int_equal(chk(g, &rules, "192.0.2.0/24", "a@x.test", "b@y.test", t + 10), 290);
	/* a bound of 5 triplets: pruning forgets the ones closest to expiry */
	greylist_rules small = rules;
	small.max_entries = 5;
	for (int i = 0; i < 10; i++) {
		char to[32];
		snprintf(to, sizeof to, "p%d@y.test", i);
		assert_int_equal(chk(g, &small, "192.0.2.0/24", "a@x.test", to, t + 20 + i), 300);
	}
	char *err = NULL;
	assert_true(greylist_prune(g, &small, t + 40, &err));
	/* the newest five are still waiting, the oldest start again */
	assert_int_equal(chk(g, &small, "192.0.2.0/24", "a@x.test", "p9@y.test", t + 40), 300 - 11);
	assert_int_equal(chk(g, &small, "192.0.2.0/24", "a@x.test", "p5@y.test", t + 40), 300 - 15);
	assert_int_equal(chk(g, &small, "192.0.2.0/24", "a@x.test", "p0@y.test", t + 40), 300);
	assert_int_equal(chk(g, &small, "192.0.2.0/24", "a@x.test", "b@y.test", t + 40), 300);
	greylist_close(&g);
}

static void test_error(void **state)
{
	char *err = NULL;
	assert_null(greylist_open("/nonexistent-dir/greylist.db", &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent-dir/greylist.db"));
	free(err);
}

static void test_network(void **state)
{
	char k[ADDRKEY_MAX];
	greylist_network("192.0.2.77", k);
	assert_string_equal(k, "192.0.2.0/24");
	greylist_network("127.0.0.3", k);
	assert_string_equal(k, "127.0.0.0/24");
	greylist_network("::ffff:198.51.100.9", k);
	assert_string_equal(k, "198.51.100.0/24");
	greylist_network("2001:db8:1:2:3:4:5:6", k);
	assert_string_equal(k, "2001:db8:1:2::/64");
	greylist_network("::1", k);
	assert_string_equal(k, "::/64");
	greylist_network("?", k);
	assert_string_equal(k, "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_triplet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_prune, setup, teardown),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_network),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
