/* test_buf.c — unit tests for lib/buf.c: the bounded byte buffer.  The hard
 * maximum is the point of the module, so most cases check that an append
 * which would pass it fails and leaves the buffer exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"

/* The buffer holds exactly these bytes, NUL-terminated, within its maximum. */
static void expect_buf(const buf *b, const void *want, size_t n)
{
	assert_int_equal(b->len, n);
	assert_true(b->len <= b->max);
	if (n > 0)
		assert_memory_equal(b->data, want, n);
	if (b->data != NULL) {
		assert_true(b->cap > b->len);
		assert_int_equal(b->data[b->len], '\0');
	}
}

/* The unbounded kind: BUF_* appends grow without a maximum and return
 * nothing; on a bounded buffer they abort on the first call, however
 * short the text (run in a child so the abort can be seen). */
static void test_unbounded_appends(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (int i = 0; i < 10000; i++)
		BUF_PRINTF(&b, "%04d", i);
	BUF_PUTS(&b, "|");
	BUF_PUTC(&b, '!');
	BUF_APPEND(&b, "\0z", 2);
	assert_int_equal(b.len, 40000 + 4);
	assert_memory_equal(b.data, "0000000100020003", 16);
	assert_memory_equal(b.data + 40000, "|!\0z", 4);
	buf_free(&b);
}

static void test_unbounded_append_on_bounded_aborts(void **state)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(STDERR_FILENO); /* the BUG line is expected */
		buf b;
		buf_init(&b, 1000);
		BUF_PUTS(&b, "x");
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

static void test_init_empty(void **state)
{
	buf b;
	buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
	buf_free(&b); /* a second free is harmless */
	assert_null(b.data);
}

static void test_append_basic(void **state)
{
	buf b;
	buf_init(&b, 1000);
	assert_true(buf_append(&b, "abc", 3));
	assert_true(buf_puts(&b, "def"));
	assert_true(buf_putc(&b, 'g'));
	expect_buf(&b, "abcdefg", 7);
	assert_string_equal(buf_str(&b), "abcdefg");
	/* appending nothing succeeds and changes nothing */
	assert_true(buf_append(&b, "", 0));
	assert_true(buf_puts(&b, ""));
	expect_buf(&b, "abcdefg", 7);
	buf_free(&b);
}

static void test_append_binary(void **state)
{
	buf b;
	buf_init(&b, 16);
	static const char bin[] = {'a', '\0', 'b', '\0', '\xff'};
	assert_true(buf_append(&b, bin, sizeof(bin)));
	expect_buf(&b, bin, sizeof(bin));
	buf_free(&b);
}

static void test_append_empty_allocates_string(void **state)
{
	buf b;
	buf_init(&b, 10);
	assert_true(buf_append(&b, NULL, 0));
	assert_string_equal(buf_str(&b), "");
	expect_buf(&b, "", 0);
	buf_free(&b);
}

/* Filling to exactly max works; one more byte fails, in every append form. */
static void test_max_exact(void **state)
{
	buf b;
	buf_init(&b, 8);
	assert_true(buf_puts(&b, "12345678"));
	expect_buf(&b, "12345678", 8);
	assert_false(buf_putc(&b, 'x'));
	assert_false(buf_puts(&b, "x"));
	assert_false(buf_append(&b, "x", 1));
	assert_false(buf_printf(&b, "%d", 1));
	expect_buf(&b, "12345678", 8);
	/* appending nothing still succeeds at the maximum */
	assert_true(buf_append(&b, "", 0));
	assert_true(buf_printf(&b, "%s", ""));
	expect_buf(&b, "12345678", 8);
	buf_free(&b);
}

