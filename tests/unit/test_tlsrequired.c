/* test_tlsrequired.c — the "TLS-Required: No" header field (RFC 8689 3):
 * found in the header only, value "No" in any case, folding and blanks
 * ignored, anything else not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "delivery/tlsrequired.h"

static void test_header_no(void **state)
{
	(void)state;
	static const struct {
		const char *msg;
		bool no;
	} cases[] = {
		{"From: a@b\nTLS-Required: No\nSubject: x\n\nbody\n", true},
		{"From: a@b\ntls-required: no\n\nbody\n", true},
		{"TLS-Required:No\n\n", true},
		{"From: a@b\r\nTLS-Required:   NO  \r\n\r\nbody\r\n", true},
		{"From: a@b\nTLS-Required:\n No\n\nbody\n", true},             /* folded */
		{"From: a@b\nSubject: x\n\nbody\n", false},
		{"From: a@b\nTLS-Required: Yes\n\n", false},
		{"From: a@b\nTLS-Required: No thanks\n\n", false},
		{"From: a@b\nTLS-Required:\n\n", false},
		{"From: a@b\nX-TLS-Required: No\n\n", false},
		{"From: a@b\n\nTLS-Required: No\n", false},                   /* in the body */
		{"", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tlsrequired_header_no(cases[i].msg, strlen(cases[i].msg)) != cases[i].no)
			fail_msg("case %zu: want %d", i, cases[i].no);
	/* the length is respected: a field past len is not seen */
	const char *m = "From: a@b\nTLS-Required: No\n\n";
	assert_false(tlsrequired_header_no(m, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_no),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
