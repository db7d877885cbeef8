/* test_imap_reader.c — unit tests for imap/reader.c: commands with every
 * literal form, fed whole, byte by byte and split at every point; each limit
 * and its error; resynchronisation after errors; tags of refused commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/reader.h"
#include "lib/buf.h"

static imap_reader_limits small_limits(void)
{
	imap_reader_limits l = {.max_line = 40, .max_literal = 100, .max_nonsync = 10,
	                        .max_command = 200};
	return l;
}

/* Feed input in pieces of at most step bytes (0: split at split_at only)
 * and write the events as text: "C<cmd>|" for a command (bytes escaped),
 * "+|" for a continuation, "E<status>:<tag>|" for an error. */
static void run(const imap_reader_limits *lim, const char *in, size_t len, size_t step,
                size_t split_at, buf *out)
{
	imap_reader *r = imap_reader_new(lim);
	size_t pos = 0;
	while (pos < len) {
		size_t end = step ? (pos + step < len ? pos + step : len)
		                  : (pos < split_at ? split_at : len);
		while (pos < end) {
			imap_read_status st;
			size_t used = imap_reader_feed(r, in + pos, end - pos, &st);
			pos += used;
			if (st == IMAP_READ_COMMAND) {
				size_t n;
				const char *c = imap_reader_command(r, &n);
				BUF_PUTC(out, 'C');
				for (size_t i = 0; i < n; i++) {
					unsigned char ch = (unsigned char)c[i];
					if (ch == '\r')
						BUF_PUTS(out, "\\r");
					else if (ch == '\n')
						BUF_PUTS(out, "\\n");
					else if (ch < 0x20 || ch >= 0x7f)
						BUF_PRINTF(out, "\\x%02x", ch);
					else
						BUF_PUTC(out, (char)ch);
				}
				BUF_PUTC(out, '|');
			} else if (st == IMAP_READ_CONTINUE) {
				BUF_PUTS(out, "+|");
			} else if (st == IMAP_READ_CLOSED) {
				BUF_PUTS(out, "X|");
				pos = len;
				break;
			} else if (st != IMAP_READ_MORE) {
				const char *tag = imap_reader_tag(r);
				BUF_PRINTF(out, "E%d:%s%s|", (int)st, tag ? tag : "-",
				           imap_reader_must_close(r) ? ":close" : "");
			} else {
				assert_int_equal(used, end - pos + used); /* MORE: all consumed */
			}
		}
	}
	if (imap_reader_in_command(r) && !imap_reader_must_close(r))
		BUF_PUTS(out, "P|");
	imap_reader_destroy(&r);
	assert_null(r);
}

typedef struct rcase {
	const char *in;
	size_t len;        /* 0: strlen */
	const char *want;
} rcase;

#define E(st) "E" #st
enum { LTL = IMAP_READ_LINE_TOO_LONG, LIT = IMAP_READ_LITERAL_TOO_LARGE,
       NST = IMAP_READ_NONSYNC_TOO_LARGE, CTL = IMAP_READ_COMMAND_TOO_LARGE,
       BLF = IMAP_READ_BARE_LF };

static char *expect_fmt(const char *w)
{
	/* "E{LTL}" style markers are written with numbers in the tables below */
	return (char *)w;
}

