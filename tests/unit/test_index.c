/* test_index.c — the account index and a folder's keywords: mod-sequences
 * given when a message is new to the index or its flags differ from the
 * row, kept otherwise, rows of gone messages reported and removed, a new
 * UIDVALIDITY forgetting everything, a cleared index rebuilt with higher
 * mod-sequences, the cache built from the file, the expunged list and its
 * floor (QRESYNC); the keyword file read
 * back, its malformed lines skipped, the 26-letter limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/strutil.h"
#include "store/index.h"
#include "store/keywords.h"
#include "store/mailbox.h"
#include "store/mdname.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/yubin-index-XXXXXX");
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

static void deliver(const char *name, const char *content)
{
	char *d = xasprintf("%s/new", dir);
	mkdir(d, 0700);
	char *p = xasprintf("%s/%s", d, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(p);
	free(d);
}

static mbox *open_box(void)
{
	char *err = NULL;
	mbox *m = mbox_open(dir, &err);
	assert_non_null(m);
	return m;
}

static uint64_t reconcile(store_index *ix, mbox *m, size_t *n_gone_r)
{
	uint64_t highest = 0;
	uint32_t *gone = NULL;
	size_t n_gone = 0;
	char *err = NULL;
	assert_true(store_index_reconcile(ix, m, &highest, &gone, &n_gone, &err));
	free(gone);
	if (n_gone_r)
		*n_gone_r = n_gone;
	return highest;
}

static void test_modseqs(void **state)
{
	deliver("1.a.host", "Subject: one\n\nbody\n");
	deliver("2.b.host", "Subject: two\n\nbody\n");
	mbox *m = open_box();
	char *err = NULL;
	store_index *ix = store_index_open(dir, "", &err);
	assert_non_null(ix);
	uint64_t h1 = reconcile(ix, m, NULL);
	assert_int_equal(m->n, 2);
	assert_true(m->msgs[0].modseq > 0 && m->msgs[1].modseq > m->msgs[0].modseq);
	assert_int_equal(h1, m->msgs[1].modseq);
	uint64_t kept0 = m->msgs[0].modseq, kept1 = m->msgs[1].modseq;

	/* nothing changed: the same mod-sequences, from a fresh read */
	mbox_free(&m);
	m = open_box();
	assert_int_equal(reconcile(ix, m, NULL), h1);
	assert_int_equal(m->msgs[0].modseq, kept0);
	assert_int_equal(m->msgs[1].modseq, kept1);

	/* a flag changed by another tool: a new, higher mod-sequence */
	assert_true(mbox_set_flags(m, 1, MDF_SEEN, 0, &err));
	mbox_free(&m);
	m = open_box();
	uint64_t h2 = reconcile(ix, m, NULL);
	assert_true(h2 > h1);
	assert_int_equal(m->msgs[0].modseq, kept0);
	assert_int_equal(m->msgs[1].modseq, h2);

	/* a message gone: reported, and the highest rises */
	uint32_t uid = m->msgs[0].uid;
	assert_true(mbox_expunge(m, &uid, 1, &err));
	mbox_free(&m);
	m = open_box();
	size_t n_gone;
	uint64_t h3 = reconcile(ix, m, &n_gone);
	assert_int_equal(n_gone, 1);
	assert_true(h3 > h2);

	/* the cache of the remaining message */
	store_cache c;
	char *path = mbox_msg_path(m, 0);
	assert_true(store_index_cache(ix, m->msgs[0].uid, path, &c));
	assert_non_null(strstr(c.envelope, "\"two\""));
	assert_non_null(strstr(c.bodystructure, "\"TEXT\" \"PLAIN\""));
	store_cache_free(&c);
	free(path);

	/* cleared (reindex): rebuilt, every mod-sequence above the old highest */
	assert_true(store_index_clear(ix));
	uint64_t h4 = reconcile(ix, m, NULL);
	assert_true(h4 > h3 && m->msgs[0].modseq > h3);
	store_index_close(&ix);

	/* a second handle on the same file sees the same state */
	ix = store_index_open(dir, "", &err);
	assert_non_null(ix);
	assert_int_equal(reconcile(ix, m, NULL), h4);
	/* other folders of the account are separate */
	store_index *other = store_index_open(dir, ".Sent", &err);
	assert_non_null(other);
	store_index_close(&other);
	store_index_close(&ix);
	mbox_free(&m);
}

static void test_new_uidvalidity_forgets(void **state)
{
	deliver("1.a.host", "Subject: one\n\nx\n");
	mbox *m = open_box();
	char *err = NULL;
	store_index *ix = store_index_open(dir, "", &err);
	uint64_t h1 = reconcile(ix, m, NULL);
	m->uidvalidity++; /* as if the folder were made again */
	uint64_t h2 = reconcile(ix, m, NULL);
	assert_true(h2 > h1 && m->msgs[0].modseq > h1);
	store_index_close(&ix);
	mbox_free(&m);
}

