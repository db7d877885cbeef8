/* test_sortthread.c — SORT and THREAD's pure parts: base subject
 * extraction (RFC 5256 2.1, with RFC 2047 encoded-words), the
 * i;unicode-casemap keys (RFC 5051), sent dates with zones, the sort
 * criteria and the sort, and both THREAD algorithms (RFC 5256 3) on
 * headers as a client's messages carry them, the RFC's response shapes
 * included; a 20000-message chain threads without deep recursion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/casemap.h"
#include "imap/parse.h"
#include "imap/sortkey.h"
#include "imap/thread.h"
#include "lib/strutil.h"
#include "mime/charset.h"

static void base_is(const char *subject, const char *want, bool reply)
{
	bool r = !reply;
	char *b = imap_base_subject(subject, &r);
	if (strcmp(b, want) != 0 || r != reply)
		fail_msg("%s: got \"%s\" reply=%d, want \"%s\" reply=%d", subject, b, r, want, reply);
	free(b);
}

static void test_base_subject(void **state)
{
	(void)state;
	base_is("test", "test", false);
	base_is("Re: test", "test", true);
	base_is("RE: Re: re: test", "test", true);
	base_is("Fwd: test", "test", true);
	base_is("FW: test", "test", true);
	base_is("Re[2]: test", "test", true);
	base_is("Re [2]: test", "test", true);
	base_is("[list] Re: test", "test", true);
	base_is("Re: [list] test", "test", true);
	base_is("[list] test", "test", false);
	base_is("[list]", "[list]", false);
	base_is("[a] [b]", "[b]", false);
	base_is("test (fwd)", "test", true);
	base_is("test (FWD) (fwd)  ", "test", true);
	base_is("[Fwd: Re: test]", "test", true);
	base_is("Re: [fwd: hello]", "hello", true);
	base_is("Re: Fw: [list] hello (fwd) ", "hello", true);
	base_is("  spaced \t  out  ", "spaced out", false);
	base_is("re :hi", "hi", true);
	base_is("Rex: hi", "Rex: hi", false);
	base_is("Re:", "", true);
	base_is("", "", false);
	base_is("[unclosed Re: x", "[unclosed Re: x", false);
	/* RFC 2047: decoded before anything else */
	base_is("=?UTF-8?Q?Re=3A_caf=C3=A9?=", "caf\xC3\xA9", true);
	base_is("=?ISO-8859-1?Q?Caf=E9?=", "Caf\xC3\xA9", false);
	base_is("=?UTF-8?B?SGVs?= =?UTF-8?B?bG8=?=", "Hello", false);
	base_is("=?utf-8*en?q?Hi?= there", "Hi there", false);
	base_is("=?bogus?X?abc?= x", "=?bogus?X?abc?= x", false);
	base_is("=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated", false);
	base_is("bad \xFF byte", "bad \xEF\xBF\xBD byte", false);
}

static void test_decode_header(void **state)
{
	(void)state;
	char *d = mime_decode_header("a =?koi8-r?B?8NLJ18XU?= b");
	assert_string_equal(d, "a \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 b");
	free(d);
	d = mime_decode_header("=?UTF-8?Q?a?=  \t =?UTF-8?Q?b?= =?x?");
	assert_string_equal(d, "ab =?x?");
	free(d);
}

static void keys_equal(const char *a, const char *b, bool want)
{
	char *ka = imap_casemap_key(a, strlen(a)), *kb = imap_casemap_key(b, strlen(b));
	if ((strcmp(ka, kb) == 0) != want)
		fail_msg("casemap %s vs %s", a, b);
	free(ka);
	free(kb);
}

static void test_casemap(void **state)
{
	(void)state;
	keys_equal("hello", "HELLO", true);
	keys_equal("caf\xC3\xA9", "CAF\xC3\x89", true);          /* é É */
	keys_equal("caf\xC3\xA9", "cafe\xCC\x81", true);         /* precomposed vs e + U+0301 */
	keys_equal("\xC7\x86", "\xC7\x84", true);                /* dž DŽ: both title Dž */
	keys_equal("hello", "hellp", false);
	keys_equal("\xCE\xB1", "\xCE\x91", true);                /* Greek alpha */
	char *k = imap_casemap_key("b\xFF", 2);                  /* not UTF-8: U+FFFD */
	assert_string_equal(k, "B\xEF\xBF\xBD");
	free(k);
	char *a = imap_casemap_key("apple", 5), *b = imap_casemap_key("Banana", 6);
	assert_true(strcmp(a, b) < 0);
	free(a);
	free(b);
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
	return timegm(&tm);
}

