/* test_pop3fmt.c — stored messages on the POP3 wire: CRLF, dot-stuffing,
 * the terminator, TOP's header plus n body lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pop3/format.h"

static void check(const char *msg, long lines, const char *want)
{
	buf b;
	buf_init(&b, 1 << 20);
	pop3_format_message(msg, strlen(msg), lines, &b);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void test_retr(void **state)
{
	check("A: b\n\nbody\n.dot\n..\n.\n", -1, "A: b\r\n\r\nbody\r\n..dot\r\n...\r\n..\r\n.\r\n");
	/* CRLF already there stays one line end; a last line without one gets one */
	check("A: b\r\n\r\nx\r\ny", -1, "A: b\r\n\r\nx\r\ny\r\n.\r\n");
	check("", -1, ".\r\n");
}

static void test_top(void **state)
{
	const char *m = "A: 1\nB: 2\n\nl1\n.l2\nl3\n";
	check(m, 0, "A: 1\r\nB: 2\r\n\r\n.\r\n");
	check(m, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
	check(m, 99, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	/* no body at all */
	check("A: 1\n", 5, "A: 1\r\n.\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retr),
		cmocka_unit_test(test_top),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
