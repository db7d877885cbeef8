/* test_imapfmt.c — unit tests for the IMAP renderings of src/mime: string
 * quoting, ENVELOPE (RFC 9051 7.5.2, with RFC 5322 groups, comments,
 * quoted names and routes), BODY and BODYSTRUCTURE (single part, multipart
 * with attachment and message/rfc822, RFC 2231 parameters), section parsing,
 * BODY[section] bytes (RFC 9051 6.4.5) with <partial>, and BINARY (RFC
 * 3516).  The expected strings are written by hand from the RFC grammar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mime/imapfmt.h"

/* RFC 9051 7.5.2's example message, with a short body. */
static const char rfc_msg[] =
	"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
	"From: Terry Gray <gray@cac.washington.edu>\n"
	"Subject: IMAP4rev2 WG mtg summary and minutes\n"
	"To: imap@cac.washington.edu\n"
	"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\n"
	"Message-Id: <B27397-0100000@cac.washington.edu>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
	"\n"
	"Hello,\n"
	"here are the minutes.\n";

static const char mixed_msg[] =
	"From: a@b.test\n"
	"Subject: test\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"XX\"\n"
	"\n"
	"--XX\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"caf=C3=A9\n"
	"\n"
	"--XX\n"
	"Content-Type: image/png; name=\"p.png\"\n"
	"Content-Transfer-Encoding: base64\n"
	"Content-Disposition: attachment; filename=\"p.png\"\n"
	"Content-ID: <p1@b.test>\n"
	"\n"
	"iVBORw0K\n"
	"--XX\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: \"Joe Q. Public\" <joe@c.test>\n"
	"Subject: inner\n"
	"\n"
	"hi\n"
	"--XX--\n";

static mime_message *parse(const char *s)
{
	return mime_parse(s, strlen(s));
}

static void expect_body(const char *msg, bool extended, const char *want)
{
	mime_message *m = parse(msg);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	assert_true(imap_write_body(&b, m, m->root, extended));
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
	mime_free(&m);
}

static void expect_envelope(const char *msg, const char *want)
{
	mime_message *m = parse(msg);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	assert_true(imap_write_envelope(&b, m, m->root));
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
	mime_free(&m);
}

static void test_strings(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} cases[] = {
		{"plain", 5, "\"plain\""},
		{"", 0, "\"\""},
		{"say \"hi\"", 8, "{8}\r\nsay \"hi\""},
		{"back\\slash", 10, "{10}\r\nback\\slash"},
		{"two\r\nlines", 10, "{10}\r\ntwo\r\nlines"},
		{"caf\xc3\xa9", 5, "{5}\r\ncaf\xc3\xa9"},
		{"nul\0x", 5, "~{5}\r\nnul\0x"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf b;
		buf_init(&b, 100);
		assert_true(imap_write_string(&b, cases[i].in, cases[i].n));
		assert_int_equal(b.len, strlen(cases[i].want) + (i == 6 ? 2 : 0));
		assert_memory_equal(b.data, cases[i].want, b.len);
		buf_free(&b);
	}
	buf b;
	buf_init(&b, 4000);
	char *longs = xmalloc(IMAP_QUOTED_MAX + 2);
	memset(longs, 'a', IMAP_QUOTED_MAX + 1);
	longs[IMAP_QUOTED_MAX + 1] = '\0';
	assert_true(imap_write_string(&b, longs, IMAP_QUOTED_MAX));
	assert_int_equal(b.data[0], '"');
	buf_clear(&b);
	assert_true(imap_write_string(&b, longs, IMAP_QUOTED_MAX + 1));
	assert_int_equal(strncmp(b.data, "{1025}\r\n", 8), 0);
	buf_clear(&b);
	assert_true(imap_write_nstring(&b, NULL));
	assert_true(imap_write_upper(&b, " x-Y"));
	assert_string_equal(buf_str(&b), "NIL\" X-Y\"");
	free(longs);
	buf_free(&b);
	/* a full buffer is reported */
	buf_init(&b, 4);
	assert_false(imap_write_string(&b, "abcdef", 6));
	buf_free(&b);
}

static void test_envelope_rfc_example(void **state)
{
	expect_envelope(rfc_msg,
		"(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
		"\"IMAP4rev2 WG mtg summary and minutes\" "
		"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
		"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
		"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
		"((NIL NIL \"imap\" \"cac.washington.edu\")) "
		"((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
		"(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
		"NIL NIL \"<B27397-0100000@cac.washington.edu>\")");
}