static void test_sent_date(void **state)
{
	(void)state;
	assert_int_equal(imap_sent_date("Wed, 14 Jan 2026 23:00:00 -0800", 1), utc(2026, 1, 15, 7, 0, 0));
	assert_int_equal(imap_sent_date("14 Jan 2026 23:00 +0130", 1), utc(2026, 1, 14, 21, 30, 0));
	assert_int_equal(imap_sent_date("Thu, 1 Feb 99 10:00:05 EST", 1), utc(1999, 2, 1, 15, 0, 5));
	assert_int_equal(imap_sent_date("(comment) Mon, 2 Mar 2020 01:02:03 GMT", 1), utc(2020, 3, 2, 1, 2, 3));
	assert_int_equal(imap_sent_date("yesterday", 42), 42);
	assert_int_equal(imap_sent_date("Mon, 40 Jan 2026 10:00 +0000", 42), 42);
	assert_int_equal(imap_sent_date("Mon, 4 Foo 2026 10:00 +0000", 42), 42);
	assert_int_equal(imap_sent_date(NULL, 42), 42);
}

static imap_command cmd;

static const imap_arg *parse(const char *text)
{
	const char *err;
	imap_parse_opts o = {.utf8 = true};
	imap_command_free(&cmd);
	if (!imap_command_parse(text, strlen(text), &o, &cmd, &err))
		fail_msg("parse %s: %s", text, err);
	return cmd.args;
}

static void test_criteria(void **state)
{
	(void)state;
	imap_sort_prog p;
	const char *err = NULL;
	assert_true(imap_sort_parse_criteria(parse("a SORT (REVERSE date subject DISPLAYFROM)"), &p, &err));
	assert_int_equal(p.n, 3);
	assert_int_equal(p.c[0].key, IMAP_SORT_DATE);
	assert_true(p.c[0].reverse);
	assert_int_equal(p.c[1].key, IMAP_SORT_SUBJECT);
	assert_false(p.c[1].reverse);
	assert_int_equal(p.c[2].key, IMAP_SORT_DISPLAYFROM);
	static const char *const bad[] = {"a SORT (FOO)", "a SORT (REVERSE)", "a SORT ()",
	                                  "a SORT DATE", "a SORT (REVERSE REVERSE DATE)",
	                                  "a SORT (\"DATE\")", "a SORT ((DATE))"};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		err = NULL;
		if (imap_sort_parse_criteria(parse(bad[k]), &p, &err) || err == NULL)
			fail_msg("accepted %s", bad[k]);
	}
	imap_command_free(&cmd);
}

/* A message from its header, sequence number seq, arriving at seq * 100. */
static void make(imap_sort_msg *m, uint32_t seq, const char *hdr)
{
	memset(m, 0, sizeof(*m));
	m->seq = seq;
	m->uid = seq + 1000;
	m->arrival = (time_t)seq * 100;
	m->size = 1000 - seq;
	imap_sort_msg_fill(m, hdr, strlen(hdr));
}

static void free_all(imap_sort_msg *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		imap_sort_msg_free(&v[i]);
}

static void sorted_is(imap_sort_msg *v, size_t n, const char *prog, const char *want)
{
	imap_sort_prog p;
	const char *err;
	char text[200];
	snprintf(text, sizeof text, "a SORT %s", prog);
	assert_true(imap_sort_parse_criteria(parse(text), &p, &err));
	imap_sort_run(v, n, &p);
	char got[200] = "";
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%u", i ? " " : "", v[i].seq);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s want %s", prog, got, want);
	imap_command_free(&cmd);
}

