/* test_usage.c — an account's mail in bytes and messages: the sizes in
 * the file names (W=), the file size when a name has none, INBOX and
 * subfolders, new/ and cur/; a folder counted again only when its
 * directories changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/strutil.h"
#include "store/usage.h"

static char root[64];

static int setup(void **state)
{
	snprintf(root, sizeof root, "/tmp/yubin-usage-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static void mk(const char *sub)
{
	char *p = xasprintf("%s/%s", root, sub);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
}

static void put(const char *rel, const char *content)
{
	char *p = xasprintf("%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(p);
}

/* Set a directory's times to t (the past: a settled folder). */
static void age(const char *sub, time_t t)
{
	char *p = xasprintf("%s/%s", root, sub);
	struct timeval tv[2] = {{t, 0}, {t, 0}};
	assert_int_equal(utimes(p, tv), 0);
	free(p);
}

static void expect(store_usage *u, uint64_t bytes, uint64_t messages)
{
	uint64_t b = 0, m = 0;
	assert_true(store_usage_get(u, root, &b, &m));
	assert_int_equal(b, bytes);
	assert_int_equal(m, messages);
}

static void age_all(time_t t)
{
	static const char *const dirs[] = {"cur", "new", ".Sent/cur", ".Sent/new"};
	for (size_t i = 0; i < 4; i++)
		age(dirs[i], t);
}

static void test_sums(void **state)
{
	mk("cur");
	mk("new");
	mk("tmp");
	mk(".Sent");
	mk(".Sent/cur");
	mk(".Sent/new");
	mk(".NotAFolder");
	put("cur/1.A.h,U=1,W=100:2,S", "x");        /* the name's size counts, not the file's */
	put("cur/2.B.h,U=2,W=2500:2,", "x");
	put("new/3.C.h", "twelve bytes");             /* no size in the name: the file's */
	put("tmp/4.D.h", "not yet delivered");        /* tmp/ is no message */
	put(".Sent/cur/5.E.h,U=1,W=40:2,S", "x");
	put(".NotAFolder/6.F.h,W=999:2,", "x");      /* no cur/: not a folder */
	put("yubin-uidlist", "yubin-uidlist 1 1 3\n");
	store_usage *u = store_usage_new();
	expect(u, 100 + 2500 + 12 + 40, 4);
	/* settled folders are remembered: a file slipped in with the directory's
	 * time put back is not seen (proof that the folder was not read again) */
	age_all(1000000);
	expect(u, 2652, 4);
	put("cur/7.G.h,U=3,W=1000:2,", "x");
	age("cur", 1000000);
	expect(u, 2652, 4);
	/* a change of the directory's time: counted again */
	age("cur", 2000000);
	expect(u, 3652, 5);
	/* a folder deleted: gone from the sums */
	char *cmd = xasprintf("rm -rf '%s/.Sent'", root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	expect(u, 3612, 4);
	store_usage_free(&u);
	assert_null(u);
}

static void test_missing_root(void **state)
{
	store_usage *u = store_usage_new();
	uint64_t b = 1, m = 1;
	char *p = xasprintf("%s/none", root);
	assert_false(store_usage_get(u, p, &b, &m));
	free(p);
	store_usage_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sums, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_root, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