static void test_envelope_addresses(void **state)
{
	expect_envelope(
		"From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\n"
		"Sender: jdoe@one.test (John Doe)\n"
		"Reply-To: <@node.test,@node2.test:mary@example.net>\n"
		"To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;\n"
		"Cc: Undisclosed recipients:;\n"
		"Bcc: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>,\n"
		" \"quoted \\\"name\\\"\" <\"odd local\"@x.test>, nodomain\n"
		"Subject: caf\xc3\xa9\n"
		"In-Reply-To: <a@b>\n"
		"\n",
		"(NIL {5}\r\ncaf\xc3\xa9 "
		"((\"Pete\" NIL \"pete\" \"silly.test\")) "
		"((\"John Doe\" NIL \"jdoe\" \"one.test\")) "
		"((NIL \"@node.test,@node2.test\" \"mary\" \"example.net\")) "
		"((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
		"(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")"
		"(NIL NIL NIL NIL)) "
		"((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) "
		"((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")"
		"({13}\r\nquoted \"name\" NIL {11}\r\n\"odd local\" \"x.test\")"
		"(NIL NIL \"nodomain\" \"\")) "
		"\"<a@b>\" NIL)");
}

/* A long address list with many quoted names is handled in linear time. */
static void test_envelope_long_list(void **state)
{
	buf msg;
	buf_init(&msg, BUF_UNBOUNDED);
	BUF_PUTS(&msg, "To: ");
	for (int i = 0; i < 40000; i++)
		BUF_PRINTF(&msg, "\"n%d\" <a%d@b.test>,\n ", i, i);
	BUF_PUTS(&msg, "last@b.test\n\n");
	mime_message *m = mime_parse(msg.data, msg.len);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	assert_true(imap_write_envelope(&b, m, m->root));
	assert_non_null(strstr(b.data, "(\"n39999\" NIL \"a39999\" \"b.test\")(NIL NIL \"last\" \"b.test\"))"));
	buf_free(&b);
	mime_free(&m);
	buf_free(&msg);
}

/* An empty group with only a comment in it (or a comment alone between
 * commas) is no address: no phantom (name NIL "" "") entry. */
static void test_envelope_group_with_comment(void **state)
{
	expect_envelope("To: undisclosed-recipients: (none);\nCc: a@b.test, (just a comment), c@d.test\n\n",
			"(NIL NIL NIL NIL NIL "
			"((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
			"((NIL NIL \"a\" \"b.test\")(NIL NIL \"c\" \"d.test\")) NIL NIL NIL)");
}

static void test_envelope_missing_and_defaults(void **state)
{
	expect_envelope("Subject: x\n\nbody\n",
			"(NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL)");
	/* Sender and Reply-To present but empty take From's value */
	expect_envelope("From: a@b.test\nSender:\nReply-To: \nTo: ,\nSubject:\n\n",
			"(NIL \"\" ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) "
			"((NIL NIL \"a\" \"b.test\")) NIL NIL NIL NIL NIL)");
	expect_envelope("", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

static void test_bodystructure_single(void **state)
{
	expect_body(rfc_msg, true,
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 31 2 NIL NIL NIL NIL)");
	expect_body(rfc_msg, false,
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 31 2)");
	/* no Content-Type at all: the RFC 2045 default */
	expect_body("Subject: x\n\nab\n", false,
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 4 1)");
	/* a given text type without parameters has none */
	expect_body("Content-Type: text/html\nContent-Language: en, de\n"
		    "Content-Location: http://x.test/\nContent-MD5: abc=\n\n", true,
		"(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 0 0 \"abc=\" NIL (\"en\" \"de\") "
		"\"http://x.test/\")");
	expect_body("Content-Type: application/x-stuff;\n"
		    " title*0*=us-ascii'en'This%20is%20even%20more%20;\n"
		    " title*1*=%2A%2A%2Afun%2A%2A%2A%20;\n"
		    " title*2=\"isn't it!\"\n"
		    "Content-Transfer-Encoding: x-uuencode\n"
		    "Content-Language: fr\n\n", true,
		"(\"APPLICATION\" \"X-STUFF\" (\"TITLE*\" "
		"\"us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!\") "
		"NIL NIL \"X-UUENCODE\" 0 NIL NIL \"fr\" NIL)");
}

#define INNER_ENV "(NIL \"inner\" ((\"Joe Q. Public\" NIL \"joe\" \"c.test\")) " \
	"((\"Joe Q. Public\" NIL \"joe\" \"c.test\")) " \
	"((\"Joe Q. Public\" NIL \"joe\" \"c.test\")) NIL NIL NIL NIL NIL)"

static void test_bodystructure_mixed(void **state)
{
	expect_body(mixed_msg, true,
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 11 1 "
		"NIL NIL NIL NIL)"
		"(\"IMAGE\" \"PNG\" (\"NAME\" \"p.png\") \"<p1@b.test>\" NIL \"BASE64\" 8 "
		"NIL (\"ATTACHMENT\" (\"FILENAME\" \"p.png\")) NIL NIL)"
		"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 56 " INNER_ENV " "
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 2 1 NIL NIL NIL NIL) "
		"4 NIL NIL NIL NIL) "
		"\"MIXED\" (\"BOUNDARY\" \"XX\") NIL NIL NIL)");
	expect_body(mixed_msg, false,
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 11 1)"
		"(\"IMAGE\" \"PNG\" (\"NAME\" \"p.png\") \"<p1@b.test>\" NIL \"BASE64\" 8)"
		"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 56 " INNER_ENV " "
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 2 1) 4) "
		"\"MIXED\")");
}