static void test_modseq_follows_the_clock(void **state)
{
	uint64_t a = store_modseq_next(0);
	assert_true(a > 1000000000000000ull); /* microseconds since 1970 */
	assert_int_equal(store_modseq_next(a + 1000000000ull), a + 1000000001ull);
}

static void test_keywords(void **state)
{
	store_keywords kw;
	store_keywords_read(dir, &kw); /* no file: none */
	for (int k = 0; k < STORE_KEYWORDS_MAX; k++)
		assert_null(kw.names[k]);
	bool added;
	assert_int_equal(store_keywords_add(&kw, "$Forwarded", &added), 0);
	assert_true(added);
	assert_int_equal(store_keywords_add(&kw, "$FORWARDED", &added), 0);
	assert_false(added);
	assert_int_equal(store_keywords_add(&kw, "$Junk", &added), 1);
	assert_true(store_keywords_write(dir, &kw));
	store_keywords_free(&kw);
	store_keywords_read(dir, &kw);
	assert_string_equal(kw.names[0], "$Forwarded");
	assert_int_equal(store_keywords_find(&kw, "$junk"), 1);
	assert_int_equal(store_keywords_find(&kw, "$none"), -1);
	for (int k = 2; k < STORE_KEYWORDS_MAX; k++) {
		char name[16];
		snprintf(name, sizeof name, "k%d", k);
		assert_int_equal(store_keywords_add(&kw, name, &added), k);
	}
	assert_int_equal(store_keywords_add(&kw, "one-too-many", &added), -1);
	store_keywords_free(&kw);

	/* malformed lines are skipped, never fatal */
	char *p = xasprintf("%s/yubin-keywords", dir);
	FILE *f = fopen(p, "w");
	fputs("0 $A\nx $B\n26 $C\n-1 $D\n3\n3 \n0 $E\n4 $a\n5 $F", f);
	fclose(f);
	store_keywords_read(dir, &kw);
	assert_string_equal(kw.names[0], "$A");
	assert_null(kw.names[3]);
	assert_null(kw.names[4]); /* the same name as letter 0, without case */
	assert_string_equal(kw.names[5], "$F");
	store_keywords_free(&kw);
	free(p);
}

/* The expunged list (QRESYNC): exact above the floor; the newest
 * STORE_EXPUNGED_MAX kept, the floor raised to what was dropped; a clear
 * raises it to the folder's highest mod-sequence. */
static void test_expunged_list(void **state)
{
	char *err = NULL;
	store_index *ix = store_index_open(dir, "", &err);
	assert_non_null(ix);
	assert_true(store_index_begin(ix));
	assert_true(store_index_set_highest(ix, 7, 100));
	for (uint32_t u = 1; u <= STORE_EXPUNGED_MAX + 5; u++)
		assert_true(store_index_expunged(ix, u, 100 + u));
	assert_true(store_index_set_highest(ix, 7, 100 + STORE_EXPUNGED_MAX + 5));
	assert_true(store_index_commit(ix));
	uint32_t *uids;
	size_t n;
	bool exact;
	/* the five oldest went: asking from before them is not exact */
	assert_true(store_index_vanished(ix, 100, &uids, &n, &exact));
	assert_false(exact);
	assert_int_equal(n, STORE_EXPUNGED_MAX);
	assert_int_equal(uids[0], 6);
	free(uids);
	assert_true(store_index_vanished(ix, 105, &uids, &n, &exact));
	assert_true(exact);
	assert_int_equal(n, STORE_EXPUNGED_MAX);
	free(uids);
	assert_true(store_index_vanished(ix, 100 + STORE_EXPUNGED_MAX + 3, &uids, &n, &exact));
	assert_true(exact);
	assert_int_equal(n, 2);
	assert_int_equal(uids[0], STORE_EXPUNGED_MAX + 4);
	assert_int_equal(uids[1], STORE_EXPUNGED_MAX + 5);
	free(uids);
	/* a reindex: nothing below the highest mod-sequence is known any more */
	assert_true(store_index_clear(ix));
	assert_true(store_index_vanished(ix, 100 + STORE_EXPUNGED_MAX + 3, &uids, &n, &exact));
	assert_false(exact);
	free(uids);
	assert_true(store_index_vanished(ix, 100 + STORE_EXPUNGED_MAX + 5, &uids, &n, &exact));
	assert_true(exact);
	assert_int_equal(n, 0);
	free(uids);
	store_index_close(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_modseqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_uidvalidity_forgets, setup, teardown),
		cmocka_unit_test(test_modseq_follows_the_clock),
		cmocka_unit_test_setup_teardown(test_expunged_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
