/* test_dotstream.c — unit tests for smtp/dotstream.c, the DATA / BDAT
 * decoder.  Every case is a table row (input, decoded output, bare_eol, end
 * found, bytes consumed) and is run four ways: in one piece, one byte at a
 * time, split in two at every offset, and split in three at every pair of
 * offsets.  All ways must give the same result.  Each feed gets an output
 * buffer of exactly the documented capacity (n + 2) on the heap, so that
 * ASan catches a decoder that writes more.
 *
 * The smuggling rows are the point: only <CRLF>.<CRLF> (or ".<CRLF>" as the
 * very first line) ends the data; "<LF>.<LF>", "<CR>.<CR>" and the rest of
 * the family are ordinary (bare_eol) data, and the bytes after the real end
 * belong to the next command and are not consumed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/dotstream.h"

/* String literal with its length (may contain NUL bytes). */
#define S(lit) lit, sizeof(lit) - 1

typedef struct dcase {
	const char *in;
	size_t in_len;
	const char *out;
	size_t out_len;
	bool bare;
	bool end;
	size_t left;        /* bytes at the end of in that must stay unconsumed */
} dcase;

#define ALL 0

typedef struct result {
	char *out;
	size_t out_len;
	bool end;
	bool bare;
	size_t consumed;
	uint64_t wire;
} result;

/* Feed in[0..n) in the pieces that end at cuts[0..ncuts) (then at n). */
static void run(const char *in, size_t n, bool raw, const size_t *cuts, size_t ncuts,
                result *r)
{
	dotstream d;
	if (raw)
		dotstream_init_raw(&d);
	else
		dotstream_init(&d);
	r->out = malloc(2 * n + 16);
	assert_non_null(r->out);
	r->out_len = 0;
	r->end = false;
	r->consumed = 0;
	size_t start = 0;
	for (size_t k = 0; k <= ncuts && !r->end; k++) {
		size_t stop = k < ncuts ? cuts[k] : n;
		size_t len = stop - start;
		char *piece = malloc(len ? len : 1);   /* exact size: ASan sees overreads */
		char *out = malloc(len + 2);           /* the documented capacity */
		assert_non_null(piece);
		assert_non_null(out);
		memcpy(piece, in + start, len);
		size_t out_len = (size_t)-1;
		bool end = true;
		size_t used = dotstream_feed(&d, piece, len, out, &out_len, &end);
		assert_true(out_len <= len + 2);
		assert_true(used <= len);
		if (!end)
			assert_int_equal(used, len);
		memcpy(r->out + r->out_len, out, out_len);
		r->out_len += out_len;
		r->consumed += used;
		r->end = end;
		free(piece);
		free(out);
		start = stop;
	}
	if (raw)
		dotstream_finish_raw(&d);
	r->bare = d.bare_eol;
	r->wire = d.wire_bytes;
}

static char *show(const char *s, size_t n)
{
	char *o = malloc(4 * n + 1), *p = o;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			p += sprintf(p, "\\r");
		else if (c == '\n')
			p += sprintf(p, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = (char)c;
	}
	*p = '\0';
	return o;
}

/* Compare, print the difference; false on a mismatch. */
static bool check(const dcase *c, size_t idx, bool raw, const result *r, const char *how)
{
	size_t want_consumed = c->in_len - c->left;
	bool ok = r->out_len == c->out_len && memcmp(r->out, c->out, c->out_len) == 0 &&
	          r->end == c->end && r->bare == c->bare && r->consumed == want_consumed &&
	          r->wire == (uint64_t)want_consumed;
	if (!ok) {
		char *in = show(c->in, c->in_len);
		char *want = show(c->out, c->out_len);
		char *got = show(r->out, r->out_len);
		print_error("%s case %zu \"%s\" fed %s:\n  want out \"%s\" end %d bare %d consumed %zu\n"
		            "  got  out \"%s\" end %d bare %d consumed %zu wire %llu\n",
		            raw ? "raw" : "data", idx, in, how, want, c->end, c->bare, want_consumed,
		            got, r->end, r->bare, r->consumed, (unsigned long long)r->wire);
		free(in);
		free(want);
		free(got);
	}
	return ok;
}

