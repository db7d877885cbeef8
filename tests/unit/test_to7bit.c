/* test_to7bit.c — unit tests for src/mime/to7bit.c, the 8BITMIME
 * downgrade: quoted-printable (soft breaks at 76, white space at a line
 * end, '=' and controls, no "-" or "From " at a line start of ours, the
 * line structure kept), base64 (76-column lines, the CRLF form encoded),
 * and the walk: a 7-bit message untouched, multipart boundaries and 7-bit
 * parts copied byte for byte, the encoding chosen by content, nested
 * message/rfc822, and the refusals (8-bit header fields, message/partial,
 * a multipart without its boundary, unknown encodings).  Every converted
 * body is decoded again with src/mime/decode.c and compared with the
 * original's CRLF form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "mime/decode.h"
#include "mime/header.h"
#include "mime/mime.h"
#include "mime/to7bit.h"

/* s with every LF as CRLF (the wire form of stored text). */
static char *crlf(const char *s)
{
	buf b;
	buf_init(&b, 1 << 20);
	for (; *s; s++) {
		if (*s == '\n')
			assert_true(buf_putc(&b, '\r'));
		assert_true(buf_putc(&b, *s));
	}
	return buf_steal(&b);
}

static char *qp(const char *s)
{
	buf b;
	buf_init(&b, 1 << 20);
	assert_true(to7bit_qp(s, strlen(s), &b));
	return buf_steal(&b);
}

static void check_lines_7bit(const char *s, size_t max)
{
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "\n");
		assert_true(n <= max);
		for (size_t i = 0; i < n; i++)
			assert_true((unsigned char)p[i] < 0x80 && p[i] != '\r');
		p += n + (p[n] == '\n');
	}
}

/* Decoding the QP gives back the CRLF form of the input. */
static void check_qp_roundtrip(const char *in)
{
	char *enc = qp(in);
	check_lines_7bit(enc, TO7BIT_LINE);
	buf dec;
	buf_init(&dec, 1 << 20);
	assert_true(mime_qp_decode(&dec, enc, 0, strlen(enc)));
	char *want = crlf(in);
	assert_int_equal(dec.len, strlen(want));
	assert_memory_equal(dec.data, want, dec.len);
	free(want);
	buf_free(&dec);
	free(enc);
}

static void test_qp_table(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain ascii\n", "plain ascii\n"},
	    {"caf\xc3\xa9\n", "caf=C3=A9\n"},
	    {"a=b\n", "a=3Db\n"},
	    {"trailing space \nand tab\t\n", "trailing space=20\nand tab=09\n"},
	    {"inner  spaces kept\n", "inner  spaces kept\n"},
	    {"no final line end \xe2\x82\xac", "no final line end =E2=82=AC"},
	    {"bare\rcr and \x01 ctl\n", "bare=0Dcr and =01 ctl\n"},
	    {"From the start\nnot From here\n", "=46rom the start\nnot From here\n"},
	    {"\n\n", "\n\n"},
	    {"", ""},
	    {". a dot line stays (dot-stuffing is the transport's)\n",
	     ". a dot line stays (dot-stuffing is the transport's)\n"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char *got = qp(cases[c].in);
		assert_string_equal(got, cases[c].want);
		free(got);
		check_qp_roundtrip(cases[c].in);
	}
}

/* Lines are broken at 76 with "=" (75 characters and the "="), never
 * inside an =XX escape; a continuation line never starts with "-". */
