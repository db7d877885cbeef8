/* test_rewrite.c — unit tests for rewrite/canonical.c, masquerade.c,
 * rewrite.c and header.c: which address an entry gives for each target
 * and direction, masquerading and its exceptions, and the header fields
 * rebuilt around the addresses (display names, comments, quoted strings
 * with commas, groups, routes, several From mailboxes, folding).
 * Table-driven: input, expected output (NULL: unchanged). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewrite/header.h"
#include "rewrite/rewrite.h"

#define T(x) RW_TARGET_BIT(x)

static void test_canonical(void **state)
{
	rw_canon c = {0};
	char *err = NULL;
	assert_true(rw_canon_add(&c, "@old.example", "@new.example", T(RW_ENV_SENDER) | T(RW_HDR_FROM), RW_OUTBOUND, &err));
	assert_true(rw_canon_add(&c, "Boss@Old.Example", "chief@new.example", T(RW_ENV_SENDER), RW_OUTBOUND, &err));
	assert_true(rw_canon_add(&c, "@catch.example", "all@new.example", T(RW_ENV_RCPT), RW_BOTH, &err));
	assert_true(rw_canon_add(&c, "a@in.example", "b@in.example", T(RW_ENV_RCPT), RW_INBOUND, &err));
	static const struct {
		rw_target t;
		rw_direction d;
		const char *in, *out;
	} cases[] = {
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@old.example", "ann@new.example"},
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@OLD.example", "ann@new.example"},
		{RW_HDR_FROM, RW_OUTBOUND, "ann@old.example", "ann@new.example"},
		{RW_HDR_TO, RW_OUTBOUND, "ann@old.example", NULL},          /* not its target */
		{RW_ENV_SENDER, RW_INBOUND, "ann@old.example", NULL},       /* not its direction */
		{RW_ENV_SENDER, RW_OUTBOUND, "boss@old.example", "chief@new.example"}, /* exact beats domain */
		{RW_HDR_FROM, RW_OUTBOUND, "boss@old.example", "boss@new.example"},   /* exact is sender-only */
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@sub.old.example", NULL},  /* a domain, not its subdomains */
		{RW_ENV_RCPT, RW_INBOUND, "x@catch.example", "all@new.example"},
		{RW_ENV_RCPT, RW_OUTBOUND, "x@catch.example", "all@new.example"},
		{RW_ENV_RCPT, RW_INBOUND, "a@in.example", "b@in.example"},
		{RW_ENV_RCPT, RW_OUTBOUND, "a@in.example", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "\"a,b\"@old.example", "\"a,b\"@new.example"},
		{RW_ENV_SENDER, RW_OUTBOUND, "", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "postmaster", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = rw_canon_apply(&c, cases[i].t, cases[i].d, cases[i].in);
		if (cases[i].out == NULL && out != NULL)
			fail_msg("case %zu: %s became %s", i, cases[i].in, out);
		if (cases[i].out != NULL) {
			assert_non_null(out);
			assert_string_equal(out, cases[i].out);
		}
		free(out);
	}
	rw_canon_free(&c);
}