/* An append that would pass max is refused whole: no partial copy. */
static void test_max_no_partial_append(void **state)
{
	static const struct {
		size_t max;
		const char *first;
		const char *second;
		bool ok;
	} cases[] = {
		{0, "", "a", false},
		{1, "", "ab", false},
		{1, "a", "b", false},
		{5, "abc", "de", true},
		{5, "abc", "def", false},
		{5, "", "abcdef", false},
		{64, "", "", true},
		{64, "x", "0123456789012345678901234567890123456789012345678901234567890123", false},
		{65, "x", "0123456789012345678901234567890123456789012345678901234567890123", true},
		{200, "0123456789012345678901234567890123456789012345678901234567890123",
		 "0123456789012345678901234567890123456789012345678901234567890123", true},
		{127, "0123456789012345678901234567890123456789012345678901234567890123",
		 "0123456789012345678901234567890123456789012345678901234567890123", false},
		{128, "0123456789012345678901234567890123456789012345678901234567890123",
		 "0123456789012345678901234567890123456789012345678901234567890123", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf b;
		buf_init(&b, cases[i].max);
		assert_true(buf_puts(&b, cases[i].first));
		size_t l1 = strlen(cases[i].first), l2 = strlen(cases[i].second);
		bool ok = buf_puts(&b, cases[i].second);
		if (ok != cases[i].ok)
			fail_msg("case %zu: max %zu, \"%s\" + \"%s\": got %d", i, cases[i].max,
			         cases[i].first, cases[i].second, ok);
		if (ok) {
			char *want = malloc(l1 + l2 + 1);
			memcpy(want, cases[i].first, l1);
			memcpy(want + l1, cases[i].second, l2);
			expect_buf(&b, want, l1 + l2);
			free(want);
		} else {
			expect_buf(&b, cases[i].first, l1);
			assert_string_equal(buf_str(&b), cases[i].first);
		}
		buf_free(&b);
	}
}

/* A huge size must not overflow the "len + n" check. */
static void test_max_huge_append(void **state)
{
	buf b;
	buf_init(&b, 16);
	assert_true(buf_puts(&b, "abc"));
	assert_false(buf_append(&b, "x", SIZE_MAX));
	assert_false(buf_append(&b, "x", SIZE_MAX - 2));
	expect_buf(&b, "abc", 3);
	buf_free(&b);
}

/* Growing byte by byte up to a large maximum never exceeds it. */
static void test_grow_to_max(void **state)
{
	buf b;
	const size_t max = 10000;
	buf_init(&b, max);
	for (size_t i = 0; i < max; i++)
		assert_true(buf_putc(&b, (char)('a' + i % 26)));
	assert_false(buf_putc(&b, 'z'));
	assert_int_equal(b.len, max);
	assert_true(b.cap <= max + 1);
	for (size_t i = 0; i < max; i++)
		assert_int_equal(b.data[i], (char)('a' + i % 26));
	assert_int_equal(b.data[max], '\0');
	buf_free(&b);
}

static void test_printf(void **state)
{
	buf b;
	buf_init(&b, 100);
	assert_true(buf_printf(&b, "%d-%s", 42, "x"));
	assert_true(buf_printf(&b, "|%03d|", 7));
	expect_buf(&b, "42-x|007|", 9);
	assert_true(buf_printf(&b, "%s", ""));
	expect_buf(&b, "42-x|007|", 9);
	buf_free(&b);
}

static void test_printf_first_append_empty(void **state)
{
	buf b;
	buf_init(&b, 10);
	assert_true(buf_printf(&b, "%s", ""));
	assert_string_equal(buf_str(&b), "");
	expect_buf(&b, "", 0);
	buf_free(&b);
}

/* printf past the maximum fails and leaves the contents unchanged. */
static void test_printf_max(void **state)
{
	buf b;
	buf_init(&b, 10);
	assert_true(buf_puts(&b, "abcde"));
	assert_true(buf_printf(&b, "%05d", 12)); /* exactly 10 */
	expect_buf(&b, "abcde00012", 10);
	buf_clear(&b);
	assert_true(buf_puts(&b, "abcde"));
	assert_false(buf_printf(&b, "%06d", 12)); /* would be 11 */
	expect_buf(&b, "abcde", 5);
	assert_false(buf_printf(&b, "%s", "a much longer string than fits"));
	expect_buf(&b, "abcde", 5);
	buf_free(&b);
}

static bool call_vprintf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool call_vprintf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ok;
}

static void test_vprintf(void **state)
{
	buf b;
	buf_init(&b, 6);
	assert_true(call_vprintf(&b, "%s=%d", "ab", 12));
	expect_buf(&b, "ab=12", 5);
	assert_false(call_vprintf(&b, "%d", 12));
	expect_buf(&b, "ab=12", 5);
	assert_true(call_vprintf(&b, "%c", '!'));
	expect_buf(&b, "ab=12!", 6);
	buf_free(&b);
}

