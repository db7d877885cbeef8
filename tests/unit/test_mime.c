/* test_mime.c — unit tests for src/mime's structure parser: exact byte
 * offsets of headers and bodies for simple, multipart, nested and
 * message/rfc822 messages, in LF and CRLF form; boundary rules (line start
 * only, transport padding, prefixes of each other, a missing close
 * delimiter, boundary-like lines in a body); Content-* fields with RFC 2231
 * parameters; the depth and part-count limits; header walking and the
 * CRLF-form helpers; base64 and quoted-printable decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "mime/crlf.h"
#include "mime/decode.h"
#include "mime/header.h"
#include "mime/mime.h"

static mime_message *parse(const char *s)
{
	return mime_parse(s, strlen(s));
}

/* The stored bytes of [a, b) as a string. */
static char *bytes(const mime_message *m, size_t a, size_t b)
{
	return xstrndup(m->data + a, b - a);
}

static void expect_range(const mime_message *m, size_t a, size_t b, const char *want)
{
	char *got = bytes(m, a, b);
	assert_string_equal(got, want);
	free(got);
}

static void expect_header(const mime_message *m, const mime_part *p, const char *want)
{
	expect_range(m, p->hdr_start, p->hdr_end, want);
}

static void expect_body(const mime_message *m, const mime_part *p, const char *want)
{
	expect_range(m, p->body_start, p->body_end, want);
}

/* Replace every LF by CRLF (a test message in its CRLF form). */
static char *to_crlf(const char *s)
{
	char *out = xmalloc(2 * strlen(s) + 1);
	size_t n = 0;
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			out[n++] = '\r';
		out[n++] = *s;
	}
	out[n] = '\0';
	return out;
}

static void test_simple_text(void **state)
{
	const char *msg = "From: a@b.test\nSubject: hi\n\nline one\nline two\n";
	mime_message *m = parse(msg);
	const mime_part *r = m->root;
	assert_int_equal(r->hdr_start, 0);
	expect_header(m, r, "From: a@b.test\nSubject: hi\n\n");
	expect_body(m, r, "line one\nline two\n");
	assert_int_equal(r->body_end, strlen(msg));
	assert_string_equal(r->type, "text");
	assert_string_equal(r->subtype, "plain");
	assert_false(r->type_given);
	assert_false(r->multipart);
	assert_null(r->message);
	assert_int_equal(mime_part_size(m, r), 20);     /* 18 + 2 CRs */
	assert_int_equal(mime_part_lines(m, r), 2);
	assert_int_equal(m->nparts, 1);
	mime_free(&m);
	assert_null(m);
}

static const char alternative[] =
	"From: a@b.test\n"
	"Content-Type: multipart/alternative; boundary=\"=_b1\"\n"
	"\n"
	"This is the preamble.\n"
	"--=_b1\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"plain text\n"
	"\n"
	"--=_b1\n"
	"Content-Type: text/html\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"<p>html</p>\n"
	"--=_b1--\n"
	"epilogue\n";

static void check_alternative(const mime_message *m, const char *nl)
{
	const mime_part *r = m->root;
	assert_true(r->multipart);
	assert_string_equal(r->subtype, "alternative");
	assert_string_equal(mime_params_get(&r->params, "boundary"), "=_b1");
	assert_int_equal(r->nchildren, 2);
	const mime_part *a = mime_part_child(r, 1), *b = mime_part_child(r, 2);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(mime_part_child(r, 3));
	assert_null(mime_part_child(r, 0));
	char *want = xasprintf("Content-Type: text/plain; charset=utf-8%s%s", nl, nl);
	expect_header(m, a, want);
	free(want);
	want = xasprintf("plain text%s", nl);           /* the last line end is the delimiter's */
	expect_body(m, a, want);
	free(want);
	expect_body(m, b, "<p>html</p>");
	assert_string_equal(b->encoding, "quoted-printable");
	assert_string_equal(mime_params_get(&a->params, "charset"), "utf-8");
	assert_int_equal(a->depth, 1);
	assert_ptr_equal(a->parent, r);
	assert_int_equal(r->body_end, m->len);           /* epilogue included */
	assert_int_equal(m->nparts, 3);
}