/* Run one case every way; stop at the first way that differs. */
static void run_case(const dcase *c, size_t idx, bool raw)
{
	result r;
	char how[64];
	size_t n = c->in_len;
	bool ok;

	run(c->in, n, raw, NULL, 0, &r);
	ok = check(c, idx, raw, &r, "whole");
	free(r.out);

	size_t *cuts = malloc((n + 1) * sizeof(*cuts));
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	if (ok) {
		run(c->in, n, raw, cuts, n ? n - 1 : 0, &r);
		ok = check(c, idx, raw, &r, "one byte at a time");
		free(r.out);
	}
	free(cuts);

	for (size_t a = 0; ok && a <= n; a++) {
		size_t cut2[1] = {a};
		run(c->in, n, raw, cut2, 1, &r);
		snprintf(how, sizeof(how), "split at %zu", a);
		ok = check(c, idx, raw, &r, how);
		free(r.out);
	}
	for (size_t a = 0; ok && a <= n; a++)
		for (size_t b = a; ok && b <= n; b++) {
			size_t cut3[2] = {a, b};
			run(c->in, n, raw, cut3, 2, &r);
			snprintf(how, sizeof(how), "split at %zu and %zu", a, b);
			ok = check(c, idx, raw, &r, how);
			free(r.out);
		}
	if (!ok)
		fail();
}

static void run_table(const dcase *cases, size_t n, bool raw)
{
	for (size_t i = 0; i < n; i++)
		run_case(&cases[i], i, raw);
}

/* Plain decoding: CRLF -> LF, dot-unstuffing, where the end is. */
static const dcase data_cases[] = {
	{S(""), S(""), false, false, ALL},
	{S("abc"), S("abc"), false, false, ALL},
	{S("abc\r\n"), S("abc\n"), false, false, ALL},
	{S("abc\r"), S("abc"), false, false, ALL},          /* CR waits for its LF */
	{S("abc\r\ndef\r\n"), S("abc\ndef\n"), false, false, ALL},
	/* the end of data */
	{S(".\r\n"), S(""), false, true, 0},                /* empty message */
	{S(".\r\nQUIT\r\n"), S(""), false, true, 6},
	{S("abc\r\n.\r\n"), S("abc\n"), false, true, ALL},
	{S("abc\r\n.\r\nQUIT\r\n"), S("abc\n"), false, true, 6},
	{S("a\r\n.\r\n.\r\n"), S("a\n"), false, true, 3},    /* the second end is not ours */
	{S("a\r\n.\r\nMAIL FROM:<x@y>\r\nRCPT TO:<z@y>\r\nDATA\r\n"), S("a\n"), false, true, 38},
	{S("\r\n.\r\n"), S("\n"), false, true, ALL},
	{S("\r\n\r\n.\r\n"), S("\n\n"), false, true, ALL},
	{S("a\r\n\r\n.\r\nX"), S("a\n\n"), false, true, 1},
	/* dot-stuffing: a leading dot is removed, other dots are data */
	{S("..\r\n.\r\n"), S(".\n"), false, true, 0},
	{S("a\r\n..b\r\n.\r\n"), S("a\n.b\n"), false, true, ALL},
	{S("a\r\n...\r\n.\r\n"), S("a\n..\n"), false, true, ALL},
	{S("a\r\n.b\r\n.\r\n"), S("a\nb\n"), false, true, ALL},
	{S(".b\r\n.\r\n"), S("b\n"), false, true, ALL},
	{S("a.\r\n.\r\n"), S("a.\n"), false, true, ALL},
	{S("a\r\nb.c\r\n.\r\n"), S("a\nb.c\n"), false, true, ALL},
	{S("a\r\n. \r\n.\r\n"), S("a\n \n"), false, true, ALL},
	{S("a\r\n..\r\n"), S("a\n.\n"), false, false, ALL},  /* ".." is a stuffed ".", not the end */
	{S("a\r\n.."), S("a\n."), false, false, ALL},
	{S("a\r\n."), S("a\n"), false, false, ALL},          /* undecided dot: nothing yet */
	{S("a\r\n.\r"), S("a\n"), false, false, ALL},
	{S("\r\n"), S("\n"), false, false, ALL},
	/* binary bytes pass through */
	{S("a\0b\xff\r\n.\r\n"), S("a\0b\xff\n"), false, true, ALL},
	{S(".\0\r\n.\r\n"), S("\0\n"), false, true, ALL},
	/* bare line ends before a real end are kept and flagged */
	{S("a\nb\r\n.\r\n"), S("a\nb\n"), true, true, ALL},
	{S("a\rb\r\n.\r\n"), S("a\rb\n"), true, true, ALL},
	{S("a\r\rb\r\n.\r\n"), S("a\r\rb\n"), true, true, ALL},
	{S("a\r\r\n.\r\n"), S("a\r\n"), true, true, ALL},   /* CR then CRLF: the CRLF counts */
	{S("a\n\r\n.\r\n"), S("a\n\n"), true, true, ALL},
	{S("a\r\n\n.\r\n.\r\n"), S("a\n\n.\n"), true, true, ALL},
};