static void test_clear_keeps_storage(void **state)
{
	buf b;
	buf_init(&b, 100);
	assert_true(buf_puts(&b, "hello"));
	char *data = b.data;
	size_t cap = b.cap;
	buf_clear(&b);
	expect_buf(&b, "", 0);
	assert_string_equal(buf_str(&b), "");
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_true(buf_puts(&b, "xy"));
	expect_buf(&b, "xy", 2);
	buf_free(&b);
	/* clearing a buffer that never allocated is fine */
	buf_init(&b, 10);
	buf_clear(&b);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void test_consume(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{"abcdef", 0, "abcdef"},
		{"abcdef", 1, "bcdef"},
		{"abcdef", 3, "def"},
		{"abcdef", 5, "f"},
		{"abcdef", 6, ""},
		{"", 0, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf b;
		buf_init(&b, 100);
		assert_true(buf_puts(&b, cases[i].in));
		buf_consume(&b, cases[i].n);
		expect_buf(&b, cases[i].out, strlen(cases[i].out));
		assert_string_equal(buf_str(&b), cases[i].out);
		buf_free(&b);
	}
}

/* Consuming frees room under the maximum for new appends. */
static void test_consume_then_append(void **state)
{
	buf b;
	buf_init(&b, 6);
	assert_true(buf_puts(&b, "abcdef"));
	assert_false(buf_putc(&b, 'g'));
	buf_consume(&b, 2);
	assert_true(buf_puts(&b, "gh"));
	expect_buf(&b, "cdefgh", 6);
	assert_false(buf_putc(&b, 'i'));
	expect_buf(&b, "cdefgh", 6);
	buf_free(&b);
}

static void test_consume_binary(void **state)
{
	buf b;
	buf_init(&b, 10);
	assert_true(buf_append(&b, "a\0b\0c", 5));
	buf_consume(&b, 2);
	expect_buf(&b, "b\0c", 3);
	buf_free(&b);
}

static void test_consume_unallocated(void **state)
{
	buf b;
	buf_init(&b, 10);
	buf_consume(&b, 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void test_steal(void **state)
{
	buf b;
	buf_init(&b, 100);
	assert_true(buf_puts(&b, "stolen"));
	char *s = buf_steal(&b);
	assert_string_equal(s, "stolen");
	/* the buffer is reset and reusable with the same maximum */
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 100);
	assert_string_equal(buf_str(&b), "");
	assert_true(buf_puts(&b, "again"));
	expect_buf(&b, "again", 5);
	char *s2 = buf_steal(&b);
	assert_string_equal(s2, "again");
	assert_ptr_not_equal(s, s2);
	free(s);
	free(s2);
	buf_free(&b);
}

static void test_steal_empty(void **state)
{
	buf b;
	buf_init(&b, 10);
	char *s = buf_steal(&b); /* never allocated: a fresh "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_true(buf_puts(&b, "x"));
	buf_clear(&b);
	s = buf_steal(&b); /* allocated but cleared */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_null(b.data);
	buf_free(&b);
}

static void test_reuse_after_free(void **state)
{
	buf b;
	buf_init(&b, 4);
	assert_true(buf_puts(&b, "abcd"));
	buf_free(&b);
	buf_init(&b, 3);
	assert_false(buf_puts(&b, "abcd"));
	assert_true(buf_puts(&b, "abc"));
	expect_buf(&b, "abc", 3);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unbounded_appends),
		cmocka_unit_test(test_unbounded_append_on_bounded_aborts),
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_append_basic),
		cmocka_unit_test(test_append_binary),
		cmocka_unit_test(test_append_empty_allocates_string),
		cmocka_unit_test(test_max_exact),
		cmocka_unit_test(test_max_no_partial_append),
		cmocka_unit_test(test_max_huge_append),
		cmocka_unit_test(test_grow_to_max),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_printf_first_append_empty),
		cmocka_unit_test(test_printf_max),
		cmocka_unit_test(test_vprintf),
		cmocka_unit_test(test_clear_keeps_storage),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_consume_then_append),
		cmocka_unit_test(test_consume_binary),
		cmocka_unit_test(test_consume_unallocated),
		cmocka_unit_test(test_steal),
		cmocka_unit_test(test_steal_empty),
		cmocka_unit_test(test_reuse_after_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
