/* test_preview.c — PREVIEW text (RFC 8970, mime/preview.c): plain text
 * with its white space collapsed; quoted-printable and base64 undone;
 * charsets converted to UTF-8; HTML without tags, comments, styles and
 * scripts, entities decoded; the plain alternative taken before the HTML
 * one; attachments and non-text parts skipped; the 200-character cut
 * counted in characters, not bytes; a message without text gives "". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/strutil.h"
#include "mime/mime.h"
#include "mime/preview.h"

static char *preview_of(const char *msg)
{
	mime_message *m = mime_parse(msg, strlen(msg));
	char *p = mime_preview(m);
	mime_free(&m);
	return p;
}

static void preview_is(const char *msg, const char *want)
{
	char *got = preview_of(msg);
	if (strcmp(got, want) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, want);
	free(got);
}

static void test_plain(void **state)
{
	(void)state;
	preview_is("Subject: x\n\n  Hello,\n\n  this   is\tthe\r\nbody.  \n", "Hello, this is the body.");
	preview_is("Subject: x\n\n", "");
	preview_is("Subject: x\n", "");
	preview_is("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
	           "caf=C3=A9 au=\n lait\n", "caf\xC3\xA9 au lait");
	preview_is("Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n"
	           "Q2Fm6SBjcuhtZQ==\n", "Caf\xC3\xA9 cr\xC3\xA8me");
	preview_is("Content-Type: text/plain; charset=no-such-charset\n\nbad \xFF byte\n", "bad \xEF\xBF\xBD byte");
	preview_is("Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644\n", "");
}

static void test_html(void **state)
{
	(void)state;
	preview_is("Content-Type: text/html\n\n<html><head><title>T</title><style>p{color:red}</style></head>"
	           "<body><p>Fish &amp; chips</p><!-- a <b>comment</b> --><script>alert(1)</script>"
	           "<div>&lt;ok&gt;&nbsp;&#233;&#x20AC;&bogus;</div></body></html>\n",
	           "Fish & chips <ok> \xC3\xA9\xE2\x82\xAC&bogus;");
	preview_is("Content-Type: text/html\n\n<p>unclosed <b\n", "unclosed");
}

static void test_structure(void **state)
{
	(void)state;
	preview_is("Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nthe plain one\n"
	           "--b\nContent-Type: text/html\n\n<p>the html one</p>\n--b--\n", "the plain one");
	preview_is("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: image/png\n"
	           "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b\nContent-Type: text/plain\n"
	           "Content-Disposition: attachment; filename=a.txt\n\nattached\n--b\n"
	           "Content-Type: multipart/alternative; boundary=c\n\n--c\nContent-Type: text/html\n\n"
	           "<i>nested html</i>\n--c--\n--b--\n", "nested html");
	preview_is("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf\n\n%PDF\n--b--\n", "");
	preview_is("Content-Type: message/rfc822\n\nSubject: inner\n\ninner text\n", "");
}

static void test_length(void **state)
{
	(void)state;
	char msg[2000] = "Content-Type: text/plain; charset=utf-8\n\n";
	for (int k = 0; k < 300; k++)
		strcat(msg, "\xC3\xA9"); /* é: two bytes, one character */
	strcat(msg, "\n");
	char *p = preview_of(msg);
	assert_int_equal(strlen(p), 400);
	assert_true(imap_utf8_valid(p, strlen(p)));
	free(p);
	char words[1200] = "\n";
	for (int k = 0; k < 100; k++)
		strcat(words, "abcd efgh ");
	p = preview_of(words);
	assert_int_equal(strlen(p), 199); /* 200 characters, the space at the cut dropped */
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
