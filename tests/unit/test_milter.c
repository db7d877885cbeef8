/* test_milter.c — unit tests for milter/proto.c (framing fed whole, a byte
 * at a time and in every split; oversized and empty packets; every reply
 * parsed, malformed ones refused; commands written byte-exact; reply codes
 * checked; macro lists), milter/msgedit.c (header changes, body
 * replacement, and the edits they make of the original) and
 * milter/conf.c (addresses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "milter/conf.h"
#include "milter/msgedit.h"
#include "milter/proto.h"
#include "milter/verdict.h"

/* ---- framing ---- */

static void test_frame_bytewise(void **state)
{
	(void)state;
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	milter_put(&out, SMFIR_CONTINUE, NULL, 0);
	milter_put_header(&out, "X-A", "b");
	for (size_t piece = 1; piece <= out.len; piece++) {
		milter_reader r;
		milter_reader_init(&r);
		int got = 0;
		for (size_t at = 0; at < out.len;) {
			size_t n = out.len - at < piece ? out.len - at : piece, used = 0;
			while (n > 0) {
				milter_read_status st = milter_reader_feed(&r, out.data + at, n, &used);
				at += used;
				n -= used;
				if (st == MILTER_READ_PACKET) {
					size_t len;
					const char *d = milter_reader_data(&r, &len);
					if (got == 0) {
						assert_int_equal(milter_reader_cmd(&r), 'c');
						assert_int_equal(len, 0);
					} else {
						assert_int_equal(milter_reader_cmd(&r), 'L');
						assert_int_equal(len, 6);
						assert_memory_equal(d, "X-A\0b\0", 6);
					}
					got++;
				} else {
					assert_int_equal(st, MILTER_READ_MORE);
					assert_int_equal(used, n + used - n); /* all taken */
					break;
				}
			}
		}
		assert_int_equal(got, 2);
		milter_reader_free(&r);
	}
	buf_free(&out);
}

static void test_frame_bad(void **state)
{
	(void)state;
	milter_reader r;
	size_t used;
	milter_reader_init(&r);
	assert_int_equal(milter_reader_feed(&r, "\0\0\0\0", 4, &used), MILTER_READ_EMPTY);
	milter_reader_free(&r);
	milter_reader_init(&r);
	/* 0x7fffffff: refused from the length alone, nothing kept */
	assert_int_equal(milter_reader_feed(&r, "\x7f\xff\xff\xff" "b", 5, &used), MILTER_READ_TOO_BIG);
	assert_int_equal(r.data.len, 0);
	milter_reader_free(&r);
	milter_reader_init(&r);
	unsigned char big[4] = {0, 0x10, 0x04, 0x01}; /* MILTER_MAX_PACKET + 1 */
	assert_int_equal(milter_reader_feed(&r, big, 4, &used), MILTER_READ_TOO_BIG);
	milter_reader_free(&r);
	milter_reader_init(&r);
	unsigned char ok[4] = {0, 0x10, 0x04, 0x00}; /* exactly the maximum: waits for data */
	assert_int_equal(milter_reader_feed(&r, ok, 4, &used), MILTER_READ_MORE);
	milter_reader_free(&r);
}

/* ---- replies ---- */

static void test_reply_optneg(void **state)
{
	(void)state;
	const char d[] = "\0\0\0\6" "\0\0\0\x13" "\0\0\0\x42" "\0\0\0\2" "{auth_authen} i\0" "\0\0\0\5" "j\0";
	milter_reply r;
	const char *why;
	assert_true(milter_reply_parse('O', d, sizeof(d) - 1, &r, &why));
	assert_int_equal(r.version, 6);
	assert_int_equal(r.actions, 0x13);
	assert_int_equal(r.protocol, 0x42);
	assert_string_equal(r.symlist[SMFIM_ENVFROM], "{auth_authen} i");
	assert_string_equal(r.symlist[SMFIM_EOM], "j");
	assert_null(r.symlist[SMFIM_CONNECT]);
	assert_false(milter_reply_parse('O', d, 11, &r, &why));
	assert_string_equal(why, "the option negotiation reply is shorter than 12 bytes");
	assert_false(milter_reply_parse('O', d, 14, &r, &why)); /* a cut macro list */
	const char bad[] = "\0\0\0\6\0\0\0\0\0\0\0\0\0\0\0\x09x\0";
	assert_false(milter_reply_parse('O', bad, sizeof(bad) - 1, &r, &why));
	assert_string_equal(why, "a macro list names an unknown stage");
}