static void test_bodystructure_nested_and_opaque(void **state)
{
	expect_body("Content-Type: multipart/mixed; boundary=a\n\n"
		    "--a\nContent-Type: multipart/alternative; boundary=b\n\n"
		    "--b\n\nx\n--b\nContent-Type: text/html\n\n<p>\n--b--\n"
		    "--a\nContent-Type: multipart/related\n\nno boundary\n"
		    "--a--\n", false,
		"(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1 1)"
		"(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 3 1) \"ALTERNATIVE\")"
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 11 1) \"MIXED\")");
	/* multipart/digest: parts are message/rfc822 by default, with no charset */
	expect_body("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody\n--d--\n",
		    false,
		    "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 20 "
		    "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) "
		    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 4 1) 3) \"DIGEST\")");
	/* message/rfc822 in base64 cannot be looked into: opaque text */
	expect_body("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA==\n",
		    false, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"BASE64\" 18 1)");
}

static imap_fetch_status fetch(const char *msg, const char *spec, bool binary, buf *out)
{
	mime_message *m = parse(msg);
	imap_section sec;
	imap_fetch_status st = imap_section_parse(spec, &sec);
	if (st == IMAP_FETCH_OK) {
		st = binary ? imap_binary_fetch(out, m, &sec) : imap_section_fetch(out, m, &sec);
		imap_section_free(&sec);
	}
	mime_free(&m);
	return st;
}

static void expect_section(const char *msg, const char *spec, const char *want)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	imap_fetch_status st = fetch(msg, spec, false, &b);
	if (st != IMAP_FETCH_OK)
		fail_msg("%s: status %d", spec, st);
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
}

static void expect_status(const char *msg, const char *spec, bool binary, imap_fetch_status want)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	imap_fetch_status st = fetch(msg, spec, binary, &b);
	if (st != want)
		fail_msg("%s: status %d, want %d", spec, st, want);
	buf_free(&b);
}