static void test_multipart_alternative_lf_and_crlf(void **state)
{
	mime_message *m = parse(alternative);
	check_alternative(m, "\n");
	size_t lf_size = mime_part_size(m, mime_part_child(m->root, 1));
	mime_free(&m);
	char *crlf = to_crlf(alternative);
	m = parse(crlf);
	check_alternative(m, "\r\n");
	/* the same sizes in CRLF form whichever way the message was stored */
	assert_int_equal(mime_part_size(m, mime_part_child(m->root, 1)), lf_size);
	assert_int_equal(lf_size, 12);
	assert_int_equal(mime_part_lines(m, mime_part_child(m->root, 1)), 1);
	mime_free(&m);
	free(crlf);
}

static void test_mixed_with_attachment_and_rfc822(void **state)
{
	const char *msg =
		"Subject: fwd\n"
		"Content-Type: multipart/mixed; boundary=outer\n"
		"\n"
		"--outer\n"
		"\n"
		"body text without a header\n"
		"--outer\n"
		"Content-Type: application/pdf; name=\"a.pdf\"\n"
		"Content-Transfer-Encoding: base64\n"
		"Content-Disposition: attachment;\n filename=\"a.pdf\"; size=6\n"
		"Content-ID: <id1@x.test>\n"
		"Content-Description: the file\n"
		"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
		"Content-Language: en, de\n"
		"Content-Location: http://x.test/a.pdf\n"
		"\n"
		"JVBERi0=\n"
		"--outer\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"Subject: inner\n"
		"Content-Type: multipart/mixed; boundary=inner\n"
		"\n"
		"--inner\n"
		"\n"
		"inner text\n"
		"--inner--\n"
		"--outer--\n";
	mime_message *m = parse(msg);
	const mime_part *r = m->root;
	assert_int_equal(r->nchildren, 3);
	const mime_part *t = mime_part_child(r, 1);
	expect_header(m, t, "\n");
	expect_body(m, t, "body text without a header");
	assert_false(t->type_given);
	const mime_part *a = mime_part_child(r, 2);
	assert_string_equal(a->type, "application");
	assert_string_equal(a->subtype, "pdf");
	assert_string_equal(mime_params_get(&a->params, "name"), "a.pdf");
	assert_string_equal(a->encoding, "base64");
	assert_string_equal(a->disposition, "attachment");
	assert_string_equal(mime_params_get(&a->disp_params, "filename"), "a.pdf");
	assert_string_equal(mime_params_get(&a->disp_params, "size"), "6");
	assert_string_equal(a->id, "<id1@x.test>");
	assert_string_equal(a->description, "the file");
	assert_string_equal(a->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
	assert_string_equal(a->language, "en, de");
	assert_string_equal(a->location, "http://x.test/a.pdf");
	expect_body(m, a, "JVBERi0=");
	const mime_part *e = mime_part_child(r, 3);
	assert_true(mime_part_is(e, "message", "rfc822"));
	assert_non_null(e->message);
	const mime_part *em = e->message;
	assert_int_equal(em->hdr_start, e->body_start);
	expect_header(m, em, "Subject: inner\nContent-Type: multipart/mixed; boundary=inner\n\n");
	assert_int_equal(em->body_end, e->body_end);
	assert_true(em->multipart);
	assert_int_equal(em->depth, 2);
	expect_body(m, mime_part_child(em, 1), "inner text");
	assert_int_equal(mime_part_child(em, 1)->depth, 3);
	/* the rfc822 body ends before the line end of --outer-- */
	expect_body(m, e, "Subject: inner\nContent-Type: multipart/mixed; boundary=inner\n\n"
			  "--inner\n\ninner text\n--inner--");
	assert_int_equal(m->nparts, 6);
	mime_free(&m);
}

/* Boundaries that are prefixes of each other; an inner multipart ended by
 * the outer boundary (no close delimiter of its own); padding. */
static void test_nested_prefix_boundaries(void **state)
{
	const char *msg =
		"Content-Type: multipart/mixed; boundary=abc\n"
		"\n"
		"--abc\n"
		"Content-Type: multipart/alternative; boundary=abcdef\n"
		"\n"
		"--abcdef \t\n"
		"\n"
		"one\n"
		"--abcdef\n"
		"\n"
		"two\n"
		"--abc\n"
		"\n"
		"three\n"
		"--abc--  \n";
	mime_message *m = parse(msg);
	const mime_part *r = m->root;
	assert_int_equal(r->nchildren, 2);
	const mime_part *inner = mime_part_child(r, 1);
	assert_true(inner->multipart);
	assert_int_equal(inner->nchildren, 2);
	expect_body(m, mime_part_child(inner, 1), "one");
	expect_body(m, mime_part_child(inner, 2), "two");
	expect_body(m, mime_part_child(r, 2), "three");
	mime_free(&m);
}

static void test_boundary_like_lines(void **state)
{
	const char *msg =
		"Content-Type: multipart/mixed; boundary=\"xy\"\n"
		"\n"
		"--xy\n"
		"\n"
		"a --xy in the middle\n"
		" --xy\n"
		"--xyz\n"
		"--xy-- more\n"
		"---xy\n"
		"--x\n"
		"--xy--\n";
	mime_message *m = parse(msg);
	assert_int_equal(m->root->nchildren, 1);
	expect_body(m, mime_part_child(m->root, 1),
		    "a --xy in the middle\n --xy\n--xyz\n--xy-- more\n---xy\n--x");
	mime_free(&m);
}

static void test_no_final_boundary(void **state)
{
	const char *msg =
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\n\nfirst\n--b\nContent-Type: text/html\n\n<b>cut";
	mime_message *m = parse(msg);
	assert_int_equal(m->root->nchildren, 2);
	expect_body(m, mime_part_child(m->root, 2), "<b>cut");
	assert_int_equal(mime_part_child(m->root, 2)->body_end, strlen(msg));
	assert_int_equal(mime_part_lines(m, mime_part_child(m->root, 2)), 1);
	mime_free(&m);
}

/* Multiparts that cannot be split are opaque text with all their bytes. */
static void test_malformed_multipart(void **state)
{
	const char *cases[] = {
		"Content-Type: multipart/mixed\n\n--b\n\nx\n--b--\n",              /* no boundary */
		"Content-Type: multipart/mixed; boundary=zz\n\nno delimiter\n",      /* never found */
		"Content-Type: multipart/mixed; boundary=zz\n\npre\n--zz--\n",       /* no child */
		"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\nx\n",         /* empty */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mime_message *m = parse(cases[i]);
		assert_false(m->root->multipart);
		assert_true(m->root->opaque);
		assert_null(m->root->children);
		assert_int_equal(m->root->body_end, strlen(cases[i]));
		mime_free(&m);
	}
	/* a child whose header runs into the next delimiter has no body */
	mime_message *m = parse("Content-Type: multipart/mixed; boundary=q\n\n--q\nX-A: 1\n--q\n\nb\n--q--\n");
	const mime_part *c = mime_part_child(m->root, 1);
	expect_header(m, c, "X-A: 1");   /* the line end is the delimiter's */
	assert_int_equal(c->body_start, c->body_end);
	expect_body(m, mime_part_child(m->root, 2), "b");
	mime_free(&m);
	/* the same inside an encapsulated message (found by fuzz_mime): every
	 * range stays inside its parent's */
	m = parse("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: x\n--d--\n");
	c = mime_part_child(m->root, 1);
	assert_non_null(c->message);
	expect_body(m, c, "Subject: x");
	expect_header(m, c->message, "Subject: x");
	assert_int_equal(c->message->body_end, c->body_end);
	mime_free(&m);
	/* one LF that ends a delimiter line and starts the next delimiter: the
	 * part keeps it, so its empty child is still inside it */
	m = parse("Content-Type: multipart/mixed; boundary=o\n\n--o\n"
		  "Content-Type: multipart/mixed; boundary=i\n\n--i\n--o--\n");
	c = mime_part_child(m->root, 1);
	const mime_part *e = mime_part_child(c, 1);
	assert_int_equal(e->hdr_start, e->body_end);
	assert_true(e->body_end <= c->body_end);
	mime_free(&m);
	m = parse("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: x\n\n--d--\n");
	c = mime_part_child(m->root, 1);
	expect_header(m, c->message, "Subject: x\n\n");
	assert_true(c->message->body_end <= c->body_end);
	mime_free(&m);
}

static void test_rfc2231_parameters(void **state)
{
	const char *msg =
		"Content-Type: application/x-stuff;\n"
		"    title*0*=us-ascii'en'This%20is%20even%20more%20;\n"
		"    title*1*=%2A%2A%2Afun%2A%2A%2A%20;\n"
		"    title*2=\"isn't it!\"\n"
		"Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt;\n"
		"  Creation-Date=\"Wed, 12 Feb 1997 16:29:51 -0500\" (comment); x*3=orphan\n"
		"\n";
	mime_message *m = parse(msg);
	const mime_part *r = m->root;
	assert_int_equal(r->params.n, 1);
	const mime_param *t = &r->params.items[0];
	assert_string_equal(t->name, "title");
	assert_string_equal(t->value, "This is even more ***fun*** isn't it!");
	assert_string_equal(t->charset, "us-ascii");
	assert_string_equal(t->language, "en");
	assert_int_equal(r->disp_params.n, 3);
	const mime_param *f = &r->disp_params.items[0];
	assert_string_equal(f->name, "filename");
	assert_string_equal(f->value, "\xe2\x82\xac rates.txt");
	assert_string_equal(f->charset, "UTF-8");
	assert_string_equal(f->language, "");
	char *enc = mime_param_encode_2231(f);
	assert_string_equal(enc, "UTF-8''%E2%82%AC%20rates.txt");
	free(enc);
	assert_string_equal(mime_params_get(&r->disp_params, "creation-date"),
			    "Wed, 12 Feb 1997 16:29:51 -0500");
	assert_string_equal(mime_params_get(&r->disp_params, "x*3"), "orphan");
	/* the body of a header-only message is empty */
	assert_int_equal(r->body_start, strlen(msg));
	assert_int_equal(r->body_end, strlen(msg));
	mime_free(&m);
}

static void test_content_type_syntax(void **state)
{
	static const struct {
		const char *value, *type, *subtype, *pname, *pvalue;
	} cases[] = {
		{"TEXT/HTML; CHARSET=\"ISO-8859-1\"", "text", "html", "charset", "ISO-8859-1"},
		{" text / plain ; format = flowed", "text", "plain", "format", "flowed"},
		{"(comment) text/plain (c2); charset=us-ascii (c3)", "text", "plain", "charset", "us-ascii"},
		{"text/plain; name=foo bar.txt; x=1", "text", "plain", "name", "foo bar.txt"},
		{"text/plain; a=\"q\\\"uo\\\\te\"", "text", "plain", "a", "q\"uo\\te"},
		{"text/plain; a=\"unterminated", "text", "plain", "a", "unterminated"},
		{"text", NULL, NULL, NULL, NULL},
		{"/plain", NULL, NULL, NULL, NULL},
		{"", NULL, NULL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *type, *subtype;
		mime_params ps;
		mime_parse_content_type(cases[i].value, &type, &subtype, &ps);
		if (cases[i].type == NULL) {
			assert_null(type);
			assert_null(subtype);
		} else {
			assert_string_equal(type, cases[i].type);
			assert_string_equal(subtype, cases[i].subtype);
			assert_string_equal(mime_params_get(&ps, cases[i].pname), cases[i].pvalue);
		}
		free(type);
		free(subtype);
		mime_params_free(&ps);
	}
}

static void test_empty_and_header_only(void **state)
{
	mime_message *m = mime_parse("", 0);
	assert_int_equal(m->root->hdr_end, 0);
	assert_int_equal(m->root->body_end, 0);
	assert_int_equal(mime_part_lines(m, m->root), 0);
	mime_free(&m);
	m = parse("Subject: only\n");
	expect_header(m, m->root, "Subject: only\n");
	assert_int_equal(m->root->body_start, m->root->body_end);
	mime_free(&m);
	m = parse("Subject: x\r\n\r\n");
	expect_header(m, m->root, "Subject: x\r\n\r\n");
	assert_int_equal(mime_part_size(m, m->root), 0);
	mime_free(&m);
	m = parse("\nbody only\n");                      /* empty header */
	expect_header(m, m->root, "\n");
	expect_body(m, m->root, "body only\n");
	mime_free(&m);
}

static void test_digest_default(void **state)
{
	const char *msg = "Content-Type: multipart/digest; boundary=d\n\n"
			  "--d\n\nSubject: one\n\nbody\n--d--\n";
	mime_message *m = parse(msg);
	const mime_part *c = mime_part_child(m->root, 1);
	assert_true(mime_part_is(c, "message", "rfc822"));
	assert_non_null(c->message);
	expect_header(m, c->message, "Subject: one\n\n");
	expect_body(m, c->message, "body");
	mime_free(&m);
}

/* 1,000 nested multiparts: parts deeper than the limit become opaque text,
 * and nothing is lost. */
static void test_deep_nesting(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (int i = 0; i < 1000; i++)
		BUF_PRINTF(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
	BUF_PUTS(&b, "\nleaf\n");
	for (int i = 999; i >= 0; i--)
		BUF_PRINTF(&b, "--b%d--\n", i);
	mime_message *m = mime_parse(b.data, b.len);
	assert_true(m->limited);
	const mime_part *p = m->root;
	unsigned depth = 0;
	while (p->multipart) {
		assert_int_equal(p->nchildren, 1);
		p = p->children;
		depth++;
	}
	assert_int_equal(depth, MIME_MAX_DEPTH);
	assert_true(p->opaque);
	assert_int_equal(p->depth, MIME_MAX_DEPTH);
	assert_true(m->nparts == MIME_MAX_DEPTH + 1);
	/* the opaque part holds everything down to its enclosing delimiter */
	assert_non_null(memmem(b.data + p->body_start, p->body_end - p->body_start, "leaf", 4));
	mime_free(&m);
	/* and message/rfc822 nesting the same way */
	buf_clear(&b);
	for (int i = 0; i < 1000; i++)
		BUF_PUTS(&b, "Content-Type: message/rfc822\n\n");
	BUF_PUTS(&b, "\nend\n");
	m = mime_parse(b.data, b.len);
	assert_true(m->limited);
	p = m->root;
	while (p->message != NULL)
		p = p->message;
	assert_int_equal(p->depth, MIME_MAX_DEPTH);
	assert_true(p->opaque);
	mime_free(&m);
	buf_free(&b);
}

static void test_part_count_limit(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (int i = 0; i < MIME_MAX_PARTS + 50; i++)
		BUF_PUTS(&b, "--p\n\nx\n");
	BUF_PUTS(&b, "--p--\n");
	mime_message *m = mime_parse(b.data, b.len);
	assert_true(m->limited);
	assert_int_equal(m->nparts, MIME_MAX_PARTS);
	assert_int_equal(m->root->nchildren, MIME_MAX_PARTS - 1);
	assert_int_equal(m->root->body_end, b.len);     /* the rest is the epilogue */
	mime_free(&m);
	buf_free(&b);
}

/* Many boundary-like lines under 50 open multiparts: still quick (each line
 * is compared with at most 50 boundaries). */
static void test_many_boundary_like_lines(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (int i = 0; i < 50; i++)
		BUF_PRINTF(&b, "Content-Type: multipart/mixed; boundary=\"%060d\"\n\n--%060d\n", i, i);
	BUF_PUTS(&b, "\n");
	for (int i = 0; i < 200000; i++)
		BUF_PUTS(&b, "--0000000000000000000000000000000000000000000000000000000000000x\n");
	mime_message *m = mime_parse(b.data, b.len);
	assert_int_equal(m->nparts, 51);
	mime_free(&m);
	buf_free(&b);
}

static void test_header_fields(void **state)
{
	const char *h = "Subject: folded\n  over\tlines  \nX-No-Colon line\nTO : a@b\nEmpty:\n\nbody: no\n";
	size_t pos = 0, end = strlen(h);
	mime_field f;
	assert_true(mime_header_next(h, end, &pos, &f));
	assert_true(mime_field_is(h, &f, "SUBJECT"));
	char *v = mime_field_value(h, &f);
	assert_string_equal(v, "folded  over\tlines");
	free(v);
	assert_true(mime_header_next(h, end, &pos, &f));
	assert_int_equal(f.name_start, f.name_end);     /* kept, without a name */
	assert_true(mime_header_next(h, end, &pos, &f));
	assert_true(mime_field_is(h, &f, "to"));
	assert_true(mime_header_next(h, end, &pos, &f));
	assert_true(mime_header_next(h, end, &pos, &f) == false);   /* blank line */
	v = mime_header_value(h, 0, end, "empty");
	assert_string_equal(v, "");
	free(v);
	assert_null(mime_header_value(h, 0, end, "body"));
	v = mime_header_value(h, 0, end, "to");
	assert_string_equal(v, "a@b");
	free(v);
}

static void test_crlf_helpers(void **state)
{
	const char *s = "a\nb\r\nc\rd\n";
	assert_int_equal(mime_crlf_size(s, 0, strlen(s)), strlen(s) + 2);
	assert_int_equal(mime_lines(s, 0, strlen(s)), 3);
	assert_int_equal(mime_lines(s, 0, 3), 2);        /* "a\nb": b is a line */
	assert_int_equal(mime_lines(s, 0, 0), 0);
	assert_int_equal(mime_crlf_size(s, 4, 5), 2);    /* a range starting at LF */
	buf b;
	buf_init(&b, 100);
	assert_true(mime_crlf_append(&b, s, 0, strlen(s)));
	assert_string_equal(buf_str(&b), "a\r\nb\r\nc\rd\r\n");
	buf_free(&b);
	buf_init(&b, 3);
	assert_false(mime_crlf_append(&b, s, 0, strlen(s)));
	buf_free(&b);
}

static void test_decoders(void **state)
{
	buf b;
	buf_init(&b, 1000);
	const char *b64 = "SGVs\nbG8s\r\nIHdv cmxk!IQ==\nignored";
	assert_true(mime_base64_decode(&b, b64, 0, strlen(b64)));
	assert_string_equal(buf_str(&b), "Hello, world!");
	buf_clear(&b);
	const char *qp = "caf=C3=A9 =\nsoft  \nbad=ZZ end=\n=3D\n";
	assert_true(mime_qp_decode(&b, qp, 0, strlen(qp)));
	assert_string_equal(buf_str(&b), "caf\xc3\xa9 soft\r\nbad=ZZ end=\r\n");
	buf_clear(&b);
	assert_int_equal(mime_cte_of(NULL), MIME_CTE_IDENTITY);
	assert_int_equal(mime_cte_of("8bit"), MIME_CTE_IDENTITY);
	assert_int_equal(mime_cte_of("base64"), MIME_CTE_BASE64);
	assert_int_equal(mime_cte_of("quoted-printable"), MIME_CTE_QP);
	assert_int_equal(mime_cte_of("x-uuencode"), MIME_CTE_UNKNOWN);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_text),
		cmocka_unit_test(test_multipart_alternative_lf_and_crlf),
		cmocka_unit_test(test_mixed_with_attachment_and_rfc822),
		cmocka_unit_test(test_nested_prefix_boundaries),
		cmocka_unit_test(test_boundary_like_lines),
		cmocka_unit_test(test_no_final_boundary),
		cmocka_unit_test(test_malformed_multipart),
		cmocka_unit_test(test_rfc2231_parameters),
		cmocka_unit_test(test_content_type_syntax),
		cmocka_unit_test(test_empty_and_header_only),
		cmocka_unit_test(test_digest_default),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_part_count_limit),
		cmocka_unit_test(test_many_boundary_like_lines),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_crlf_helpers),
		cmocka_unit_test(test_decoders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