static void test_data_table(void **state)
{
	run_table(data_cases, sizeof(data_cases) / sizeof(data_cases[0]), false);
}

/* The SMTP smuggling family.  None of these ends the data: each is followed
 * by more text, then the real end, then a smuggled command that must stay
 * unconsumed. */
static const dcase smuggling_cases[] = {
	{S("a\n.\nb\r\n.\r\nRSET\r\n"), S("a\n.\nb\n"), true, true, 6},
	{S("a\n.\r\nb\r\n.\r\nRSET\r\n"), S("a\n.\nb\n"), true, true, 6},
	{S("a\r.\rb\r\n.\r\nRSET\r\n"), S("a\r.\rb\n"), true, true, 6},
	{S("a\r\n.\rb\r\n.\r\nRSET\r\n"), S("a\n\rb\n"), true, true, 6},
	{S("a\r\n.\nb\r\n.\r\nRSET\r\n"), S("a\n\nb\n"), true, true, 6},
	{S("a\r.\r\nb\r\n.\r\nRSET\r\n"), S("a\r.\nb\n"), true, true, 6},
	{S("a\r\n.\r\r\nb\r\n.\r\nRSET\r\n"), S("a\n\r\nb\n"), true, true, 6},
	{S("a\n.\rb\r\n.\r\nRSET\r\n"), S("a\n.\rb\n"), true, true, 6},
	{S("a\r.\nb\r\n.\r\nRSET\r\n"), S("a\r.\nb\n"), true, true, 6},
	{S("a\n\n.\n\nb\r\n.\r\nRSET\r\n"), S("a\n\n.\n\nb\n"), true, true, 6},
	{S("a\r\r.\r\rb\r\n.\r\nRSET\r\n"), S("a\r\r.\r\rb\n"), true, true, 6},
	{S("a\r\n.\n\r\nb\r\n.\r\nRSET\r\n"), S("a\n\n\nb\n"), true, true, 6},
	{S("a\r\n.\r\r\r\nb\r\n.\r\nRSET\r\n"), S("a\n\r\r\nb\n"), true, true, 6},
	{S("a\r\n.\r.\r\nb\r\n.\r\nRSET\r\n"), S("a\n\r.\nb\n"), true, true, 6},
	/* the same at the very start of the data */
	{S(".\nb\r\n.\r\nRSET\r\n"), S("\nb\n"), true, true, 6},
	{S(".\rb\r\n.\r\nRSET\r\n"), S("\rb\n"), true, true, 6},
	{S(".\r\rb\r\n.\r\nRSET\r\n"), S("\r\rb\n"), true, true, 6},
	{S("\n.\nb\r\n.\r\nRSET\r\n"), S("\n.\nb\n"), true, true, 6},
	{S("\n.\r\nb\r\n.\r\nRSET\r\n"), S("\n.\nb\n"), true, true, 6},
	{S("\r.\rb\r\n.\r\nRSET\r\n"), S("\r.\rb\n"), true, true, 6},
	{S("\r.\r\nb\r\n.\r\nRSET\r\n"), S("\r.\nb\n"), true, true, 6},
	/* a smuggling sequence with a whole SMTP transaction behind it */
	{S("x\n.\nMAIL FROM:<a@b>\n"), S("x\n.\nMAIL FROM:<a@b>\n"), true, false, ALL},
	{S("x\r\n.\nMAIL FROM:<a@b>\r\n"), S("x\n\nMAIL FROM:<a@b>\n"), true, false, ALL},
	{S("x\n.\r\nMAIL FROM:<a@b>\r\n"), S("x\n.\nMAIL FROM:<a@b>\n"), true, false, ALL},
	{S("x\r.\r\nMAIL FROM:<a@b>\r\n"), S("x\r.\nMAIL FROM:<a@b>\n"), true, false, ALL},
	{S("x\r\n.\rMAIL FROM:<a@b>\r\n"), S("x\n\rMAIL FROM:<a@b>\n"), true, false, ALL},
	{S("x\r.\rMAIL FROM:<a@b>\r\n"), S("x\r.\rMAIL FROM:<a@b>\n"), true, false, ALL},
	{S("x\r\n.\r\r\nMAIL FROM:<a@b>\r\n"), S("x\n\r\nMAIL FROM:<a@b>\n"), true, false, ALL},
	/* only bare endings seen, data still open */
	{S("a\n.\n"), S("a\n.\n"), true, false, ALL},
	{S("a\r\n.\n"), S("a\n\n"), true, false, ALL},
	{S("a\r.\r"), S("a\r."), true, false, ALL},          /* last CR still pending */
	{S(".\n"), S("\n"), true, false, ALL},
	{S(".\r\r\n"), S("\r\n"), true, false, ALL},
};

