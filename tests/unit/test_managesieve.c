/* test_managesieve.c — unit tests for the pure parts of ManageSieve:
 * managesieve/parse.c (commands, quoted strings and their escapes,
 * literals {n+} and {n}, numbers, SASL responses, the error sentences),
 * the literal announcement at a line's end, managesieve/check.c (UTF-8, NUL,
 * line:column) and managesieve/store.c (names, file names that stay in the
 * folder, the active marker across rename and delete, the script count). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/strutil.h"
#include "sieve/upload.h"
#include "managesieve/parse.h"
#include "store/sievestore.h"

/* ---- parse ---- */

static void test_parse_valid(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *verb;
		int nargs;
		const char *arg0, *arg1;
	} cases[] = {
		{"LISTSCRIPTS", 0, "LISTSCRIPTS", 0, NULL, NULL},
		{"getscript \"main\"", 0, "getscript", 1, "main", NULL},
		{"PUTSCRIPT \"a b\" {5+}\r\nkeep;", 0, "PUTSCRIPT", 2, "a b", "keep;"},
		{"PUTSCRIPT \"x\" {2}\r\n\r\n", 0, "PUTSCRIPT", 2, "x", "\r\n"},
		{"PUTSCRIPT {1+}\r\nq {0+}\r\n", 0, "PUTSCRIPT", 2, "q", ""},
		{"NOOP \"a\\\"b\\\\c\"", 0, "NOOP", 1, "a\"b\\c", NULL},
		{"RENAMESCRIPT \"\" \"\xc3\xbc\"", 0, "RENAMESCRIPT", 2, "", "\xc3\xbc"},
		{"CHECKSCRIPT {3+}\r\na\0b", 21, "CHECKSCRIPT", 1, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		char *data = xmalloc(len + 1);
		memcpy(data, cases[i].in, len + 1);
		msieve_cmd cmd;
		const char *err = NULL;
		if (!msieve_parse(data, len, true, &cmd, &err))
			fail_msg("case %zu: refused: %s", i, err);
		assert_int_equal(cmd.verb_len, strlen(cases[i].verb));
		assert_memory_equal(cmd.verb, cases[i].verb, cmd.verb_len);
		assert_int_equal(cmd.nargs, cases[i].nargs);
		if (cases[i].arg0 != NULL) {
			assert_int_equal(cmd.args[0].len, strlen(cases[i].arg0));
			assert_memory_equal(cmd.args[0].str, cases[i].arg0, cmd.args[0].len);
		}
		if (cases[i].arg1 != NULL) {
			assert_int_equal(cmd.args[1].len, strlen(cases[i].arg1));
			assert_memory_equal(cmd.args[1].str, cases[i].arg1, cmd.args[1].len);
		}
		free(data);
	}
}

static void test_parse_numbers(void **state)
{
	char a[] = "HAVESPACE \"s\" 4294967295";
	msieve_cmd cmd;
	const char *err;
	assert_true(msieve_parse(a, strlen(a), true, &cmd, &err));
	assert_int_equal(cmd.args[1].type, MSIEVE_ARG_NUMBER);
	assert_int_equal(cmd.args[1].num, 4294967295u);
	char b[] = "HAVESPACE \"s\" 4294967296";
	assert_false(msieve_parse(b, strlen(b), true, &cmd, &err));
	assert_string_equal(err, "Number too large");
}

static void test_parse_invalid(void **state)
{
	static const struct {
		const char *in;
		const char *err;
	} cases[] = {
		{"", "Expected a command name"},
		{" NOOP", "Expected a command name"},
		{"NOOP  \"a\"", "Arguments are quoted strings, literals or numbers"},
		{"NOOP \"a\" ", "Missing argument"},
		{"NOOP a", "Arguments are quoted strings, literals or numbers"},
		{"NOOP \"a", "Unterminated quoted string"},
		{"NOOP \"a\\n\"", "Only \\\" and \\\\ may be escaped in a quoted string"},
		{"NOOP \"\xff\"", "A quoted string must be UTF-8"},
		{"NOOP \"a\"\"b\"", "Arguments are separated by one space"},
		{"NOOP {3+}\r\nab", "Literal shorter than announced"},
		{"NOOP {3+}x", "A literal is {n+} or {n}, then CRLF"},
		{"NOOP {+}\r\n", "Expected a number"},
		{"X \"1\" \"2\" \"3\" \"4\" \"5\"", "Too many arguments"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *data = xstrdup(cases[i].in);
		msieve_cmd cmd;
		const char *err = NULL;
		if (msieve_parse(data, strlen(data), true, &cmd, &err))
			fail_msg("case %zu \"%s\": accepted", i, cases[i].in);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, err, cases[i].err);
		free(data);
	}
}