static void test_reply_headers(void **state)
{
	(void)state;
	milter_reply r;
	const char *why;
	assert_true(milter_reply_parse('h', "X-Spam\0Yes\0", 11, &r, &why));
	assert_string_equal(r.name, "X-Spam");
	assert_string_equal(r.value, "Yes");
	assert_true(milter_reply_parse('m', "\0\0\0\2Subject\0[SPAM] hi\0", 23, &r, &why));
	assert_int_equal(r.index, 2);
	assert_string_equal(r.value, "[SPAM] hi");
	assert_true(milter_reply_parse('i', "\0\0\0\0X\0\0", 7, &r, &why));
	assert_string_equal(r.value, "");
	assert_false(milter_reply_parse('h', "X-Spam\0Yes", 10, &r, &why)); /* no NUL */
	assert_false(milter_reply_parse('h', "X-Spam", 6, &r, &why));
	assert_false(milter_reply_parse('m', "\0\0\0", 3, &r, &why));
	assert_string_equal(why, "a header change has no index");
	assert_false(milter_reply_parse('h', "\0v\0", 3, &r, &why));
	assert_false(milter_reply_parse('h', "A:B\0v\0", 6, &r, &why));
	assert_false(milter_reply_parse('h', "A B\0v\0", 6, &r, &why));
	assert_false(milter_reply_parse('h', "A\nB\0v\0", 6, &r, &why));
}

static void test_reply_other(void **state)
{
	(void)state;
	milter_reply r;
	const char *why;
	assert_true(milter_reply_parse('+', "<a@b>\0", 6, &r, &why));
	assert_string_equal(r.addr, "<a@b>");
	assert_true(milter_reply_parse('e', "<a@b>\0SIZE=1\0", 13, &r, &why));
	assert_string_equal(r.args, "SIZE=1");
	assert_false(milter_reply_parse('-', "\0", 1, &r, &why));
	assert_false(milter_reply_parse('e', "<a@b>\0SIZE", 10, &r, &why));
	assert_true(milter_reply_parse('q', "virus\0", 6, &r, &why));
	assert_string_equal(r.text, "virus");
	assert_true(milter_reply_parse('y', "554 5.7.1 Bad\0", 14, &r, &why));
	assert_int_equal(r.code, 554);
	assert_false(milter_reply_parse('y', "250 ok\0", 7, &r, &why));
	assert_true(milter_reply_parse('b', "abc", 3, &r, &why));
	assert_int_equal(r.body_len, 3);
	for (const char *c = "acdrstpf4"; *c; c++)
		assert_true(milter_reply_parse(*c, "", 0, &r, &why));
	assert_false(milter_reply_parse('Z', "", 0, &r, &why));
	assert_string_equal(why, "an unknown reply command");
}

static void test_replycode(void **state)
{
	(void)state;
	int code;
	assert_true(milter_replycode_valid("550 5.7.1 Rejected", &code));
	assert_int_equal(code, 550);
	assert_true(milter_replycode_valid("451 try later", &code));
	assert_true(milter_replycode_valid("550-5.7.1 first\r\n550 5.7.1 second", &code));
	assert_true(milter_replycode_valid("421", &code));
	assert_false(milter_replycode_valid("250 ok", &code));
	assert_false(milter_replycode_valid("650 x", &code));
	assert_false(milter_replycode_valid("55 x", &code));
	assert_false(milter_replycode_valid("550 4.7.1 class differs", &code));
	assert_false(milter_replycode_valid("550-a\r\n551 b", &code));
	assert_false(milter_replycode_valid("550 a\r\n550 b", &code)); /* not "-" before the last */
	assert_false(milter_replycode_valid("550-a", &code));
	assert_false(milter_replycode_valid("550 a\nb", &code));
	assert_false(milter_replycode_valid("550xa", &code));
	assert_false(milter_replycode_valid("", &code));
}

/* ---- commands ---- */

