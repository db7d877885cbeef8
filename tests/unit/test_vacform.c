/* test_vacform.c — unit tests for web/vacform.c: the vacation form's
 * fields (days, addresses, subject, message), the generated script
 * (quoting, dot-stuffing, include of the script active before) compiled
 * by sieve/sieve.h and read back through the interpreter unchanged, and
 * hostile input that must stay inside its string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"
#include "sieve/sieve.h"
#include "web/vacform.h"

static void test_days(void **state)
{
	(void)state;
	int d = 0;
	assert_null(vacform_parse_days("", &d));
	assert_int_equal(d, 7);
	assert_null(vacform_parse_days(NULL, &d));
	assert_int_equal(d, 7);
	assert_null(vacform_parse_days("1", &d));
	assert_int_equal(d, 1);
	assert_null(vacform_parse_days("365", &d));
	assert_int_equal(d, 365);
	static const char *const bad[] = {"0", "366", "-1", "+3", " 3", "3 ", "3.5", "x", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		d = 42;
		assert_non_null(vacform_parse_days(bad[i], &d));
		assert_int_equal(d, 42);
	}
}

static void test_addresses(void **state)
{
	(void)state;
	strlist l;
	strlist_init(&l);
	assert_null(vacform_parse_addresses("a@example.org, b@example.net\r\nc@example.com  ", &l));
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[2], "c@example.com");
	strlist_free(&l);
	assert_null(vacform_parse_addresses("", &l));
	assert_int_equal(l.n, 0);
	static const char *const bad[] = {"plain", "@example.org", "a@", "a@b@c", "\"q\"@example.org",
	                                  "<a@example.org>", "a\\b@example.org", "a@exa;mple.org",
	                                  "Name a@example.org"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		strlist_init(&l);
		assert_non_null(vacform_parse_addresses(bad[i], &l));
		strlist_free(&l);
	}
	/* bounded */
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (int i = 0; i < 33; i++)
		BUF_PRINTF(&b, "u%d@example.org\n", i);
	strlist_init(&l);
	assert_string_equal(vacform_parse_addresses(buf_str(&b), &l), "At most 32 extra addresses.");
	strlist_free(&l);
	buf_free(&b);
}

static void test_check(void **state)
{
	(void)state;
	vacform f;
	vacform_init(&f);
	assert_non_null(vacform_check(&f)); /* no message */
	f.message = xstrdup(" \r\n ");
	assert_non_null(vacform_check(&f));
	free(f.message);
	f.message = xstrdup("Away.");
	assert_null(vacform_check(&f));
	f.subject = xstrdup("one\r\nBcc: x@example.org");
	assert_non_null(vacform_check(&f));
	free(f.subject);
	f.subject = xstrdup("fine\tsubject");
	assert_null(vacform_check(&f));
	f.message[0] = '\x01';
	assert_non_null(vacform_check(&f));
	f.message[0] = 'A';
	f.from = xstrdup("x y@example.org");
	assert_non_null(vacform_check(&f));
	free(f.from);
	f.from = NULL;
	f.include = xstrdup("work/private");
	assert_non_null(strstr(vacform_check(&f), "rename it"));
	vacform_free(&f);
}

static sieve_script *compile_ok(const char *text, size_t len)
{
	sieve_script *s = NULL;
	sieve_error err = {0};
	bool ok = sieve_compile(text, len, NULL, &s, &err);
	if (!ok)
		fail_msg("%u:%u: %s\n%s", err.line, err.col, err.msg, text);
	return s;
}