static void test_parse_quoted_max(void **state)
{
	char *ok = xmalloc(1024 + 10), *big = xmalloc(1025 + 10);
	sprintf(ok, "NOOP \"%01024d\"", 0);
	sprintf(big, "NOOP \"%01025d\"", 0);
	msieve_cmd cmd;
	const char *err;
	assert_true(msieve_parse(ok, strlen(ok), true, &cmd, &err));
	assert_int_equal(cmd.args[0].len, 1024);
	assert_false(msieve_parse(big, strlen(big), true, &cmd, &err));
	free(ok);
	free(big);
}

static void test_parse_sasl_response(void **state)
{
	char a[] = "\"dXNlcg==\"", b[] = "{4+}\r\nabcd", c[] = "\"a\" \"b\"", d[] = "12";
	msieve_cmd cmd;
	const char *err;
	assert_true(msieve_parse(a, strlen(a), false, &cmd, &err));
	assert_int_equal(cmd.args[0].len, 8);
	assert_true(msieve_parse(b, strlen(b), false, &cmd, &err));
	assert_true(cmd.args[0].literal);
	assert_false(msieve_parse(c, strlen(c), false, &cmd, &err));
	assert_false(msieve_parse(d, strlen(d), false, &cmd, &err));
	assert_string_equal(err, "A SASL response is one string");
}

