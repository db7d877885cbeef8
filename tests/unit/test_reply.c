/* test_reply.c — unit tests for smtp/reply.c: every reply in the table has
 * a 2xx-5xx code, one line of text, and (except 354) an RFC 3463 enhanced
 * status code whose class matches the reply's first digit; the formatter
 * writes single and multi-line replies with CRLF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp/reply.h"

/* "class.subject.detail": class one digit, subject and detail 1-3 digits
 * without leading zeros (RFC 3463 2). */
static bool valid_esc_part(const char *s, size_t n)
{
	if (n < 1 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool valid_esc(const char *esc)
{
	if (!(esc[0] == '2' || esc[0] == '4' || esc[0] == '5') || esc[1] != '.')
		return false;
	const char *sub = esc + 2;
	const char *dot = strchr(sub, '.');
	if (dot == NULL)
		return false;
	const char *det = dot + 1;
	return valid_esc_part(sub, (size_t)(dot - sub)) && valid_esc_part(det, strlen(det));
}

static void test_every_reply_well_formed(void **state)
{
	size_t bad = 0;
	for (int id = 0; id < RPL_COUNT; id++) {
		const smtp_reply *r = reply_get((smtp_reply_id)id);
		assert_non_null(r);
		const char *why = NULL;
		if (r->code < 200 || r->code > 599)
			why = "code not 2xx-5xx";
		else if (r->text == NULL || r->text[0] == '\0')
			why = "no text";
		else if (strpbrk(r->text, "\r\n") != NULL)
			why = "text has a line break";
		else if (r->code / 100 == 3 || r->code == 334) {
			if (r->esc != NULL)
				why = "3xx reply with an enhanced status code";
		} else if (r->esc == NULL)
			why = "no enhanced status code";
		else if (!valid_esc(r->esc))
			why = "enhanced status code malformed";
		else if (r->esc[0] - '0' != r->code / 100)
			why = "enhanced status class differs from the reply's first digit";
		if (why != NULL) {
			print_error("reply id %d (%d %s %s): %s\n", id, r->code, r->esc ? r->esc : "-",
			            r->text ? r->text : "(null)", why);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Printable ASCII only in reply texts (RFC 5321 4.2: textstring). */
static void test_reply_text_printable(void **state)
{
	for (int id = 0; id < RPL_COUNT; id++) {
		const smtp_reply *r = reply_get((smtp_reply_id)id);
		for (const char *p = r->text; *p; p++)
			if (!((*p >= 0x20 && *p <= 0x7e) || *p == '\t'))
				fail_msg("reply id %d: byte 0x%02x in text", id, (unsigned char)*p);
	}
}

/* reply_append writes "code esc text\r\n" (or "code text\r\n"). */
static void test_reply_append_every_id(void **state)
{
	for (int id = 0; id < RPL_COUNT; id++) {
		const smtp_reply *r = reply_get((smtp_reply_id)id);
		buf b;
		buf_init(&b, 4096);
		reply_append(&b, (smtp_reply_id)id);
		char want[1024];
		if (r->esc != NULL)
			snprintf(want, sizeof(want), "%03d %s %s\r\n", r->code, r->esc, r->text);
		else
			snprintf(want, sizeof(want), "%03d %s\r\n", r->code, r->text);
		assert_string_equal(buf_str(&b), want);
		/* one line, within the 512-byte reply line limit (RFC 5321 4.5.3.1.5) */
		assert_true(b.len <= 512);
		assert_ptr_equal(strstr(buf_str(&b), "\r\n"), buf_str(&b) + b.len - 2);
		buf_free(&b);
	}
}

/* Replies whose codes other RFCs fix. */
static void test_reply_codes_by_rfc(void **state)
{
	static const struct {
		smtp_reply_id id;
		int code;
		const char *esc;
	} cases[] = {
		{RPL_DATA_GO, 354, NULL},                  /* RFC 5321 4.3.2 */
		{RPL_BYE, 221, "2.0.0"},
		{RPL_OK, 250, "2.0.0"},
		{RPL_TLS_GO, 220, "2.0.0"},                /* RFC 3207 4 */
		{RPL_NEED_TLS, 530, "5.7.0"},              /* RFC 3207 4 */
		{RPL_AUTH_OK, 235, "2.7.0"},               /* RFC 4954 6 */
		{RPL_AUTH_FAILED, 535, "5.7.8"},           /* RFC 4954 6 */
		{RPL_AUTH_MECH, 504, "5.5.4"},             /* RFC 4954 4 */
		{RPL_AUTH_CANCELLED, 501, "5.0.0"},        /* RFC 4954 4 */
		{RPL_NEED_AUTH, 530, "5.7.0"},             /* RFC 4954 6 */
		{RPL_NEEDS_UTF8, 553, "5.6.7"},            /* RFC 6531 3.7.4.1 */
		{RPL_SIZE_DECLARED, 552, "5.3.4"},         /* RFC 1870 6 */
		{RPL_SIZE_EXCEEDED, 552, "5.3.4"},
		{RPL_PARAM_UNKNOWN, 555, "5.5.4"},         /* RFC 5321 4.2.3 */
		{RPL_LINE_TOO_LONG, 500, "5.5.2"},         /* RFC 5321 4.5.3.1.4 */
		{RPL_TOO_MANY_RCPTS, 452, "4.5.3"},        /* RFC 5321 4.5.3.1.10 */
		{RPL_UNKNOWN_CMD, 500, "5.5.1"},
		{RPL_BAD_SEQUENCE, 503, "5.5.1"},
		{RPL_NOT_IMPLEMENTED, 502, "5.5.1"},
		{RPL_VRFY, 252, "2.5.0"},                  /* RFC 5321 3.5.3 */
		{RPL_TIMEOUT, 421, "4.4.2"},
		{RPL_SHUTDOWN, 421, "4.3.2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const smtp_reply *r = reply_get(cases[i].id);
		if (r->code != cases[i].code)
			fail_msg("reply id %d: code %d, want %d", cases[i].id, r->code, cases[i].code);
		if (cases[i].esc == NULL)
			assert_null(r->esc);
		else
			assert_string_equal(r->esc, cases[i].esc);
	}
}

static void test_multiline(void **state)
{
	static const struct {
		int code;
		const char *esc;
		const char *text;
		const char *want;
	} cases[] = {
		{250, NULL, "a\nb\nc", "250-a\r\n250-b\r\n250 c\r\n"},
		{250, NULL, "ok", "250 ok\r\n"},
		{250, "2.0.0", "ok", "250 2.0.0 ok\r\n"},
		{250, "2.0.0", "a\nb\nc", "250-2.0.0 a\r\n250-2.0.0 b\r\n250 2.0.0 c\r\n"},
		{250, NULL,
		 "mx.example.org\nPIPELINING\nSIZE 26214400\n8BITMIME\nSMTPUTF8\nCHUNKING\nSTARTTLS\nENHANCEDSTATUSCODES",
		 "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
		 "250-CHUNKING\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n"},
		{220, NULL, "mx.example.org ESMTP", "220 mx.example.org ESMTP\r\n"},
		{550, "5.1.1", "No such user", "550 5.1.1 No such user\r\n"},
		{250, NULL, "", "250 \r\n"},
		{250, NULL, "a\n", "250-a\r\n250 \r\n"},
		{250, NULL, "\n", "250-\r\n250 \r\n"},
		{250, NULL, "a\n\nb", "250-a\r\n250-\r\n250 b\r\n"},
		{354, NULL, "Go ahead", "354 Go ahead\r\n"},
		{421, "4.7.0", "x\ny", "421-4.7.0 x\r\n421 4.7.0 y\r\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf b;
		buf_init(&b, 4096);
		reply_append_text(&b, cases[i].code, cases[i].esc, cases[i].text);
		if (strcmp(buf_str(&b), cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\"", i, buf_str(&b));
		buf_free(&b);
	}
}

/* Replies append: several in one buffer (pipelining). */
static void test_append_accumulates(void **state)
{
	buf b;
	buf_init(&b, 4096);
	reply_append(&b, RPL_SENDER_OK);
	reply_append(&b, RPL_RCPT_OK);
	reply_append(&b, RPL_DATA_GO);
	char want[512];
	const smtp_reply *s = reply_get(RPL_SENDER_OK), *r = reply_get(RPL_RCPT_OK),
	                 *d = reply_get(RPL_DATA_GO);
	snprintf(want, sizeof(want), "%d %s %s\r\n%d %s %s\r\n%d %s\r\n", s->code, s->esc, s->text,
	         r->code, r->esc, r->text, d->code, d->text);
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_reply_well_formed),
		cmocka_unit_test(test_reply_text_printable),
		cmocka_unit_test(test_reply_append_every_id),
		cmocka_unit_test(test_reply_codes_by_rfc),
		cmocka_unit_test(test_multiline),
		cmocka_unit_test(test_append_accumulates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