static const rcase cases[] = {
	{"a NOOP\r\n", 0, "Ca NOOP|"},
	{"a NOOP\r\nb CHECK\r\n", 0, "Ca NOOP|Cb CHECK|"},
	{"\r\n", 0, "C|"},
	{"a NOOP", 0, "P|"},
	{"a NOOP\r", 0, "P|"},
	/* synchronizing literal: continuation before the data */
	{"a LOGIN {3}\r\nbob {4}\r\npass\r\n", 0, "+|+|Ca LOGIN {3}\\r\\nbob {4}\\r\\npass|"},
	{"a X {0}\r\n\r\n", 0, "+|Ca X {0}\\r\\n|"},
	{"a X {0}\r\n {0}\r\n\r\n", 0, "+|+|Ca X {0}\\r\\n {0}\\r\\n|"},
	/* literal data is not scanned: CRLF and braces inside are data */
	{"a X {5}\r\n{1}\r\n\r\n", 0, "+|Ca X {5}\\r\\n{1}\\r\\n|"},
	{"a X {4}\r\na\nb\x00 Y\r\n", 17, "+|Ca X {4}\\r\\na\\nb\\x00 Y|"},
	/* non-synchronizing: no continuation */
	{"a X {3+}\r\nabc\r\n", 0, "Ca X {3+}\\r\\nabc|"},
	{"a X {3+}\r\nabc {2+}\r\nde\r\nb NOOP\r\n", 0, "Ca X {3+}\\r\\nabc {2+}\\r\\nde|Cb NOOP|"},
	/* literal8 */
	{"a APPEND x ~{3}\r\n\x00\x01\x02\r\n", 22, "+|Ca APPEND x ~{3}\\r\\n\\x00\\x01\\x02|"},
	{"a APPEND x ~{2+}\r\nab\r\n", 0, "Ca APPEND x ~{2+}\\r\\nab|"},
	/* not literal announcements */
	{"a X {3}x\r\n", 0, "Ca X {3}x|"},
	{"a X {}\r\n", 0, "Ca X {}|"},
	{"a X {+}\r\n", 0, "Ca X {+}|"},
	{"a X {3++}\r\n", 0, "Ca X {3++}|"},
	{"a X 3}\r\n", 0, "Ca X 3}|"},
	{"a X {3} \r\n", 0, "Ca X {3} |"},
	{"a X {3}\r\r\n", 0, "Ca X {3}\\r|"},
	/* bare LF ends the command with an error; the next line is fine */
	{"a NOOP\nb NOOP\r\n", 0, "E7:a|Cb NOOP|"},
	{"\n", 0, "E7:-|"},
	{"a X {3}\nb NOOP\r\n", 0, "E7:a|Cb NOOP|"},
	/* line of exactly 40 bytes is fine, 41 is too long; skipping to CRLF */
	{"a 34567890123456789012345678901234567890\r\nb NOOP\r\n", 0,
	 "Ca 34567890123456789012345678901234567890|Cb NOOP|"},
	{"a 3456789012345678901234567890123456789012345\r\nb NOOP\r\n", 0, "E3:a|Cb NOOP|"},
	{"a 34567890123456789012345678901234567890X\r\nb NOOP\r\n", 0, "E3:a|Cb NOOP|"},
	/* skipped line ending in a sync literal: the command ends there */
	{"a 3456789012345678901234567890123456789012345 {5}\r\nb NOOP\r\n", 0, "E3:a|Cb NOOP|"},
	/* ... in a non-sync literal: its bytes and the rest are swallowed */
	{"a 3456789012345678901234567890123456789012345 {5+}\r\nb NOO rest\r\nc NOOP\r\n", 0,
	 "E3:a|Cc NOOP|"},
	/* ... in a non-sync literal above max_literal: close */
	{"a 3456789012345678901234567890123456789012345 {101+}\r\nb NOOP\r\n", 0, "E3:a:close|X|"},
	/* no usable tag */
	{"123456789012345678901234567890123456789012345\r\nb NOOP\r\n", 0, "E3:-|Cb NOOP|"},
	{"a+ 3456789012345678901234567890123456789012345\r\n", 0, "E3:-|"},
	/* sync literal too large: refused before the data, command over */
	{"a APPEND x {101}\r\nb NOOP\r\n", 0, "E4:a|Cb NOOP|"},
	{"a APPEND x {100}\r\n", 0, "+|P|"},
	{"a APPEND x {99999999999999999999999}\r\nb NOOP\r\n", 0, "E4:a|Cb NOOP|"},
	/* LITERAL-: non-sync over max_nonsync swallowed, connection stays */
	{"a APPEND x {11+}\r\nhello world\r\nb NOOP\r\n", 0, "E5:a|Cb NOOP|"},
	{"a APPEND x {10+}\r\nhelloworld\r\nb NOOP\r\n", 0,
	 "Ca APPEND x {10+}\\r\\nhelloworld|Cb NOOP|"},
	{"a APPEND x {11+}\r\nhello world {1}\r\nb NOOP\r\n", 0, "E5:a|Cb NOOP|"},
	{"a APPEND x {11+}\r\nhello world {2+}\r\nxy\r\nb NOOP\r\n", 0, "E5:a|Cb NOOP|"},
	/* non-sync over max_literal: close, nothing more is read */
	{"a APPEND x {101+}\r\nb NOOP\r\n", 0, "E4:a:close|X|"},
	{"a APPEND x {99999999999999999999999+}\r\n", 0, "E4:a:close|"},
	/* command size: 200 bytes in all */
	{"a X {90}\r\n"
	 "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
	 " {94}\r\nb NOOP\r\n", 0, "+|E6:a|Cb NOOP|"},
	{"a X {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n"
	 "123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n"
	 "123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789\r\nb NOOP\r\n", 0,
	 "E6:a|Cb NOOP|"},
};