static void test_literal_at_end(void **state)
{
	static const struct {
		const char *line;
		bool lit;
		uint64_t n;
		bool bad;
	} cases[] = {
		{"PUTSCRIPT \"a\" {12+}", true, 12, false},
		{"PUTSCRIPT \"a\" {0}", true, 0, false},
		{"{7+}", true, 7, false},
		{"NOOP", false, 0, false},
		{"NOOP {}", false, 0, false},
		{"NOOP {+}", false, 0, false},
		{"NOOP 12}", false, 0, false},
		{"NOOP {4294967295+}", true, 4294967295u, false},
		{"NOOP {4294967296+}", false, 0, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t n = 0;
		bool bad = false;
		bool lit = msieve_literal_at_end(cases[i].line, strlen(cases[i].line), &n, &bad);
		if (lit != cases[i].lit || bad != cases[i].bad || (lit && n != cases[i].n))
			fail_msg("case %zu \"%s\"", i, cases[i].line);
	}
}

/* ---- check ---- */

static void test_check_encoding(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		sieve_upload_status st;
		const char *msg;
	} cases[] = {
		{"keep;", 5, SIEVE_UPLOAD_OK, NULL},
		{"", 0, SIEVE_UPLOAD_OK, NULL},
		{"# \xc3\xbc\r\nkeep;", 11, SIEVE_UPLOAD_OK, NULL},
		{"keep;\r\n\xff", 8, SIEVE_UPLOAD_ERROR, "2:1: invalid UTF-8 in the script"},
		{"a\nb\n\xc3\xbc\xc0\x80", 9, SIEVE_UPLOAD_ERROR, "3:2: invalid UTF-8 in the script"},
		{"keep\0;", 6, SIEVE_UPLOAD_ERROR, "1:5: NUL character in the script"},
		{"\xed\xa0\x80", 3, SIEVE_UPLOAD_ERROR, "1:1: invalid UTF-8 in the script"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *msg = NULL;
		sieve_upload_status st = sieve_upload_check(cases[i].s, cases[i].len, &msg);
		if (st != cases[i].st)
			fail_msg("case %zu: status %d", i, (int)st);
		if (cases[i].msg == NULL)
			assert_null(msg);
		else if (msg == NULL || strcmp(msg, cases[i].msg) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, msg ? msg : "(null)", cases[i].msg);
		free(msg);
	}
}

/* ---- store ---- */

static void test_names(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{"main", true}, {"a/b", true}, {"..", true}, {"%", true}, {"\xc3\xbc", true},
		{"", false}, {"a\tb", false}, {"a\x7f", false}, {"\xc2\x85", false},
		{"\xe2\x80\xa8", false}, {"\xe2\x80\xa9", false}, {"\xff", false}, {"\xc0\xaf", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *why = NULL;
		if (sievestore_name_valid(cases[i].name, strlen(cases[i].name), &why) != cases[i].ok)
			fail_msg("case %zu \"%s\"", i, cases[i].name);
	}
	char name[200];
	memset(name, 'a', sizeof name);
	const char *why;
	assert_true(sievestore_name_valid(name, SIEVESTORE_NAME_MAX, &why));
	assert_false(sievestore_name_valid(name, SIEVESTORE_NAME_MAX + 1, &why));
	memset(name, '/', sizeof name); /* each escaped to three octets on disk */
	assert_false(sievestore_name_valid(name, SIEVESTORE_NAME_MAX, &why));
	assert_string_equal(why, "Script name too long");
}

static char *tempdir(void)
{
	char tmpl[] = "/tmp/yubin-msieve-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xasprintf("%s/sieve", d);
}

static void rm_rf(const char *dir)
{
	/* dir is <temp>/sieve: remove the whole temporary folder */
	char *cmd = xasprintf("rm -rf '%.*s'", (int)(strlen(dir) - strlen("/sieve")), dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_store_cycle(void **state)
{
	char *dir = tempdir();
	sievestore_script *v;
	size_t n;
	assert_int_equal(sievestore_list(dir, &v, &n), SIEVESTORE_OK); /* folder not made yet */
	assert_int_equal(n, 0);
	assert_null(sievestore_active_path(dir));
	assert_int_equal(sievestore_activate(dir, NULL), SIEVESTORE_OK);
	assert_int_equal(sievestore_put(dir, "../x", "keep;", 5, 3), SIEVESTORE_OK);
	assert_int_equal(sievestore_put(dir, ".b", "stop;", 5, 3), SIEVESTORE_OK);
	assert_int_equal(sievestore_put(dir, "c", "", 0, 3), SIEVESTORE_OK);
	assert_int_equal(sievestore_put(dir, "d", "", 0, 3), SIEVESTORE_MAXSCRIPTS);
	assert_int_equal(sievestore_havespace(dir, "d", 3), SIEVESTORE_MAXSCRIPTS);
	assert_int_equal(sievestore_havespace(dir, "c", 3), SIEVESTORE_OK);
	assert_int_equal(sievestore_put(dir, "c", "x", 1, 3), SIEVESTORE_OK); /* a replacement */
	char *p = xasprintf("%s/%%2E.%%2Fx.sieve", dir); /* a leading dot and "/" escaped */
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	free(p);
	assert_int_equal(sievestore_list(dir, &v, &n), SIEVESTORE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "../x"); /* by octets */
	assert_string_equal(v[1].name, ".b");
	assert_string_equal(v[2].name, "c");
	assert_int_equal(v[2].size, 1);
	sievestore_scripts_free(&v, n);

	assert_int_equal(sievestore_activate(dir, "zz"), SIEVESTORE_NONEXISTENT);
	assert_int_equal(sievestore_activate(dir, "../x"), SIEVESTORE_OK);
	assert_int_equal(sievestore_delete(dir, "../x"), SIEVESTORE_ACTIVE);
	assert_int_equal(sievestore_rename(dir, "../x", "c"), SIEVESTORE_ALREADYEXISTS);
	assert_int_equal(sievestore_rename(dir, "nope", "e"), SIEVESTORE_NONEXISTENT);
	assert_int_equal(sievestore_rename(dir, "../x", "main"), SIEVESTORE_OK);
	char *active = sievestore_active_path(dir);
	char *want = xasprintf("%s/main.sieve", dir);
	assert_string_equal(active, want);
	free(active);
	free(want);
	char *text;
	size_t len;
	assert_int_equal(sievestore_get(dir, "main", 100, &text, &len), SIEVESTORE_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "keep;", 5);
	free(text);
	assert_int_equal(sievestore_get(dir, "../x", 100, &text, &len), SIEVESTORE_NONEXISTENT);
	assert_int_equal(sievestore_activate(dir, NULL), SIEVESTORE_OK);
	assert_null(sievestore_active_path(dir));
	assert_int_equal(sievestore_delete(dir, "main"), SIEVESTORE_OK);
	assert_int_equal(sievestore_delete(dir, "main"), SIEVESTORE_NONEXISTENT);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_quoted_max),
		cmocka_unit_test(test_parse_sasl_response),
		cmocka_unit_test(test_literal_at_end),
		cmocka_unit_test(test_check_encoding),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_store_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