static void test_sort(void **state)
{
	(void)state;
	imap_sort_msg v[4];
	make(&v[0], 1, "From: Zed <zed@b.test>\nTo: \"=?UTF-8?Q?=C3=89mile?=\" <x@y>\nSubject: Re: beta\n"
	               "Date: Mon, 2 Mar 2020 10:00:00 +0000\nCc: carol@c.test\n\n");
	make(&v[1], 2, "From: alice@a.test\nTo: Bob <b@y>\nSubject: alpha\nDate: Mon, 2 Mar 2020 09:00:00 -0200\n\n");
	make(&v[2], 3, "From: \"Bob\" <bob@a.test>\nSubject: [list] Alpha\nDate: garbage\n\n");
	make(&v[3], 4, "Subject: beta\nDate: Mon, 2 Mar 2020 10:00:00 +0000\n\n");
	sorted_is(v, 4, "(ARRIVAL)", "1 2 3 4");
	sorted_is(v, 4, "(REVERSE ARRIVAL)", "4 3 2 1");
	sorted_is(v, 4, "(SIZE)", "4 3 2 1");
	/* 3 has no readable date: its arrival (300, in 1970) */
	sorted_is(v, 4, "(DATE)", "3 1 4 2");
	sorted_is(v, 4, "(REVERSE DATE)", "2 1 4 3");
	sorted_is(v, 4, "(SUBJECT)", "2 3 1 4");
	sorted_is(v, 4, "(SUBJECT REVERSE ARRIVAL)", "3 2 4 1");
	/* mailbox: "" (none) < alice < bob < zed */
	sorted_is(v, 4, "(FROM)", "4 2 3 1");
	/* display: "" < "alice@a.test" < "Bob" < "Zed" */
	sorted_is(v, 4, "(DISPLAYFROM)", "4 2 3 1");
	sorted_is(v, 4, "(TO)", "3 4 2 1");
	/* "" "" Bob Émile: decoded display names, case-mapped */
	sorted_is(v, 4, "(DISPLAYTO)", "3 4 2 1");
	sorted_is(v, 4, "(CC ARRIVAL)", "2 3 4 1");
	assert_true(v[0].is_reply == false || v[0].seq == 1);
	free_all(v, 4);
}

static char *threaded(imap_sort_msg *v, size_t n, imap_thread_alg alg, bool uid)
{
	buf out;
	buf_init(&out, 1 << 22);
	assert_true(imap_thread_write(&out, v, n, alg, uid));
	return buf_steal(&out);
}

static void thread_is(const char *const *hdrs, size_t n, imap_thread_alg alg, const char *want)
{
	imap_sort_msg *v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		make(&v[i], (uint32_t)i + 1, hdrs[i]);
	char *got = threaded(v, n, alg, false);
	if (strcmp(got, want) != 0)
		fail_msg("thread: got %s want %s", got, want);
	free(got);
	free_all(v, n);
	free(v);
}

