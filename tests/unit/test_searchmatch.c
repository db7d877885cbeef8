/* test_searchmatch.c — SEARCH evaluation (searchmatch.c): every kind of key
 * against two known messages, table-driven from the command text as a
 * client sends it; header and body keys read the message only when needed;
 * a message that cannot be read matches no key that needs its bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/parse.h"
#include "imap/search.h"
#include "imap/searchmatch.h"
#include "lib/strutil.h"
#include "store/mdname.h"

static const char msg1[] = "From: Alice Example <alice@example.test>\n"
                           "To: bob@example.test\n"
                           "Subject: Hello World\n"
                           "Date: Wed, 14 Jan 2026 23:00:00 -0800\n"
                           "X-Tag: Blue\n"
                           "\n"
                           "The body text mentions Zebra.\n";
static const char msg2[] = "Subject: other\n\nnothing here\n";

typedef struct fake {
	const char *text;
	int reads;
	bool unreadable;
} fake;

static char *read_fake(void *arg, size_t *len_r)
{
	fake *f = arg;
	f->reads++;
	if (f->unreadable)
		return NULL;
	*len_r = strlen(f->text);
	return xstrdup(f->text);
}

static time_t utc(int y, int mo, int d, int h)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h};
	return timegm(&tm);
}

static store_keywords kw;
static bool both_recent;          /* both messages \Recent in the session */
static const uint32_t saved[] = {9};

/* Does "SEARCH <keys>" match message 1 (seq 1) / message 2 (seq 2)? */
static void check(const char *keys, bool want1, bool want2, int reads_wanted)
{
	mbox_msg m1 = {.uid = 5, .vsize = 120, .internal = utc(2026, 1, 15, 10), .flags = MDF_SEEN,
	               .kw = 1u << 0, .modseq = 10};
	mbox_msg m2 = {.uid = 9, .vsize = 5000, .internal = utc(2026, 2, 1, 0), .flags = MDF_DELETED,
	               .modseq = 20, .savedate = utc(2026, 3, 2, 0)};
	m1.savedate = utc(2026, 3, 1, 5);
	char *line = xasprintf("t SEARCH %s", keys);
	imap_command cmd;
	imap_search q;
	const char *err = NULL;
	imap_parse_opts opts = {.utf8 = false};
	assert_true(imap_command_parse(line, strlen(line), &opts, &cmd, &err));
	assert_int_equal(imap_search_parse(cmd.args, &q, &err), IMAP_SEARCH_OK);
	fake f1 = {.text = msg1}, f2 = {.text = msg2};
	imap_match_msg a = {.m = &m1, .kw = &kw, .saved = saved, .n_saved = 1, .read = read_fake, .read_arg = &f1,
	                    .recent = both_recent};
	imap_match_msg b = {.m = &m2, .kw = &kw, .saved = saved, .n_saved = 1, .read = read_fake, .read_arg = &f2,
	                    .recent = both_recent};
	bool got1 = imap_search_match(q.root, &a, 1, 2, 9);
	bool got2 = imap_search_match(q.root, &b, 2, 2, 9);
	if (got1 != want1 || got2 != want2)
		fail_msg("SEARCH %s: got %d %d, want %d %d", keys, got1, got2, want1, want2);
	if (reads_wanted >= 0 && f1.reads != reads_wanted)
		fail_msg("SEARCH %s: message read %d times, want %d", keys, f1.reads, reads_wanted);
	imap_match_msg_done(&a);
	imap_match_msg_done(&b);
	imap_search_free(&q);
	imap_command_free(&cmd);
	free(line);
}

static void test_flags_sizes_dates(void **state)
{
	check("ALL", true, true, 0);
	check("SEEN", true, false, 0);
	check("UNSEEN", false, true, 0);
	check("DELETED", false, true, 0);
	check("UNDELETED ANSWERED", false, false, 0);
	check("UNANSWERED UNDRAFT UNFLAGGED", true, true, 0);
	check("NEW", false, false, 0);
	check("OLD", true, true, 0);
	check("RECENT", false, false, 0);
	/* RFC 3501 6.4.4: NEW is RECENT UNSEEN, OLD is NOT RECENT */
	both_recent = true;
	check("RECENT", true, true, 0);
	check("NEW", false, true, 0);
	check("OLD", false, false, 0);
	check("NOT OLD SEEN", true, false, 0);
	both_recent = false;
	check("KEYWORD $Label1", true, false, 0);
	check("KEYWORD $label1", true, false, 0);
	check("UNKEYWORD $Label1", false, true, 0);
	check("KEYWORD $Unknown", false, false, 0);
	check("LARGER 120", false, true, 0);
	check("SMALLER 121", true, false, 0);
	check("BEFORE 1-Feb-2026", true, false, 0);
	check("ON 15-Jan-2026", true, false, 0);
	check("SINCE 15-Jan-2026", true, true, 0);
	check("SINCE 16-Jan-2026", false, true, 0);
	check("MODSEQ 15", false, true, 0);
	check("MODSEQ 10", true, true, 0);
	/* RFC 8514: the save date, by day */
	check("SAVEDON 1-Mar-2026", true, false, 0);
	check("SAVEDBEFORE 2-Mar-2026", true, false, 0);
	check("SAVEDSINCE 2-Mar-2026", false, true, 0);
	check("SAVEDATESUPPORTED", true, true, 0);
	check("NOT SAVEDATESUPPORTED", false, false, 0);
}