static void test_put(void **state)
{
	(void)state;
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	milter_put_optneg(&b, 0x1ff, 0x1ff7ff); /* every flag there is */
	assert_int_equal(b.len, 17);
	assert_memory_equal(b.data, "\0\0\0\x0dO\0\0\0\6\0\0\1\xff\0\x1f\xf7\xff", 17);
	buf_clear(&b);
	milter_put_connect(&b, "mx.example", '4', 2525, "192.0.2.1");
	assert_int_equal(b.len, 4 + 1 + 11 + 1 + 2 + 10);
	assert_memory_equal(b.data, "\0\0\0\x19" "Cmx.example\0" "4\x09\xdd" "192.0.2.1\0", 29);
	buf_clear(&b);
	milter_put_connect(&b, "h", 'U', 0, NULL);
	assert_memory_equal(b.data, "\0\0\0\4Ch\0U", 8);
	buf_clear(&b);
	const char *args[] = {"SIZE=10", "BODY=8BITMIME"};
	milter_put_args(&b, SMFIC_MAIL, "a@b", args, 2);
	assert_memory_equal(b.data, "\0\0\0\x1dM<a@b>\0SIZE=10\0BODY=8BITMIME\0", 33);
	buf_clear(&b);
	milter_put_args(&b, SMFIC_MAIL, "", NULL, 0);
	assert_memory_equal(b.data, "\0\0\0\4M<>\0", 8);
	buf_clear(&b);
	const char *m[] = {"i", "Q1", "{mail_addr}", "a@b"};
	milter_put_macros(&b, SMFIC_MAIL, m, 2);
	assert_memory_equal(b.data, "\0\0\0\x17" "DMi\0Q1\0{mail_addr}\0a@b\0", 27);
	buf_free(&b);
}

static void test_macro_wanted(void **state)
{
	(void)state;
	assert_true(milter_macro_wanted(NULL, "i"));
	assert_true(milter_macro_wanted("i {auth_authen}", "{auth_authen}"));
	assert_true(milter_macro_wanted("{i} auth_authen", "auth_authen"));
	assert_true(milter_macro_wanted("j,{i}", "i"));
	assert_false(milter_macro_wanted("{auth_authen}", "i"));
	assert_false(milter_macro_wanted("", "j"));
	assert_false(milter_macro_wanted("ii", "i"));
}

/* ---- message changes ---- */

typedef struct applied {
	char out[2048];
	size_t at_orig;
	size_t len;
	const char *orig;
} applied;

static void apply_edit(void *arg, size_t start, size_t end, const char *text, size_t len)
{
	applied *a = arg;
	assert_true(start >= a->at_orig);
	memcpy(a->out + a->len, a->orig + a->at_orig, start - a->at_orig);
	a->len += start - a->at_orig;
	memcpy(a->out + a->len, text, len);
	a->len += len;
	a->at_orig = end;
}

static const char *edited(milter_msg *m, applied *a)
{
	memset(a, 0, sizeof(*a));
	a->orig = m->orig;
	milter_msg_edits(m, apply_edit, a);
	size_t rest = m->orig_len - a->at_orig;
	memcpy(a->out + a->len, m->orig + a->at_orig, rest);
	a->out[a->len + rest] = '\0';
	return a->out;
}

static const char msg1[] = "Received: by us\n"
                           "Subject: hi\n"
                           "X-Old: 1\n"
                           "X-Old: 2\n"
                           " folded\n"
                           "\n"
                           "body\n";

static void test_msg_parse(void **state)
{
	(void)state;
	milter_msg m;
	milter_msg_parse(&m, msg1, strlen(msg1));
	assert_int_equal(milter_msg_count(&m), 4);
	assert_string_equal(milter_msg_field(&m, 1)->name, "Subject");
	assert_string_equal(milter_msg_field(&m, 1)->value, " hi");
	assert_string_equal(milter_msg_field(&m, 3)->value, " 2\n folded");
	size_t bl;
	const char *body = milter_msg_body(&m, &bl);
	assert_int_equal(bl, 5);
	assert_memory_equal(body, "body\n", 5);
	assert_false(milter_msg_changed(&m));
	applied a;
	assert_string_equal(edited(&m, &a), msg1);
	milter_msg_free(&m);
}

