/* test_xtext.c — unit tests for envelope/xtext.c (RFC 3461 xtext, RFC 6533
 * utf-8-addr-xtext / unitext) and envelope/dsnparam.c (the RET, NOTIFY, ENVID
 * and ORCPT values, the client's parameter strings, and which notices a
 * NOTIFY mask asks for).  Table-driven: each row is an input and what it
 * must give, or NULL when it must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "envelope/dsnparam.h"
#include "envelope/xtext.h"

/* ---- RFC 3461 xtext ---- */

static void test_xtext_decode(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
	} cases[] = {
		{"abc", "abc"},
		{"a+2Bb", "a+b"},
		{"+3D", "="},
		{"+20x+7E", " x~"},
		{"!~", "!~"},
		{"+C3+A9", "\xc3\xa9"},     /* any octet once decoded */
		{"", ""},
		{"a=b", NULL},               /* '=' only as "+3D" */
		{"a b", NULL},               /* space must be encoded */
		{"a+2bb", NULL},             /* hex digits are upper case */
		{"a+2", NULL},               /* cut */
		{"a+", NULL},
		{"+G0", NULL},
		{"\xc3\xa9", NULL},          /* raw 8-bit */
		{"a\tb", NULL},
		{"a\x7f", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf b;
		buf_init(&b, 1024);
		assert_true(buf_puts(&b, "pre:"));
		bool ok = xtext_decode(cases[i].in, strlen(cases[i].in), &b);
		if (cases[i].out == NULL) {
			if (ok)
				fail_msg("case %zu \"%s\": accepted as \"%s\"", i, cases[i].in, buf_str(&b));
			assert_string_equal(buf_str(&b), "pre:"); /* unchanged on failure */
		} else {
			if (!ok)
				fail_msg("case %zu \"%s\": refused", i, cases[i].in);
			assert_int_equal(b.len, 4 + strlen(cases[i].out));
			assert_memory_equal(b.data + 4, cases[i].out, strlen(cases[i].out));
		}
		buf_free(&b);
	}
	/* a NUL can be encoded and comes back */
	buf b;
	buf_init(&b, 16);
	assert_true(xtext_decode("a+00b", 5, &b));
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	buf_free(&b);
}

static void test_xtext_encode_round_trip(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"bob@example.org", "bob@example.org"},
		{"list+bob@example.org", "list+2Bbob@example.org"},
		{"a=b c", "a+3Db+20c"},
		{"\xc3\xa9\n", "+C3+A9+0A"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf b;
		buf_init(&b, 1024);
		assert_true(xtext_encode(cases[i].in, strlen(cases[i].in), &b));
		assert_string_equal(buf_str(&b), cases[i].out);
		buf d;
		buf_init(&d, 1024);
		assert_true(xtext_decode(b.data ? b.data : "", b.len, &d));
		assert_string_equal(buf_str(&d), cases[i].in);
		buf_free(&b);
		buf_free(&d);
	}
	/* every octet survives the round trip */
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	buf b, d;
	buf_init(&b, 4096);
	buf_init(&d, 4096);
	assert_true(xtext_encode(all, sizeof all, &b));
	for (size_t i = 0; i < b.len; i++)
		assert_true(b.data[i] >= '!' && b.data[i] <= '~' && b.data[i] != '=');
	assert_true(xtext_decode(b.data, b.len, &d));
	assert_int_equal(d.len, sizeof all);
	assert_memory_equal(d.data, all, sizeof all);
	buf_free(&b);
	buf_free(&d);
	/* a full buffer: false and unchanged */
	buf_init(&b, 5);
	assert_false(xtext_encode("a+b+c", 5, &b));
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* ---- RFC 6533 ---- */

