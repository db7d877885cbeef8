/* test_submithdr.c — the submitted header as the submission server reads
 * it: the From and Sender mailboxes to check (lists, groups, quoted local
 * parts, display names that look like addresses, encoded words, folding),
 * the refusals (two From fields, no mailbox, several authors without
 * Sender), the Bcc ranges, and the fields added when missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/submithdr.h"

typedef struct author_case {
	const char *header;          /* the header block, LF line ends */
	submithdr_status status;
	const char *authors;         /* on OK: the mailboxes joined by ' ' */
	size_t n_from;
} author_case;

static const author_case author_cases[] = {
	{"From: alice@example.test\n", SUBMITHDR_OK, "alice@example.test", 1},
	{"from: Alice <Alice@Example.Test>\n", SUBMITHDR_OK, "Alice@Example.Test", 1},
	{"From: \"alice@example.test\" <mallory@evil.test>\n", SUBMITHDR_OK, "mallory@evil.test", 1},
	{"From: =?UTF-8?B?YWxpY2VAZXhhbXBsZS50ZXN0?= <mallory@evil.test>\n", SUBMITHDR_OK, "mallory@evil.test", 1},
	{"From: alice@example.test (Alice Liddell)\n", SUBMITHDR_OK, "alice@example.test", 1},
	{"From: \"alice\"@example.test\n", SUBMITHDR_OK, "alice@example.test", 1},
	{"From: \"a\\\"b\"@example.test\n", SUBMITHDR_OK, "a\"b@example.test", 1},
	/* folded over lines */
	{"From: Alice\n  Liddell\n\t<alice@example.test>\nTo: x@y.test\n", SUBMITHDR_OK, "alice@example.test", 1},
	{"From: alice@example.test,\n bob@example.test\nSender: alice@example.test\n", SUBMITHDR_OK,
	 "alice@example.test bob@example.test alice@example.test", 2},
	{"Sender: <carol@example.test>\nFrom: alice@example.test\n", SUBMITHDR_OK,
	 "alice@example.test carol@example.test", 1},
	/* a group with members (RFC 6854): the members are checked */
	{"From: Team: alice@example.test;\n", SUBMITHDR_OK, "alice@example.test", 1},
	/* refusals */
	{"From: a@example.test, b@example.test\n", SUBMITHDR_NEEDS_SENDER, NULL, 0},
	{"From: a@example.test\nFrom: b@example.test\n", SUBMITHDR_FIELDS, NULL, 0},
	{"From: a@example.test\nSender: a@example.test\nSender: b@example.test\n", SUBMITHDR_FIELDS, NULL, 0},
	{"From: undisclosed-recipients:;\n", SUBMITHDR_NO_MAILBOX, NULL, 0},
	{"From:\n", SUBMITHDR_NO_MAILBOX, NULL, 0},
	{"From: alice\n", SUBMITHDR_NO_MAILBOX, NULL, 0},
	{"From: a@example.test, alice\nSender: a@example.test\n", SUBMITHDR_NO_MAILBOX, NULL, 0},
	{"From: a@example.test\nSender: a@example.test, b@example.test\n", SUBMITHDR_NO_MAILBOX, NULL, 0},
	{"From: a@example.test\nSender: x:;\n", SUBMITHDR_NO_MAILBOX, NULL, 0},
	/* no From at all: nothing to check, one will be added */
	{"Subject: hi\n", SUBMITHDR_OK, "", 0},
	/* a From in the body is not a header field */
	{"Subject: hi\n\nFrom: b@example.test\n", SUBMITHDR_OK, "", 0},
};

static void test_authors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(author_cases) / sizeof(author_cases[0]); i++) {
		const author_case *c = &author_cases[i];
		submithdr h;
		submithdr_scan(c->header, strlen(c->header), &h);
		if (h.status != c->status)
			fail_msg("case %zu (%s): status %d, want %d", i, c->header, h.status, c->status);
		if (c->authors != NULL) {
			char joined[512] = "";
			for (size_t k = 0; k < h.authors.n; k++) {
				strcat(joined, k ? " " : "");
				strcat(joined, h.authors.items[k]);
			}
			if (strcmp(joined, c->authors) != 0 || h.n_from != c->n_from)
				fail_msg("case %zu (%s): authors \"%s\" (%zu from), want \"%s\" (%zu)", i, c->header,
				         joined, h.n_from, c->authors, c->n_from);
		}
		submithdr_free(&h);
	}
}

