/* test_sasl.c — unit tests for auth/sasl.c: strict base64 (length, alphabet,
 * padding only at the end, the empty string), SASL PLAIN (RFC 4616:
 * authzid empty or equal to the authcid, two NULs, non-empty authcid and
 * password) and the LOGIN field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "lib/strutil.h"

/* ---- base64 ---- */

static void test_b64_decode_valid(void **state)
{
	static const struct {
		const char *in;
		const char *out;
		size_t len;
	} cases[] = {
		{"", "", 0},
		{"YQ==", "a", 1},
		{"YWI=", "ab", 2},
		{"YWJj", "abc", 3},
		{"YWJjZA==", "abcd", 4},
		{"AA==", "\0", 1},
		{"AGEAYg==", "\0a\0b", 4},
		{"//79", "\xff\xfe\xfd", 3},
		{"+/+/", "\xfb\xff\xbf", 3},
		{"dGVzdAB0ZXN0AHBhc3M=", "test\0test\0pass", 14},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		size_t len = 999;
		if (!sasl_b64_decode(cases[i].in, &out, &len))
			fail_msg("case %zu \"%s\": refused", i, cases[i].in);
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(out, cases[i].out, len);
		assert_int_equal(out[len], '\0');
		free(out);
	}
}

static void test_b64_decode_invalid(void **state)
{
	static const char *const cases[] = {
		/* length not a multiple of 4 */
		"Y", "YQ", "YQ=", "YWJ", "YWJjZ", "YWJjZA=", "=",
		/* characters outside the alphabet */
		"YW!j", "YW-j", "YW_j", "YW.j", "YW\x80j", "YW\xffj",
		/* whitespace is not skipped */
		" YWJj", "YWJj ", "YW Jj", "YWJj\r\n", "YWJj\n", "YW\tJ",
		/* padding anywhere but the last two places */
		"=WJj", "Y=Jj", "YW=j", "YQ==YWJj", "YQ=AYWJj", "YWI=YWJj",
		"Y===", "====", "A===",
		/* data after padding */
		"YW=A", "YQ=\x41",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		size_t len = 0;
		if (sasl_b64_decode(cases[i], &out, &len)) {
			free(out);
			fail_msg("case %zu \"%s\": accepted", i, cases[i]);
		}
	}
}

static void test_b64_decode_too_long(void **state)
{
	size_t n = 65536 + 4;
	char *in = malloc(n + 1);
	memset(in, 'A', n);
	in[n] = '\0';
	char *out = NULL;
	size_t len;
	assert_false(sasl_b64_decode(in, &out, &len));
	/* the largest allowed still decodes */
	in[65536] = '\0';
	assert_true(sasl_b64_decode(in, &out, &len));
	assert_int_equal(len, 65536 / 4 * 3);
	free(out);
	free(in);
}

static void test_b64_round_trip(void **state)
{
	unsigned char data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(data); n++) {
		char *enc = sasl_b64_encode(data, n);
		assert_int_equal(strlen(enc), (n + 2) / 3 * 4);
		char *dec = NULL;
		size_t len = 0;
		assert_true(sasl_b64_decode(enc, &dec, &len));
		assert_int_equal(len, n);
		if (n > 0)
			assert_memory_equal(dec, data, n);
		free(enc);
		free(dec);
	}
	char *e = sasl_b64_encode("abc", 3);
	assert_string_equal(e, "YWJj");
	free(e);
	e = sasl_b64_encode("", 0);
	assert_string_equal(e, "");
	free(e);
}

/* ---- PLAIN ---- */

/* Base64 of n raw bytes. */
static char *b64(const char *raw, size_t n)
{
	return sasl_b64_encode(raw, n);
}

#define RAW(lit) lit, sizeof(lit) - 1