/* RFC 5032: OLDER / YOUNGER count seconds back from now, to the second */
static void test_within(void **state)
{
	char keys[64];
	long since1 = (long)(time(NULL) - utc(2026, 1, 15, 10)), since2 = (long)(time(NULL) - utc(2026, 2, 1, 0));
	snprintf(keys, sizeof keys, "OLDER %ld", since2 - 3600);
	check(keys, true, true, 0);
	snprintf(keys, sizeof keys, "OLDER %ld", since2 + 3600);
	check(keys, true, false, 0);
	snprintf(keys, sizeof keys, "YOUNGER %ld", since1 - 3600);
	check(keys, false, true, 0);
	snprintf(keys, sizeof keys, "YOUNGER %ld", since1 + 3600);
	check(keys, true, true, 0);
	snprintf(keys, sizeof keys, "YOUNGER %ld OLDER %ld", since1 + 3600, since2 + 3600);
	check(keys, true, false, 0);
	check("YOUNGER 60", false, false, 0);
}

static void test_sets_and_logic(void **state)
{
	check("1", true, false, 0);
	check("2:*", false, true, 0);
	check("*", false, true, 0);
	check("UID 5", true, false, 0);
	check("UID 6:*", false, true, 0);
	check("$", false, true, 0);
	check("UID $", false, true, 0);
	check("NOT SEEN", false, true, 0);
	check("OR SEEN DELETED", true, true, 0);
	check("OR (SEEN LARGER 1000) (DELETED SMALLER 10)", false, false, 0);
	check("(SEEN) (KEYWORD $Label1)", true, false, 0);
	check("NOT (OR 1 2)", false, false, 0);
}

static void test_headers_and_text(void **state)
{
	check("FROM alice", true, false, 1);
	check("FROM ALICE@EXAMPLE", true, false, 1);
	check("TO bob", true, false, 1);
	check("CC bob", false, false, 1);
	check("SUBJECT \"hello world\"", true, false, 1);
	check("SUBJECT other", false, true, 1);
	check("HEADER X-Tag blue", true, false, 1);
	check("HEADER X-Tag \"\"", true, false, 1);   /* the field is there */
	check("HEADER X-Missing \"\"", false, false, 1);
	check("BODY zebra", true, false, 1);
	check("BODY Subject", false, false, 1);        /* the body only */
	check("TEXT Subject", true, true, 1);
	check("SENTON 14-Jan-2026", true, false, 1);   /* the day as written, zone disregarded */
	check("SENTBEFORE 15-Jan-2026", true, false, 1);
	check("SENTSINCE 15-Jan-2026", false, false, 1);
	/* a flag key that already fails saves reading the message */
	check("DELETED BODY zebra", false, false, 0);
	check("SEEN FROM alice SUBJECT hello", true, false, 1); /* read once for both */
}

static void test_unreadable_message(void **state)
{
	mbox_msg m = {.uid = 1, .vsize = 10, .flags = MDF_SEEN};
	const char *line = "t SEARCH OR SEEN BODY x";
	imap_command cmd;
	imap_search q;
	const char *err = NULL;
	imap_parse_opts opts = {0};
	assert_true(imap_command_parse(line, strlen(line), &opts, &cmd, &err));
	assert_int_equal(imap_search_parse(cmd.args, &q, &err), IMAP_SEARCH_OK);
	fake f = {.unreadable = true};
	imap_match_msg v = {.m = &m, .kw = &kw, .read = read_fake, .read_arg = &f};
	assert_true(imap_search_match(q.root, &v, 1, 1, 1));
	imap_search_free(&q);
	imap_command_free(&cmd);
	line = "t SEARCH TEXT x";
	assert_true(imap_command_parse(line, strlen(line), &opts, &cmd, &err));
	assert_int_equal(imap_search_parse(cmd.args, &q, &err), IMAP_SEARCH_OK);
	assert_false(imap_search_match(q.root, &v, 1, 1, 1));
	assert_false(imap_search_match(q.root, &v, 1, 1, 1)); /* read once, remembered */
	assert_int_equal(f.reads, 1);
	imap_match_msg_done(&v);
	imap_search_free(&q);
	imap_command_free(&cmd);
}

int main(void)
{
	kw.names[0] = xstrdup("$Label1");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_sizes_dates),
		cmocka_unit_test(test_sets_and_logic),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_headers_and_text),
		cmocka_unit_test(test_unreadable_message),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	store_keywords_free(&kw);
	return rc;
}