static void test_thread_references(void **state)
{
	(void)state;
	/* parent with two replies, one of which has a reply */
	static const char *const a[] = {
		"Message-ID: <1@x>\nSubject: A\n\n",
		"Message-ID: <2@x>\nReferences: <1@x>\nSubject: Re: A\n\n",
		"Message-ID: <3@x>\nIn-Reply-To: <1@x>\nSubject: Re: A\n\n",
		"Message-ID: <4@x>\nReferences: <1@x> <3@x>\nSubject: Re: A\n\n",
	};
	thread_is(a, 4, IMAP_THREAD_REFERENCES, "(1 (2)(3 4))");
	/* the RFC's shape "(3 6 (4 23)(44 7 96))": a chain that branches twice */
	static const char *const b[] = {
		"Message-ID: <a>\nSubject: s\n\n",
		"Message-ID: <b>\nReferences: <a>\n\n",
		"Message-ID: <c>\nReferences: <a> <b>\n\n",
		"Message-ID: <d>\nReferences: <a> <b> <c>\n\n",
		"Message-ID: <e>\nReferences: <a> <b>\n\n",
		"Message-ID: <f>\nReferences: <e>\n\n",
		"Message-ID: <g>\nReferences: <a> <b> <e> <f>\n\n",
		"Message-ID: <h>\nSubject: other\n\n",
	};
	thread_is(b, 8, IMAP_THREAD_REFERENCES, "(1 2 (3 4)(5 6 7))(8)");
	/* a parent never seen: a dummy at the top with two children */
	static const char *const c[] = {
		"Message-ID: <5@x>\nReferences: <99@x>\nSubject: Re: lost\n\n",
		"Message-ID: <6@x>\nReferences: <99@x>\nSubject: Re: lost\n\n",
		"Message-ID: <7@x>\nReferences: <98@x>\nSubject: alone\n\n",
	};
	thread_is(c, 3, IMAP_THREAD_REFERENCES, "((1)(2))(3)");
	/* step 5: same base subject; a reply under the original, two
	 * originals under a new dummy */
	static const char *const d[] = {
		"Message-ID: <1>\nSubject: B\n\n",
		"Message-ID: <2>\nSubject: Re: B\n\n",
		"Message-ID: <3>\nSubject: C\n\n",
		"Message-ID: <4>\nSubject: C\n\n",
		"Message-ID: <5>\nSubject: [list] c\n\n",
	};
	thread_is(d, 5, IMAP_THREAD_REFERENCES, "(1 2)((3)(4)(5))");
	/* a reply seen first: the original takes the table, the reply goes under it */
	static const char *const e[] = {
		"Message-ID: <1>\nSubject: Re: D\n\n",
		"Message-ID: <2>\nSubject: D\n\n",
	};
	thread_is(e, 2, IMAP_THREAD_REFERENCES, "(2 1)");
	/* loops and duplicates: every message exactly once */
	static const char *const f[] = {
		"Message-ID: <1>\nReferences: <2>\nSubject: x\n\n",
		"Message-ID: <2>\nReferences: <1>\nSubject: y\n\n",
		"Message-ID: <3>\nReferences: <3>\nSubject: z\n\n",
		"Message-ID: <1>\nSubject: w\n\n",
		"Subject: v\n\n",
	};
	/* 1 went under 2 first (2 was a dummy then); 2 -> 1 would loop */
	thread_is(f, 5, IMAP_THREAD_REFERENCES, "(2 1)(3)(4)(5)");
	/* sent dates order siblings and threads */
	static const char *const g[] = {
		"Message-ID: <p>\nSubject: late\nDate: 5 Jan 2026 00:00 +0000\n\n",
		"Message-ID: <q>\nSubject: early\nDate: 1 Jan 2026 00:00 +0000\n\n",
		"Message-ID: <r>\nReferences: <q>\nDate: 4 Jan 2026 00:00 +0000\n\n",
		"Message-ID: <s>\nReferences: <q>\nDate: 2 Jan 2026 00:00 +0000\n\n",
	};
	thread_is(g, 4, IMAP_THREAD_REFERENCES, "(2 (4)(3))(1)");
	thread_is(g, 0, IMAP_THREAD_REFERENCES, "");
}

static void test_thread_orderedsubject(void **state)
{
	(void)state;
	static const char *const a[] = {
		"Subject: b\nDate: 3 Jan 2026 00:00 +0000\n\n",
		"Subject: a\nDate: 2 Jan 2026 00:00 +0000\n\n",
		"Subject: Re: b\nDate: 1 Jan 2026 00:00 +0000\n\n",
		"Subject: RE: A\nDate: 4 Jan 2026 00:00 +0000\n\n",
		"Subject: c\nDate: 5 Jan 2026 00:00 +0000\n\n",
		"Subject: b\nDate: 6 Jan 2026 00:00 +0000\n\n",
	};
	thread_is(a, 6, IMAP_THREAD_ORDEREDSUBJECT, "(3 (1)(6))(2 4)(5)");
}

/* The mailbox behind RFC 5256 section 4's two THREAD examples: messages
 * 166 to 189, their sent dates in the order of `order`; 170 and 179 answer
 * a message not in the mailbox, and so do the 174 and 177 families
 * (whose members share a base subject); 184 and 189 answer 188, 186
 * answers 185. */
