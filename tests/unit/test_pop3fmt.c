/* test_pop3fmt.c — stored messages on the POP3 wire, piece by piece: CRLF,
 * dot-stuffing, the terminator, TOP's header plus n body lines.  Every case
 * is fed whole, one byte at a time and in random splits, and must come out
 * the same; random messages are checked against a line-by-line reference
 * (the formatter as it was before it streamed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/format.h"

/* The whole message at once, line by line: what the pieces must add up to. */
static void reference(const char *msg, size_t len, long body_lines, buf *out)
{
	const char *p = msg, *end = msg + len;
	bool in_body = false;
	long body_left = body_lines;
	while (p < end) {
		if (in_body && body_lines >= 0 && body_left-- <= 0)
			break;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t text = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
		assert_true(text == 0 || p[0] != '.' || buf_putc(out, '.'));
		assert_true(buf_append(out, p, text));
		assert_true(buf_append(out, "\r\n", 2));
		if (!in_body && text == 0)
			in_body = true;
		p += n + (nl ? 1 : 0);
	}
	assert_true(buf_append(out, ".\r\n", 3));
}

static uint32_t rng = 12345;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Feed msg in pieces: step 0 means random piece lengths. */
static void format_split(const char *msg, size_t len, long lines, size_t step, buf *out)
{
	pop3_format f;
	pop3_format_init(&f, lines);
	size_t at = 0;
	while (at < len && !pop3_format_done(&f)) {
		size_t n = step ? step : 1 + next_random() % 9;
		if (n > len - at)
			n = len - at;
		assert_true(pop3_format_feed(&f, msg + at, n, out));
		at += n;
	}
	assert_true(pop3_format_end(&f, out));
}

static void check_len(const char *msg, size_t len, long lines, const char *want, size_t want_len)
{
	size_t steps[] = {len ? len : 1, 1, 2, 3, 0, 0, 0};
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		buf b;
		buf_init(&b, POP3_FORMAT_MAX(len));
		format_split(msg, len, lines, steps[k], &b);
		assert_int_equal(b.len, want_len);
		assert_memory_equal(b.data, want, b.len);
		buf_free(&b);
	}
}

static void check(const char *msg, long lines, const char *want)
{
	check_len(msg, strlen(msg), lines, want, strlen(want));
}

static void test_retr(void **state)
{
	check("A: b\n\nbody\n.dot\n..\n.\n", -1, "A: b\r\n\r\nbody\r\n..dot\r\n...\r\n..\r\n.\r\n");
	/* CRLF already there stays one line end; a last line without one gets one */
	check("A: b\r\n\r\nx\r\ny", -1, "A: b\r\n\r\nx\r\ny\r\n.\r\n");
	check("", -1, ".\r\n");
	/* a '.' is doubled only at a line start */
	check("a.b\n.\n a\n.", -1, "a.b\r\n..\r\n a\r\n..\r\n.\r\n");
	/* a CR not before an LF is text; a CR at the very end is the line end */
	check("a\rb\r\r\nc\r", -1, "a\rb\r\r\nc\r\n.\r\n");
	check("\r", -1, "\r\n.\r\n");
	check("\r\r", -1, "\r\r\n.\r\n");
	/* a line that is only a '.' before a CRLF, and one ending the file */
	check(".\r\n.", -1, "..\r\n..\r\n.\r\n");
}

static void test_top(void **state)
{
	const char *m = "A: 1\nB: 2\n\nl1\n.l2\nl3\n";
	check(m, 0, "A: 1\r\nB: 2\r\n\r\n.\r\n");
	check(m, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
	check(m, 3, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	check(m, 99, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	/* no body at all, or no blank line: everything is header */
	check("A: 1\n", 5, "A: 1\r\n.\r\n");
	check("A: 1\nB: 2", 0, "A: 1\r\nB: 2\r\n.\r\n");
	/* CRLF files: the blank line is "\r\n" */
	check("A: 1\r\n\r\nl1\r\nl2", 1, "A: 1\r\n\r\nl1\r\n.\r\n");
	check("A: 1\r\n\r\nl1\r\nl2", 2, "A: 1\r\n\r\nl1\r\nl2\r\n.\r\n");
	/* a line of one CR before the LF is blank too; "\r\r\n" is not */
	check("A\r\r\nB\n\r\nbody\n", 0, "A\r\r\nB\r\n\r\n.\r\n");
	/* the body's first line ending the file without LF */
	check("A\n\n.x", 1, "A\r\n\r\n..x\r\n.\r\n");
	check("A\n\n.x", 0, "A\r\n\r\n.\r\n");
}

static void test_nul_bytes(void **state)
{
	static const char m[] = "A\0B\n\n\0.\n.\0";
	static const char want[] = "A\0B\r\n\r\n\0.\r\n..\0\r\n.\r\n";
	check_len(m, sizeof m - 1, -1, want, sizeof want - 1);
}

/* Random messages of line ends, CRs, dots and text, in random splits, for
 * RETR and TOP, against the reference. */
static void test_random_against_reference(void **state)
{
	static const char alphabet[] = "\n\n\r..ab";
	for (int round = 0; round < 3000; round++) {
		size_t len = next_random() % 40;
		char msg[40];
		for (size_t i = 0; i < len; i++)
			msg[i] = alphabet[next_random() % (sizeof alphabet - 1)];
		long lines = (long)(next_random() % 6) - 1;
		buf want;
		buf_init(&want, POP3_FORMAT_MAX(len));
		reference(msg, len, lines, &want);
		check_len(msg, len, lines, want.data, want.len);
		buf_free(&want);
	}
}

/* A message of several MiB in 64 KiB pieces, as RETR reads it. */
static void test_large_in_pieces(void **state)
{
	size_t len = (size_t)3 << 20;
	char *msg = malloc(len);
	assert_non_null(msg);
	for (size_t i = 0; i < len; i++)
		msg[i] = i % 77 == 76 ? '\n' : i % 77 == 0 ? '.' : i % 154 == 75 ? '\r' : 'x';
	buf want, got;
	buf_init(&want, POP3_FORMAT_MAX(len));
	buf_init(&got, POP3_FORMAT_MAX(len));
	reference(msg, len, -1, &want);
	format_split(msg, len, -1, 65536, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, got.len);
	buf_free(&want);
	buf_free(&got);
	free(msg);
}

/* Out of room: the feed says so instead of writing past the maximum. */
static void test_output_full(void **state)
{
	pop3_format f;
	pop3_format_init(&f, -1);
	buf b;
	buf_init(&b, 5);
	assert_false(pop3_format_feed(&f, ".....\n", 6, &b));
	assert_true(b.len <= 5);
	buf_free(&b);
	buf_init(&b, 6);
	pop3_format_init(&f, -1);
	assert_true(pop3_format_feed(&f, "abcd", 4, &b));
	assert_false(pop3_format_end(&f, &b));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retr),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_large_in_pieces),
		cmocka_unit_test(test_output_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