static void test_msg_changes(void **state)
{
	(void)state;
	milter_msg m;
	applied a;
	milter_msg_parse(&m, msg1, strlen(msg1));
	char *v = milter_msg_value("yes", false);
	milter_msg_add(&m, "X-Spam", v);
	free(v);
	v = milter_msg_value("[SPAM] hi", false);
	milter_msg_change(&m, 1, "subject", v);
	free(v);
	milter_msg_change(&m, 2, "X-Old", "");  /* deletes the second X-Old */
	v = milter_msg_value("top", false);
	milter_msg_insert(&m, 0, "X-Top", v);
	free(v);
	assert_true(milter_msg_changed(&m));
	assert_string_equal(edited(&m, &a), "X-Top: top\nReceived: by us\nSubject: [SPAM] hi\nX-Old: 1\n"
	                                     "X-Spam: yes\n\nbody\n");
	milter_msg_free(&m);

	milter_msg_parse(&m, msg1, strlen(msg1));
	v = milter_msg_value("new", false);
	milter_msg_change(&m, 3, "X-Old", v); /* no third: added */
	milter_msg_insert(&m, 99, "X-End", v);   /* past the end: at the end */
	milter_msg_insert(&m, 2, "X-Mid", v);
	free(v);
	assert_string_equal(edited(&m, &a), "Received: by us\nSubject: hi\nX-Mid: new\nX-Old: 1\nX-Old: 2\n folded\n"
	                                     "X-Old: new\nX-End: new\n\nbody\n");
	milter_msg_free(&m);
}

static void test_msg_body(void **state)
{
	(void)state;
	milter_msg m;
	applied a;
	milter_msg_parse(&m, msg1, strlen(msg1));
	assert_true(milter_msg_body_start(&m));
	assert_true(milter_msg_body_add(&m, "new\r", 4, 100));
	assert_true(milter_msg_body_add(&m, "\nbody\r\n", 7, 100));
	assert_false(milter_msg_body_add(&m, "x", 1, 9)); /* past the maximum */
	size_t bl;
	/* a second filter's body, too large: undone, the first one's stays */
	assert_true(milter_msg_body_start(&m));
	assert_true(milter_msg_body_add(&m, "other\r\n", 7, 100));
	milter_msg_body_undo(&m);
	const char *b = milter_msg_body(&m, &bl);
	assert_int_equal(bl, 9);
	assert_memory_equal(b, "new\nbody\n", 9);
	const char *want = "Received: by us\nSubject: hi\nX-Old: 1\nX-Old: 2\n folded\n\nnew\nbody\n";
	assert_string_equal(edited(&m, &a), want);
	milter_msg_free(&m);
	/* undone at once: the original body */
	milter_msg_parse(&m, msg1, strlen(msg1));
	milter_msg_body_start(&m);
	assert_true(milter_msg_body_add(&m, "zzz", 3, 100));
	milter_msg_body_undo(&m);
	assert_false(milter_msg_changed(&m));
	assert_string_equal(edited(&m, &a), msg1);
	milter_msg_free(&m);
	/* a message without a body gets the empty line before the new one */
	milter_msg_parse(&m, "A: b\n", 5);
	milter_msg_body_start(&m);
	assert_true(milter_msg_body_add(&m, "x\r\n", 3, 100));
	milter_msg_add(&m, "C", " d");
	assert_string_equal(edited(&m, &a), "A: b\nC: d\n\nx\n");
	milter_msg_free(&m);
}

static void test_msg_value(void **state)
{
	(void)state;
	char *v = milter_msg_value("a\r\nb\nc\r\n", false);
	assert_string_equal(v, " a\n\tb\n\tc");
	free(v);
	v = milter_msg_value("a\n\n\nBody: injected", false);
	assert_string_equal(v, " a\n\tBody: injected");
	free(v);
	v = milter_msg_value(" lead\n\tfold", true);
	assert_string_equal(v, " lead\n\tfold");
	free(v);
}

static void test_msg_odd(void **state)
{
	(void)state;
	milter_msg m;
	applied a;
	/* no empty line: a line that is not a field starts the body */
	milter_msg_parse(&m, "A: b\nnot a field\n", 17);
	assert_int_equal(milter_msg_count(&m), 1);
	size_t bl;
	milter_msg_body(&m, &bl);
	assert_int_equal(bl, 12);
	milter_msg_add(&m, "X", " y");
	assert_string_equal(edited(&m, &a), "A: b\nX: y\nnot a field\n");
	milter_msg_free(&m);
	milter_msg_parse(&m, "", 0);
	assert_int_equal(milter_msg_count(&m), 0);
	milter_msg_add(&m, "X", " y");
	assert_string_equal(edited(&m, &a), "X: y\n");
	milter_msg_free(&m);
}