static void test_plain(void **state)
{
	static const struct {
		const char *raw;
		size_t n;
		sasl_status st;
		const char *user;
		const char *pass;
	} cases[] = {
		/* authzid empty */
		{RAW("\0user\0secret"), SASL_OK, "user", "secret"},
		{RAW("\0user@example.org\0p a s s"), SASL_OK, "user@example.org", "p a s s"},
		{RAW("\0u\0\xc3\xbc\xc3\xbc"), SASL_OK, "u", "\xc3\xbc\xc3\xbc"},
		/* authzid equal to authcid */
		{RAW("user\0user\0secret"), SASL_OK, "user", "secret"},
		/* authzid different: proxy login is not allowed */
		{RAW("admin\0user\0secret"), SASL_MALFORMED, NULL, NULL},
		{RAW("User\0user\0secret"), SASL_MALFORMED, NULL, NULL},
		{RAW("use\0user\0secret"), SASL_MALFORMED, NULL, NULL},
		{RAW("userx\0user\0secret"), SASL_MALFORMED, NULL, NULL},
		/* missing NULs */
		{RAW("usersecret"), SASL_MALFORMED, NULL, NULL},
		{RAW("\0usersecret"), SASL_MALFORMED, NULL, NULL},
		{RAW("user\0secret"), SASL_MALFORMED, NULL, NULL},
		{RAW("\0"), SASL_MALFORMED, NULL, NULL},
		{RAW(""), SASL_MALFORMED, NULL, NULL},
		/* empty authcid or password */
		{RAW("\0user\0"), SASL_MALFORMED, NULL, NULL},
		{RAW("\0\0secret"), SASL_MALFORMED, NULL, NULL},
		{RAW("\0\0"), SASL_MALFORMED, NULL, NULL},
		{RAW("user\0user\0"), SASL_MALFORMED, NULL, NULL},
		/* a third NUL */
		{RAW("\0user\0sec\0ret"), SASL_MALFORMED, NULL, NULL},
		{RAW("\0user\0secret\0"), SASL_MALFORMED, NULL, NULL},
		{RAW("\0\0user\0secret"), SASL_MALFORMED, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in = b64(cases[i].raw, cases[i].n);
		char *user = NULL, *pass = NULL;
		sasl_status st = sasl_plain_parse(in, &user, &pass);
		free(in);
		if (st != cases[i].st)
			fail_msg("case %zu: want status %d, got %d", i, cases[i].st, st);
		if (st == SASL_OK) {
			assert_string_equal(user, cases[i].user);
			assert_string_equal(pass, cases[i].pass);
			free(user);
			str_secure_free(pass);
		} else {
			assert_null(user);
			assert_null(pass);
		}
	}
}

static void test_plain_bad_base64(void **state)
{
	static const char *const cases[] = {
		"", "=", "AHVzZXIAc2VjcmV0", /* the valid one, then broken forms: */
		"AHVzZXIAc2VjcmV0=", "AHVzZXIAc2Vjc!V0", "AHVzZXIA c2VjcmV0", "AHVz=XIAc2VjcmV0",
	};
	char *user = NULL, *pass = NULL;
	/* "" decodes to nothing: no NULs, so malformed rather than bad base64 */
	assert_int_equal(sasl_plain_parse(cases[0], &user, &pass), SASL_MALFORMED);
	assert_int_equal(sasl_plain_parse(cases[1], &user, &pass), SASL_BAD_BASE64);
	assert_int_equal(sasl_plain_parse(cases[2], &user, &pass), SASL_OK);
	assert_string_equal(user, "user");
	assert_string_equal(pass, "secret");
	free(user);
	str_secure_free(pass);
	user = pass = NULL;
	for (size_t i = 3; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (sasl_plain_parse(cases[i], &user, &pass) != SASL_BAD_BASE64)
			fail_msg("case %zu \"%s\": not SASL_BAD_BASE64", i, cases[i]);
		assert_null(user);
		assert_null(pass);
	}
}

/* ---- LOGIN ---- */

static void test_login_field(void **state)
{
	static const struct {
		const char *raw;
		size_t n;
		sasl_status st;
	} cases[] = {
		{RAW("user@example.org"), SASL_OK},
		{RAW("p"), SASL_OK},
		{RAW("p a s s w o r d"), SASL_OK},
		{RAW("\xc3\xbc"), SASL_OK},
		{RAW(""), SASL_MALFORMED},
		{RAW("\0"), SASL_MALFORMED},
		{RAW("a\0b"), SASL_MALFORMED},
		{RAW("ab\0"), SASL_MALFORMED},
		{RAW("\0ab"), SASL_MALFORMED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in = b64(cases[i].raw, cases[i].n);
		char *field = NULL;
		sasl_status st = sasl_login_field(in, &field);
		free(in);
		if (st != cases[i].st)
			fail_msg("case %zu: want status %d, got %d", i, cases[i].st, st);
		if (st == SASL_OK) {
			assert_int_equal(strlen(field), cases[i].n);
			assert_memory_equal(field, cases[i].raw, cases[i].n);
			str_secure_free(field);
		} else {
			assert_null(field);
		}
	}
	char *field = NULL;
	assert_int_equal(sasl_login_field("dXNlcg", &field), SASL_BAD_BASE64);
	assert_int_equal(sasl_login_field("dXNl cg==", &field), SASL_BAD_BASE64);
	assert_int_equal(sasl_login_field("dX=lcg==", &field), SASL_BAD_BASE64);
	assert_int_equal(sasl_login_field("*", &field), SASL_BAD_BASE64);
	assert_null(field);
	assert_int_equal(sasl_login_field("dXNlcg==", &field), SASL_OK);
	assert_string_equal(field, "user");
	free(field);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_decode_valid),
		cmocka_unit_test(test_b64_decode_invalid),
		cmocka_unit_test(test_b64_decode_too_long),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_plain_bad_base64),
		cmocka_unit_test(test_login_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
