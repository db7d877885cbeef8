/* test_router.c — unit tests for http/router.c: literal and {param}
 * segments, percent-decoding of parameters, 404 against 405 with the Allow
 * list, HEAD served by GET routes, trailing slashes and empty segments,
 * and malformed escapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http/router.h"

static void h1(http_req *r) { (void)r; }
static void h2(http_req *r) { (void)r; }
static void h3(http_req *r) { (void)r; }

static const http_route table[] = {
	{"GET", "/v1/messages/{id}", NULL, h1},
	{"POST", "/v1/messages", NULL, h2},
	{"DELETE", "/v1/suppressions/{address}", NULL, h3},
	{"GET", "/v1/suppressions/{address}", NULL, h1},
	{"GET", "/", NULL, h3},
	{"POST", "~/autodiscover/autodiscover.xml", NULL, h2},
};
#define N (sizeof table / sizeof table[0])

static router_result match(const char *method, const char *path, const http_route **rt,
                           router_params *p, char *allow)
{
	return router_match(table, N, method, path, rt, p, allow, 64);
}

static void test_literal_and_param(void **state)
{
	const http_route *rt = NULL;
	router_params p = {0};
	char allow[64];
	assert_int_equal(match("POST", "/v1/messages", &rt, &p, allow), ROUTER_FOUND);
	assert_ptr_equal(rt->handler, h2);
	assert_int_equal(p.n, 0);
	assert_int_equal(match("GET", "/v1/messages/Q123", &rt, &p, allow), ROUTER_FOUND);
	assert_ptr_equal(rt->handler, h1);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.name[0], "id");
	assert_string_equal(p.value[0], "Q123");
	router_params_free(&p);
	assert_int_equal(match("GET", "/", &rt, &p, allow), ROUTER_FOUND);
	assert_ptr_equal(rt->handler, h3);
}

static void test_param_decoded(void **state)
{
	const http_route *rt = NULL;
	router_params p = {0};
	char allow[64];
	assert_int_equal(match("DELETE", "/v1/suppressions/bob%40example.org", &rt, &p, allow), ROUTER_FOUND);
	assert_string_equal(p.value[0], "bob@example.org");
	router_params_free(&p);
	/* an encoded slash stays inside the one segment */
	assert_int_equal(match("GET", "/v1/suppressions/a%2Fb", &rt, &p, allow), ROUTER_FOUND);
	assert_string_equal(p.value[0], "a/b");
	router_params_free(&p);
	/* '+' is a plus in a path, not a space */
	assert_int_equal(match("GET", "/v1/suppressions/a+b@x", &rt, &p, allow), ROUTER_FOUND);
	assert_string_equal(p.value[0], "a+b@x");
	router_params_free(&p);
}

static void test_not_found_and_method(void **state)
{
	const http_route *rt = NULL;
	router_params p = {0};
	char allow[64];
	assert_int_equal(match("GET", "/v1/nothing", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("GET", "/v1/messages/", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("GET", "/v1/messages/a/b", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("GET", "/v1/messages//", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("POST", "/v1/messages/", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("GET", "", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("GET", "v1/messages", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("GET", "/v1/messages", &rt, &p, allow), ROUTER_NO_METHOD);
	assert_string_equal(allow, "POST");
	assert_int_equal(match("PUT", "/v1/suppressions/x", &rt, &p, allow), ROUTER_NO_METHOD);
	assert_string_equal(allow, "DELETE, GET");
}

/* a nocase route takes any ASCII case; the others keep theirs */
static void test_nocase(void **state)
{
	const http_route *rt = NULL;
	router_params p = {0};
	char allow[64];
	assert_int_equal(match("POST", "/Autodiscover/AutoDiscover.XML", &rt, &p, allow), ROUTER_FOUND);
	assert_ptr_equal(rt->handler, h2);
	assert_int_equal(match("POST", "/autodiscover/autodiscover.xml", &rt, &p, allow), ROUTER_FOUND);
	assert_int_equal(match("POST", "/autodiscover/autodiscover.xm", &rt, &p, allow), ROUTER_NO_PATH);
	assert_int_equal(match("POST", "/V1/messages", &rt, &p, allow), ROUTER_NO_PATH);
}

static void test_head_uses_get(void **state)
{
	const http_route *rt = NULL;
	router_params p = {0};
	char allow[64];
	assert_int_equal(match("HEAD", "/v1/messages/x", &rt, &p, allow), ROUTER_FOUND);
	assert_ptr_equal(rt->handler, h1);
	router_params_free(&p);
	assert_int_equal(match("HEAD", "/v1/messages", &rt, &p, allow), ROUTER_NO_METHOD);
}

static void test_bad_escapes(void **state)
{
	const http_route *rt = NULL;
	router_params p = {0};
	char allow[64];
	assert_int_equal(match("GET", "/v1/messages/%", &rt, &p, allow), ROUTER_BAD_PATH);
	assert_int_equal(match("GET", "/v1/messages/%4", &rt, &p, allow), ROUTER_BAD_PATH);
	assert_int_equal(match("GET", "/v1/messages/%zz", &rt, &p, allow), ROUTER_BAD_PATH);
	assert_int_equal(match("GET", "/v1/messages/a%00b", &rt, &p, allow), ROUTER_BAD_PATH);
}

static void test_unescape(void **state)
{
	char *s = router_unescape("a%20b+c", 7, true);
	assert_string_equal(s, "a b c");
	free(s);
	s = router_unescape("a%20b+c", 7, false);
	assert_string_equal(s, "a b+c");
	free(s);
	s = router_unescape("%e6%97%a5", 9, false);
	assert_string_equal(s, "\xe6\x97\xa5");
	free(s);
	/* the length bounds the scan: an escape cut by it is malformed */
	assert_null(router_unescape("ab%41", 4, false));
	s = router_unescape("ab%41", 5, false);
	assert_string_equal(s, "abA");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_and_param), cmocka_unit_test(test_param_decoded),
		cmocka_unit_test(test_not_found_and_method), cmocka_unit_test(test_head_uses_get),
		cmocka_unit_test(test_bad_escapes), cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_nocase),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