static void test_smuggling_table(void **state)
{
	run_table(smuggling_cases, sizeof(smuggling_cases) / sizeof(smuggling_cases[0]), false);
}

/* Only the first line may be ".\r\n" without a CRLF before it. */
static void test_end_only_at_line_start(void **state)
{
	static const dcase cases[] = {
		{S("x.\r\n"), S("x.\n"), false, false, ALL},
		{S(" .\r\n"), S(" .\n"), false, false, ALL},
		{S("a\r\n .\r\n"), S("a\n .\n"), false, false, ALL},
		{S("a\r\nx.\r\n"), S("a\nx.\n"), false, false, ALL},
	};
	run_table(cases, sizeof(cases) / sizeof(cases[0]), false);
}

/* After the end the decoder is back at the start of a line: a new message
 * fed to the same decoder decodes the same way (not required by the API, but
 * wire_bytes must keep counting). */
static void test_wire_bytes_on_end(void **state)
{
	dotstream d;
	dotstream_init(&d);
	char out[64];
	size_t ol;
	bool end;
	assert_int_equal(dotstream_feed(&d, "hello\r\n", 7, out, &ol, &end), 7);
	assert_false(end);
	assert_int_equal(d.wire_bytes, 7);
	assert_int_equal(dotstream_feed(&d, ".\r\nQUIT\r\n", 9, out, &ol, &end), 3);
	assert_true(end);
	assert_int_equal(ol, 0);
	assert_int_equal(d.wire_bytes, 10);
	assert_false(d.bare_eol);
}

/* A long message with many stuffed lines, fed in pieces of every size. */
static void test_long_message_piece_sizes(void **state)
{
	size_t lines = 200;
	char *in = malloc(lines * 16 + 16), *want = malloc(lines * 16 + 16);
	size_t n = 0, w = 0;
	for (size_t i = 0; i < lines; i++) {
		if (i % 3 == 0) {
			n += (size_t)sprintf(in + n, "..line %zu\r\n", i);
			w += (size_t)sprintf(want + w, ".line %zu\n", i);
		} else {
			n += (size_t)sprintf(in + n, "line %zu\r\n", i);
			w += (size_t)sprintf(want + w, "line %zu\n", i);
		}
	}
	size_t body = n;
	n += (size_t)sprintf(in + n, ".\r\nQUIT\r\n");
	for (size_t piece = 1; piece <= 64; piece++) {
		size_t ncuts = n / piece;
		size_t *cuts = malloc((ncuts + 1) * sizeof(*cuts));
		for (size_t k = 0; k < ncuts; k++)
			cuts[k] = (k + 1) * piece;
		result r;
		run(in, n, false, cuts, ncuts, &r);
		assert_true(r.end);
		assert_false(r.bare);
		assert_int_equal(r.consumed, body + 3);
		assert_int_equal(r.wire, body + 3);
		assert_int_equal(r.out_len, w);
		assert_memory_equal(r.out, want, w);
		free(r.out);
		free(cuts);
	}
	free(in);
	free(want);
}