static void check_all_ways(const rcase *c, size_t i)
{
	size_t len = c->len ? c->len : strlen(c->in);
	imap_reader_limits lim = small_limits();
	const char *want = expect_fmt(c->want);
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	run(&lim, c->in, len, len, 0, &out);
	if (strcmp(buf_str(&out), want) != 0)
		fail_msg("case %zu whole: got \"%s\", want \"%s\"", i, buf_str(&out), want);
	for (size_t step = 1; step <= 3; step++) {
		buf_clear(&out);
		run(&lim, c->in, len, step, 0, &out);
		if (strcmp(buf_str(&out), want) != 0)
			fail_msg("case %zu step %zu: got \"%s\", want \"%s\"", i, step, buf_str(&out), want);
	}
	for (size_t at = 1; at < len; at++) {
		buf_clear(&out);
		run(&lim, c->in, len, 0, at, &out);
		if (strcmp(buf_str(&out), want) != 0)
			fail_msg("case %zu split at %zu: got \"%s\", want \"%s\"", i, at, buf_str(&out),
			         want);
	}
	buf_free(&out);
}

static void test_table(void **state)
{
	(void)LTL; (void)LIT; (void)NST; (void)CTL; (void)BLF;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_all_ways(&cases[i], i);
}

/* The status numbers in the table above. */
static void test_status_numbers(void **state)
{
	assert_int_equal(IMAP_READ_LINE_TOO_LONG, 3);
	assert_int_equal(IMAP_READ_LITERAL_TOO_LARGE, 4);
	assert_int_equal(IMAP_READ_NONSYNC_TOO_LARGE, 5);
	assert_int_equal(IMAP_READ_COMMAND_TOO_LARGE, 6);
	assert_int_equal(IMAP_READ_BARE_LF, 7);
}

/* Pipelined input: the reader stops after each command, leaving the rest. */
static void test_stops_after_command(void **state)
{
	imap_reader_limits lim = imap_reader_default_limits();
	imap_reader *r = imap_reader_new(&lim);
	const char *in = "a NOOP\r\nb NOOP\r\n";
	imap_read_status st;
	size_t used = imap_reader_feed(r, in, strlen(in), &st);
	assert_int_equal(st, IMAP_READ_COMMAND);
	assert_int_equal(used, 8);
	size_t n;
	assert_string_equal(imap_reader_command(r, &n), "a NOOP");
	assert_int_equal(n, 6);
	assert_false(imap_reader_in_command(r));
	used = imap_reader_feed(r, in + 8, 3, &st);
	assert_int_equal(st, IMAP_READ_MORE);
	assert_int_equal(used, 3);
	assert_true(imap_reader_in_command(r));
	/* the continuation comes before any literal byte is consumed */
	imap_reader_reset(r);
	const char *lit = "a X {2}\r\nxy\r\n";
	used = imap_reader_feed(r, lit, strlen(lit), &st);
	assert_int_equal(st, IMAP_READ_CONTINUE);
	assert_int_equal(used, 9);
	assert_true(imap_reader_in_command(r));
	imap_reader_destroy(&r);
	imap_reader_destroy(&r); /* NULL is fine */
}