static void test_qp_soft_breaks(void **state)
{
	char line[300];
	memset(line, 'x', 200);
	line[200] = '\n';
	line[201] = '\0';
	char *got = qp(line);
	assert_int_equal(strcspn(got, "\n"), 76);
	assert_int_equal(got[75], '=');
	assert_int_equal(strncmp(got + 77, "xxxx", 4), 0);
	free(got);
	check_qp_roundtrip(line);

	/* exactly 76 fits without a break; 77 does not */
	memset(line, 'y', 76);
	strcpy(line + 76, "\n");
	got = qp(line);
	assert_string_equal(got, line);
	free(got);
	memset(line, 'y', 77);
	strcpy(line + 77, "\n");
	got = qp(line);
	assert_int_equal(strcspn(got, "\n"), 76);
	free(got);

	/* escapes are never split */
	buf b;
	buf_init(&b, 4096);
	for (int i = 0; i < 60; i++)
		assert_true(buf_puts(&b, i % 3 ? "\xc3\xa9" : "a"));
	assert_true(buf_puts(&b, "\n"));
	got = qp(buf_str(&b));
	for (const char *p = got; *p;) {
		size_t n = strcspn(p, "\n");
		assert_true(n <= 76);
		for (size_t i = 0; i < n; i++)
			if (p[i] == '=')
				assert_true(i == n - 1 || i + 2 < n); /* a soft break, or a whole =XX */
		p += n + 1;
	}
	free(got);
	check_qp_roundtrip(buf_str(&b));

	/* "From " that a soft break would put at a line start */
	buf_clear(&b);
	for (int i = 0; i < 75; i++)
		assert_true(buf_putc(&b, 'w'));
	assert_true(buf_puts(&b, "From here\n"));
	got = qp(buf_str(&b));
	assert_non_null(strstr(got, "=\n=46rom here\n"));
	free(got);
	check_qp_roundtrip(buf_str(&b));

	/* a boundary look-alike in the middle of a long line */
	buf_clear(&b);
	for (int i = 0; i < 75; i++)
		assert_true(buf_putc(&b, 'z'));
	assert_true(buf_puts(&b, "--boundary42 \xc3\xa9\n"));
	got = qp(buf_str(&b));
	for (const char *p = strchr(got, '\n'); p != NULL && p[1]; p = strchr(p + 1, '\n'))
		assert_true(p[1] != '-');
	assert_non_null(strstr(got, "=2D-boundary42"));
	free(got);
	check_qp_roundtrip(buf_str(&b));
	buf_free(&b);
}

static void test_base64(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", ""},
	    {"a", "YQ=="},
	    {"ab", "YWI="},
	    {"abc", "YWJj"},
	    /* LF is encoded as CRLF, and a final line end is kept */
	    {"\xff\n", "/w0K\n"},
	    {"hi\nthere", "aGkNCnRoZXJl"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		buf b;
		buf_init(&b, 4096);
		assert_true(to7bit_base64(cases[c].in, strlen(cases[c].in), &b));
		assert_string_equal(buf_str(&b), cases[c].want);
		buf_free(&b);
	}
	/* long input: 76-column lines, decoding gives back the CRLF form */
	buf in, b, dec;
	buf_init(&in, 1 << 16);
	buf_init(&b, 1 << 16);
	buf_init(&dec, 1 << 16);
	for (int i = 0; i < 1000; i++)
		assert_true(buf_putc(&in, (char)(i % 7 == 0 ? '\n' : 0x80 + i % 100)));
	assert_true(to7bit_base64(in.data, in.len, &b));
	check_lines_7bit(buf_str(&b), 76);
	assert_int_equal(strcspn(buf_str(&b), "\n"), 76);
	assert_true(mime_base64_decode(&dec, b.data, 0, b.len));
	char *want = crlf(buf_str(&in));
	assert_int_equal(dec.len, strlen(want));
	assert_memory_equal(dec.data, want, dec.len);
	free(want);
	buf_free(&in);
	buf_free(&b);
	buf_free(&dec);
}

/* Run the converter; returns the output (malloc'd) or NULL. */
static char *convert(const char *msg, to7bit_status want, const char **why_r)
{
	buf out;
	buf_init(&out, 1 << 20);
	assert_true(buf_puts(&out, "KEEP"));
	const char *why = NULL;
	to7bit_status st = to7bit_convert(msg, strlen(msg), &out, &why);
	assert_int_equal(st, want);
	if (why_r != NULL)
		*why_r = why;
	if (st != TO7BIT_CONVERTED) {
		assert_string_equal(buf_str(&out), "KEEP"); /* untouched */
		buf_free(&out);
		return NULL;
	}
	assert_null(why);
	char *s = xstrdup(buf_str(&out) + 4);
	buf_free(&out);
	check_lines_7bit(s, 998);
	return s;
}

/* The decoded body of the leaf that follows `marker` in a converted
 * message (parsed again with mime.c): it must equal want's CRLF form. */