static void test_canonical_errors(void **state)
{
	static const struct {
		const char *match, *replace, *err;
	} cases[] = {
		{"old.example", "@new.example", "match \"old.example\" is neither"},
		{"@old.example", "new.example", "replace \"new.example\" is neither"},
		{"a@old.example", "@new.example", "an address maps to an address"},
		{"@", "@new.example", "neither"},
		{"a b@old.example", "a@new.example", "neither"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rw_canon c = {0};
		char *err = NULL;
		assert_false(rw_canon_add(&c, cases[i].match, cases[i].replace, RW_ALL_TARGETS, RW_BOTH, &err));
		assert_non_null(strstr(err, cases[i].err));
		free(err);
		rw_canon_free(&c);
	}
}

static void test_names(void **state)
{
	assert_int_equal(rw_target_parse("envelope_sender"), RW_ENV_SENDER);
	assert_int_equal(rw_target_parse("Reply-To"), RW_HDR_REPLY_TO);
	assert_int_equal(rw_target_parse("bcc"), -1);
	assert_int_equal(rw_target_of_field("CC", 2), RW_HDR_CC);
	assert_int_equal(rw_target_of_field("Received", 8), -1);
	assert_int_equal(rw_target_of_field("envelope_sender", 15), -1);
	assert_int_equal(rw_direction_parse("both"), RW_BOTH);
	assert_int_equal(rw_direction_parse("sideways"), 0);
}

static void test_masquerade(void **state)
{
	rw_rules r;
	rw_rules_init(&r);
	rw_masq_add_domain(&r.masq, "keep.example.org");
	rw_masq_add_domain(&r.masq, "Example.org");
	rw_masq_add_except(&r.masq, "root");
	rw_masq_add_except(&r.masq, "ops@db.example.org");
	r.masq.targets = T(RW_ENV_SENDER) | T(RW_HDR_FROM);
	r.masq.dirs = RW_OUTBOUND;
	char *err = NULL;
	assert_true(rw_canon_add(&r.canon, "@old.example", "@host.example.org", T(RW_HDR_FROM), RW_OUTBOUND, &err));
	static const struct {
		rw_target t;
		rw_direction d;
		const char *in, *out;
	} cases[] = {
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@host.example.org", "ann@example.org"},
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@a.b.Example.ORG", "ann@example.org"},
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@example.org", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@badexample.org", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@x.keep.example.org", "ann@keep.example.org"},
		{RW_ENV_SENDER, RW_OUTBOUND, "ann@keep.example.org", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "root@host.example.org", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "ROOT@host.example.org", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "ops@db.example.org", NULL},
		{RW_ENV_SENDER, RW_OUTBOUND, "ops@web.example.org", "ops@example.org"},
		{RW_ENV_SENDER, RW_INBOUND, "ann@host.example.org", NULL},
		{RW_HDR_TO, RW_OUTBOUND, "ann@host.example.org", NULL},
		/* canonical first, then masquerading of its result */
		{RW_HDR_FROM, RW_OUTBOUND, "ann@old.example", "ann@example.org"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = rw_rules_apply(&r, cases[i].t, cases[i].d, cases[i].in);
		if (cases[i].out == NULL && out != NULL)
			fail_msg("case %zu: %s became %s", i, cases[i].in, out);
		if (cases[i].out != NULL) {
			if (out == NULL)
				fail_msg("case %zu: %s unchanged", i, cases[i].in);
			assert_string_equal(out, cases[i].out);
		}
		free(out);
	}
	assert_true(rw_rules_touch_headers(&r, RW_OUTBOUND));
	assert_false(rw_rules_touch_headers(&r, RW_INBOUND));
	assert_true(rw_rules_touch(&r, RW_ENV_SENDER, RW_OUTBOUND));
	assert_false(rw_rules_touch(&r, RW_ENV_RCPT, RW_OUTBOUND));
	rw_rules_free(&r);
}

/* ---- header fields ---- */

/* old.example → new.example; "a,b"@q.example → quoted@q.example;
 * long@x.example → a long address; the map records what it saw. */
static char seen[1024];

static char *map(void *arg, const char *address)
{
	size_t used = strlen(seen);
	if (used + strlen(address) + 2 <= sizeof seen) /* long test addresses are not recorded */
		snprintf(seen + used, sizeof seen - used, "%s|", address);
	const char *at = strrchr(address, '@');
	if (strcmp(at, "@old.example") == 0)
		return xasprintf("%.*s@new.example", (int)(at - address), address);
	if (strcmp(address, "\"a,b\"@q.example") == 0)
		return xstrdup("quoted@q.example");
	if (strcmp(address, "long@x.example") == 0)
		return xstrdup("a-very-long-replacement-address-for-folding-tests@some.long.domain.example");
	return NULL;
}

static void test_header(void **state)
{
	static const struct {
		const char *in, *out, *seen;
		rw_hdr_status st;
	} cases[] = {
		{"From: ann@old.example\n", "From: ann@new.example\n", "ann@old.example|", RW_HDR_CHANGED},
		{"From: Ann Smith <ann@old.example>\n", "From: Ann Smith <ann@new.example>\n", NULL, RW_HDR_CHANGED},
		{"From: \"Smith, Ann\" <ann@old.example> (the (real) Ann)\n",
		 "From: \"Smith, Ann\" <ann@new.example> (the (real) Ann)\n", "ann@old.example|", RW_HDR_CHANGED},
		{"From: ann@old.example (Ann, <x@y>)\n", "From: ann@new.example (Ann, <x@y>)\n", "ann@old.example|",
		 RW_HDR_CHANGED},
		{"From: =?utf-8?q?J=C3=B6rg?= <j@old.example>\n", "From: =?utf-8?q?J=C3=B6rg?= <j@new.example>\n", NULL,
		 RW_HDR_CHANGED},
		/* a quoted local part with a comma is one address */
		{"To: \"a,b\"@q.example, c@old.example\n", "To: quoted@q.example, c@new.example\n",
		 "\"a,b\"@q.example|c@old.example|", RW_HDR_CHANGED},
		/* groups, an empty group */
		{"To: Team: a@old.example, \"B\" <b@old.example>;, undisclosed-recipients:;\n",
		 "To: Team: a@new.example, \"B\" <b@new.example>;, undisclosed-recipients:;\n",
		 "a@old.example|b@old.example|", RW_HDR_CHANGED},
		{"To: undisclosed-recipients:;\n", NULL, "", RW_HDR_SAME},
		/* several From mailboxes */
		{"From: a@old.example, B <b@other.example>, c@old.example\n",
		 "From: a@new.example, B <b@other.example>, c@new.example\n", NULL, RW_HDR_CHANGED},
		/* the obsolete route stays */
		{"From: <@r1.example,@r2.example:ann@old.example>\n", "From: <@r1.example,@r2.example:ann@new.example>\n",
		 "ann@old.example|", RW_HDR_CHANGED},
		/* folded fields keep their folding */
		{"Cc: A <a@old.example>,\n\tB <b@old.example>\n", "Cc: A <a@new.example>,\n\tB <b@new.example>\n", NULL,
		 RW_HDR_CHANGED},
		{"Cc: x@other.example\n", NULL, "x@other.example|", RW_HDR_SAME},
		{"Reply-To: <>\n", NULL, "", RW_HDR_SAME},
		/* an address folded in its middle, an interior comment: left alone */
		{"To: ann\n @old.example\n", NULL, "", RW_HDR_SAME},
		{"To: ann(c)@old.example\n", NULL, "", RW_HDR_SAME},
		/* cannot be read with certainty: left alone */
		{"From: \"unclosed <ann@old.example>\n", NULL, "", RW_HDR_UNREADABLE},
		{"From: Ann <ann@old.example\n", NULL, "", RW_HDR_UNREADABLE},
		{"From: (unclosed ann@old.example\n", NULL, "", RW_HDR_UNREADABLE},
		{"From: a <b@old.example> <c@old.example>\n", NULL, "", RW_HDR_UNREADABLE},
		/* a domain literal and an address without domain */
		{"To: u@[127.0.0.1], v\n", NULL, "u@[127.0.0.1]|", RW_HDR_SAME},
		/* lines made longer than 78 are folded at a space, or after a comma */
		{"To: Somebody <long@x.example>, Other Person <other@other.example>\n",
		 "To: Somebody\n <a-very-long-replacement-address-for-folding-tests@some.long.domain.example>,\n"
		 " Other Person <other@other.example>\n", NULL, RW_HDR_CHANGED},
		{"To: long@x.example,b@other.example\n",
		 "To: a-very-long-replacement-address-for-folding-tests@some.long.domain.example,\n b@other.example\n",
		 NULL, RW_HDR_CHANGED},
		/* the quote right after the colon is seen: its comma is no fold point */
		{"To:\"Doe,John\" <long@x.example>\n",
		 "To:\"Doe,John\"\n <a-very-long-replacement-address-for-folding-tests@some.long.domain.example>\n", NULL,
		 RW_HDR_CHANGED},
		/* a space inside a quoted display name is never a fold point */
		{"To: \"Aaaaaaaaaaaaaaaaaaaa Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb Cccccccccccccccccccc\" <long@x.example>\n",
		 "To: \"Aaaaaaaaaaaaaaaaaaaa Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb Cccccccccccccccccccc\"\n"
		 " <a-very-long-replacement-address-for-folding-tests@some.long.domain.example>\n",
		 NULL, RW_HDR_CHANGED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf out;
		buf_init(&out, 1 << 16);
		seen[0] = '\0';
		const char *in = cases[i].in;
		size_t name_len = (size_t)(strchr(in, ':') - in);
		rw_hdr_status st = rw_header_rewrite(in, strlen(in), name_len, map, NULL, &out);
		if (st != cases[i].st)
			fail_msg("case %zu: status %d, want %d (%s)", i, st, cases[i].st, buf_str(&out));
		if (cases[i].out != NULL)
			assert_string_equal(buf_str(&out), cases[i].out);
		else
			assert_int_equal(out.len, 0);
		if (cases[i].seen != NULL)
			assert_string_equal(seen, cases[i].seen);
		buf_free(&out);
	}
}

static void test_header_next(void **state)
{
	const char *msg = "Received: x\n y\nFrom: a@b\nX:\n\tz\nnocolon\n\nFrom: body@x\n";
	size_t pos = 0, len = strlen(msg);
	rw_field f;
	static const char *const want[] = {"Received: x\n y\n", "From: a@b\n", "X:\n\tz\n", "nocolon\n"};
	static const size_t names[] = {8, 4, 1, 0};
	for (size_t i = 0; i < 4; i++) {
		assert_true(rw_header_next(msg, len, &pos, &f));
		assert_int_equal(f.end - f.start, strlen(want[i]));
		assert_memory_equal(msg + f.start, want[i], strlen(want[i]));
		assert_int_equal(f.name_len, names[i]);
	}
	assert_false(rw_header_next(msg, len, &pos, &f));
	pos = 0;
	assert_true(rw_header_next("A: b", 4, &pos, &f)); /* no final LF */
	assert_int_equal(f.end, 4);
	assert_false(rw_header_next("A: b", 4, &pos, &f));
}

/* The lines of a rebuilt field: none longer than max, every one after the
 * first starting with a blank; unfolded (each LF before a blank taken
 * out), the field is want. */
static void assert_folded(const char *out, size_t max, const char *want)
{
	buf unfolded;
	buf_init(&unfolded, BUF_UNBOUNDED);
	for (const char *ls = out; *ls != '\0';) {
		const char *nl = strchr(ls, '\n');
		size_t n = nl ? (size_t)(nl - ls) : strlen(ls);
		if (n > max)
			fail_msg("line of %zu octets: %.*s", n, (int)n, ls);
		if (ls != out && *ls != ' ' && *ls != '\t')
			fail_msg("continuation line without a blank: %.*s", (int)n, ls);
		BUF_APPEND(&unfolded, ls, n);
		if (nl != NULL && (nl[1] == '\0' || (nl[1] != ' ' && nl[1] != '\t')))
			BUF_PUTS(&unfolded, "\n");
		ls = nl ? nl + 1 : ls + n;
	}
	assert_string_equal(buf_str(&unfolded), want);
	buf_free(&unfolded);
}

/* A comment longer than a line, before the address, on one line (fuzz
 * seed fold-comment-long): the only fold point between tokens came after
 * more than 998 octets, and the cut was made without the 998 check, so
 * the field came out with a line of more than 998 octets.  Now the comment
 * folds at its own blanks. */
static void test_header_fold_comment(void **state)
{
	buf in, want, out;
	buf_init(&in, BUF_UNBOUNDED);
	buf_init(&want, BUF_UNBOUNDED);
	BUF_PUTS(&in, "To: (");
	for (int i = 0; i < 130; i++)
		BUF_PUTS(&in, "comment ");
	BUF_PUTS(&in, ") a@old.example, Someone (team) <long@x.example>\n");
	BUF_APPEND(&want, in.data, in.len - strlen("a@old.example, Someone (team) <long@x.example>\n"));
	BUF_PUTS(&want, "a@new.example, Someone (team) "
	                "<a-very-long-replacement-address-for-folding-tests@some.long.domain.example>\n");
	buf_init(&out, 1 << 16);
	assert_int_equal(rw_header_rewrite(in.data, in.len, 2, map, NULL, &out), RW_HDR_CHANGED);
	assert_folded(buf_str(&out), 78, buf_str(&want));
	buf_free(&out);
	buf_free(&want);
	buf_free(&in);
}

/* After a comma with no blank the new line starts with an added blank:
 * it counts toward the 998 octets. */
static void test_header_fold_comma_hard(void **state)
{
	for (size_t extra = 0; extra < 2; extra++) {
		buf in, out;
		buf_init(&in, BUF_UNBOUNDED);
		BUF_PUTS(&in, "To: long@x.example,b");
		for (size_t i = 0; i < 998 - strlen("b@other.example") - 1 + extra; i++)
			BUF_PUTS(&in, "x");
		BUF_PUTS(&in, "@other.example\n");
		buf_init(&out, 1 << 16);
		rw_hdr_status st = rw_header_rewrite(in.data, in.len, 2, map, NULL, &out);
		if (extra == 0) {
			assert_int_equal(st, RW_HDR_CHANGED);
			const char *second = strchr(buf_str(&out), '\n') + 1;
			assert_int_equal(strlen(second), 998 + 1);
		} else {
			assert_int_equal(st, RW_HDR_TOO_LONG);
			assert_int_equal(out.len, 0);
		}
		buf_free(&out);
		buf_free(&in);
	}
}

/* A bound on the output: a field that would not fit is left alone. */
static void test_header_bound(void **state)
{
	buf out;
	buf_init(&out, 40);
	const char *in = "To: long@x.example\n";
	assert_int_equal(rw_header_rewrite(in, strlen(in), 2, map, NULL, &out), RW_HDR_TOO_LONG);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_canonical_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_masquerade),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_next),
		cmocka_unit_test(test_header_bound),
		cmocka_unit_test(test_header_fold_comment),
		cmocka_unit_test(test_header_fold_comma_hard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