static void test_bcc_and_presence(void **state)
{
	(void)state;
	const char *m = "From: a@example.test\r\nBcc: hidden@example.test,\r\n other@example.test\r\n"
	                "To: b@example.test\r\nresent-bcc: r@example.test\r\nBCC:\r\n\r\nBcc: body@example.test\r\n";
	submithdr h;
	submithdr_scan(m, strlen(m), &h);
	assert_int_equal(h.status, SUBMITHDR_OK);
	assert_int_equal(h.n_bcc, 3);
	assert_memory_equal(m + h.bcc[0][0], "Bcc: hidden", 11);
	assert_memory_equal(m + h.bcc[0][1], "To:", 3);
	assert_memory_equal(m + h.bcc[1][0], "resent-bcc:", 11);
	assert_memory_equal(m + h.bcc[2][0], "BCC:\r\n", 6);
	assert_memory_equal(m + h.bcc[2][1], "\r\nBcc: body", 11);
	assert_true(h.has_from);
	assert_false(h.has_date);
	assert_false(h.has_message_id);
	submithdr_free(&h);
	m = "date: Mon, 01 Jan 2024 12:00:00 +0000\nMESSAGE-ID: <x@y>\nFrom: a@example.test\n\nbody\n";
	submithdr_scan(m, strlen(m), &h);
	assert_true(h.has_date && h.has_message_id && h.has_from);
	assert_int_equal(h.n_bcc, 0);
	submithdr_free(&h);
}

static void test_missing_fields(void **state)
{
	(void)state;
	buf out;
	buf_init(&out, 4096);
	submithdr h;
	const char *m = "Subject: x\n\nbody\n";
	submithdr_scan(m, strlen(m), &h);
	/* 2026-12-06 02:49:52 UTC, a Sunday */
	assert_true(submithdr_missing_fields(&h, "alice@example.test", "mx.example.test", "Q1234", 1796525392, &out));
	const char *s = buf_str(&out);
	const char *want = "From: <alice@example.test>\nDate: Sun, 06 Dec 2026 02:49:52 +0000\nMessage-ID: <Q1234.";
	assert_memory_equal(s, want, strlen(want));
	const char *rest = s + strlen(want);
	assert_int_equal(strspn(rest, "0123456789abcdef"), 16);
	assert_string_equal(rest + 16, "@mx.example.test>\n");
	/* two of them differ (random part) */
	buf other;
	buf_init(&other, 4096);
	assert_true(submithdr_missing_fields(&h, "alice@example.test", "mx.example.test", "Q1234", 1796525392, &other));
	assert_string_not_equal(buf_str(&out), buf_str(&other));
	buf_free(&other);
	submithdr_free(&h);
	/* nothing missing: nothing added */
	buf_clear(&out);
	m = "From: a@example.test\nDate: x\nMessage-ID: <y@z>\n\n";
	submithdr_scan(m, strlen(m), &h);
	assert_true(submithdr_missing_fields(&h, "a@example.test", "mx", "Q", 0, &out));
	assert_int_equal(out.len, 0);
	submithdr_free(&h);
	/* a buffer too small: false, and nothing half written */
	buf small;
	buf_init(&small, 20);
	m = "\n";
	submithdr_scan(m, strlen(m), &h);
	assert_false(submithdr_missing_fields(&h, "alice@example.test", "mx.example.test", "Q", 0, &small));
	assert_int_equal(small.len, 0);
	buf_free(&small);
	submithdr_free(&h);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authors),
		cmocka_unit_test(test_bcc_and_presence),
		cmocka_unit_test(test_missing_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
