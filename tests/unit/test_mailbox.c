/* test_mailbox.c — a Maildir folder with stable UIDs: new mail taken in in
 * arrival order, sizes with CRLF line ends, UIDs kept across opens and
 * never given twice, duplicates, flags, expunge, files other tools add. */
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
#include "store/mailbox.h"
#include "store/mdname.h"
#include "store/uidlist.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/yubin-mbox-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

/* A file in sub/ with this content, modified at time t. */
static void put(const char *sub, const char *name, const char *content, time_t t)
{
	char *d = xasprintf("%s/%s", dir, sub);
	mkdir(d, 0700);
	char *p = xasprintf("%s/%s", d, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	struct timeval tv[2] = {{t, 0}, {t, 0}};
	utimes(p, tv);
	free(p);
	free(d);
}

static bool exists(const char *sub, const char *name)
{
	char *p = xasprintf("%s/%s/%s", dir, sub, name);
	bool ok = access(p, F_OK) == 0;
	free(p);
	return ok;
}

static mbox *open_ok(void)
{
	char *err = NULL;
	mbox *m = mbox_open(dir, &err);
	if (m == NULL)
		fail_msg("%s", err);
	return m;
}

static void test_new_mail_taken_in(void **state)
{
	/* arrival order decides the UIDs, not the order in the directory */
	put("new", "300.Yc.h", "Subject: c\n\nthree\n", 300);
	put("new", "100.Ya.h", "Subject: a\n\none\n", 100);
	put("new", "200.Yb.h", "Subject: b\r\n\r\ntwo\r\n", 200);
	mbox *m = open_ok();
	assert_int_equal(m->n, 3);
	assert_true(m->uidvalidity > 0);
	assert_int_equal(m->uidnext, 4);
	assert_int_equal(m->msgs[0].uid, 1);
	assert_string_equal(m->msgs[0].file, "100.Ya.h,U=1,W=19:2,"); /* 16 bytes + 3 LF */
	assert_string_equal(m->msgs[1].file, "200.Yb.h,U=2,W=19:2,"); /* CRLF already */
	assert_string_equal(m->msgs[2].file, "300.Yc.h,U=3,W=21:2,");
	assert_int_equal(m->msgs[0].vsize, 19);
	assert_int_equal(m->msgs[0].internal, 100);
	assert_true(exists("cur", "100.Ya.h,U=1,W=19:2,"));
	assert_false(exists("new", "100.Ya.h"));
	uint32_t validity = m->uidvalidity;
	mbox_free(&m);

	/* again: the same UIDs; more mail gets the next ones */
	put("new", "050.Yd.h", "x\n", 50);
	m = open_ok();
	assert_int_equal(m->uidvalidity, validity);
	assert_int_equal(m->n, 4);
	assert_int_equal(m->msgs[3].uid, 4);
	assert_string_equal(m->msgs[3].file, "050.Yd.h,U=4,W=3:2,");
	assert_int_equal(mbox_find(m, 2), 1);
	assert_int_equal(mbox_find(m, 9), -1);
	mbox_free(&m);
}

static void test_uids_never_reused(void **state)
{
	put("new", "1.a", "a\n", 1);
	put("new", "2.b", "b\n", 2);
	mbox *m = open_ok();
	uint32_t last = 2;
	char *err = NULL;
	assert_true(mbox_expunge(m, &last, 1, &err));
	assert_int_equal(m->n, 1);
	assert_false(exists("cur", "2.b,U=2,W=3:2,"));
	mbox_free(&m);
	put("new", "3.c", "c\n", 3);
	m = open_ok();
	assert_int_equal(m->n, 2);
	assert_int_equal(m->msgs[1].uid, 3);
	/* a file that vanished under us counts as expunged */
	put("new", "4.d", "d\n", 4);
	assert_true(mbox_sync(m, &err));
	char *p = mbox_msg_path(m, 2);
	unlink(p);
	free(p);
	uint32_t u4 = 4;
	assert_true(mbox_expunge(m, &u4, 1, &err));
	assert_int_equal(m->n, 2);
	mbox_free(&m);
}

static void test_copies_and_foreign_files(void **state)
{
	put("cur", "1.a,U=5,W=3:2,S", "a\n", 1);
	put("cur", "2.b,U=5,W=3:2,", "b\n", 2);      /* a copy claiming the same UID */
	put("cur", "3.c:2,F", "ccc\n", 3);           /* a reader's file without our fields */
	put("cur", ".hidden", "x", 4);
	put("cur", "9.z,U=700,W=3:2,", "z\n", 9);    /* from a list ahead of ours */
	mbox *m = open_ok();
	assert_int_equal(m->n, 4);
	assert_int_equal(m->msgs[0].uid, 5);
	assert_string_equal(m->msgs[0].file, "1.a,U=5,W=3:2,S");
	assert_int_equal(m->msgs[0].flags, MDF_SEEN);
	assert_int_equal(m->msgs[1].uid, 700);
	/* the copy and the foreign file get UIDs after the highest */
	assert_int_equal(m->msgs[2].uid, 701);
	assert_string_equal(m->msgs[2].file, "2.b,U=701,W=3:2,");
	assert_int_equal(m->msgs[3].uid, 702);
	assert_string_equal(m->msgs[3].file, "3.c,U=702,W=5:2,F");
	assert_int_equal(m->msgs[3].flags, MDF_FLAGGED);
	assert_int_equal(m->uidnext, 703);
	uidlist ul;
	assert_true(uidlist_read(dir, &ul));
	assert_int_equal(ul.uidnext, 703);
	assert_int_equal(ul.uidvalidity, m->uidvalidity);
	mbox_free(&m);
}

static void test_flags(void **state)
{
	put("new", "1.a", "a\n", 1);
	mbox *m = open_ok();
	char *err = NULL;
	assert_true(mbox_set_flags(m, 0, MDF_SEEN | MDF_ANSWERED, 0, &err));
	assert_string_equal(m->msgs[0].file, "1.a,U=1,W=3:2,RS");
	assert_true(exists("cur", "1.a,U=1,W=3:2,RS"));
	mbox_free(&m);
	m = open_ok();
	assert_int_equal(m->msgs[0].flags, MDF_SEEN | MDF_ANSWERED);
	assert_true(mbox_set_flags(m, 0, 0, 0, &err));
	assert_true(exists("cur", "1.a,U=1,W=3:2,"));
	mbox_free(&m);
}

static void test_renamed_by_someone_else(void **state)
{
	put("new", "1.a", "a\n", 1);
	mbox *mine = open_ok(), *theirs = open_ok();
	char *err = NULL;
	/* the other view changes the flags (a rename) */
	assert_true(mbox_set_flags(theirs, 0, MDF_SEEN, 0, &err));
	/* this view finds the file again, with its new flags, and can go on */
	assert_true(mbox_set_flags(mine, 0, MDF_SEEN | MDF_FLAGGED, 0, &err));
	assert_string_equal(mine->msgs[0].file, "1.a,U=1,W=3:2,FS");
	assert_true(exists("cur", "1.a,U=1,W=3:2,FS"));
	/* gone for good: nothing to find */
	char *p = mbox_msg_path(mine, 0);
	unlink(p);
	free(p);
	assert_false(mbox_relocate(theirs, 0));
	mbox_free(&mine);
	mbox_free(&theirs);
}

static void test_broken_uid_list(void **state)
{
	put("new", "1.a", "a\n", 1);
	mbox *m = open_ok();
	mbox_free(&m);
	put("", "yubin-uidlist", "garbage\n", 1);
	m = open_ok();
	/* the UIDs in the names still hold; the next one stays above them */
	assert_int_equal(m->n, 1);
	assert_int_equal(m->msgs[0].uid, 1);
	assert_int_equal(m->uidnext, 2);
	mbox_free(&m);
}

/* A folder deleted and made again in the same second gets a larger
 * UIDVALIDITY (RFC 9051 2.3.1.1: never reused), as does a second folder
 * of the account; a subfolder counts in its account's counter. */
static void test_uidvalidity_never_reused(void **state)
{
	char *sub = xasprintf("%s/.Box", dir);
	uint32_t last = 0;
	for (int round = 0; round < 3; round++) {
		assert_int_equal(mkdir(sub, 0700), 0);
		char *marker = xasprintf("%s/maildirfolder", sub);
		FILE *f = fopen(marker, "w");
		assert_non_null(f);
		fclose(f);
		free(marker);
		char *err = NULL;
		mbox *m = mbox_open(sub, &err);
		assert_non_null(m);
		assert_true(m->uidvalidity > last);
		last = m->uidvalidity;
		mbox_free(&m);
		char *cmd = xasprintf("rm -rf '%s'", sub);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	mbox *inbox = open_ok();
	assert_true(inbox->uidvalidity > last);
	mbox_free(&inbox);
	/* the counter lives in the account, not in the folder */
	char *counter = xasprintf("%s/yubin-uidvalidity", dir);
	assert_int_equal(access(counter, F_OK), 0);
	free(counter);
	free(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_mail_taken_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uids_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copies_and_foreign_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renamed_by_someone_else, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_uid_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidvalidity_never_reused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
