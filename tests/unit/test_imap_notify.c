/* test_imap_notify.c — unit tests for imap/notify.c: NOTIFY's arguments
 * (RFC 5465's examples, every filter, MessageNew's fetch attributes), the
 * rules with their sentences, BADEVENT, and which group takes a mailbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "imap/fetch.h"
#include "imap/mailbox.h"
#include "imap/notify.h"
#include "imap/parse.h"

static bool name_in(void *ctx, const imap_arg *a, char **name_r, const char **error_r)
{
	(void)ctx;
	return imap_mailbox_parse(a, true, name_r, error_r);
}

static imap_notify_status parse(const char *args, imap_notify_set *set, const char **err_r)
{
	char line[1024];
	snprintf(line, sizeof line, "t NOTIFY %s", args);
	imap_command cmd;
	const char *perr = NULL;
	imap_parse_opts o = {0};
	assert_true(imap_command_parse(line, strlen(line), &o, &cmd, &perr));
	imap_notify_status st = imap_notify_parse(cmd.args, name_in, NULL, set, err_r);
	imap_command_free(&cmd);
	return st;
}

static void test_good(void **state)
{
	imap_notify_set set;
	const char *err;
	/* RFC 5465 6, with the fetch attributes this server sends */
	assert_int_equal(parse("SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) "
	                       "(subtree (Lists Work) (MessageNew MessageExpunge MailboxName)) (inboxes NONE)",
	                       &set, &err), IMAP_NOTIFY_OK);
	assert_true(set.status && !set.none);
	assert_int_equal(set.n, 3);
	assert_int_equal(set.groups[0].filter, IMAP_NOTIFY_SELECTED);
	assert_int_equal(set.groups[0].new_items, IMAP_FETCH_UID | IMAP_FETCH_FLAGS);
	assert_int_equal(set.groups[1].names.n, 2);
	assert_int_equal(set.groups[2].events, 0);
	assert_ptr_equal(imap_notify_for_selected(&set), &set.groups[0]);
	assert_ptr_equal(imap_notify_for_mailbox(&set, "Lists.ietf", false), &set.groups[1]);
	assert_ptr_equal(imap_notify_for_mailbox(&set, "Work", false), &set.groups[1]);
	assert_ptr_equal(imap_notify_for_mailbox(&set, "INBOX", false), &set.groups[2]);
	assert_null(imap_notify_for_mailbox(&set, "Listsx", true));
	imap_notify_set_free(&set);
	assert_int_equal(parse("NONE", &set, &err), IMAP_NOTIFY_OK);
	assert_true(set.none);
	imap_notify_set_free(&set);
	assert_int_equal(parse("SET (subscribed (MessageNew MessageExpunge)) (mailboxes Sent (MailboxName))", &set,
	                       &err), IMAP_NOTIFY_OK);
	assert_ptr_equal(imap_notify_for_mailbox(&set, "Sent", true), &set.groups[0]);
	assert_ptr_equal(imap_notify_for_mailbox(&set, "Sent", false), &set.groups[1]);
	assert_null(imap_notify_for_mailbox(&set, "Junk", false));
	imap_notify_set_free(&set);
}

static void test_bad(void **state)
{
	static const struct {
		const char *args;
		imap_notify_status st;
		const char *err;
	} cases[] = {
		{"FOO", IMAP_NOTIFY_BAD, "NOTIFY SET or NOTIFY NONE"},
		{"SET", IMAP_NOTIFY_BAD, "NOTIFY SET needs event groups"},
		{"SET (personal (MessageNew))", IMAP_NOTIFY_BAD, "MessageNew and MessageExpunge go together"},
		{"SET (personal (FlagChange))", IMAP_NOTIFY_BAD, "FlagChange needs"},
		{"SET (personal (MessageNew (FLAGS) MessageExpunge))", IMAP_NOTIFY_BAD, "MessageNew fetch attributes are"},
		{"SET (selected (MessageNew (ENVELOPE) MessageExpunge))", IMAP_NOTIFY_BAD, "MessageNew fetch attributes here"},
		{"SET (selected NONE) (selected-delayed NONE)", IMAP_NOTIFY_BAD, "One selected"},
		{"SET (x NONE)", IMAP_NOTIFY_BAD, "Unknown mailbox filter"},
		{"SET (subtree NONE)", IMAP_NOTIFY_BAD, "An event group needs events"},
		{"SET (personal NONE x)", IMAP_NOTIFY_BAD, "Events are a list or NONE"},
		{"SET (personal (Foo))", IMAP_NOTIFY_BAD, "Unknown event"},
		{"SET (personal (AnnotationChange MessageNew MessageExpunge))", IMAP_NOTIFY_BADEVENT, "[BADEVENT ("},
		{"SET (personal (ServerMetadataChange)) (inboxes (Foo))", IMAP_NOTIFY_BAD, "Unknown event"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		imap_notify_set set;
		const char *err = NULL;
		imap_notify_status st = parse(cases[i].args, &set, &err);
		if (st != cases[i].st || err == NULL || strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu (%s): %d \"%s\"", i, cases[i].args, (int)st, err ? err : "(null)");
		imap_notify_set_free(&set);
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
