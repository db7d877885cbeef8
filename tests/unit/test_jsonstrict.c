/* test_jsonstrict.c — unit tests for lib/jsonstrict.c: what RFC 8259 allows
 * is read, what it does not is refused with the place and the reason, and on
 * every case the answer is jansson's (with JSON_REJECT_DUPLICATES), the
 * strict parser the API used before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonstrict.h"

typedef struct jcase {
	const char *text;
	size_t len;            /* 0: strlen(text) */
	const char *reason;    /* NULL: valid; else a piece of the error text */
	int line, column;      /* where, when not 0 */
} jcase;

static bool jansson_takes(const char *s, size_t len)
{
	json_error_t e;
	json_t *v = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	json_decref(v);
	return v != NULL;
}

static void check(const jcase *c, size_t i)
{
	size_t len = c->len ? c->len : strlen(c->text);
	json_strict_error e = {0};
	cJSON *v = json_strict_parse(c->text, len, &e);
	if ((v != NULL) != (c->reason == NULL))
		fail_msg("case %zu (%s): %s", i, c->text, v ? "taken" : e.text);
	if (v == NULL && strstr(e.text, c->reason) == NULL)
		fail_msg("case %zu (%s): reason \"%s\", not \"%s\"", i, c->text, e.text, c->reason);
	if (v == NULL && c->line != 0 && (e.line != c->line || e.column != c->column))
		fail_msg("case %zu (%s): at %d:%d, not %d:%d", i, c->text, e.line, e.column, c->line, c->column);
	if (jansson_takes(c->text, len) != (v != NULL))
		fail_msg("case %zu (%s): jansson says otherwise", i, c->text);
	cJSON_Delete(v);
}

static void test_valid(void **state)
{
	(void)state;
	static const jcase cases[] = {
		{"{}", 0, NULL, 0, 0},
		{"[]", 0, NULL, 0, 0},
		{" \t\r\n{ }\n", 0, NULL, 0, 0},
		{"\"text\"", 0, NULL, 0, 0},
		{"0", 0, NULL, 0, 0},
		{"-0", 0, NULL, 0, 0},
		{"-0.5e+3", 0, NULL, 0, 0},
		{"1E-2", 0, NULL, 0, 0},
		{"12.0e10", 0, NULL, 0, 0},
		{"[true,false,null]", 0, NULL, 0, 0},
		{"{\"a\":[1,-0.5e+3,\"x\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"]}", 0, NULL, 0, 0},
		{"{\"s\":\"caf\xc3\xa9 \xe2\x82\xac\"}", 0, NULL, 0, 0},            /* UTF-8 in a string */
		{"{\"a\":{\"b\":1},\"b\":{\"b\":2}}", 0, NULL, 0, 0},                    /* one name in two objects */
		{"[\"b\\\\u0000c\"]", 0, NULL, 0, 0},                                    /* an escaped backslash, then text */
		{"{\"a\":\"\\u0001\"}", 0, NULL, 0, 0},                                  /* an escaped control: JSON allows it */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check(&cases[i], i);
}