/* BDAT: no dot-stuffing, never an end, same line-ending rules. */
static const dcase raw_cases[] = {
	{S(""), S(""), false, false, ALL},
	{S("abc"), S("abc"), false, false, ALL},
	{S("a\r\nb\r\n"), S("a\nb\n"), false, false, ALL},
	{S(".\r\n"), S(".\n"), false, false, ALL},
	{S("..\r\n"), S("..\n"), false, false, ALL},
	{S("a\r\n.\r\nMAIL FROM:<a@b>\r\n"), S("a\n.\nMAIL FROM:<a@b>\n"), false, false, ALL},
	{S("a\r\n..b\r\n"), S("a\n..b\n"), false, false, ALL},
	{S("a\nb"), S("a\nb"), true, false, ALL},
	{S("a\rb"), S("a\rb"), true, false, ALL},
	{S("a\r\r\n"), S("a\r\n"), true, false, ALL},
	{S("a\n\r\n"), S("a\n\n"), true, false, ALL},
	{S("a\n.\n"), S("a\n.\n"), true, false, ALL},
	{S("a\r.\r\n"), S("a\r.\n"), true, false, ALL},
	{S("\0\xff\r\n"), S("\0\xff\n"), false, false, ALL},
	/* a trailing CR at the end of the last chunk is a bare CR (the CR itself
	 * is held back by the decoder; only the flag is checked for it) */
	{S("abc\r"), S("abc"), true, false, ALL},
	{S("\r"), S(""), true, false, ALL},
	{S("a\r\n\r"), S("a\n"), true, false, ALL},
};

static void test_raw_table(void **state)
{
	run_table(raw_cases, sizeof(raw_cases) / sizeof(raw_cases[0]), true);
}

/* A CRLF split across two BDAT chunks is one CRLF; finish_raw between
 * feeds is only for the last chunk. */
static void test_raw_crlf_across_chunks(void **state)
{
	dotstream d;
	dotstream_init_raw(&d);
	char out[8];
	size_t ol;
	bool end;
	assert_int_equal(dotstream_feed(&d, "ab\r", 3, out, &ol, &end), 3);
	assert_false(end);
	assert_int_equal(ol, 2);
	assert_memory_equal(out, "ab", 2);
	assert_false(d.bare_eol);
	assert_int_equal(dotstream_feed(&d, "\ncd", 3, out, &ol, &end), 3);
	assert_false(end);
	assert_int_equal(ol, 3);
	assert_memory_equal(out, "\ncd", 3);
	dotstream_finish_raw(&d);
	assert_false(d.bare_eol);
	assert_int_equal(d.wire_bytes, 6);
}

static void test_raw_finish_without_cr(void **state)
{
	dotstream d;
	dotstream_init_raw(&d);
	char out[16];
	size_t ol;
	bool end;
	assert_int_equal(dotstream_feed(&d, "abc\r\n", 5, out, &ol, &end), 5);
	dotstream_finish_raw(&d);
	assert_false(d.bare_eol);
	dotstream_finish_raw(&d);
	assert_false(d.bare_eol);
	/* an empty last chunk after a CR: still a bare CR */
	dotstream_init_raw(&d);
	assert_int_equal(dotstream_feed(&d, "x\r", 2, out, &ol, &end), 2);
	assert_int_equal(dotstream_feed(&d, "", 0, out, &ol, &end), 0);
	assert_int_equal(ol, 0);
	assert_false(d.bare_eol);
	dotstream_finish_raw(&d);
	assert_true(d.bare_eol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_table),
		cmocka_unit_test(test_smuggling_table),
		cmocka_unit_test(test_end_only_at_line_start),
		cmocka_unit_test(test_wire_bytes_on_end),
		cmocka_unit_test(test_long_message_piece_sizes),
		cmocka_unit_test(test_raw_table),
		cmocka_unit_test(test_raw_crlf_across_chunks),
		cmocka_unit_test(test_raw_finish_without_cr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