/* Every character a user can type, back exactly as typed. */
static void test_script_round_trip(void **state)
{
	(void)state;
	vacform f, back;
	vacform_init(&f);
	f.days = 30;
	f.subject = xstrdup("Away \"till\" Monday \\ ${x} text: ;}");
	f.message = xstrdup(".\n..two dots\r\n.\rline with \"quotes\" and \\ and ${var}\n\ttab; } # not a comment\n"
	                    "/* not either */\n\n\n");
	f.from = xstrdup("me+out@example.org");
	strlist_add(&f.addresses, "alias@example.org");
	strlist_add(&f.addresses, "other@example.net");
	assert_null(vacform_check(&f));
	size_t len;
	char *text = vacform_script(&f, &len);
	assert_int_equal(strlen(text), len);
	assert_true(vacform_is_ours(text, len));
	assert_non_null(strstr(text, "\r\n..\r\n...two dots\r\n..\r\nline with"));
	assert_non_null(strstr(text, ":subject \"Away \\\"till\\\" Monday \\\\ ${x} text: ;}\""));
	assert_null(strstr(text, "include"));
	assert_non_null(strstr(text, "require \"vacation\";\r\n"));
	/* every line ends in CRLF */
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			assert_true(i > 0 && text[i - 1] == '\r');
	sieve_script *s = compile_ok(text, len);
	sieve_script_free(&s);
	vacform_init(&back);
	assert_true(vacform_read(text, len, &back));
	assert_int_equal(back.days, 30);
	assert_string_equal(back.subject, f.subject);
	assert_string_equal(back.message, ".\r\n..two dots\r\n.\r\nline with \"quotes\" and \\ and ${var}\r\n"
	                                  "\ttab; } # not a comment\r\n/* not either */");
	assert_string_equal(back.from, "me+out@example.org");
	assert_int_equal(back.addresses.n, 2);
	assert_string_equal(back.addresses.items[1], "other@example.net");
	assert_null(back.include);
	vacform_free(&back);
	free(text);
	vacform_free(&f);
}

static bool load_filters(void *ctx, const char *name, bool global, char **text_r, size_t *len_r)
{
	(void)global;
	strlist *seen = ctx;
	strlist_add(seen, name);
	*text_r = xstrdup("require \"fileinto\";\r\nif header :contains \"subject\" \"[list]\" { fileinto \"Lists\"; }\r\n");
	*len_r = strlen(*text_r);
	return true;
}

/* The script active before is included after the reply, its name quoted,
 * and both the reply and the user's filter happen. */
static void test_script_includes_previous(void **state)
{
	(void)state;
	vacform f;
	vacform_init(&f);
	f.message = xstrdup("Back soon.");
	f.include = xstrdup("my \"work\" filters\\");
	size_t len;
	char *text = vacform_script(&f, &len);
	assert_non_null(strstr(text, "require [\"vacation\", \"include\"];\r\n"));
	assert_non_null(strstr(text, "include :personal :optional \"my \\\"work\\\" filters\\\\\";\r\n"));
	strlist seen;
	strlist_init(&seen);
	sieve_loader loader = {load_filters, &seen};
	sieve_script *s = NULL;
	sieve_error err = {0};
	assert_true(sieve_compile(text, len, &loader, &s, &err));
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.items[0], "my \"work\" filters\\");
	static const char msg[] = "From: a@example.org\r\nSubject: [list] hi\r\n\r\nbody\r\n";
	sieve_message m = {msg, sizeof msg - 1};
	sieve_envelope env = {.from = "a@example.org", .to = "me@example.org"};
	sieve_result res;
	sieve_run(s, &m, &env, NULL, &res);
	assert_null(res.error);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.actions[0].kind, SIEVE_ACT_VACATION);
	assert_int_equal(res.actions[0].vac.seconds, 7 * 86400);
	assert_string_equal(res.actions[0].vac.reason, "Back soon.\r\n");
	assert_int_equal(res.actions[1].kind, SIEVE_ACT_FILEINTO);
	assert_string_equal(res.actions[1].target, "Lists");
	sieve_result_free(&res);
	sieve_script_free(&s);
	strlist_free(&seen);
	vacform freshly;
	vacform_init(&freshly);
	assert_true(vacform_read(text, len, &freshly));
	assert_string_equal(freshly.include, f.include);
	assert_null(freshly.subject);
	assert_null(freshly.from);
	assert_int_equal(freshly.days, 7);
	vacform_free(&freshly);
	free(text);
	vacform_free(&f);
}

static void test_not_ours(void **state)
{
	(void)state;
	static const char mine[] = "require \"vacation\";\r\nvacation \"mine\";\r\n";
	assert_false(vacform_is_ours(mine, sizeof mine - 1));
	vacform f;
	vacform_init(&f);
	static const char broken[] = "# yubin vacation form: x\r\nvacation \"no require\";\r\n";
	assert_true(vacform_is_ours(broken, sizeof broken - 1));
	assert_false(vacform_read(broken, sizeof broken - 1, &f));
	static const char none[] = "# yubin vacation form: x\r\nkeep;\r\n";
	assert_false(vacform_read(none, sizeof none - 1, &f));
	vacform_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_script_round_trip),
		cmocka_unit_test(test_script_includes_previous),
		cmocka_unit_test(test_not_ours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
