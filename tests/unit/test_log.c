/* test_log.c — unit tests for lib/log.c: the one quoting rule of key=value
 * lines.  Each case logs through the real writer with stderr pointed at a
 * temporary file and compares what follows "event=t " on the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

static int saved_stderr = -1;
static FILE *capture;

static int setup(void **state)
{
	capture = tmpfile();
	assert_non_null(capture);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
	return 0;
}

static int teardown(void **state)
{
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	return 0;
}

/* The pairs of the last line logged since the previous call. */
static const char *last_pairs(void)
{
	static char line[4096];
	fflush(capture);
	rewind(capture);
	char *got = NULL;
	while (fgets(line, sizeof line, capture) != NULL)
		got = line;
	assert_non_null(got);
	assert_true(ftruncate(fileno(capture), 0) == 0);
	rewind(capture);
	line[strcspn(line, "\n")] = '\0';
	char *p = strstr(line, " level=info event=t ");
	assert_non_null(p);
	return p + strlen(" level=info event=t ");
}

#define EXPECT(want, ...) do { \
		log_event(LOG_LVL_INFO, "t", __VA_ARGS__); \
		assert_string_equal(last_pairs(), want); \
	} while (0)

static void test_bare_when_safe(void **state)
{
	EXPECT("k=abc n=12", "k=%s n=%d", "abc", 12);
	EXPECT("k=a.b-c@d:e/f", "k=%s", "a.b-c@d:e/f");
	EXPECT("n=18446744073709551615 m=-3 z=7", "n=%llu m=%ld z=%zu", 18446744073709551615ull, -3L,
	       (size_t)7);
}

static void test_quoted_when_needed(void **state)
{
	EXPECT("k=\"a b\"", "k=%s", "a b");
	EXPECT("k=\"x=y\"", "k=%s", "x=y");
	EXPECT("k=\"say \\\"hi\\\"\"", "k=%s", "say \"hi\"");
	EXPECT("k=\"back\\\\slash\"", "k=%s", "back\\slash");
	EXPECT("k=\"two\\x0alines\\x0d\\x7f\"", "k=%s", "two\nlines\r\x7f");
	EXPECT("k=\"\"", "k=%s", "");
	const char *volatile none = NULL; /* hidden from the printf-format check */
	EXPECT("k=-", "k=%s", none);
}

/* key="%s" in a format is the same value as key=%s: quoted once, and only
 * when it needs it (the doubled quotes of reason=""..."" are gone). */
static void test_quoted_format_not_doubled(void **state)
{
	EXPECT("reason=\"mailbox full\"", "reason=\"%s\"", "mailbox full");
	EXPECT("reason=full", "reason=\"%s\"", "full");
	EXPECT("reason=\"\" n=1", "reason=\"%s\" n=%d", "", 1);
	EXPECT("a=\"say \\\"hi\\\"\" b=c", "a=\"%s\" b=%s", "say \"hi\"", "c");
}

/* Literal text in the format, quotes included, is copied as it is. */
static void test_literal_text_kept(void **state)
{
	EXPECT("error=\"cannot read it\" k=v", "error=\"cannot read it\" k=%s", "v");
	EXPECT("pct=100%", "pct=100%%");
	EXPECT("q=\"%d\"", "q=\"%%d\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_when_safe),
		cmocka_unit_test(test_quoted_when_needed),
		cmocka_unit_test(test_quoted_format_not_doubled),
		cmocka_unit_test(test_literal_text_kept),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
