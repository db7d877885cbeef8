/* test_hdrscan.c — unit tests for smtp/hdrscan.c: a field found only at
 * the start of a header line, in any case, fed whole, a byte at a time and
 * in every two-piece split; never in the body or in a continuation line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "smtp/hdrscan.h"

static bool scan_in_pieces(const char *msg, size_t piece)
{
	hdrscan h;
	hdrscan_init(&h, "authentication-results");
	size_t n = strlen(msg);
	for (size_t i = 0; i < n; i += piece)
		hdrscan_feed(&h, msg + i, n - i < piece ? n - i : piece);
	return hdrscan_found(&h);
}

static bool scan_split(const char *msg, size_t at)
{
	hdrscan h;
	hdrscan_init(&h, "authentication-results");
	hdrscan_feed(&h, msg, at);
	hdrscan_feed(&h, msg + at, strlen(msg) - at);
	return hdrscan_found(&h);
}

static void test_table(void **state)
{
	static const struct {
		const char *msg;
		bool want;
	} cases[] = {
		{"Authentication-Results: x; none\nSubject: a\n\nbody\n", true},
		{"Subject: a\nauthentication-results: x; none\n\nbody\n", true},
		{"Subject: a\r\nAUTHENTICATION-RESULTS : x\r\n\r\nbody\r\n", true},
		{"Subject: a\nAuthentication-Results-Original: x\n\nbody\n", false},
		{"Subject: a\nX-Authentication-Results: x\n\nbody\n", false},
		{"Subject: a\n Authentication-Results: folded, not a field\n\nbody\n", false},
		{"Subject: a\n\nAuthentication-Results: in the body\n", false},
		{"Subject: a\r\n\r\nAuthentication-Results: in the body\r\n", false},
		{"Subject: Authentication-Results: in a value\n\n", false},
		{"Authentication-Results", false},
		{"", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *m = cases[i].msg;
		for (size_t piece = 1; piece <= strlen(m) + 1; piece++)
			if (scan_in_pieces(m, piece) != cases[i].want)
				fail_msg("case %zu in pieces of %zu", i, piece);
		for (size_t at = 0; at <= strlen(m); at++)
			if (scan_split(m, at) != cases[i].want)
				fail_msg("case %zu split at %zu", i, at);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