/* Defaults (after login): 64 KiB line, LITERAL+ up to 64 MiB, 64 MiB literal. */
static void test_default_limits(void **state)
{
	imap_reader_limits lim = imap_reader_default_limits();
	assert_int_equal(lim.max_line, 65536);
	assert_int_equal(lim.max_nonsync, 64 * 1024 * 1024);
	assert_int_equal(lim.max_literal, 64 * 1024 * 1024);
	assert_false(lim.no_skip);
	imap_reader *r = imap_reader_new(&lim);
	imap_read_status st;
	const char *ok = "a APPEND x {4096+}\r\n";
	assert_int_equal(imap_reader_feed(r, ok, strlen(ok), &st), strlen(ok));
	assert_int_equal(st, IMAP_READ_MORE);
	imap_reader_reset(r);
	const char *ok2 = "a APPEND x {67108864+}\r\n";
	assert_int_equal(imap_reader_feed(r, ok2, strlen(ok2), &st), strlen(ok2));
	assert_int_equal(st, IMAP_READ_MORE);
	assert_false(imap_reader_must_close(r));
	imap_reader_reset(r);
	const char *big = "a APPEND x {67108864}\r\n";
	imap_reader_feed(r, big, strlen(big), &st);
	assert_int_equal(st, IMAP_READ_CONTINUE);
	imap_reader_reset(r);
	const char *huge = "a APPEND x {67108865}\r\n";
	imap_reader_feed(r, huge, strlen(huge), &st);
	assert_int_equal(st, IMAP_READ_LITERAL_TOO_LARGE);
	assert_string_equal(imap_reader_tag(r), "a");
	assert_false(imap_reader_must_close(r));
	/* a 64 KiB line passes, one byte more does not */
	imap_reader_reset(r);
	char *line = malloc(65536 + 2);
	memset(line, 'x', 65536);
	memcpy(line, "t NOOP ", 7);
	memcpy(line + 65536, "\r\n", 2);
	imap_reader_feed(r, line, 65538, &st);
	assert_int_equal(st, IMAP_READ_COMMAND);
	char *line2 = malloc(65537 + 2);
	memset(line2, 'x', 65537);
	memcpy(line2, "t NOOP ", 7);
	memcpy(line2 + 65537, "\r\n", 2);
	assert_int_equal(imap_reader_feed(r, line2, 65539, &st), 65539);
	assert_int_equal(st, IMAP_READ_LINE_TOO_LONG);
	assert_string_equal(imap_reader_tag(r), "t");
	free(line);
	free(line2);
	imap_reader_destroy(&r);
}

/* A closed reader consumes nothing until reset. */
static void test_closed(void **state)
{
	imap_reader_limits lim = small_limits();
	imap_reader *r = imap_reader_new(&lim);
	imap_read_status st;
	const char *in = "a X {500+}\r\nb NOOP\r\n";
	size_t used = imap_reader_feed(r, in, strlen(in), &st);
	assert_int_equal(st, IMAP_READ_LITERAL_TOO_LARGE);
	assert_true(imap_reader_must_close(r));
	assert_int_equal(imap_reader_feed(r, in + used, strlen(in) - used, &st), 0);
	assert_int_equal(st, IMAP_READ_CLOSED);
	imap_reader_reset(r);
	assert_false(imap_reader_must_close(r));
	imap_reader_feed(r, "b NOOP\r\n", 8, &st);
	assert_int_equal(st, IMAP_READ_COMMAND);
	imap_reader_destroy(&r);
}

/* Before login (no_skip): every size error closes at once, nothing of the
 * command is read as a command; a refused synchronizing literal gets no
 * continuation.  Errors that are not about size keep the connection. */