static void expect_part(const char *conv, const char *marker, const char *want_cte, const char *want)
{
	mime_message *m = mime_parse(conv, strlen(conv));
	const char *at = strstr(conv, marker);
	assert_non_null(at);
	size_t off = (size_t)(at - conv);
	/* the deepest leaf whose header holds the marker */
	const mime_part *p = m->root, *found = NULL;
	while (p != NULL && found == NULL) {
		const mime_part *next = NULL;
		if (off >= p->hdr_start && off < p->body_start && !p->multipart && p->message == NULL)
			found = p;
		for (const mime_part *c = p->children; c != NULL && next == NULL; c = c->next)
			if (off >= c->hdr_start && off < c->body_end)
				next = c;
		if (next == NULL && p->message != NULL)
			next = p->message;
		p = next;
	}
	assert_non_null(found);
	assert_non_null(found->encoding);
	assert_string_equal(found->encoding, want_cte);
	buf dec;
	buf_init(&dec, 1 << 20);
	if (strcmp(want_cte, "base64") == 0)
		assert_true(mime_base64_decode(&dec, conv, found->body_start, found->body_end));
	else
		assert_true(mime_qp_decode(&dec, conv, found->body_start, found->body_end));
	char *w = crlf(want);
	assert_int_equal(dec.len, strlen(w));
	assert_memory_equal(dec.data, w, dec.len);
	free(w);
	buf_free(&dec);
	mime_free(&m);
}

static void test_clean_message_untouched(void **state)
{
	const char *why = "x";
	assert_null(convert("Subject: hi\n\nplain\n", TO7BIT_CLEAN, &why));
	assert_null(why);
	assert_null(convert("", TO7BIT_CLEAN, NULL));
}

/* A single part, no MIME at all: quoted-printable, made MIME. */
static void test_plain_message(void **state)
{
	char *c = convert("From: a@x\nSubject: hi\n\nna\xc3\xafve caf\xc3\xa9 \nbye\n", TO7BIT_CONVERTED, NULL);
	assert_string_equal(c, "From: a@x\nSubject: hi\nMIME-Version: 1.0\n"
	                       "Content-Type: text/plain; charset=unknown-8bit\n"
	                       "Content-Transfer-Encoding: quoted-printable\n\n"
	                       "na=C3=AFve caf=C3=A9=20\nbye\n");
	free(c);
	/* converting the result again finds nothing to do */
	assert_null(convert("Subject: x\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n"
	                    "na=C3=AFve\n", TO7BIT_CLEAN, NULL));
}

/* An existing Content-Transfer-Encoding (folded, odd case) is replaced,
 * the other fields keep their order and bytes. */
static void test_header_rewrite(void **state)
{
	char *c = convert("MIME-Version: 1.0\nContent-Type: text/plain;\n charset=utf-8\n"
	                  "CONTENT-transfer-ENCODING:\n 8bit\nX-After: kept\n\ncaf\xc3\xa9 au lait\n",
	                  TO7BIT_CONVERTED, NULL);
	assert_string_equal(c, "MIME-Version: 1.0\nContent-Type: text/plain;\n charset=utf-8\n"
	                       "X-After: kept\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 au lait\n");
	free(c);
}

#define MP_HEAD "From: a@x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"

/* Boundaries, the preamble, the epilogue and a 7-bit part are copied
 * byte for byte; the 8-bit text part becomes QP, the 8-bit binary part
 * base64. */
static void test_multipart(void **state)
{
	const char *text = "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\n--not-the-boundary\n";
	buf bin;
	buf_init(&bin, 4096);
	for (int i = 0; i < 300; i++)
		assert_true(buf_putc(&bin, (char)(i % 40 == 39 ? '\n' : 0x80 + (i * 7) % 120)));
	buf msg;
	buf_init(&msg, 1 << 16);
	assert_true(buf_printf(&msg,
	                       MP_HEAD "preamble\n--b1\nContent-Type: text/plain\n\nseven bit\n"
	                               "--b1\nContent-Type: text/plain; charset=utf-8\n"
	                               "Content-Transfer-Encoding: 8bit\nX-Part: text\n\n%s"
	                               "--b1\nContent-Type: application/octet-stream\nX-Part: bin\n\n%s\n"
	                               "--b1--\nepilogue\n",
	                       text, bin.data));
	char *c = convert(msg.data, TO7BIT_CONVERTED, NULL);
	assert_non_null(strstr(c, MP_HEAD "preamble\n--b1\nContent-Type: text/plain\n\nseven bit\n--b1\n"));
	assert_non_null(strstr(c, "\n--b1--\nepilogue\n"));
	assert_int_equal(strncmp(c + strlen(c) - strlen("\n--b1--\nepilogue\n"), "\n--b1--\nepilogue\n", 17), 0);
	/* the text part's content: everything before the "\n--b1" delimiter */
	char *t = xstrndup(text, strlen(text) - 1);
	expect_part(c, "X-Part: text", "quoted-printable", t);
	free(t);
	expect_part(c, "X-Part: bin", "base64", bin.data);
	/* one Content-Transfer-Encoding per part */
	const char *p = strstr(c, "X-Part: text");
	assert_null(strstr(c, "8bit"));
	assert_non_null(p);
	mime_message *m = mime_parse(c, strlen(c));
	assert_int_equal(m->root->nchildren, 3);
	mime_free(&m);
	free(c);
	buf_free(&bin);
	buf_free(&msg);
}

