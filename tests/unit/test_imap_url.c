/* test_imap_url.c — unit tests for imap/imapurl.c: the RFC 5092 / RFC 4469
 * examples, every optional part, %-decoding, and the refused forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "imap/imapurl.h"

static void test_good(void **state)
{
	imap_url u;
	const char *err = NULL;
	/* RFC 4469 5 */
	const char *s = "/Drafts;UIDVALIDITY=385759045/;UID=20/;SECTION=1.MIME";
	assert_true(imap_url_parse(s, strlen(s), &u, &err));
	assert_null(u.host);
	assert_string_equal(u.mailbox, "Drafts");
	assert_int_equal(u.uidvalidity, 385759045u);
	assert_int_equal(u.uid, 20);
	assert_string_equal(u.section, "1.MIME");
	assert_false(u.partial);
	imap_url_free(&u);
	/* RFC 5092 7 style, absolute, with a user and AUTH, a port */
	s = "imap://michael;AUTH=*@example.org:143/users.%2Fmichael;UIDVALIDITY=8/;UID=4/;SECTION=HEADER.FIELDS%20(FROM)/;PARTIAL=10.20";
	assert_true(imap_url_parse(s, strlen(s), &u, &err));
	assert_string_equal(u.host, "example.org");
	assert_string_equal(u.user, "michael");
	assert_string_equal(u.mailbox, "users./michael");
	assert_string_equal(u.section, "HEADER.FIELDS (FROM)");
	assert_true(u.partial);
	assert_true(u.start == 10 && u.count == 20);
	imap_url_free(&u);
	/* no UIDVALIDITY, a mailbox with "/" in it, PARTIAL without a count */
	s = "/a/b/;uid=7/;partial=5";
	assert_true(imap_url_parse(s, strlen(s), &u, &err));
	assert_string_equal(u.mailbox, "a/b");
	assert_int_equal(u.uidvalidity, 0);
	assert_int_equal(u.uid, 7);
	assert_true(u.partial && u.start == 5 && u.count == UINT64_MAX);
	imap_url_free(&u);
	/* a user with %40 */
	s = "imap://bob%40example.org@mx/INBOX/;UID=1";
	assert_true(imap_url_parse(s, strlen(s), &u, &err));
	assert_string_equal(u.user, "bob@example.org");
	assert_string_equal(u.host, "mx");
	imap_url_free(&u);
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"", "/", "INBOX/;UID=1", "/INBOX", "/INBOX/;UID=", "/INBOX/;UID=0", "/INBOX/;UID=4294967296",
		"/INBOX;UIDVALIDITY=0/;UID=1", "/INBOX;UIDVALIDITY=x/;UID=1", "/IN%00BOX/;UID=1",
		"/IN%zzBOX/;UID=1", "/IN%4", "/IN BOX/;UID=1", "/INBOX/;UID=1/;SECTION=", "/INBOX/;UID=1/;PARTIAL=0.0",
		"/INBOX/;UID=1/;PARTIAL=x", "/INBOX/;UID=1/;URLAUTH=anonymous", "/INBOX/;UID=1x", "imap:///INBOX/;UID=1",
		"imap://host", "imap://u;X=1@host/INBOX/;UID=1", "http://host/INBOX/;UID=1", "/INBOX/;UID=1/",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		imap_url u;
		const char *err = NULL;
		if (imap_url_parse(bad[i], strlen(bad[i]), &u, &err))
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(err);
		assert_null(u.mailbox);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