static void test_address(void **state)
{
	(void)state;
	struct sockaddr_storage sa;
	socklen_t len;
	const char *why;
	assert_true(milter_address_parse("127.0.0.1:11332", &sa, &len, &why));
	assert_int_equal(sa.ss_family, AF_INET);
	assert_true(milter_address_parse("[::1]:11332", &sa, &len, &why));
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_true(milter_address_parse("inet:7357@127.0.0.1", &sa, &len, &why));
	assert_true(milter_address_parse("inet6:7357@::1", &sa, &len, &why));
	assert_true(milter_address_parse("unix:/run/clamav/milter.sock", &sa, &len, &why));
	assert_int_equal(sa.ss_family, AF_UNIX);
	assert_false(milter_address_parse("unix:relative", &sa, &len, &why));
	assert_false(milter_address_parse("localhost:11332", &sa, &len, &why));
	assert_false(milter_address_parse("127.0.0.1:0", &sa, &len, &why));
	assert_false(milter_address_parse("127.0.0.1:70000", &sa, &len, &why));
	assert_false(milter_address_parse("127.0.0.1", &sa, &len, &why));
	assert_false(milter_address_parse("::1:25", &sa, &len, &why));
	assert_false(milter_address_parse("[::1]25", &sa, &len, &why));
	assert_string_equal(why, "the address must be IP:PORT, [IPv6]:PORT, inet:PORT@IP or unix:/path");
}

static void test_verdict(void **state)
{
	(void)state;
	int code;
	char *st, *text;
	milter_reply_split("554 5.7.1 Spam message rejected", &code, &st, &text);
	assert_int_equal(code, 554);
	assert_string_equal(st, "5.7.1");
	assert_string_equal(text, "Spam message rejected");
	free(st);
	free(text);
	milter_reply_split("450-4.2.0 one\r\n450 4.2.0 two", &code, &st, &text);
	assert_string_equal(st, "4.2.0");
	assert_string_equal(text, "one\ntwo");
	free(st);
	free(text);
	milter_reply_split("550 no status here", &code, &st, &text);
	assert_null(st);
	assert_string_equal(text, "no status here");
	free(text);
	double sc = 0;
	assert_true(milter_spam_score("X-Spamd-Result", " default: True [16.50 / 15.00];\n\tSUBJ(15.00)", &sc));
	assert_true(sc > 16.49 && sc < 16.51);
	assert_true(milter_spam_score("x-rspamd-score", " -1.5", &sc));
	assert_true(sc < -1.49 && sc > -1.51);
	assert_true(milter_spam_score("X-Spam-Status", " Yes, score=7.2 required=5.0", &sc));
	assert_true(sc > 7.19 && sc < 7.21);
	assert_false(milter_spam_score("X-Spamd-Result", " default: False", &sc));
	assert_false(milter_spam_score("X-Rspamd-Score", " high", &sc));
	assert_false(milter_spam_score("Subject", " 5", &sc));
	char *v = milter_virus_name("X-Virus-Status", " Infected (Eicar-Test-Signature)");
	assert_string_equal(v, "Eicar-Test-Signature");
	free(v);
	v = milter_virus_name("x-virus-status", " Clean");
	assert_string_equal(v, "");
	free(v);
	assert_null(milter_virus_name("X-Virus-Status", " Unknown"));
	assert_null(milter_virus_name("X-Virus-Scanned", " ClamAV"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_bytewise), cmocka_unit_test(test_frame_bad),
		cmocka_unit_test(test_reply_optneg),   cmocka_unit_test(test_reply_headers),
		cmocka_unit_test(test_reply_other),    cmocka_unit_test(test_replycode),
		cmocka_unit_test(test_put),            cmocka_unit_test(test_macro_wanted),
		cmocka_unit_test(test_msg_parse),      cmocka_unit_test(test_msg_changes),
		cmocka_unit_test(test_msg_body),       cmocka_unit_test(test_msg_value),
		cmocka_unit_test(test_msg_odd),        cmocka_unit_test(test_address),
		cmocka_unit_test(test_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