/* Mostly 8-bit text reads better as base64; a message/rfc822 with an
 * 8-bit inner part is converted inside and marked 7bit. */
static void test_nested_message_and_choice(void **state)
{
	const char *greek = "\xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1\n";
	buf msg;
	buf_init(&msg, 1 << 16);
	assert_true(buf_printf(&msg,
	                       MP_HEAD "--b1\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
	                               "Subject: inner\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
	                               "X-Part: inner\n\n%s"
	                               "--b1--\n",
	                       greek));
	char *c = convert(msg.data, TO7BIT_CONVERTED, NULL);
	assert_non_null(strstr(c, "--b1\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 7bit\n\n"
	                          "Subject: inner\n"));
	char *g = xstrndup(greek, strlen(greek) - 1);
	expect_part(c, "X-Part: inner", "base64", g);
	free(g);
	free(c);
	buf_free(&msg);
}

/* Encodings claimed already: stray 8-bit bytes in QP become =XX, in
 * base64 they go (decoders ignore them). */
static void test_repair_claimed_encodings(void **state)
{
	char *c = convert("Content-Transfer-Encoding: quoted-printable\n\nab=3D\xe9\n", TO7BIT_CONVERTED, NULL);
	assert_string_equal(c, "Content-Transfer-Encoding: quoted-printable\n\nab=3D=E9\n");
	free(c);
	c = convert("Content-Transfer-Encoding: base64\n\nYW\xffJj\n", TO7BIT_CONVERTED, NULL);
	assert_string_equal(c, "Content-Transfer-Encoding: base64\n\nYWJj\n");
	free(c);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *msg;
		to7bit_status st;
		const char *why;
	} cases[] = {
	    {"Subject: caf\xc3\xa9\n\nbody\n", TO7BIT_HEADER, "header"},
	    {MP_HEAD "--b1\nX-Name: \xc3\xa9\n\nbody\n--b1--\n", TO7BIT_HEADER, "header"},
	    {"Content-Type: message/partial; id=1; number=1\n\n\xc3\xa9\n", TO7BIT_STRUCTURE, "message"},
	    {"Content-Type: multipart/mixed\n\n\xc3\xa9\n", TO7BIT_STRUCTURE, "multipart"},
	    {"Content-Transfer-Encoding: x-uuencode\n\n\xc3\xa9\n", TO7BIT_STRUCTURE, "Content-Transfer-Encoding"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const char *why = NULL;
		assert_null(convert(cases[c].msg, cases[c].st, &why));
		assert_non_null(why);
		assert_non_null(strstr(why, cases[c].why));
	}
	/* out of room: nothing is left half-written */
	buf out;
	buf_init(&out, 16);
	const char *why = NULL;
	const char *msg = "Subject: x\n\n\xc3\xa9\xc3\xa9\xc3\xa9\n";
	assert_int_equal(to7bit_convert(msg, strlen(msg), &out, &why), TO7BIT_TOO_BIG);
	assert_int_equal(out.len, 0);
	assert_non_null(why);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qp_table),
	    cmocka_unit_test(test_qp_soft_breaks),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_clean_message_untouched),
	    cmocka_unit_test(test_plain_message),
	    cmocka_unit_test(test_header_rewrite),
	    cmocka_unit_test(test_multipart),
	    cmocka_unit_test(test_nested_message_and_choice),
	    cmocka_unit_test(test_repair_claimed_encodings),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
