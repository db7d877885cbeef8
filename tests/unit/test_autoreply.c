/* test_autoreply.c — unit tests for what a Sieve script sends at delivery:
 * src/delivery/autoreply.c (the vacation reply's fields: the default
 * "Auto: " subject from the original's decoded subject, RFC 2047 for
 * non-ASCII, In-Reply-To and References, Auto-Submitted, the reason as
 * text or as a :mime entity; the reject refusal's MDN parts) and
 * src/delivery/vacmemo.c (one reply per account, sender and handle until
 * the window closes; senders compared without case). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/autoreply.h"
#include "delivery/vacmemo.h"
#include "lib/buf.h"
#include "lib/strutil.h"
#include "mime/charset.h"
#include "mime/header.h"

static const char ORIGINAL[] =
	"From: Bob <bob@remote.test>\n"
	"To: alice@example.test\n"
	"Subject: =?UTF-8?B?R3LDvMOfZQ==?= from Bob\n"
	"Message-ID: <m2@remote.test>\n"
	"References: <m0@remote.test>\n"
	" <m1@remote.test>\n"
	"\n"
	"secret body text\n";

static const autoreply_info INFO = {.hostname = "mx.example.test", .user = "alice@example.test",
                                    .to = "bob@remote.test", .now = 1800000000};

static char *field(const buf *b, const char *name)
{
	const char *blank = strstr(b->data, "\n\n");
	return mime_header_value(b->data, 0, blank ? (size_t)(blank - b->data) + 1 : b->len, name);
}

static void build(const sieve_vacation *v, buf *out)
{
	buf_init(out, BUF_UNBOUNDED);
	autoreply_vacation(&INFO, v, ORIGINAL, strlen(ORIGINAL), out);
	BUF_PUTC(out, '\0');
	out->len--;
}

static void test_vacation_fields(void **state)
{
	(void)state;
	sieve_vacation v = {.reason = "I am away.\n", .handle = "h"};
	buf out;
	build(&v, &out);
	char *subject = field(&out, "Subject");
	char *decoded = mime_decode_header(subject);
	assert_string_equal(decoded, "Auto: Grüße from Bob");
	for (const char *c = subject; *c; c++)
		assert_true((unsigned char)*c < 0x80);  /* encoded-words, not raw UTF-8 */
	char *from = field(&out, "From"), *to = field(&out, "To"), *irt = field(&out, "In-Reply-To"),
	     *refs = field(&out, "References"), *auto_sub = field(&out, "Auto-Submitted");
	assert_string_equal(from, "<alice@example.test>");
	assert_string_equal(to, "<bob@remote.test>");
	assert_string_equal(irt, "<m2@remote.test>");
	assert_string_equal(refs, "<m0@remote.test> <m1@remote.test> <m2@remote.test>");
	assert_string_equal(auto_sub, "auto-replied (vacation)");
	assert_non_null(strstr(out.data, "charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\nI am away.\n"));
	assert_null(strstr(out.data, "secret body text"));  /* the original is not quoted */
	free(subject);
	free(decoded);
	free(from);
	free(to);
	free(irt);
	free(refs);
	free(auto_sub);
	buf_free(&out);
}

static void test_vacation_given_subject_and_utf8_reason(void **state)
{
	(void)state;
	sieve_vacation v = {.reason = "Bin weg – zurück am Montag.", .subject = "Abwesend", .from = "Alice <a@example.test>",
	                    .handle = "h"};
	buf out;
	build(&v, &out);
	char *subject = field(&out, "Subject"), *from = field(&out, "From");
	assert_string_equal(subject, "Abwesend");
	assert_string_equal(from, "Alice <a@example.test>");
	assert_non_null(strstr(out.data, "charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"));
	assert_non_null(strstr(out.data, "zur=C3=BCck"));
	assert_true(out.data[out.len - 1] == '\n');
	free(subject);
	free(from);
	buf_free(&out);
}

static void test_vacation_mime_reason(void **state)
{
	(void)state;
	sieve_vacation v = {.reason = "Content-Type: text/html; charset=us-ascii\n\n<p>Away</p>\n", .mime = true,
	                    .handle = "h"};
	buf out;
	build(&v, &out);
	char *ct = field(&out, "Content-Type");
	assert_string_equal(ct, "text/html; charset=us-ascii");
	assert_non_null(strstr(out.data, "MIME-Version: 1.0\nContent-Type: text/html; charset=us-ascii\n\n<p>Away</p>\n"));
	free(ct);
	buf_free(&out);
}

static void test_refusal(void **state)
{
	(void)state;
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	autoreply_refusal(&INFO, "Not on Sundays.", ORIGINAL, strlen(ORIGINAL), &out);
	BUF_PUTC(&out, '\0');
	char *ct = field(&out, "Content-Type");
	assert_non_null(strstr(ct, "multipart/report; report-type=disposition-notification;"));
	assert_non_null(strstr(out.data, "Not on Sundays."));
	assert_non_null(strstr(out.data, "\nReporting-UA: mx.example.test; yubin\n"
	                                 "Final-Recipient: rfc822; alice@example.test\n"
	                                 "Original-Message-ID: <m2@remote.test>\n"
	                                 "Disposition: automatic-action/MDN-sent-automatically; deleted\n"));
	assert_non_null(strstr(out.data, "Content-Type: text/rfc822-headers\n\nFrom: Bob <bob@remote.test>\n"));
	assert_null(strstr(out.data, "secret body text"));  /* the header only */
	char *from = field(&out, "From");
	assert_string_equal(from, "Mail Delivery System <MAILER-DAEMON@mx.example.test>");
	free(from);
	free(ct);
	buf_free(&out);
}

static void test_vacmemo(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_vacmemo.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/vacation.db", dir);
	char *err = NULL;
	vacmemo *m = vacmemo_open(path, &err);
	assert_non_null(m);
	time_t t = 1800000000;
	assert_false(vacmemo_replied(m, "alice@example.test", "bob@remote.test", "h1", t));
	assert_true(vacmemo_remember(m, "alice@example.test", "Bob@Remote.Test", "h1", t + 7 * 86400));
	assert_true(vacmemo_replied(m, "alice@example.test", "bob@remote.test", "h1", t + 86400));
	assert_false(vacmemo_replied(m, "alice@example.test", "bob@remote.test", "h1", t + 8 * 86400));
	assert_false(vacmemo_replied(m, "alice@example.test", "bob@remote.test", "h2", t + 86400));
	assert_false(vacmemo_replied(m, "carol@example.test", "bob@remote.test", "h1", t + 86400));
	vacmemo_free(&m);
	/* it lasts across a restart */
	m = vacmemo_open(path, &err);
	assert_non_null(m);
	assert_true(vacmemo_replied(m, "alice@example.test", "bob@remote.test", "h1", t + 86400));
	vacmemo_free(&m);
	/* a file that cannot be made: NULL and why, nothing half-open */
	char *bad = xasprintf("%s/missing/vacation.db", dir);
	err = NULL;
	assert_null(vacmemo_open(bad, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, bad));
	free(err);
	free(bad);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vacation_fields),
		cmocka_unit_test(test_vacation_given_subject_and_utf8_reason),
		cmocka_unit_test(test_vacation_mime_reason),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_vacmemo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
