/* test_strutil.c — unit tests for the word-at-a-time scans of lib/strutil.c
 * (str_printable_run, str_has_8bit) and lib/utf8.c's ASCII fast path: every
 * byte value at every place in and around an eight-byte word gives the
 * answer of the plain byte-by-byte loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "lib/utf8.h"

static size_t slow_run(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e)
		i++;
	return i;
}

static bool slow_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static void test_hex(void **state)
{
	char out[2 * 256 + 1];
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	str_hex(all, sizeof all, out);
	assert_int_equal(strlen(out), 512);
	for (int i = 0; i < 256; i++) {
		char want[3];
		snprintf(want, sizeof want, "%02x", i);
		assert_memory_equal(out + 2 * i, want, 2);
	}
	memset(out, 'x', sizeof out);
	str_hex(all, 0, out);
	assert_string_equal(out, "");
}

static void test_every_byte_everywhere(void **state)
{
	(void)state;
	char s[40];
	for (size_t len = 0; len <= 33; len++)
		for (size_t at = 0; at < len; at++)
			for (int b = 0; b < 256; b++) {
				memset(s, 'a', sizeof s);
				s[at] = (char)b;
				if (str_printable_run(s, len) != slow_run(s, len))
					fail_msg("run: len %zu, byte 0x%02x at %zu", len, b, at);
				if (str_has_8bit(s, len) != slow_8bit(s, len))
					fail_msg("8bit: len %zu, byte 0x%02x at %zu", len, b, at);
			}
	/* the run stops before the end of a word, also from an unaligned start */
	memcpy(s, "0123456789abcdef\x7f" "0123", 21);
	assert_int_equal(str_printable_run(s + 1, 20), 15);
	assert_int_equal(str_printable_run(s, 0), 0);
	assert_false(str_has_8bit(s, 0));
}

/* The one-code-point-at-a-time check the fast path must agree with. */
static bool slow_utf8(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = imap_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void test_utf8_fast_path(void **state)
{
	(void)state;
	static const char *const good[] = {"a", "abcdefgh", "0123456789 long ASCII run", "\n", "\xc3\xa9",
	                                   "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	static const char *const bad[] = {"\xc3", "\x80", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xff"};
	srand(12345);
	int valid = 0;
	for (int round = 0; round < 20000; round++) {
		char s[160];
		size_t len = 0;
		while (len < 100) {
			/* mostly ASCII, some multi-byte characters, now and then a fault */
			int r = rand() % 100;
			const char *p = r < 6 ? bad[rand() % 6] : r < 20 ? good[4 + rand() % 3] : good[rand() % 4];
			memcpy(s + len, p, strlen(p));
			len += strlen(p);
		}
		valid += slow_utf8(s, len);
		if (imap_utf8_valid(s, len) != slow_utf8(s, len))
			fail_msg("round %d: fast %d, slow %d", round, imap_utf8_valid(s, len), slow_utf8(s, len));
	}
	/* both outcomes were tried many times */
	assert_true(valid > 2000 && valid < 18000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_every_byte_everywhere),
		cmocka_unit_test(test_utf8_fast_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