static void test_utf8_xtext(void **state)
{
	static const struct {
		const char *in;
		bool unitext;
		const char *out; /* NULL: refused */
	} cases[] = {
		{"j\\x{FC}rgen@example.de", false, "j\xc3\xbcrgen@example.de"},
		{"\\x{7530}\\x{4E2D}@\\x{4F8B}.jp", false, "\xe7\x94\xb0\xe4\xb8\xad@\xe4\xbe\x8b.jp"},
		{"\\x{1F600}@x", false, "\xf0\x9f\x98\x80@x"},
		{"a\\x{2B}b\\x{3D}c\\x{5C}", false, "a+b=c\\"},
		{"plain@x.example", false, "plain@x.example"},
		{"j\xc3\xbcrgen@example.de", true, "j\xc3\xbcrgen@example.de"},   /* unitext */
		{"j\xc3\xbcrgen@example.de", false, NULL},                        /* not in xtext */
		{"\xc3@x", true, NULL},                                           /* bad UTF-8 */
		{"\xed\xa0\x80@x", true, NULL},                                   /* surrogate */
		{"a+b@x", false, NULL},
		{"a=b@x", false, NULL},
		{"a\\b@x", false, NULL},
		{"\\x{fc}@x", false, NULL},          /* lower-case hex */
		{"\\x{F}@x", false, NULL},           /* one digit */
		{"\\x{0010FFFF}@x", false, NULL},    /* seven digits... eight */
		{"\\x{110000}@x", false, NULL},
		{"\\x{D800}@x", false, NULL},
		{"\\x{00}@x", false, NULL},
		{"\\x{FC@x", false, NULL},
		{"\\x", false, NULL},
		{"a b@x", false, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf b;
		buf_init(&b, 1024);
		bool ok = xtext_utf8_decode(cases[i].in, strlen(cases[i].in), cases[i].unitext, &b);
		if (cases[i].out == NULL) {
			if (ok)
				fail_msg("case %zu \"%s\": accepted as \"%s\"", i, cases[i].in, buf_str(&b));
			assert_int_equal(b.len, 0);
		} else {
			if (!ok)
				fail_msg("case %zu \"%s\": refused", i, cases[i].in);
			assert_string_equal(buf_str(&b), cases[i].out);
			if (!cases[i].unitext) {
				/* and encoding gives the same xtext back */
				buf e;
				buf_init(&e, 1024);
				assert_true(xtext_utf8_encode(cases[i].out, &e));
				assert_string_equal(buf_str(&e), cases[i].in);
				buf_free(&e);
			}
		}
		buf_free(&b);
	}
	/* encoding: invalid UTF-8 becomes U+FFFD, space and controls escaped */
	buf e;
	buf_init(&e, 1024);
	assert_true(xtext_utf8_encode("bad\xff\xc3@x y\n", &e));
	assert_string_equal(buf_str(&e), "bad\\x{FFFD}\\x{FFFD}@x\\x{20}y\\x{0A}");
	buf_free(&e);
}

/* ---- dsnparam: values ---- */

static void test_parse_ret_notify(void **state)
{
	dsn_ret r = DSN_RET_UNSET;
	assert_true(dsnparam_parse_ret("FULL", 4, &r) && r == DSN_RET_FULL);
	assert_true(dsnparam_parse_ret("hdrs", 4, &r) && r == DSN_RET_HDRS);
	assert_false(dsnparam_parse_ret("HEADERS", 7, &r));
	assert_false(dsnparam_parse_ret("", 0, &r));
	assert_false(dsnparam_parse_ret("FUL", 3, &r));
	static const struct {
		const char *in;
		unsigned mask; /* 0: refused */
	} cases[] = {
		{"NEVER", DSN_NOTIFY_NEVER},
		{"never", DSN_NOTIFY_NEVER},
		{"SUCCESS", DSN_NOTIFY_SUCCESS},
		{"FAILURE,DELAY", DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY},
		{"Delay,Success,Failure", DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS},
		{"", 0},
		{"NEVER,SUCCESS", 0},
		{"SUCCESS,NEVER", 0},
		{"SUCCESS,SUCCESS", 0},
		{"SUCCESS,", 0},
		{",SUCCESS", 0},
		{"SUCCESS,,DELAY", 0},
		{"SUCCESS DELAY", 0},
		{"ALWAYS", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned m = 0;
		bool ok = dsnparam_parse_notify(cases[i].in, strlen(cases[i].in), &m);
		if (ok != (cases[i].mask != 0) || (ok && m != cases[i].mask))
			fail_msg("NOTIFY case %zu \"%s\": ok=%d mask=%u, want %u", i, cases[i].in, ok, m,
			         cases[i].mask);
		if (ok) {
			/* the stored form reads back to the same mask */
			buf b;
			buf_init(&b, 64);
			assert_true(dsnparam_notify_format(m, &b));
			unsigned again = 0;
			assert_true(dsnparam_parse_notify(b.data, b.len, &again));
			assert_int_equal(again, m);
			buf_free(&b);
		}
	}
}

static void test_parse_envid(void **state)
{
	char max[DSN_ENVID_MAX + 2];
	memset(max, 'e', sizeof max);
	max[DSN_ENVID_MAX] = '\0';
	char *v = NULL;
	assert_true(dsnparam_parse_envid(max, DSN_ENVID_MAX, &v));
	assert_int_equal(strlen(v), DSN_ENVID_MAX);
	free(v);
	assert_false(dsnparam_parse_envid(max, DSN_ENVID_MAX + 1, &v));
	assert_true(dsnparam_parse_envid("QQ+2B314", 8, &v));
	assert_string_equal(v, "QQ+314");
	free(v);
	assert_true(dsnparam_parse_envid("a+20b", 5, &v)); /* space is printable */
	assert_string_equal(v, "a b");
	free(v);
	v = NULL;
	assert_false(dsnparam_parse_envid("", 0, &v));
	assert_false(dsnparam_parse_envid("a+0Ab", 5, &v));  /* LF once decoded */
	assert_false(dsnparam_parse_envid("a+C3+A9", 7, &v)); /* 8-bit once decoded */
	assert_false(dsnparam_parse_envid("a=b", 3, &v));
	assert_null(v);
}

static void test_parse_orcpt(void **state)
{
	static const struct {
		const char *in;
		bool unitext;
		const char *out; /* NULL: refused */
	} cases[] = {
		{"rfc822;bob@example.org", false, "rfc822;bob@example.org"},
		{"RFC822;list+2Bbob@example.org", false, "rfc822;list+bob@example.org"},
		{"rfc822;+22j+20d+22@example.org", false, "rfc822;\"j d\"@example.org"},
		{"utf-8;j\\x{FC}rgen@example.de", false, "utf-8;j\xc3\xbcrgen@example.de"},
		{"UTF-8;j\xc3\xbcrgen@example.de", true, "utf-8;j\xc3\xbcrgen@example.de"},
		{"utf-8;j\xc3\xbcrgen@example.de", false, NULL},
		{"rfc822;", false, NULL},
		{"rfc822", false, NULL},
		{"bob@example.org", false, NULL},
		{"x400;c=us", false, NULL},
		{";bob@example.org", false, NULL},
		{"rfc822;bob+0A@example.org", false, NULL},       /* control byte */
		{"rfc822;b+C3+BCb@example.org", false, NULL},     /* 8-bit in rfc822 */
		{"rfc822;bob=x@example.org", false, NULL},
		{"utf-8;a\\x{0A}b@x", false, NULL},               /* control character */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *v = NULL;
		bool ok = dsnparam_parse_orcpt(cases[i].in, strlen(cases[i].in), cases[i].unitext, &v);
		if (cases[i].out == NULL) {
			if (ok)
				fail_msg("ORCPT case %zu \"%s\": accepted as \"%s\"", i, cases[i].in, v);
		} else {
			if (!ok)
				fail_msg("ORCPT case %zu \"%s\": refused", i, cases[i].in);
			assert_string_equal(v, cases[i].out);
		}
		free(v);
	}
	/* the 500-character limit covers the whole value */
	char big[DSN_ORCPT_MAX + 2];
	memcpy(big, "rfc822;", 7);
	memset(big + 7, 'a', sizeof big - 7);
	char *v = NULL;
	assert_true(dsnparam_parse_orcpt(big, DSN_ORCPT_MAX, false, &v));
	free(v);
	v = NULL;
	assert_false(dsnparam_parse_orcpt(big, DSN_ORCPT_MAX + 1, false, &v));
	assert_null(v);
}

/* ---- dsnparam: the client's strings and the policy ---- */

static void test_client_params(void **state)
{
	buf b;
	buf_init(&b, 4096);
	assert_true(dsnparam_mail(DSN_RET_UNSET, NULL, &b));
	assert_string_equal(buf_str(&b), "");
	assert_true(dsnparam_mail(DSN_RET_FULL, "Q+1 x", &b));
	assert_string_equal(buf_str(&b), " RET=FULL ENVID=Q+2B1+20x");
	buf_clear(&b);
	assert_true(dsnparam_mail(DSN_RET_HDRS, NULL, &b));
	assert_string_equal(buf_str(&b), " RET=HDRS");
	buf_clear(&b);
	assert_true(dsnparam_rcpt(0, NULL, &b));
	assert_string_equal(buf_str(&b), "");
	assert_true(dsnparam_rcpt(DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY, "rfc822;a+b@x.example", &b));
	assert_string_equal(buf_str(&b), " NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+2Bb@x.example");
	buf_clear(&b);
	assert_true(dsnparam_rcpt(DSN_NOTIFY_NEVER, "utf-8;j\xc3\xbcrgen@x", &b));
	assert_string_equal(buf_str(&b), " NOTIFY=NEVER ORCPT=utf-8;j\\x{FC}rgen@x");
	buf_clear(&b);
	/* what we send parses back on the other side */
	char *o = NULL;
	assert_true(dsnparam_rcpt(0, "rfc822;\"a=b c\"@x", &b));
	assert_true(dsnparam_parse_orcpt(b.data + 7, b.len - 7, false, &o));
	assert_string_equal(o, "rfc822;\"a=b c\"@x");
	free(o);
	buf_clear(&b);
	/* an ORCPT that grows past 500 once encoded is left out, NOTIFY stays */
	char *longo = malloc(7 + 300 + 1);
	memcpy(longo, "rfc822;", 7);
	memset(longo + 7, '=', 300);
	longo[307] = '\0';
	assert_true(dsnparam_rcpt(DSN_NOTIFY_FAILURE, longo, &b));
	assert_string_equal(buf_str(&b), " NOTIFY=FAILURE");
	free(longo);
	buf_free(&b);
}

static void test_wants(void **state)
{
	static const struct {
		unsigned notify;
		bool success, failure, delay;
	} cases[] = {
		{0, false, true, true},
		{DSN_NOTIFY_NEVER, false, false, false},
		{DSN_NOTIFY_SUCCESS, true, false, false},
		{DSN_NOTIFY_FAILURE, false, true, false},
		{DSN_NOTIFY_DELAY, false, false, true},
		{DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, true, true, false},
		{DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY, false, true, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(dsnparam_wants(cases[i].notify, DSN_NOTIFY_SUCCESS), cases[i].success);
		assert_int_equal(dsnparam_wants(cases[i].notify, DSN_NOTIFY_FAILURE), cases[i].failure);
		assert_int_equal(dsnparam_wants(cases[i].notify, DSN_NOTIFY_DELAY), cases[i].delay);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xtext_decode),
		cmocka_unit_test(test_xtext_encode_round_trip),
		cmocka_unit_test(test_utf8_xtext),
		cmocka_unit_test(test_parse_ret_notify),
		cmocka_unit_test(test_parse_envid),
		cmocka_unit_test(test_parse_orcpt),
		cmocka_unit_test(test_client_params),
		cmocka_unit_test(test_wants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