static void test_sections_mixed(void **state)
{
	expect_section(mixed_msg, "HEADER",
		"From: a@b.test\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n");
	expect_section(mixed_msg, "HEADER.FIELDS (SUBJECT from)",
		"From: a@b.test\r\nSubject: test\r\n\r\n");
	expect_section(mixed_msg, "header.fields.not (Content-Type \"MIME-Version\")",
		"From: a@b.test\r\nSubject: test\r\n\r\n");
	expect_section(mixed_msg, "HEADER.FIELDS (X-None)", "\r\n");
	expect_section(mixed_msg, "1", "caf=C3=A9\r\n");
	expect_section(mixed_msg, "1.MIME",
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	expect_section(mixed_msg, "2", "iVBORw0K");
	expect_section(mixed_msg, "3",
		"From: \"Joe Q. Public\" <joe@c.test>\r\nSubject: inner\r\n\r\nhi");
	expect_section(mixed_msg, "3.HEADER",
		"From: \"Joe Q. Public\" <joe@c.test>\r\nSubject: inner\r\n\r\n");
	expect_section(mixed_msg, "3.HEADER.FIELDS (Subject)", "Subject: inner\r\n\r\n");
	expect_section(mixed_msg, "3.TEXT", "hi");
	expect_section(mixed_msg, "3.1", "hi");
	expect_section(mixed_msg, "3.MIME", "Content-Type: message/rfc822\r\n\r\n");
	expect_section(mixed_msg, "3.1.MIME",
		"From: \"Joe Q. Public\" <joe@c.test>\r\nSubject: inner\r\n\r\n");
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	assert_int_equal(fetch(mixed_msg, "", false, &b), IMAP_FETCH_OK);
	assert_int_equal(b.len, sizeof mixed_msg - 1 + 26);   /* 26 line ends */
	buf_clear(&b);
	assert_int_equal(fetch(mixed_msg, "TEXT", false, &b), IMAP_FETCH_OK);
	assert_int_equal(strncmp(b.data, "--XX\r\nContent-Type: text/plain;", 31), 0);
	assert_int_equal(strcmp(b.data + b.len - 8, "--XX--\r\n"), 0);
	buf_free(&b);
	expect_status(mixed_msg, "2.HEADER", false, IMAP_FETCH_NOT_MESSAGE);
	expect_status(mixed_msg, "1.TEXT", false, IMAP_FETCH_NOT_MESSAGE);
	expect_status(mixed_msg, "4", false, IMAP_FETCH_NO_PART);
	expect_status(mixed_msg, "1.1", false, IMAP_FETCH_NO_PART);
	expect_status(mixed_msg, "3.2", false, IMAP_FETCH_NO_PART);
}

static void test_sections_single(void **state)
{
	expect_section(rfc_msg, "1", "Hello,\r\nhere are the minutes.\r\n");
	expect_section(rfc_msg, "TEXT", "Hello,\r\nhere are the minutes.\r\n");
	expect_section(rfc_msg, "HEADER.FIELDS (DATE CC)",
		"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
		"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\r\n");
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	assert_int_equal(fetch(rfc_msg, "1.MIME", false, &b), IMAP_FETCH_OK);
	assert_int_equal(strncmp(b.data, "Date: Wed", 9), 0);     /* the message header */
	buf_free(&b);
	expect_status(rfc_msg, "1.HEADER", false, IMAP_FETCH_NOT_MESSAGE);
	expect_status(rfc_msg, "2", false, IMAP_FETCH_NO_PART);
	/* folded fields are copied whole; a last line without line end gets one */
	expect_section("Subject: a\n  b\nX: 1", "HEADER.FIELDS (subject x)",
		       "Subject: a\r\n  b\r\nX: 1\r\n\r\n");
	/* a message that is itself message/rfc822 */
	const char *fwd = "Content-Type: message/rfc822\n\nSubject: in\n\nbody\n";
	expect_section(fwd, "1", "Subject: in\r\n\r\nbody\r\n");
	expect_section(fwd, "1.HEADER", "Subject: in\r\n\r\n");
	expect_section(fwd, "1.1", "body\r\n");
}

static void test_partial(void **state)
{
	static const struct {
		uint64_t off, count;
		const char *want;
	} cases[] = {
		{0, 3, "caf"}, {9, 100, "\r\n"}, {11, 5, ""}, {500, 1, ""}, {0, 0, ""},
		{3, 6, "=C3=A9"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf b;
		buf_init(&b, 1000);
		assert_int_equal(fetch(mixed_msg, "1", false, &b), IMAP_FETCH_OK);
		imap_partial(&b, cases[i].off, cases[i].count);
		assert_string_equal(buf_str(&b), cases[i].want);
		buf_free(&b);
	}
}

static void test_binary(void **state)
{
	buf b;
	buf_init(&b, 1000);
	assert_int_equal(fetch(mixed_msg, "1", true, &b), IMAP_FETCH_OK);
	assert_string_equal(buf_str(&b), "caf\xc3\xa9\r\n");
	buf_clear(&b);
	assert_int_equal(fetch(mixed_msg, "2", true, &b), IMAP_FETCH_OK);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "\x89PNG\r\n", 6);
	buf_clear(&b);
	assert_int_equal(fetch(mixed_msg, "3", true, &b), IMAP_FETCH_OK);
	assert_int_equal(strncmp(b.data, "From: \"Joe", 10), 0);
	buf_clear(&b);
	assert_int_equal(fetch("Content-Transfer-Encoding: base64\n\nAAEC\n", "1", true, &b),
			 IMAP_FETCH_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "\0\1\2", 3);
	buf_free(&b);
	expect_status("Content-Transfer-Encoding: x-uuencode\n\nbegin\n", "1", true,
		      IMAP_FETCH_UNKNOWN_CTE);
	expect_status(mixed_msg, "1.MIME", true, IMAP_FETCH_SYNTAX);
	expect_status(mixed_msg, "9", true, IMAP_FETCH_NO_PART);
	/* a full output buffer */
	buf_init(&b, 4);
	assert_int_equal(fetch(mixed_msg, "1", true, &b), IMAP_FETCH_TOO_BIG);
	buf_clear(&b);
	assert_int_equal(fetch(mixed_msg, "", false, &b), IMAP_FETCH_TOO_BIG);
	buf_free(&b);
}

static void test_section_syntax(void **state)
{
	static const struct {
		const char *spec;
		imap_fetch_status st;
		imap_section_kind kind;
		size_t nparts;
		size_t nfields;
	} cases[] = {
		{"", IMAP_FETCH_OK, MIME_SECTION_BODY, 0, 0},
		{"HEADER", IMAP_FETCH_OK, MIME_SECTION_HEADER, 0, 0},
		{"text", IMAP_FETCH_OK, MIME_SECTION_TEXT, 0, 0},
		{"1.2.3", IMAP_FETCH_OK, MIME_SECTION_BODY, 3, 0},
		{"1.2.3.MIME", IMAP_FETCH_OK, MIME_SECTION_MIME, 3, 0},
		{"4.HEADER.FIELDS (A b \"C D\")", IMAP_FETCH_OK, MIME_SECTION_HEADER_FIELDS, 1, 3},
		{"HEADER.FIELDS.NOT (X)", IMAP_FETCH_OK, MIME_SECTION_HEADER_FIELDS_NOT, 0, 1},
		{"MIME", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"0", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"01", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"1.", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"1..2", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"1.2.MIMEX", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"TEXTX", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"HEADER.FIELDS", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"HEADER.FIELDS ()", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"HEADER.FIELDS (a", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"HEADER.FIELDS (a) x", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"HEADER.FIELDS (\"a)", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"99999999999", IMAP_FETCH_SYNTAX, 0, 0, 0},
		{"1 ", IMAP_FETCH_SYNTAX, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		imap_section sec;
		imap_fetch_status st = imap_section_parse(cases[i].spec, &sec);
		if (st != cases[i].st)
			fail_msg("\"%s\": status %d, want %d", cases[i].spec, st, cases[i].st);
		if (st != IMAP_FETCH_OK)
			continue;
		assert_int_equal(sec.kind, cases[i].kind);
		assert_int_equal(sec.nparts, cases[i].nparts);
		assert_int_equal(sec.fields.n, cases[i].nfields);
		imap_section_free(&sec);
	}
	imap_section sec;
	assert_int_equal(imap_section_parse("4.HEADER.FIELDS (A \"C D\")", &sec), IMAP_FETCH_OK);
	assert_int_equal(sec.part[0], 4);
	assert_string_equal(sec.fields.items[1], "C D");
	imap_section_free(&sec);
	/* a path longer than the deepest possible tree names no part */
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (int i = 0; i < MIME_SECTION_MAX_PARTS + 1; i++)
		BUF_PUTS(&b, i ? ".1" : "1");
	assert_int_equal(imap_section_parse(buf_str(&b), &sec), IMAP_FETCH_NO_PART);
	imap_section_free(&sec);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_envelope_rfc_example),
		cmocka_unit_test(test_envelope_addresses),
		cmocka_unit_test(test_envelope_missing_and_defaults),
		cmocka_unit_test(test_envelope_group_with_comment),
		cmocka_unit_test(test_envelope_long_list),
		cmocka_unit_test(test_bodystructure_single),
		cmocka_unit_test(test_bodystructure_mixed),
		cmocka_unit_test(test_bodystructure_nested_and_opaque),
		cmocka_unit_test(test_sections_mixed),
		cmocka_unit_test(test_sections_single),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_section_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
