/* test_compose.c — unit tests for the HTTPS API's message building:
 * src/api/msgjson.c (the JSON body: every member's checks, the status and
 * JSON pointer of each problem, strict base64, reserved header names) and
 * src/api/compose.c (RFC 2047 encoded-words at most 75 characters and
 * split between whole characters, folding at 78, RFC 2231 filename*
 * continuations, quoted-printable and base64 lines at most 76, 7bit
 * text when it can go as it is, the structure of text, alternative and
 * mixed messages, the html-to-text alternative).  Composed messages are read back with src/mime (the
 * parser, the encoded-word and parameter decoders, the transfer
 * decoders) and compared with what was asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/compose.h"
#include "mime/hdrwrite.h"
#include "api/msgjson.h"
#include "lib/strutil.h"
#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/header.h"
#include "mime/mime.h"

static const msgjson_limits LIM = {.max_recipients = 5, .max_size = 10000};
static const unsigned char RND[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* ---- msgjson ---- */

typedef struct bad_case {
	const char *json;
	int status;
	const char *field;    /* NULL: no field */
	const char *detail;   /* a piece of the detail */
} bad_case;

static void test_json_problems(void **state)
{
	static const bad_case cases[] = {
		{"{\"from\": ", 400, NULL, "line 1"},
		{"[1]", 422, "", "JSON object"},
		{"{\"to\":[\"a@b.test\"],\"text\":\"x\"}", 422, "/from", "required"},
		{"{\"from\":\"a@b.test\",\"text\":\"x\"}", 422, "/to", "at least one recipient"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"]}", 422, "/text", "text or html"},
		{"{\"from\":\"not an address\",\"to\":[\"c@d.test\"],\"text\":\"x\"}", 422, "/from", "not an address"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\",\"bad@\"],\"text\":\"x\"}", 422, "/to/1", "bad@"},
		{"{\"from\":\"a@b.test\",\"to\":[{\"name\":\"X\"}],\"text\":\"x\"}", 422, "/to/0/email", "email"},
		{"{\"from\":\"a@b.test\",\"to\":[{\"email\":\"c@d.test\",\"nom\":1}],\"text\":\"x\"}", 422, "/to/0/nom",
		 "unknown"},
		{"{\"from\":\"a@b.test\",\"to\":\"c@d.test\",\"text\":\"x\"}", 422, "/to", "array"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"bbc\":[\"e@f.test\"],\"text\":\"x\"}", 422, "/bbc",
		 "unknown member"},
		{"{\"from\":\"a@b.test\",\"to\":[\"1@d.test\",\"2@d.test\",\"3@d.test\"],\"cc\":[\"4@d.test\"],"
		 "\"bcc\":[\"5@d.test\",\"6@d.test\"],\"text\":\"x\"}", 422, "/bcc", "too many recipients"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"attachments\":[{\"filename\":\"a\","
		 "\"content\":\"QUJD\"},{\"filename\":\"b\",\"content\":\"QU=JD\"}]}", 422, "/attachments/1/content",
		 "base64"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"attachments\":[{\"filename\":\"../x\","
		 "\"content\":\"\"}]}", 422, "/attachments/0/filename", "'/'"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"attachments\":[{\"filename\":\"x\","
		 "\"content_type\":\"text\",\"content\":\"\"}]}", 422, "/attachments/0/content_type", "type/subtype"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"headers\":{\"Subject\":\"s\"}}", 422,
		 "/headers/Subject", "written by yubin"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"headers\":{\"content-type\":\"s\"}}",
		 422, "/headers/content-type", "written by yubin"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"headers\":{\"X-A/b\":\"a\\nb\"}}",
		 422, "/headers/X-A~1b", "one line"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"tags\":[\"a,b\"]}", 422, "/tags/0",
		 "commas"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"metadata\":{\"k y\":\"v\"}}", 422,
		 "/metadata/k y", "metadata key"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"metadata\":{\"k\":1}}", 422,
		 "/metadata/k", "metadata value"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"subject\":\"a\\u0001b\",\"text\":\"x\"}", 422,
		 "/subject", "control"},
		{"{\"from\":\"a@b.test\",\"from\":\"c@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\"}", 400, NULL,
		 "duplicate"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"require_tls\":\"yes\"}", 422,
		 "/require_tls", "true or false"},
		{"{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"require_tls\":1}", 422,
		 "/require_tls", "true or false"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		api_msg m;
		api_problem p = {0};
		bool ok = msgjson_parse(cases[i].json, strlen(cases[i].json), &LIM, &m, &p);
		if (ok || p.status != cases[i].status || strstr(p.detail, cases[i].detail) == NULL ||
		    (cases[i].field == NULL) != (p.field == NULL) ||
		    (cases[i].field && strcmp(cases[i].field, p.field) != 0))
			fail_msg("case %zu: ok=%d status=%d field=%s detail=%s", i, ok, p.status,
			         p.field ? p.field : "(none)", p.detail ? p.detail : "");
		api_problem_free(&p);
		api_msg_free(&m);
	}
}

static void test_json_good_and_size(void **state)
{
	const char *j = "{\"from\":{\"name\":\"Zoë\",\"email\":\"z@b.test\"},\"to\":[\"\\\"A, B\\\" <a@d.test>\"],"
	                "\"reply_to\":\"r@b.test\",\"text\":\"hi\",\"attachments\":[{\"filename\":\"x.bin\","
	                "\"content\":\"AAEC/w==\"}],\"tags\":[\"t1\"],\"metadata\":{\"order\":\"42\"}}";
	api_msg m;
	api_problem p = {0};
	assert_true(msgjson_parse(j, strlen(j), &LIM, &m, &p));
	assert_string_equal(m.from.name, "Zoë");
	assert_string_equal(m.to.v[0].name, "A, B");
	assert_string_equal(m.to.v[0].email, "a@d.test");
	assert_int_equal(m.reply_to.n, 1);
	assert_int_equal(m.att[0].len, 4);
	assert_memory_equal(m.att[0].data, "\x00\x01\x02\xff", 4);
	assert_string_equal(m.att[0].content_type, "application/octet-stream");
	assert_false(m.require_tls); /* absent: not required */
	api_msg_free(&m);
	/* RFC 8689 REQUIRETLS asked for, or said false */
	const char *rt = "{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"require_tls\":true}";
	assert_true(msgjson_parse(rt, strlen(rt), &LIM, &m, &p));
	assert_true(m.require_tls);
	api_msg_free(&m);
	const char *rf = "{\"from\":\"a@b.test\",\"to\":[\"c@d.test\"],\"text\":\"x\",\"require_tls\":false}";
	assert_true(msgjson_parse(rf, strlen(rf), &LIM, &m, &p));
	assert_false(m.require_tls);
	api_msg_free(&m);
	/* decoded sizes against the limit: 413 */
	msgjson_limits small = {.max_recipients = 5, .max_size = 3};
	assert_false(msgjson_parse(j, strlen(j), &small, &m, &p));
	assert_int_equal(p.status, 413);
	api_problem_free(&p);
	api_msg_free(&m);
}

static void test_base64_strict(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
		size_t n;
	} cases[] = {
		{"", "", 0},           {"QQ==", "A", 1},     {"QUI=", "AB", 2},  {"QUJD", "ABC", 3},
		{"QUJD\r\nRA==", "ABCD", 4}, {"QQ", "A", 1}, {"Q", NULL, 0},     {"QQ=", NULL, 0},
		{"QQ==QQ==", NULL, 0}, {"QU JD", NULL, 0},  {"QUJ*", NULL, 0},  {"====", NULL, 0},
		{"QUJDR===", NULL, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = NULL;
		size_t n = 0;
		bool ok = msgjson_base64_decode(cases[i].in, strlen(cases[i].in), &out, &n);
		if (ok != (cases[i].out != NULL) || (ok && (n != cases[i].n || memcmp(out, cases[i].out, n) != 0)))
			fail_msg("case %zu (%s): ok=%d n=%zu", i, cases[i].in, ok, n);
		free(out);
	}
	assert_true(msgjson_header_reserved("Content-Type"));
	assert_true(msgjson_header_reserved("MESSAGE-ID"));
	assert_false(msgjson_header_reserved("X-Campaign"));
}

/* ---- compose: the pieces ---- */

/* Every line of s at most max characters (without the LF). */
static void assert_lines_at_most(const char *s, size_t max)
{
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "\n");
		if (n > max)
			fail_msg("line of %zu > %zu: %.*s", n, max, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* The value of the one field in `field` unfolded and decoded. */
static char *decoded_value(const char *field)
{
	mime_field f;
	size_t pos = 0;
	assert_true(mime_header_next(field, strlen(field), &pos, &f));
	char *raw = mime_field_value(field, &f);
	char *d = mime_decode_header(raw);
	free(raw);
	return d;
}

static void test_encoded_words(void **state)
{
	static const char *const values[] = {
		"Hello world",
		"Grüße aus Köln",
		"日本語の件名はとても長くなることがありますので、エンコードされた単語に分割しなければなりません。さらに長く",
		"an =?encoded?= lookalike",
		"  leading blanks",
		("a word that is far too long to fit: "
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
		"emoji 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀 end",
		"plain ascii subject that goes on and on for a good while so that it has to be folded somewhere",
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		mime_put_unstructured(&b, "Subject", values[i]);
		assert_lines_at_most(b.data, 78);
		/* every encoded word at most 75 characters */
		for (const char *w = strstr(b.data, "=?"); w != NULL; w = strstr(w + 2, "=?")) {
			const char *e = strstr(w + 2, "?=");
			assert_non_null(e);
			if (strncmp(w, "=?UTF-8?B?", 10) == 0)
				assert_true((size_t)(e + 2 - w) <= 75);
			w = e;
		}
		char *d = decoded_value(b.data);
		if (strcmp(d, values[i]) != 0)
			fail_msg("value %zu came back as \"%s\" from:\n%s", i, d, b.data);
		free(d);
		buf_free(&b);
	}
}

static void test_param_2231(void **state)
{
	static const char *const names[] = {
		"report.pdf",
		"Überweisung März.pdf",
		"a very long file name that will not fit on one header line at all, even when quoted.txt",
		"日本語のとても長いファイル名前のテスト資料（最終版）その二.xlsx",
		"quote\"in.txt",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		BUF_PUTS(&b, "Content-Disposition: attachment");
		compose_param(&b, "filename", names[i]);
		BUF_PUTC(&b, '\n');
		assert_lines_at_most(b.data, 78);
		mime_field f;
		size_t pos = 0;
		assert_true(mime_header_next(b.data, b.len, &pos, &f));
		char *v = mime_field_value(b.data, &f), *type;
		mime_params ps;
		mime_parse_disposition(v, &type, &ps);
		const char *got = mime_params_get(&ps, "filename");
		if (got == NULL || strcmp(got, names[i]) != 0)
			fail_msg("name %zu came back as %s from:\n%s", i, got ? got : "(none)", b.data);
		free(type);
		free(v);
		mime_params_free(&ps);
		buf_free(&b);
	}
}

static void test_html_to_text(void **state)
{
	static const struct {
		const char *html, *text;
	} cases[] = {
		{"<p>Hello <b>world</b></p><p>Second&nbsp;line &amp; more</p>", "Hello world\nSecond line & more\n"},
		{"<html><head><title>T</title><style>p{}</style></head><body>A<br>B<br/>C</body></html>", "A\nB\nC\n"},
		{"x &lt;y&gt; &#233; &#x1F600; &bogus; &", "x <y> é 😀 &bogus; &\n"},
		{"<script>alert(1)</script>   spaced\n\n\n   out  ", "spaced out\n"},
		{"<ul><li>one</li><li>two</li></ul>", "one\ntwo\n"},
		{"unfinished <a href=", "unfinished\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		compose_html_to_text(cases[i].html, &b);
		if (strcmp(b.data, cases[i].text) != 0)
			fail_msg("case %zu: \"%s\"", i, b.data);
		buf_free(&b);
	}
}

static void test_base64_lines(void **state)
{
	char data[1000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7);
	buf b, back;
	buf_init(&b, BUF_UNBOUNDED);
	buf_init(&back, BUF_UNBOUNDED);
	compose_base64(&b, data, sizeof data);
	assert_lines_at_most(b.data, 76);
	assert_true(mime_base64_decode(&back, b.data, 0, b.len));
	assert_int_equal(back.len, sizeof data);
	assert_memory_equal(back.data, data, sizeof data);
	buf_free(&b);
	buf_free(&back);
}

/* ---- compose: whole messages ---- */

static api_msg parse_ok(const char *j)
{
	api_msg m;
	api_problem p = {0};
	if (!msgjson_parse(j, strlen(j), &LIM, &m, &p))
		fail_msg("%s: %s", p.field ? p.field : "", p.detail);
	return m;
}

static char *compose(const api_msg *m, char **mid)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	compose_opts o = {.hostname = "mx.example.test", .now = 1700000000, .random = RND};
	compose_message(m, &o, &b, mid);
	return buf_steal(&b);
}

/* The decoded body of part p. */
static char *part_body(const mime_message *mm, const mime_part *p, size_t *len_r)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	if (p->encoding && strcmp(p->encoding, "base64") == 0) {
		assert_true(mime_base64_decode(&b, mm->data, p->body_start, p->body_end));
	} else if (p->encoding && strcmp(p->encoding, "quoted-printable") == 0) {
		assert_true(mime_qp_decode(&b, mm->data, p->body_start, p->body_end));
	} else { /* 7bit: as it is, with CRLF line ends like the decoders */
		assert_string_equal(p->encoding, "7bit");
		for (size_t i = p->body_start; i < p->body_end; i++)
			assert_true(mm->data[i] == '\n' ? buf_append(&b, "\r\n", 2) : buf_append(&b, &mm->data[i], 1));
	}
	*len_r = b.len;
	return buf_steal(&b);
}

static void test_text_only(void **state)
{
	api_msg m = parse_ok("{\"from\":\"Ann <ann@b.test>\",\"to\":[\"c@d.test\"],\"bcc\":[\"hidden@e.test\"],"
	                     "\"subject\":\"Hi\",\"text\":\"line one\\nline = two with a very long line that goes "
	                     "well past seventy-six characters of quoted-printable output, é\\n\","
	                     "\"headers\":{\"X-Campaign\":\"spring\"},\"tags\":[\"a\",\"b\"],"
	                     "\"metadata\":{\"order\":\"42\"}}");
	char *mid, *msg = compose(&m, &mid);
	assert_string_equal(mid, "<0102030405060708090a0b0c0d0e0f10@mx.example.test>");
	assert_lines_at_most(msg, 78);
	assert_null(strstr(msg, "hidden@"));
	assert_null(strstr(msg, "Bcc"));
	assert_non_null(strstr(msg, "From: \"Ann\" <ann@b.test>\n"));
	assert_non_null(strstr(msg, "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"));
	assert_non_null(strstr(msg, "MIME-Version: 1.0\n"));
	assert_non_null(strstr(msg, "X-Campaign: spring\n"));
	assert_non_null(strstr(msg, "X-Yubin-Tags: a, b\n"));
	assert_non_null(strstr(msg, "X-Yubin-Meta-order: 42\n"));
	mime_message *mm = mime_parse(msg, strlen(msg));
	assert_lines_at_most(msg + mm->root->body_start, 76); /* quoted-printable */
	assert_non_null(strstr(msg + mm->root->body_start, "=\n"));   /* a soft break was needed */
	assert_true(mime_part_is(mm->root, "text", "plain"));
	assert_string_equal(mime_params_get(&mm->root->params, "charset"), "utf-8");
	size_t n;
	char *body = part_body(mm, mm->root, &n);
	assert_string_equal(body, "line one\r\nline = two with a very long line that goes well past seventy-six "
	                          "characters of quoted-printable output, é\r\n");
	free(body);
	mime_free(&mm);
	free(msg);
	free(mid);
	api_msg_free(&m);
}

/* Plain short-lined ASCII goes as it is (7bit, us-ascii); a line longer
 * than 76, white space at a line's end, a byte past ASCII, or "=_" (our
 * boundaries' start) makes it quoted-printable. */
static void test_text_7bit_or_qp(void **state)
{
	char long76[77], long77[78];
	memset(long76, 'x', 76);
	long76[76] = '\0';
	memset(long77, 'y', 77);
	long77[77] = '\0';
	const struct {
		const char *text;
		const char *encoding;
	} cases[] = {
		{"Hello,\n\n\tplain words. = sign, dots\n.\nend", "7bit"},
		{long76, "7bit"},
		{long77, "quoted-printable"},
		{"trailing space \nnext", "quoted-printable"},
		{"trailing tab\t", "quoted-printable"},
		{"caf\xc3\xa9", "quoted-printable"},
		{"a =_boundary-like start", "quoted-printable"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_pack("{s:s, s:[s], s:s}", "from", "a@b.test", "to", "c@d.test", "text", cases[i].text);
		char *js = json_dumps(j, 0);
		json_decref(j);
		api_msg m = parse_ok(js);
		char *mid, *msg = compose(&m, &mid);
		mime_message *mm = mime_parse(msg, strlen(msg));
		assert_string_equal(mm->root->encoding, cases[i].encoding);
		assert_string_equal(mime_params_get(&mm->root->params, "charset"),
		                    strcmp(cases[i].encoding, "7bit") == 0 ? "us-ascii" : "utf-8");
		assert_lines_at_most(msg + mm->root->body_start, 76);
		size_t n;
		char *body = part_body(mm, mm->root, &n);
		buf want; /* the text with CRLF line ends and a last line end */
		buf_init(&want, BUF_UNBOUNDED);
		for (const char *t = cases[i].text; *t; t++)
			assert_true(*t == '\n' ? buf_append(&want, "\r\n", 2) : buf_append(&want, t, 1));
		if (want.len < 2 || memcmp(want.data + want.len - 2, "\r\n", 2) != 0)
			assert_true(buf_append(&want, "\r\n", 2));
		assert_int_equal(n, want.len);
		assert_memory_equal(body, want.data, n);
		buf_free(&want);
		free(body);
		mime_free(&mm);
		free(msg);
		free(mid);
		free(js);
		api_msg_free(&m);
	}
}

static void test_html_alternative_and_attachments(void **state)
{
	api_msg m = parse_ok("{\"from\":\"a@b.test\",\"to\":[\"c@d.test\",{\"name\":\"Jürgen Groß\",\"email\":"
	                     "\"j@d.test\"}],\"subject\":\"Grüße\",\"html\":\"<p>Hallo&nbsp;Welt</p>\","
	                     "\"attachments\":[{\"filename\":\"naïve.bin\",\"content_type\":\"Application/Octet-Stream\","
	                     "\"content\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH\"},"
	                     "{\"filename\":\"a.txt\",\"content_type\":\"text/plain\",\"content\":\"YQ==\"}]}");
	char *mid, *msg = compose(&m, &mid);
	assert_lines_at_most(msg, 78);
	mime_message *mm = mime_parse(msg, strlen(msg));
	mime_part *root = mm->root;
	assert_true(mime_part_is(root, "multipart", "mixed"));
	assert_int_equal(root->nchildren, 3);
	mime_part *alt = mime_part_child(root, 1);
	assert_true(mime_part_is(alt, "multipart", "alternative"));
	assert_int_equal(alt->nchildren, 2);
	size_t n;
	char *text = part_body(mm, mime_part_child(alt, 1), &n);
	assert_string_equal(text, "Hallo Welt\r\n");
	free(text);
	assert_true(mime_part_is(mime_part_child(alt, 2), "text", "html"));
	mime_part *a1 = mime_part_child(root, 2);
	assert_string_equal(a1->disposition, "attachment");
	assert_string_equal(mime_params_get(&a1->disp_params, "filename"), "naïve.bin");
	char *bytes = part_body(mm, a1, &n);
	assert_int_equal(n, 72);
	for (size_t i = 0; i < n; i++)
		assert_int_equal((unsigned char)bytes[i], i);
	free(bytes);
	/* the display name and subject decode back */
	char *to = mime_header_value(msg, 0, root->hdr_end, "To");
	char *dto = mime_decode_header(to);
	assert_string_equal(dto, "c@d.test, Jürgen Groß <j@d.test>");
	free(to);
	free(dto);
	/* the boundary appears only as boundaries */
	const char *b = "=_yubin_0102030405060708090a0b0c0d0e0f10_m";
	size_t count = 0;
	for (const char *p = strstr(msg, b); p; p = strstr(p + 1, b))
		count++;
	assert_int_equal(count, 1 + 3 + 1); /* the parameter, three delimiters, the close */
	mime_free(&mm);
	free(msg);
	free(mid);
	api_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_problems),
	    cmocka_unit_test(test_json_good_and_size),
	    cmocka_unit_test(test_base64_strict),
	    cmocka_unit_test(test_encoded_words),
	    cmocka_unit_test(test_param_2231),
	    cmocka_unit_test(test_html_to_text),
	    cmocka_unit_test(test_base64_lines),
	    cmocka_unit_test(test_text_only),
	    cmocka_unit_test(test_text_7bit_or_qp),
	    cmocka_unit_test(test_html_alternative_and_attachments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