static void test_thread_rfc_examples(void **state)
{
	(void)state;
	static const uint32_t order[] = {166, 167, 168, 169, 172, 170, 171, 173, 174, 175, 176, 178,
	                                 181, 180, 179, 177, 183, 182, 188, 184, 185, 186, 187, 189};
	enum { N = sizeof order / sizeof order[0] };
	imap_sort_msg v[2][N];
	for (int alg = 0; alg < 2; alg++) {
		for (size_t r = 0; r < N; r++) {
			uint32_t q = order[r];
			const char *family = NULL, *refs = "";
			if (q == 170 || q == 179)
				refs = "<p0@x>";
			else if (q == 174 || q == 175 || q == 176 || q == 178 || q == 180 || q == 181)
				family = "S174", refs = "<p1@x>";
			else if (q == 184 || q == 189)
				family = "S177", refs = "<p2@x> <m188@x>";
			else if (q == 186)
				family = "S177", refs = "<p2@x> <m185@x>";
			else if (q >= 177 && q != 179)
				family = "S177", refs = "<p2@x>";
			char subject[32], hdr[256];
			if (family != NULL)
				snprintf(subject, sizeof subject, "%s%s", q == 174 || q == 177 ? "" : "Re: ", family);
			else
				snprintf(subject, sizeof subject, "S%u", q);
			snprintf(hdr, sizeof hdr,
			         "Message-ID: <m%u@x>\nSubject: %s\nDate: %zu Jan 2026 %02zu:00:00 +0000\n%s%s%s\n", q,
			         subject, 1 + r / 24, r % 24, refs[0] ? "References: " : "", refs, refs[0] ? "\n" : "");
			imap_sort_msg *m = &v[alg][q - 166];
			memset(m, 0, sizeof(*m));
			m->seq = q;
			imap_sort_msg_fill(m, hdr, strlen(hdr));
		}
	}
	char *got = threaded(v[0], N, IMAP_THREAD_ORDEREDSUBJECT, false);
	assert_string_equal(got, "(166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))"
	                         "(179)(177 (183)(182)(188)(184)(185)(186)(187)(189))");
	free(got);
	got = threaded(v[1], N, IMAP_THREAD_REFERENCES, false);
	assert_string_equal(got, "(166)(167)(168)(169)(172)((170)(179))(171)(173)((174)(175)(176)(178)(181)(180))"
	                         "((177)(183)(182)(188 (184)(189))(185 186)(187))");
	free(got);
	free_all(v[0], N);
	free_all(v[1], N);
}

static void test_thread_uid_and_deep_chain(void **state)
{
	(void)state;
	enum { N = 20000 };
	imap_sort_msg *v = xcalloc(N, sizeof(*v));
	for (uint32_t i = 0; i < N; i++) {
		char h[128];
		if (i == 0)
			snprintf(h, sizeof h, "Message-ID: <m0>\nSubject: deep\n\n");
		else
			snprintf(h, sizeof h, "Message-ID: <m%u>\nIn-Reply-To: <m%u>\nSubject: Re: deep\n\n", i, i - 1);
		make(&v[i], i + 1, h);
	}
	char *got = threaded(v, N, IMAP_THREAD_REFERENCES, true);
	assert_true(strncmp(got, "(1001 1002 1003 ", 16) == 0);
	assert_string_equal(got + strlen(got) - 7, " 21000)");
	free(got);
	free_all(v, N);
	free(v);
}

static void test_thread_alg(void **state)
{
	(void)state;
	imap_thread_alg alg;
	assert_true(imap_thread_alg_parse(parse("a THREAD references"), &alg));
	assert_int_equal(alg, IMAP_THREAD_REFERENCES);
	assert_true(imap_thread_alg_parse(parse("a THREAD ORDEREDSUBJECT"), &alg));
	assert_int_equal(alg, IMAP_THREAD_ORDEREDSUBJECT);
	assert_false(imap_thread_alg_parse(parse("a THREAD REFS"), &alg));
	assert_false(imap_thread_alg_parse(parse("a THREAD \"REFERENCES\""), &alg));
	imap_command_free(&cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_subject),
		cmocka_unit_test(test_decode_header),
		cmocka_unit_test(test_casemap),
		cmocka_unit_test(test_sent_date),
		cmocka_unit_test(test_criteria),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_thread_references),
		cmocka_unit_test(test_thread_orderedsubject),
		cmocka_unit_test(test_thread_rfc_examples),
		cmocka_unit_test(test_thread_uid_and_deep_chain),
		cmocka_unit_test(test_thread_alg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