static void test_refused(void **state)
{
	(void)state;
	static const jcase cases[] = {
		{"", 0, "ends", 0, 0},
		{"{\"from\": ", 0, "ends", 1, 10},
		{"{\"a\":\"open", 0, "string that does not end", 1, 6},
		{"[\"a\\\"]", 0, "string that does not end", 1, 2},
		{"{\"a\":1} x", 0, "after the value", 1, 9},
		{"{\"a\":1}{}", 0, "after the value", 1, 8},
		{"{\"a\":\"b\\u0000c\"}", 0, "\\u0000", 1, 8},
		{"{\"a\":\"b\x01" "c\"}", 0, "control character in a string", 1, 8},
		{"{\"a\":\"b\nc\"}", 0, "control character in a string", 1, 8},
		{"{\"a\":\"b\tc\"}", 0, "control character in a string", 1, 8},
		{"{\"a\":1,\x0b\"b\":2}", 0, "control character (0x0b)", 1, 8},
		{"{\"a\":1,\x7f\"b\":2}", 0, "unexpected", 0, 0},
		{"\xef\xbb\xbf{}", 0, "JSON does not have", 1, 1},
		{"{\"a\":\"\xc3\x28\"}", 0, "not UTF-8", 1, 7},
		{"{\"a\":\"\xed\xa0\x80\"}", 0, "not UTF-8", 1, 7},        /* an encoded surrogate */
		{"{\"a\":\"\xc0\xaf\"}", 0, "not UTF-8", 1, 7},            /* overlong */
		{"{\"a\":\n  01\n}", 0, "malformed number", 2, 3},
		{"[+1]", 0, "unexpected", 0, 0},
		{"[1.]", 0, "malformed number", 1, 2},
		{"[.5]", 0, "unexpected", 0, 0},
		{"[-]", 0, "malformed number", 1, 2},
		{"[1e]", 0, "malformed number", 1, 2},
		{"[1e+]", 0, "malformed number", 1, 2},
		{"[1.2.3]", 0, "malformed number", 1, 2},
		{"[0x10]", 0, "unexpected", 0, 0},
		{"[-01]", 0, "malformed number", 1, 2},
		{"{\"a\":1,\"a\":2}", 0, "duplicate member \"a\"", 0, 0},
		{"{\"x\":[{\"k\":1,\"k\":2}]}", 0, "duplicate member \"k\"", 0, 0},
		{"[\"\\ud800\"]", 0, "unexpected", 0, 0},                 /* a lone surrogate */
		{"[\"\\udc00\\ud800\"]", 0, "unexpected", 0, 0},
		{"[\"\\x\"]", 0, "not an escape", 1, 3},
		{"[\"\\u12g4\"]", 0, "four hexadecimal digits", 1, 3},
		{"[\"\\u12\"]", 0, "four hexadecimal digits", 1, 3},
		{"[\"\\ud800\\u00g1\"]", 0, "four hexadecimal digits", 1, 9},
		{"[\"\\", 0, "not an escape", 1, 3},
		{"[1,]", 0, "", 0, 0},
		{"{\"a\":1,}", 0, "", 0, 0},
		{"{\"a\" 1}", 0, "unexpected", 0, 0},
		{"{a:1}", 0, "unexpected", 0, 0},
		{"['a']", 0, "unexpected", 0, 0},
		{"[tru]", 0, "unexpected", 0, 0},
		{"[True]", 0, "unexpected", 0, 0},
		{"[nul]", 0, "unexpected", 0, 0},
		{"[NaN]", 0, "unexpected", 0, 0},
		{"{\"a\":1}\0", 8, "control character (0x00)", 1, 8},
		{"[\"a\0b\"]", 7, "control character in a string (0x00", 1, 4},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check(&cases[i], i);
}

/* Objects past the pair-by-pair size are sorted: a duplicate among many. */
static void test_large_objects(void **state)
{
	(void)state;
	char s[4096];
	size_t n = 0;
	n += (size_t)snprintf(s + n, sizeof s - n, "{");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "%s\"k%d\":%d", i ? "," : "", i, i);
	snprintf(s + n, sizeof s - n, "}");
	jcase ok = {s, 0, NULL, 0, 0};
	check(&ok, 0);
	n = (size_t)snprintf(s, sizeof s, "{");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "%s\"k%d\":%d", i ? "," : "", i == 77 ? 3 : i, i);
	snprintf(s + n, sizeof s - n, "}");
	jcase dup = {s, 0, "duplicate member \"k3\"", 0, 0};
	check(&dup, 1);
}

/* Nesting is bounded (cJSON stops at 1000 levels; jansson at 2048, so the
 * two part ways here and are not compared). */
static void test_depth(void **state)
{
	(void)state;
	enum { DEEP = 1200 };
	char *s = malloc(2 * DEEP + 1);
	memset(s, '[', DEEP);
	memset(s + DEEP, ']', DEEP);
	s[2 * DEEP] = '\0';
	json_strict_error e;
	assert_null(json_strict_parse(s, 2 * DEEP, &e));
	cJSON *v = json_strict_parse(s + DEEP - 500, 1000, &e);
	assert_non_null(v);
	cJSON_Delete(v);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_large_objects),
		cmocka_unit_test(test_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
