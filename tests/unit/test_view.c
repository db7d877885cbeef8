/* test_view.c — a session's numbering of a shared folder view: the view's
 * messages it was told of plus those expunged since that it was not told
 * of, kept in UID order; the expunge log trimmed only past what every
 * session has been told; new messages invisible until announced; adding
 * messages all or none. */
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
#include "store/view.h"

static mbox *make_mbox(const uint32_t *uids, size_t n, uint32_t uidnext)
{
	mbox *m = xcalloc(1, sizeof(*m));
	m->msgs = xcalloc(n + 1, sizeof(mbox_msg));
	for (size_t i = 0; i < n; i++)
		m->msgs[i] = (mbox_msg){.uid = uids[i], .file = xasprintf("f%u", uids[i])};
	m->n = n;
	m->uidnext = uidnext;
	m->path = xstrdup("/nonexistent");
	return m;
}

static void expect(const store_viewer *w, const uint32_t *want, size_t n_want)
{
	size_t n;
	uint32_t *got = store_viewer_uids(w, &n);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
	free(got);
}

static void test_numbering(void **state)
{
	const uint32_t start[] = {1, 2, 3, 5};
	store_view v = {.highestmodseq = 100};
	v.mb = make_mbox(start, 4, 6);
	store_viewer *a = store_viewer_new(&v);
	store_viewer *b = store_viewer_new(&v);
	expect(a, start, 4);

	/* 2 is expunged (by b, say) and 6 arrives: a still numbers 2, not 6 */
	free(v.mb->msgs[1].file);
	memmove(&v.mb->msgs[1], &v.mb->msgs[2], 2 * sizeof(mbox_msg));
	v.mb->n--;
	v.highestmodseq = 101;
	v.gone = xcalloc(4, sizeof(store_gone));
	v.gone[v.ngone++] = (store_gone){.uid = 2, .modseq = 101};
	v.mb->msgs = xrealloc(v.mb->msgs, 5 * sizeof(mbox_msg));
	v.mb->msgs[v.mb->n++] = (mbox_msg){.uid = 6, .file = xstrdup("f6")};
	v.mb->uidnext = 7;
	expect(a, start, 4);

	/* told of the expunge only: 6 is still not announced */
	a->gone_modseq = 101;
	const uint32_t after[] = {1, 3, 5};
	expect(a, after, 3);
	/* b has not been told: the log must stay */
	store_view_trim(&v);
	assert_int_equal(v.ngone, 1);
	expect(b, start, 4);

	/* announced: 6 joins the numbering at the end */
	a->uidnext = 7;
	const uint32_t now[] = {1, 3, 5, 6};
	expect(a, now, 4);

	/* b is told too: the log can go */
	b->gone_modseq = 101;
	store_view_trim(&v);
	assert_int_equal(v.ngone, 0);

	/* a message that came and went before b heard of it: never in b's numbering */
	v.gone[v.ngone++] = (store_gone){.uid = 6, .modseq = 102};
	v.mb->n--;
	free(v.mb->msgs[v.mb->n].file);
	v.highestmodseq = 102;
	expect(b, after, 3);

	store_viewer_free(&a);
	store_viewer_free(&b);
	assert_null(v.viewers);
	assert_int_equal(v.ngone, 0); /* nobody left to tell */
	free(v.gone);
	mbox_free(&v.mb);
}

/* store_view_add takes every file or none (MULTIAPPEND): when one cannot
 * be moved to new/, those moved already go back to tmp/. */
static void test_add_all_or_none(void **state)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/yubin-view-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char *tmp = xasprintf("%s/tmp", dir), *new = xasprintf("%s/new", dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(mkdir(new, 0700), 0);
	char *a = xasprintf("%s/a.msg", tmp);
	FILE *f = fopen(a, "w");
	assert_non_null(f);
	fputs("Subject: a\n\nbody\n", f);
	fclose(f);
	store_view v = {0};
	v.mb = make_mbox(NULL, 0, 1);
	free(v.mb->path);
	v.mb->path = xstrdup(dir);
	store_new_msg msgs[] = {{.name = "a.msg"}, {.name = "missing.msg"}};
	char *err = NULL;
	assert_false(store_view_add(&v, msgs, 2, &err));
	assert_non_null(err);
	assert_int_equal(access(a, F_OK), 0);          /* back in tmp/ */
	char *moved = xasprintf("%s/a.msg", new);
	assert_int_not_equal(access(moved, F_OK), 0);  /* not in new/ */
	assert_int_equal(msgs[0].uid, 0);
	unlink(a);
	rmdir(tmp);
	rmdir(new);
	rmdir(dir);
	free(moved);
	free(err);
	free(a);
	free(tmp);
	free(new);
	mbox_free(&v.mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbering),
		cmocka_unit_test(test_add_all_or_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