static const rcase preauth_cases[] = {
	{"a LOGIN {3}\r\nbob {4}\r\npass\r\n", 0, "+|+|Ca LOGIN {3}\\r\\nbob {4}\\r\\npass|"},
	{"a LOGIN {3+}\r\nbob {4+}\r\npass\r\n", 0, "Ca LOGIN {3+}\\r\\nbob {4+}\\r\\npass|"},
	/* synchronizing literal over the command limit: no "+", closed */
	{"a LOGIN {101}\r\nb NOOP\r\n", 0, "E4:a:close|X|"},
	{"a X {90}\r\n"
	 "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
	 " {94}\r\nb NOOP\r\n", 0, "+|E6:a:close|X|"},
	/* LITERAL- over 10 here (4096 in the server): closed */
	{"a LOGIN {11+}\r\nhello world\r\nb NOOP\r\n", 0, "E5:a:close|X|"},
	/* a flood of small non-synchronizing literals passes the command limit */
	{"a X {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n"
	 "123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n"
	 "123456789 {9+}\r\n123456789 {9+}\r\n123456789 {9+}\r\n123456789\r\nb NOOP\r\n", 0,
	 "E6:a:close|X|"},
	/* a long line: closed at the byte that passes the limit */
	{"a 3456789012345678901234567890123456789012345 {5+}\r\nb NOOP\r\n", 0, "E3:a:close|X|"},
	/* bare LF is no size error */
	{"a NOOP\nb NOOP\r\n", 0, "E7:a|Cb NOOP|"},
};

static void test_preauth_table(void **state)
{
	imap_reader_limits lim = small_limits();
	lim.no_skip = true;
	for (size_t i = 0; i < sizeof(preauth_cases) / sizeof(preauth_cases[0]); i++) {
		const rcase *c = &preauth_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		for (size_t step = 0; step <= 3; step++) {
			buf_clear(&out);
			run(&lim, c->in, len, step ? step : len, 0, &out);
			if (strcmp(buf_str(&out), c->want) != 0)
				fail_msg("preauth case %zu step %zu: got \"%s\", want \"%s\"", i, step,
				         buf_str(&out), c->want);
		}
		buf_free(&out);
	}
}

/* The limits before login, and raising them at login between commands. */
static void test_preauth_limits(void **state)
{
	imap_reader_limits lim = imap_reader_preauth_limits();
	assert_true(lim.no_skip);
	assert_int_equal(lim.max_command, 8192);
	assert_int_equal(lim.max_nonsync, 4096);
	imap_reader *r = imap_reader_new(&lim);
	imap_read_status st;
	const char *big = "a LOGIN {100000}\r\n";
	assert_int_equal(imap_reader_feed(r, big, strlen(big), &st), strlen(big));
	assert_int_equal(st, IMAP_READ_LITERAL_TOO_LARGE);
	assert_true(imap_reader_must_close(r));
	imap_reader_reset(r);
	const char *fits = "a LOGIN {8000}\r\n";
	imap_reader_feed(r, fits, strlen(fits), &st);
	assert_int_equal(st, IMAP_READ_CONTINUE);
	imap_reader_reset(r);
	imap_reader_feed(r, "a NOOP\r\n", 8, &st);
	assert_int_equal(st, IMAP_READ_COMMAND);
	imap_reader_limits after = imap_reader_default_limits();
	imap_reader_set_limits(r, &after);
	const char *append = "b APPEND INBOX {26214400}\r\n";
	imap_reader_feed(r, append, strlen(append), &st);
	assert_int_equal(st, IMAP_READ_CONTINUE);
	imap_reader_destroy(&r);
}

static void test_messages(void **state)
{
	for (int st = IMAP_READ_LINE_TOO_LONG; st <= IMAP_READ_CLOSED; st++) {
		const char *m = imap_read_status_message((imap_read_status)st);
		assert_true(strlen(m) > 5);
		assert_int_equal(m[strlen(m) - 1], '.');
	}
	assert_string_equal(imap_read_status_message(IMAP_READ_COMMAND), "");
}

/* An endless line never grows memory: feed 10 MB without a line end. */
static void test_endless_line(void **state)
{
	imap_reader_limits lim = small_limits();
	imap_reader *r = imap_reader_new(&lim);
	char chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	imap_read_status st;
	for (int i = 0; i < 2500; i++) {
		assert_int_equal(imap_reader_feed(r, chunk, sizeof(chunk), &st), sizeof(chunk));
		assert_int_equal(st, IMAP_READ_MORE);
	}
	imap_reader_feed(r, "\r\n", 2, &st);
	assert_int_equal(st, IMAP_READ_LINE_TOO_LONG);
	assert_null(imap_reader_tag(r));
	imap_reader_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_numbers),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_stops_after_command),
		cmocka_unit_test(test_default_limits),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_preauth_table),
		cmocka_unit_test(test_preauth_limits),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_endless_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
