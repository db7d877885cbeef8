/* test_imap_parse.c — unit tests for the IMAP parser (imap/parse.c) and the
 * typed readers: args, sequence sets, modified UTF-7 and mailbox names,
 * flags, STORE, dates, FETCH attributes and SEARCH keys.  Table-driven: each
 * row is input and the tree / value / error sentence it must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "imap/date.h"
#include "imap/fetch.h"
#include "imap/flags.h"
#include "imap/mailbox.h"
#include "imap/mutf7.h"
#include "imap/parse.h"
#include "imap/search.h"
#include "imap/seqset.h"
#include "imap/store.h"
#include "lib/utf8.h"
#include "lib/buf.h"

/* ---- the argument tree ---- */

/* The tree as text: atoms bare, NIL as NIL, "quoted", {literal}, ~{lit8},
 * lists in parentheses; strings shown with \xNN for odd bytes. */
static void show_str(buf *out, const imap_arg *a)
{
	for (size_t i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->str[i];
		if (c < 0x20 || c >= 0x7f)
			BUF_PRINTF(out, "\\x%02x", c);
		else
			BUF_PUTC(out, (char)c);
	}
}

static void show(buf *out, const imap_arg *a)
{
	for (; a != NULL; a = a->next) {
		switch (a->type) {
		case IMAP_ARG_ATOM: show_str(out, a); break;
		case IMAP_ARG_NIL: BUF_PUTS(out, "NIL"); break;
		case IMAP_ARG_QUOTED: BUF_PUTC(out, '"'); show_str(out, a); BUF_PUTC(out, '"'); break;
		case IMAP_ARG_LITERAL: BUF_PUTC(out, '{'); show_str(out, a); BUF_PUTC(out, '}'); break;
		case IMAP_ARG_LITERAL8: BUF_PUTS(out, "~{"); show_str(out, a); BUF_PUTC(out, '}'); break;
		case IMAP_ARG_LIST: {
			size_t n = 0;
			for (const imap_arg *c = a->child; c != NULL; c = c->next)
				n++;
			assert_int_equal(n, a->count);
			BUF_PUTC(out, '(');
			show(out, a->child);
			BUF_PUTC(out, ')');
			break;
		}
		}
		if (a->next != NULL)
			BUF_PUTC(out, ' ');
	}
}

typedef struct tcase {
	const char *in;
	size_t len;          /* 0: strlen */
	bool utf8;
	const char *want;    /* "tag NAME [UID] | args", or "!error sentence" */
} tcase;

static const tcase tree_cases[] = {
	{"a NOOP", 0, false, "a NOOP|"},
	{"a noop", 0, false, "a NOOP|"},
	{"A1.b] LOGIN bob secret", 0, false, "A1.b] LOGIN|bob secret"},
	{"a LOGIN \"bob\" \"se\\\"cr\\\\et\"", 0, false, "a LOGIN|\"bob\" \"se\"cr\\et\""},
	{"a LOGIN \"\" \"\"", 0, false, "a LOGIN|\"\" \"\""},
	{"a X nil NIL Nil NILS", 0, false, "a X|NIL NIL NIL NILS"},
	{"a X (a (b c) () \"d\")", 0, false, "a X|(a (b c) () \"d\")"},
	{"a X ()", 0, false, "a X|()"},
	{"a X (())", 0, false, "a X|(())"},
	{"a X \\Seen $Forwarded 1:* 1,2:3 *", 0, false, "a X|\\Seen $Forwarded 1:* 1,2:3 *"},
	{"a LOGIN {3}\r\nbob {3+}\r\npwd", 0, false, "a LOGIN|{bob} {pwd}"},
	{"a X {0}\r\n", 0, false, "a X|{}"},
	{"a X ({2}\r\nab {1}\r\nc)", 0, false, "a X|({ab} {c})"},
	{"a X {4}\r\na\r\nb", 0, false, "a X|{a\\x0d\\x0ab}"},
	{"a APPEND x ~{3}\r\na\0b", 20, false, "a APPEND|x ~{a\\x00b}"},
	{"a APPEND x ~{3+}\r\nabc", 0, false, "a APPEND|x ~{abc}"},
	{"a UID FETCH 1:* FLAGS", 0, false, "a FETCH UID|1:* FLAGS"},
	{"a uid store 1 +FLAGS (\\Seen)", 0, false, "a STORE UID|1 +FLAGS (\\Seen)"},
	{"a UID EXPUNGE 1:5", 0, false, "a EXPUNGE UID|1:5"},
	{"a FETCH 1 (BODY[HEADER.FIELDS (A B)]<0.10> BODY.PEEK[])", 0, false,
	 "a FETCH|1 (BODY[HEADER.FIELDS (A B)]<0.10> BODY.PEEK[])"},
	{"a FETCH 1 BODY[1.MIME]", 0, false, "a FETCH|1 BODY[1.MIME]"},
	/* outside FETCH "[" is an ordinary atom byte */
	{"a SELECT [Gmail]/Sent", 0, false, "a SELECT|[Gmail]/Sent"},
	{"a SELECT foo[bar baz]", 0, false, "a SELECT|foo[bar baz]"},
	/* 8-bit in quoted strings only with UTF-8 */
	{"a SELECT \"Entw\xc3\xbcrfe\"", 0, true, "a SELECT|\"Entw\\xc3\\xbcrfe\""},
	{"a SELECT \"Entw\xc3\xbcrfe\"", 0, false,
	 "!8-bit characters in a quoted string need UTF-8 support enabled."},
	{"a SELECT \"Entw\xfcrfe\"", 0, true, "!Quoted string is not valid UTF-8."},
	{"a SELECT \"\xc0\xaf\"", 0, true, "!Quoted string is not valid UTF-8."},
	{"a SELECT Entw\xc3\xbcrfe", 0, true,
	 "!8-bit characters must be in a quoted string or literal."},
	/* literals may hold 8-bit; literal8 anything */
	{"a X {2}\r\n\xc3\xbc", 0, false, "a X|{\\xc3\\xbc}"},
	/* errors */
	{"", 0, false, "!Empty command line."},
	{" NOOP", 0, false, "!Missing tag."},
	{"a", 0, false, "!Missing command name after the tag."},
	{"a ", 0, false, "!Missing command name."},
	{"a+ NOOP", 0, false, "!Invalid character in the tag."},
	{"a* NOOP", 0, false, "!Invalid character in the tag."},
	{"a(b NOOP", 0, false, "!Invalid character in the tag."},
	{"a NO\"OP", 0, false, "!Invalid character in the command name."},
	{"a NOOP ", 0, false, "!Unexpected space in the command."},
	{"a X  b", 0, false, "!Unexpected space in the command."},
	{"a X ( a)", 0, false, "!Unexpected space in the command."},
	{"a X (a )", 0, false, "!Unexpected space in the command."},
	{"a X (a", 0, false, "!Missing ) at the end of the command."},
	{"a X ((a)", 0, false, "!Missing ) at the end of the command."},
	{"a X (", 0, false, "!Missing ) at the end of the command."},
	{"a X a)", 0, false, "!Unexpected ) without a matching (."},
	{"a X )", 0, false, "!Unexpected ) without a matching (."},
	{"a X (a))", 0, false, "!Unexpected ) without a matching (."},
	{"a X (a)b", 0, false, "!Missing space between arguments."},
	{"a X \"a\"b", 0, false, "!Missing space between arguments."},
	{"a X a\"b\"", 0, false, "!Missing space between arguments."},
	{"a X a{3}\r\nabc", 0, false, "!Missing space between arguments."},
	{"a X \"abc", 0, false, "!Unterminated quoted string."},
	{"a X \"abc\\", 0, false, "!Only \\\\ and \\\" may be escaped in a quoted string."},
	{"a X \"a\\bc\"", 0, false, "!Only \\\\ and \\\" may be escaped in a quoted string."},
	{"a X \"a\rb\"", 0, false, "!Quoted strings cannot contain CR, LF or NUL; use a literal."},
	{"a X \"a\nb\"", 0, false, "!Quoted strings cannot contain CR, LF or NUL; use a literal."},
	{"a X \"a\0b\"", 8, false, "!Quoted strings cannot contain CR, LF or NUL; use a literal."},
	{"a X {3}\r\nab", 0, false, "!Literal is shorter than its announced size."},
	{"a X {3}", 0, false, "!Literal size must be followed by CRLF."},
	{"a X {3}\n", 0, false, "!Literal size must be followed by CRLF."},
	{"a X {3}x", 0, false, "!Literal size must be followed by CRLF."},
	{"a X {}\r\n", 0, false, "!Literal size must be a number."},
	{"a X {3", 0, false, "!Literal size must end with }."},
	{"a X {3++}\r\n", 0, false, "!Literal size must end with }."},
	{"a X {99999999999999999999999}\r\n", 0, false, "!Literal size is too large."},
	{"a X {3}\r\na\0b", 12, false, "!Literals cannot contain NUL; use literal8 (~{n})."},
	{"a X \x01", 0, false, "!Invalid character in the command."},
	{"a X a\tb", 0, false, "!Invalid character in the command."},
	{"a X a\x7f", 0, false, "!Invalid character in the command."},
	{"a UID", 0, false, "!UID must be followed by a command."},
	{"a UID NOOP", 0, false,
	 "!UID must be followed by COPY, MOVE, FETCH, SEARCH, STORE, EXPUNGE, SORT or THREAD."},
	{"a FETCH 1 BODY[HEADER", 0, false, "!Missing ] after [."},
	{"a FETCH 1 BODY[\x01]", 0, false, "!Invalid character inside [ ]."},
	{"a FETCH 1 BODY[[]", 0, false, "!Invalid character inside [ ]."},
	{"a NOOP\r\n", 0, false, "!Invalid character in the command name."},
};

static void check_tree(const tcase *c, size_t i)
{
	size_t len = c->len ? c->len : strlen(c->in);
	imap_parse_opts o = {.utf8 = c->utf8};
	imap_command cmd;
	const char *err = "unset";
	bool ok = imap_command_parse(c->in, len, &o, &cmd, &err);
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	if (ok) {
		assert_null(err);
		BUF_PRINTF(&out, "%s %s%s|", cmd.tag, cmd.name, cmd.uid ? " UID" : "");
		show(&out, cmd.args);
		size_t n = 0;
		for (const imap_arg *a = cmd.args; a != NULL; a = a->next)
			n++;
		assert_int_equal(n, cmd.nargs);
	} else {
		BUF_PRINTF(&out, "!%s", err);
	}
	if (strcmp(buf_str(&out), c->want) != 0)
		fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&out), c->want);
	buf_free(&out);
	imap_command_free(&cmd);
}

static void test_tree(void **state)
{
	for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]); i++)
		check_tree(&tree_cases[i], i);
}

/* The tag and name survive an error for the BAD reply. */
static void test_tag_kept_on_error(void **state)
{
	imap_command cmd;
	const char *err;
	assert_false(imap_command_parse("t1 LOGIN (a", 11, NULL, &cmd, &err));
	assert_string_equal(cmd.tag, "t1");
	assert_string_equal(cmd.name, "LOGIN");
	imap_command_free(&cmd);
	assert_false(imap_command_parse("t+ LOGIN", 8, NULL, &cmd, &err));
	assert_null(cmd.tag);
	imap_command_free(&cmd);
}

/* (((...))) to a given depth. */
static char *nested(size_t depth, size_t *len_r)
{
	char *s = malloc(2 * depth + 8);
	size_t n = 0;
	memcpy(s, "a X ", 4);
	n = 4;
	for (size_t i = 0; i < depth; i++)
		s[n++] = '(';
	for (size_t i = 0; i < depth; i++)
		s[n++] = ')';
	s[n] = '\0';
	*len_r = n;
	return s;
}

static void test_nesting(void **state)
{
	static const struct {
		size_t depth;
		unsigned max;
		bool ok;
	} cases[] = {
		{64, 0, true}, {65, 0, false}, {1000, 0, false}, {100000, 0, false},
		{3, 3, true}, {4, 3, false}, {256, 1000, true}, {257, 1000, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *s = nested(cases[i].depth, &len);
		imap_parse_opts o = {.max_depth = cases[i].max};
		imap_command cmd;
		const char *err;
		bool ok = imap_command_parse(s, len, &o, &cmd, &err);
		if (ok != cases[i].ok)
			fail_msg("depth %zu max %u: got %d", cases[i].depth, cases[i].max, ok);
		if (!ok)
			assert_string_equal(err, "Lists are nested too deeply.");
		imap_command_free(&cmd);
		free(s);
	}
	/* unbalanced at depth: 1000 opening only */
	size_t len;
	char *s = nested(40, &len);
	imap_command cmd;
	const char *err;
	assert_false(imap_command_parse(s, len - 1, NULL, &cmd, &err));
	assert_string_equal(err, "Missing ) at the end of the command.");
	imap_command_free(&cmd);
	free(s);
}

/* The parser reads only data[0..len): bytes after len are never looked at. */
static void test_bounds(void **state)
{
	const char *full = "a X \"abc\" {3}\r\nxyz (q)";
	size_t n = strlen(full);
	for (size_t len = 0; len <= n; len++) {
		char *copy = malloc(len ? len : 1);   /* ASan catches reads past len */
		memcpy(copy, full, len);
		imap_command cmd;
		const char *err;
		bool ok = imap_command_parse(copy, len, NULL, &cmd, &err);
		assert_true(ok || (err != NULL && err[strlen(err) - 1] == '.'));
		imap_command_free(&cmd);
		free(copy);
	}
}

/* ---- args ---- */

static void test_args(void **state)
{
	imap_command cmd;
	const char *err, *s;
	size_t len;
	uint32_t n;
	uint64_t n64;
	const char *in = "a X 0 4294967295 4294967296 9223372036854775807 9223372036854775808 "
	                 "\"q\" {1}\r\nl NIL a]b a%b -1 \"12\"";
	assert_true(imap_command_parse(in, strlen(in), NULL, &cmd, &err));
	const imap_arg *a = cmd.args;
	assert_true(imap_arg_number(a, &n) && n == 0);
	a = a->next;
	assert_true(imap_arg_number(a, &n) && n == 4294967295u);
	a = a->next;
	assert_false(imap_arg_number(a, &n));
	assert_true(imap_arg_number64(a, &n64) && n64 == 4294967296ull);
	a = a->next;
	assert_true(imap_arg_number64(a, &n64) && n64 == 9223372036854775807ull);
	a = a->next;
	assert_false(imap_arg_number64(a, &n64));
	a = a->next;                                   /* "q" */
	assert_true(imap_arg_string(a, &s, &len) && strcmp(s, "q") == 0);
	assert_true(imap_arg_astring(a, &s, &len));
	assert_false(imap_arg_number(a, &n));
	a = a->next;                                   /* {1} l */
	assert_true(imap_arg_string(a, &s, &len) && len == 1 && s[0] == 'l');
	a = a->next;                                   /* NIL */
	assert_true(imap_arg_nstring(a, &s, &len) && s == NULL);
	assert_true(imap_arg_astring(a, &s, &len) && strcmp(s, "NIL") == 0);
	assert_false(imap_arg_string(a, &s, &len));
	a = a->next;                                   /* a]b: astring, not atom */
	assert_true(imap_arg_astring(a, &s, &len));
	assert_false(imap_arg_string(a, &s, &len));
	a = a->next;                                   /* a%b: not an astring */
	assert_false(imap_arg_astring(a, &s, &len));
	a = a->next;
	assert_false(imap_arg_number(a, &n));
	a = a->next;                                   /* "12" is not a number */
	assert_false(imap_arg_number(a, &n));
	assert_false(imap_arg_number(NULL, &n));
	assert_false(imap_arg_astring(NULL, &s, &len));
	assert_true(imap_arg_atom_is(cmd.args->next, "4294967295"));
	imap_command_free(&cmd);
	assert_true(imap_is_atom_char('a'));
	assert_false(imap_is_atom_char(']'));
	assert_true(imap_is_astring_char(']'));
	assert_false(imap_is_atom_char('{'));
}

/* ---- sequence sets ---- */

static const struct {
	const char *in;
	const char *want;     /* ranges "lo:hi,...", "$", or "!error" */
} seq_cases[] = {
	{"1", "1:1"},
	{"*", "0:0"},
	{"1:*", "1:0"},
	{"*:1", "0:1"},
	{"5:3", "5:3"},
	{"1,3:5,7", "1:1,3:5,7:7"},
	{"4294967295", "4294967295:4294967295"},
	{"1:4294967295", "1:4294967295"},
	{"$", "$"},
	{"4294967296", "!Number in the sequence set is larger than 4294967295."},
	{"99999999999999999999999", "!Number in the sequence set is larger than 4294967295."},
	{"0", "!Sequence numbers start at 1, not 0."},
	{"1:0", "!Sequence numbers start at 1, not 0."},
	{"", "!Empty sequence set."},
	{",", "!Empty number in the sequence set."},
	{"1,", "!Empty number in the sequence set."},
	{",1", "!Empty number in the sequence set."},
	{"1,,2", "!Empty number in the sequence set."},
	{"1:", "!Empty number in the sequence set."},
	{":1", "!Empty number in the sequence set."},
	{"1:2:3", "!Invalid character in the sequence set."},
	{"a", "!Invalid character in the sequence set."},
	{"-1", "!Invalid character in the sequence set."},
	{"**", "!Invalid character in the sequence set."},
	{"1:*,$", "!$ must stand alone as a sequence set."},
	{"$:1", "!$ must stand alone as a sequence set."},
	{"+1", "!Invalid character in the sequence set."},
};

static void test_seqset_parse(void **state)
{
	for (size_t i = 0; i < sizeof(seq_cases) / sizeof(seq_cases[0]); i++) {
		imap_seqset set;
		const char *err;
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		if (imap_seqset_parse(seq_cases[i].in, strlen(seq_cases[i].in), &set, &err)) {
			if (set.searchres)
				BUF_PUTC(&out, '$');
			for (size_t k = 0; k < set.n; k++)
				BUF_PRINTF(&out, "%s%u:%u", k ? "," : "", set.ranges[k].lo, set.ranges[k].hi);
		} else {
			BUF_PRINTF(&out, "!%s", err);
			assert_null(set.ranges);
		}
		if (strcmp(buf_str(&out), seq_cases[i].want) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, seq_cases[i].in,
			         buf_str(&out), seq_cases[i].want);
		buf_free(&out);
		imap_seqset_free(&set);
	}
}

/* Membership and the ordered walk, given the largest number in use. */
static const struct {
	const char *set;
	uint32_t max;
	const char *walk;    /* numbers in order */
} walk_cases[] = {
	{"1:*", 5, "1 2 3 4 5"},
	{"*", 5, "5"},
	{"*:3", 5, "3 4 5"},
	{"5:3", 10, "3 4 5"},
	{"9:*", 5, "5 6 7 8 9"},    /* before clipping: 5..9; clipped to max 5 below */
	{"3,1,2,2:3", 9, "1 2 3"},
	{"1:3,10:12,2:4", 20, "1 2 3 4 10 11 12"},
	{"1:*", 0, ""},
	{"4294967295", 4294967295u, "4294967295"},
	{"4294967294:*", 4294967295u, "4294967294 4294967295"},
	{"7", 5, ""},
};

static void test_seqset_walk(void **state)
{
	for (size_t i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		imap_seqset set, res;
		const char *err;
		assert_true(imap_seqset_parse(walk_cases[i].set, strlen(walk_cases[i].set), &set, &err));
		imap_seqset_resolve(&set, walk_cases[i].max, &res);
		imap_seqset_iter it;
		imap_seqset_iter_init(&it, &res);
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		uint32_t n;
		while (imap_seqset_iter_next(&it, &n)) {
			BUF_PRINTF(&out, "%s%u", out.len ? " " : "", n);
			assert_true(imap_seqset_contains(&set, n, walk_cases[i].max));
		}
		const char *want = walk_cases[i].walk;
		if (i == 4)
			want = "5";          /* 9:* with max 5 is 5:9, and only 5 exists */
		if (strcmp(buf_str(&out), want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&out), want);
		buf_free(&out);
		imap_seqset_free(&res);
		imap_seqset_free(&set);
	}
	imap_seqset set;
	const char *err;
	assert_true(imap_seqset_parse("2:4,*", 5, &set, &err));
	assert_false(imap_seqset_contains(&set, 1, 10));
	assert_true(imap_seqset_contains(&set, 3, 10));
	assert_true(imap_seqset_contains(&set, 10, 10));
	assert_false(imap_seqset_contains(&set, 9, 10));
	assert_false(imap_seqset_contains(&set, 0, 10));
	assert_int_equal(imap_seqset_largest(&set), 4);
	imap_seqset_free(&set);
	assert_true(imap_seqset_parse("600:*", 5, &set, &err));
	assert_true(imap_seqset_contains(&set, 20, 20));    /* * is in 600:* */
	assert_false(imap_seqset_contains(&set, 19, 20));
	assert_int_equal(imap_seqset_largest(&set), 600);
	imap_seqset_free(&set);
}

/* ---- UTF-8 ---- */

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{"abc", true}, {"\xc3\xbc", true}, {"\xe2\x82\xac", true}, {"\xf0\x9f\x98\x80", true},
		{"\xf4\x8f\xbf\xbf", true},       /* U+10FFFF */
		{"\xf4\x90\x80\x80", false},      /* past U+10FFFF */
		{"\xc0\xaf", false},               /* overlong */
		{"\xe0\x80\xaf", false},           /* overlong */
		{"\xed\xa0\x80", false},           /* surrogate */
		{"\xc3", false}, {"\xe2\x82", false}, {"\x80", false}, {"\xff", false},
		{"\xc3\x28", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (imap_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("utf8 case %zu", i);
	static const uint32_t cps[] = {0, 0x7f, 0x80, 0x7ff, 0x800, 0xffff, 0x10000, 0x10ffff};
	for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		char tmp[4];
		uint32_t back;
		size_t n = imap_utf8_encode(cps[i], tmp);
		assert_int_equal(imap_utf8_decode((const unsigned char *)tmp, n, &back), n);
		assert_int_equal(back, cps[i]);
	}
}

/* ---- modified UTF-7 and mailbox names ---- */

static const struct {
	const char *utf8;
	const char *mutf7;
} mutf7_pairs[] = {
	{"INBOX", "INBOX"},
	{"", ""},
	{"&", "&-"},
	{"a&b&&", "a&-b&-&-"},
	{"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	 "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
	{"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
	{"\xc3\xa9", "&AOk-"},
	{"\xf0\x9f\x98\x80", "&2D3eAA-"},           /* U+1F600: a surrogate pair */
	{"a\tb", "a&AAk-b"},                        /* controls are encoded */
	{"\xe2\x82\xac&\xe2\x82\xac", "&IKw-&-&IKw-"},
	{"\xc3\xa9\xc3\xa9\xc3\xa9", "&AOkA6QDp-"},
	{"\x7f", "&AH8-"},
};

static void test_mutf7_round_trip(void **state)
{
	for (size_t i = 0; i < sizeof(mutf7_pairs) / sizeof(mutf7_pairs[0]); i++) {
		buf e, d;
		const char *err;
		buf_init(&e, BUF_UNBOUNDED);
		buf_init(&d, BUF_UNBOUNDED);
		assert_true(imap_mutf7_encode(mutf7_pairs[i].utf8, strlen(mutf7_pairs[i].utf8), &e));
		if (strcmp(buf_str(&e), mutf7_pairs[i].mutf7) != 0)
			fail_msg("encode %zu: got \"%s\", want \"%s\"", i, buf_str(&e), mutf7_pairs[i].mutf7);
		assert_true(imap_mutf7_decode(mutf7_pairs[i].mutf7, strlen(mutf7_pairs[i].mutf7), &d,
		                              &err));
		assert_string_equal(buf_str(&d), mutf7_pairs[i].utf8);
		buf_free(&e);
		buf_free(&d);
	}
}

static void test_mutf7_invalid(void **state)
{
	static const char *const bad[] = {
		"&",            /* unterminated */
		"&AOk",         /* unterminated */
		"&AOk-&AOk-",   /* adjacent encoded runs */
		"&AGE-",        /* "a" encoded */
		"&ACY-",        /* "&" encoded */
		"&AOl-",        /* non-zero filler bits */
		"&AOkA-",       /* 6 leftover bits */
		"&2D0-",        /* high surrogate alone */
		"&3gA-",        /* low surrogate alone */
		"&2D3YPQ-",     /* two high surrogates */
		"&AAA-",        /* U+0000 */
		"&A/k-",        /* "/" is not modified BASE64 */
		"&A=k-",
		"caf\xc3\xa9",  /* raw 8-bit */
		"a\tb",         /* raw control */
		"&AOk=-",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf d;
		const char *err = NULL;
		buf_init(&d, BUF_UNBOUNDED);
		if (imap_mutf7_decode(bad[i], strlen(bad[i]), &d, &err))
			fail_msg("\"%s\" decoded to \"%s\"", bad[i], buf_str(&d));
		assert_non_null(err);
		buf_free(&d);
	}
	/* invalid UTF-8 is not encoded */
	buf e;
	buf_init(&e, BUF_UNBOUNDED);
	assert_false(imap_mutf7_encode("\xc3", 1, &e));
	assert_false(imap_mutf7_encode("\xed\xa0\x80", 3, &e));   /* a surrogate */
	assert_false(imap_mutf7_encode("a\0b", 3, &e));
	buf_free(&e);
	/* a bounded output buffer stops cleanly */
	buf_init(&e, 4);
	assert_false(imap_mutf7_encode("\xc3\xa9\xc3\xa9", 4, &e));
	buf_free(&e);
}

static void test_mailbox(void **state)
{
	static const struct {
		const char *cmd;
		bool utf8;
		const char *want;    /* name or "!error" */
	} cases[] = {
		{"a SELECT inbox", false, "INBOX"},
		{"a SELECT InBoX", true, "INBOX"},
		{"a SELECT \"INBOX\"", false, "INBOX"},
		{"a SELECT inbox/sub", false, "inbox/sub"},
		{"a SELECT Entw&APw-rfe", false, "Entw\xc3\xbcrfe"},
		{"a SELECT Entw&APw-rfe", true, "Entw&APw-rfe"},
		{"a SELECT \"Entw\xc3\xbcrfe\"", true, "Entw\xc3\xbcrfe"},
		{"a SELECT {6}\r\nEntw\xc3\xbc", false,
		 "!Mailbox names must be modified UTF-7 (printable ASCII only)."},
		{"a SELECT {6}\r\nEntw\xc3\xbc", true, "Entw\xc3\xbc"},
		{"a SELECT {5}\r\nEntw\xfc", true, "!Mailbox name is not valid UTF-8."},
		{"a SELECT \"\"", false, "!Mailbox name is empty."},
		{"a SELECT &AGE-", false, "!Invalid modified UTF-7 in the mailbox name."},
		{"a SELECT &AAk-", false, "!Mailbox names cannot contain control characters."},
		{"a SELECT {3}\r\na\tb", true, "!Mailbox names cannot contain control characters."},
		{"a SELECT (a)", false, "!Expected a mailbox name."},
		{"a SELECT a%", false, "!Expected a mailbox name."},
		{"a SELECT ~{1}\r\na", false, "!Expected a mailbox name."},
		{"a SELECT &Jjo", false, "!Unterminated & sequence in the mailbox name."},
		{"a SELECT NIL", false, "NIL"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		imap_command cmd;
		const char *err;
		imap_parse_opts o = {.utf8 = cases[i].utf8};
		assert_true(imap_command_parse(cases[i].cmd, strlen(cases[i].cmd), &o, &cmd, &err));
		char *name = (char *)"unset";
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		if (imap_mailbox_parse(cmd.args, cases[i].utf8, &name, &err)) {
			BUF_PUTS(&out, name);
			free(name);
		} else {
			assert_null(name);
			BUF_PRINTF(&out, "!%s", err);
		}
		if (strcmp(buf_str(&out), cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&out), cases[i].want);
		buf_free(&out);
		imap_command_free(&cmd);
	}
	/* too long */
	char big[1100 + 16];
	memcpy(big, "a SELECT ", 9);
	memset(big + 9, 'x', 1100);
	imap_command cmd;
	const char *err;
	char *name;
	assert_true(imap_command_parse(big, 9 + 1100, NULL, &cmd, &err));
	assert_false(imap_mailbox_parse(cmd.args, false, &name, &err));
	assert_string_equal(err, "Mailbox name is too long.");
	assert_false(imap_mailbox_parse(cmd.args, true, &name, &err));
	imap_command_free(&cmd);
	/* LIST patterns: wildcards, empty, not folded */
	const char *lin = "a LIST \"\" * % inbox/&APw-% Entw&APw-* a(";
	assert_false(imap_command_parse(lin, strlen(lin), NULL, &cmd, &err));
	imap_command_free(&cmd);
	lin = "a LIST \"\" * % inbox/&APw-% (x)";
	assert_true(imap_command_parse(lin, strlen(lin), NULL, &cmd, &err));
	static const char *const pats[] = {"", "*", "%", "inbox/\xc3\xbc%"};
	const imap_arg *pa = cmd.args;
	for (size_t i = 0; i < 4; i++, pa = pa->next) {
		assert_true(imap_mailbox_parse_pattern(pa, false, &name, &err));
		assert_string_equal(name, pats[i]);
		free(name);
	}
	assert_false(imap_mailbox_parse_pattern(pa, false, &name, &err));
	assert_string_equal(err, "Expected a mailbox name or pattern.");
	assert_false(imap_mailbox_parse(cmd.args->next, false, &name, &err));
	imap_command_free(&cmd);
	char *enc = imap_mailbox_encode("Entw\xc3\xbcrfe", false);
	assert_string_equal(enc, "Entw&APw-rfe");
	free(enc);
	enc = imap_mailbox_encode("Entw\xc3\xbcrfe", true);
	assert_string_equal(enc, "Entw\xc3\xbcrfe");
	free(enc);
	assert_null(imap_mailbox_encode("\xff", false));
	assert_null(imap_mailbox_encode("\xff", true));
}

/* ---- flags and STORE ---- */

static const struct {
	const char *args;     /* STORE arguments after the sequence set */
	const char *want;     /* "mode silent unchangedsince|bits|kw,kw" or "!error" */
} store_cases[] = {
	{"FLAGS (\\Seen)", "= 0 -|1|"},
	{"+FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)", "+ 0 -|31|"},
	{"-FLAGS.SILENT (\\seen)", "- 1 -|1|"},
	{"flags.silent ()", "= 1 -|0|"},
	{"+FLAGS \\Seen $Forwarded", "+ 0 -|1|$Forwarded"},
	{"FLAGS (b A a $x)", "= 0 -|0|$x,A,b"},
	{"(UNCHANGEDSINCE 12345) +FLAGS (\\Deleted)", "+ 0 12345|8|"},
	{"(UNCHANGEDSINCE 0) FLAGS ()", "= 0 0|0|"},
	{"(UNCHANGEDSINCE 9223372036854775808) FLAGS ()", "!UNCHANGEDSINCE needs a number."},
	{"(UNCHANGEDSINCE) FLAGS ()", "!UNCHANGEDSINCE needs a number."},
	{"(UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()", "!UNCHANGEDSINCE given twice."},
	{"(FOO 1) FLAGS ()", "!Unknown STORE modifier."},
	{"() FLAGS ()", "!Empty STORE modifier list."},
	{"FLAGS (\\Recent)", "!The \\Recent flag cannot be set."},
	{"FLAGS (\\Foo)", "!Unknown system flag."},
	{"FLAGS (\\)", "!Unknown system flag."},
	{"FLAGS (a%b)", "!Invalid character in a keyword."},
	{"FLAGS (a]b)", "!Invalid character in a keyword."},
	{"FLAGS (\"quoted\")", "!Expected a flag."},
	{"FLAGS ((\\Seen))", "!Expected a flag."},
	{"FLAGS", "!Missing flags after FLAGS."},
	{"FLAGS (\\Seen) x", "!Unexpected argument after the flag list."},
	{"*FLAGS (\\Seen)", "!Expected FLAGS, +FLAGS or -FLAGS, optionally with .SILENT."},
	{"FLAGS.LOUD (\\Seen)", "!Expected FLAGS, +FLAGS or -FLAGS, optionally with .SILENT."},
	{"X-GM-LABELS (a)", "!Expected FLAGS, +FLAGS or -FLAGS, optionally with .SILENT."},
	{"", "!Expected FLAGS, +FLAGS or -FLAGS, optionally with .SILENT."},
};

static void test_store(void **state)
{
	for (size_t i = 0; i < sizeof(store_cases) / sizeof(store_cases[0]); i++) {
		char line[512];
		snprintf(line, sizeof(line), "a STORE 1%s%s", store_cases[i].args[0] ? " " : "",
		         store_cases[i].args);
		imap_command cmd;
		const char *err;
		assert_true(imap_command_parse(line, strlen(line), NULL, &cmd, &err));
		imap_store st;
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		if (imap_store_parse(cmd.args->next, &st, &err)) {
			BUF_PRINTF(&out, "%c %d ", "=+-"[st.mode], st.silent);
			if (st.has_unchangedsince)
				BUF_PRINTF(&out, "%llu", (unsigned long long)st.unchangedsince);
			else
				BUF_PUTC(&out, '-');
			BUF_PRINTF(&out, "|%u|", st.flags.system);
			for (size_t k = 0; k < st.flags.keywords.n; k++)
				BUF_PRINTF(&out, "%s%s", k ? "," : "", st.flags.keywords.items[k]);
		} else {
			BUF_PRINTF(&out, "!%s", err);
		}
		if (strcmp(buf_str(&out), store_cases[i].want) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, line, buf_str(&out),
			         store_cases[i].want);
		buf_free(&out);
		imap_store_free(&st);
		imap_command_free(&cmd);
	}
}

static void test_flags(void **state)
{
	assert_int_equal(imap_flag_system_bit("\\SEEN"), IMAP_FLAG_SEEN);
	assert_int_equal(imap_flag_system_bit("\\draft"), IMAP_FLAG_DRAFT);
	assert_int_equal(imap_flag_system_bit("\\Recent"), 0);
	assert_int_equal(imap_flag_system_bit("Seen"), 0);
	imap_command cmd;
	const char *err;
	const char *in = "a APPEND x (\\Seen KW kw Kw other) y";
	assert_true(imap_command_parse(in, strlen(in), NULL, &cmd, &err));
	imap_flags f;
	imap_flags_init(&f);
	assert_true(imap_flags_parse_list(cmd.args->next, &f, &err));
	assert_int_equal(f.system, IMAP_FLAG_SEEN);
	assert_int_equal(f.keywords.n, 2);       /* KW once, in any case */
	assert_false(imap_flags_parse_list(cmd.args->next->next, &f, &err));
	assert_string_equal(err, "Expected a parenthesized flag list.");
	imap_flags_free(&f);
	imap_command_free(&cmd);
}

/* ---- dates ---- */

static void test_dates(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		long long t;
	} dates[] = {
		{"1-Jan-1970", true, 0},
		{"01-Jan-1970", true, 0},
		{"2-jan-1970", true, 86400},
		{"29-Feb-2024", true, 1709164800},
		{"29-Feb-2000", true, 951782400},
		{"31-Dec-9999", true, 253402214400},
		{"1-Mar-1600", true, -11670912000},
		{"29-Feb-2023", false, 0},
		{"29-Feb-1900", false, 0},
		{"31-Apr-2020", false, 0},
		{"0-Jan-2020", false, 0},
		{"32-Jan-2020", false, 0},
		{"1-Foo-2020", false, 0},
		{"1-Jan-20", false, 0},
		{"1-Jan-0000", false, 0},
		{"001-Jan-2020", false, 0},
		{"1 Jan 2020", false, 0},
		{"1-Jan-2020 ", false, 0},
		{"", false, 0},
		{"-Jan-2020", false, 0},
		{"1-Jan-202x", false, 0},
	};
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		time_t t = 12345;
		bool ok = imap_date_parse(dates[i].s, strlen(dates[i].s), &t);
		if (ok != dates[i].ok || (ok && (long long)t != dates[i].t))
			fail_msg("date \"%s\": got %d %lld", dates[i].s, ok, (long long)t);
	}
	static const struct {
		const char *s;
		bool ok;
		long long t;
		int off;
	} dts[] = {
		{"01-Jan-1970 00:00:00 +0000", true, 0, 0},
		{" 1-Jan-1970 01:00:00 +0100", true, 0, 60},
		{"31-Dec-1969 19:00:00 -0500", true, 0, -300},
		{"17-Jul-1996 02:44:25 -0700", true, 837596665, -420},
		{"29-Feb-2024 23:59:60 +0000", true, 1709251200, 0},
		{"01-Jan-1970 00:00:00 +0530", true, -19800, 330},
		{"1-Jan-1970 00:00:00 +0000", false, 0, 0},
		{"01-Jan-1970 24:00:00 +0000", false, 0, 0},
		{"01-Jan-1970 00:60:00 +0000", false, 0, 0},
		{"01-Jan-1970 00:00:61 +0000", false, 0, 0},
		{"01-Jan-1970 00:00:00 +0060", false, 0, 0},
		{"01-Jan-1970 00:00:00 +2400", false, 0, 0},
		{"01-Jan-1970 00:00:00 0000", false, 0, 0},
		{"01-Jan-1970 00:00:00 +000", false, 0, 0},
		{"01-Jan-1970 00:00:00  +0000", false, 0, 0},
		{"01-Jan-1970T00:00:00 +0000", false, 0, 0},
		{"30-Feb-2024 00:00:00 +0000", false, 0, 0},
		{"", false, 0, 0},
	};
	for (size_t i = 0; i < sizeof(dts) / sizeof(dts[0]); i++) {
		time_t t = 12345;
		int off = 99;
		bool ok = imap_datetime_parse(dts[i].s, strlen(dts[i].s), &t, &off);
		if (ok != dts[i].ok || (ok && ((long long)t != dts[i].t || off != dts[i].off)))
			fail_msg("date-time \"%s\": got %d %lld %d", dts[i].s, ok, (long long)t, off);
	}
	/* as arguments: dates as atom or quoted, date-time quoted only */
	imap_command cmd;
	const char *err;
	const char *in = "a X 1-Jan-1970 \"1-Jan-1970\" {10}\r\n1-Jan-1970 \"01-Jan-1970 00:00:00 +0000\"";
	assert_true(imap_command_parse(in, strlen(in), NULL, &cmd, &err));
	time_t t;
	int off;
	assert_true(imap_date_parse_arg(cmd.args, &t));
	assert_true(imap_date_parse_arg(cmd.args->next, &t));
	assert_false(imap_date_parse_arg(cmd.args->next->next, &t));
	assert_true(imap_datetime_parse_arg(cmd.args->next->next->next, &t, &off));
	assert_false(imap_datetime_parse_arg(cmd.args, &t, &off));
	assert_false(imap_date_parse_arg(NULL, &t));
	imap_command_free(&cmd);
}

/* ---- FETCH ---- */

/* The parsed FETCH as text: items bits, then each body. */
static void show_fetch(buf *out, const imap_fetch *f)
{
	BUF_PRINTF(out, "%x", f->items);
	for (size_t i = 0; i < f->nbodies; i++) {
		const imap_fetch_body *b = &f->bodies[i];
		BUF_PRINTF(out, " %s%s[", b->kind == IMAP_BODY_SECTION ? "B" :
		           b->kind == IMAP_BODY_BINARY ? "BIN" : "SIZE", b->peek ? ".P" : "");
		for (size_t k = 0; k < b->nparts; k++)
			BUF_PRINTF(out, "%s%u", k ? "." : "", b->parts[k]);
		static const char *const texts[] = {"", "H", "HF", "HFN", "T", "M"};
		BUF_PRINTF(out, "/%s", texts[b->text]);
		for (size_t k = 0; k < b->fields.n; k++)
			BUF_PRINTF(out, "%s%s", k ? "," : ":", b->fields.items[k]);
		BUF_PUTC(out, ']');
		if (b->partial)
			BUF_PRINTF(out, "<%llu.%llu>", (unsigned long long)b->start,
			           (unsigned long long)b->count);
	}
	if (f->has_changedsince)
		BUF_PRINTF(out, " cs%llu", (unsigned long long)f->changedsince);
	if (f->vanished)
		BUF_PUTS(out, " vanished");
}

static const struct {
	const char *args;
	const char *want;
} fetch_cases[] = {
	{"FLAGS", "1"},
	{"UID", "2"},
	{"INTERNALDATE", "4"},
	{"RFC822.SIZE", "8"},
	{"ENVELOPE", "10"},
	{"BODYSTRUCTURE", "20"},
	{"BODY", "40"},
	{"RFC822", "80"},
	{"RFC822.HEADER", "100"},
	{"RFC822.TEXT", "200"},
	{"MODSEQ", "400"},
	{"fast", "d"},
	{"ALL", "1d"},
	{"FULL", "5d"},
	{"(FLAGS UID rfc822.size)", "b"},
	{"BODY[]", "0 B[/]"},
	{"body.peek[]", "0 B.P[/]"},
	{"BODY[TEXT]", "0 B[/T]"},
	{"BODY[HEADER]", "0 B[/H]"},
	{"BODY[1]", "0 B[1/]"},
	{"BODY[1.2.3]", "0 B[1.2.3/]"},
	{"BODY[1.2.MIME]", "0 B[1.2/M]"},
	{"BODY[1.HEADER]", "0 B[1/H]"},
	{"BODY[4.2.TEXT]", "0 B[4.2/T]"},
	{"BODY[HEADER.FIELDS (Subject From)]", "0 B[/HF:Subject,From]"},
	{"BODY[header.fields.not (X-Spam \"Received\")]", "0 B[/HFN:X-Spam,Received]"},
	{"BODY[2.HEADER.FIELDS (A)]<0.100>", "0 B[2/HF:A]<0.100>"},
	/* a header-fld-name is an astring: a literal too */
	{"BODY[HEADER.FIELDS ({7}\r\nSubject \"Date\")]", "0 B[/HF:Subject,Date]"},
	{"BODY.PEEK[1.HEADER.FIELDS.NOT (X {3+}\r\nA B)]<0.5>", "0 B.P[1/HFN:X,A B]<0.5>"},
	{"BODY[HEADER.FIELDS ({3}\r\nA\r\n)]", "!HEADER.FIELDS needs a list of header field names."},
	{"BODY[]<9223372036854775807.1>", "0 B[/]<9223372036854775807.1>"},
	{"BINARY[]", "0 BIN[/]"},
	{"BINARY[1.2]<5.10>", "0 BIN[1.2/]<5.10>"},
	{"BINARY.PEEK[3]", "0 BIN.P[3/]"},
	{"BINARY.SIZE[1]", "0 SIZE.P[1/]"},
	{"(UID BODY.PEEK[HEADER] BINARY.SIZE[] FLAGS)", "3 B.P[/H] SIZE.P[/]"},
	{"(FLAGS) (CHANGEDSINCE 12345)", "401 cs12345"},
	{"(FLAGS) (CHANGEDSINCE 5 VANISHED)", "401 cs5 vanished"},
	/* RFC 8514 SAVEDATE, RFC 8970 PREVIEW and its (LAZY) */
	{"SAVEDATE", "800"},
	{"PREVIEW", "1000"},
	{"(UID PREVIEW SAVEDATE)", "1802"},
	{"(PREVIEW (LAZY) FLAGS)", "1001"},
	{"PREVIEW (LAZY)", "1000"},
	{"PREVIEW (LAZY) (CHANGEDSINCE 3)", "1400 cs3"},
	{"(PREVIEW (FUZZY))", "!PREVIEW takes only the LAZY modifier."},
	{"(PREVIEW (LAZY FOO))", "!PREVIEW takes only the LAZY modifier."},
	{"(PREVIEW ())", "!PREVIEW takes only the LAZY modifier."},
	{"(FLAGS (LAZY))", "!Expected a FETCH attribute."},
	/* errors */
	{"", "!Missing FETCH attributes."},
	{"()", "!Empty FETCH attribute list."},
	{"(ALL)", "!Unknown FETCH attribute."},
	{"(FAST FLAGS)", "!Unknown FETCH attribute."},
	{"FOO", "!Unknown FETCH attribute."},
	{"BODY.PEEK", "!Unknown FETCH attribute."},
	{"BODYX[]", "!Unknown FETCH attribute."},
	{"(\"FLAGS\")", "!Expected a FETCH attribute."},
	{"((FLAGS))", "!Expected a FETCH attribute."},
	{"BODY[0]", "!Section part numbers must be 1 to 4294967295."},
	{"BODY[4294967296]", "!Section part numbers must be 1 to 4294967295."},
	{"BODY[1.]", "!Invalid section part number."},
	{"BODY[1..2]", "!Unknown section in BODY[]."},
	{"BODY[1TEXT]", "!Invalid section part number."},
	{"BODY[MIME]", "!Unknown section in BODY[]."},
	{"BODY[TEXTX]", "!Unknown section in BODY[]."},
	{"BODY[HEADER.FIELDS]", "!HEADER.FIELDS needs a list of header field names."},
	{"BODY[HEADER.FIELDS ()]", "!HEADER.FIELDS needs a list of header field names."},
	{"BODY[HEADER.FIELDS (A]", "!HEADER.FIELDS needs a list of header field names."},
	{"BODY[HEADER.FIELDS (A) ]", "!HEADER.FIELDS needs a list of header field names."},
	{"BODY[HEADER.FIELDS (A:B)]", "!HEADER.FIELDS needs a list of header field names."},
	{"BODY[HEADER.FIELDS (\"A)]", "!HEADER.FIELDS needs a list of header field names."},
	{"BINARY[HEADER]", "!BINARY sections are part numbers only."},
	{"BINARY.SIZE[1]<0.1>", "!Invalid <start.count> after the section."},
	{"BODY[]<0.0>", "!Invalid <start.count> after the section."},
	{"BODY[]<0>", "!Invalid <start.count> after the section."},
	{"BODY[]<.1>", "!Invalid <start.count> after the section."},
	{"BODY[]<1.>", "!Invalid <start.count> after the section."},
	{"BODY[]<1.2", "!Invalid <start.count> after the section."},
	{"BODY[]x", "!Invalid <start.count> after the section."},
	{"BODY[]<9223372036854775808.1>", "!Invalid <start.count> after the section."},
	{"FLAGS (FOO 1)", "!Unknown or repeated FETCH modifier."},
	{"FLAGS ()", "!Empty FETCH modifier list."},
	{"FLAGS (CHANGEDSINCE 0)", "!CHANGEDSINCE needs a number from 1."},
	{"FLAGS (CHANGEDSINCE)", "!CHANGEDSINCE needs a number from 1."},
	{"FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)", "!Unknown or repeated FETCH modifier."},
	{"FLAGS (VANISHED)", "!VANISHED needs CHANGEDSINCE."},
	{"FLAGS UID", "!Unexpected argument after the FETCH attributes."},
	{"FLAGS (CHANGEDSINCE 1) x", "!Unexpected argument after the FETCH attributes."},
};

static void test_fetch(void **state)
{
	for (size_t i = 0; i < sizeof(fetch_cases) / sizeof(fetch_cases[0]); i++) {
		char line[512];
		snprintf(line, sizeof(line), "a FETCH 1%s%s", fetch_cases[i].args[0] ? " " : "",
		         fetch_cases[i].args);
		imap_command cmd;
		const char *err;
		if (!imap_command_parse(line, strlen(line), NULL, &cmd, &err))
			fail_msg("case %zu \"%s\" does not parse: %s", i, line, err);
		imap_fetch f;
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		if (imap_fetch_parse(cmd.args->next, &f, &err))
			show_fetch(&out, &f);
		else
			BUF_PRINTF(&out, "!%s", err);
		if (strcmp(buf_str(&out), fetch_cases[i].want) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, line, buf_str(&out),
			         fetch_cases[i].want);
		buf_free(&out);
		imap_fetch_free(&f);
		imap_command_free(&cmd);
	}
	/* the section text is kept as sent for the reply */
	imap_fetch_body b;
	const char *err;
	const char *s = "BODY.PEEK[1.HEADER.FIELDS (a b)]<1.2>";
	assert_true(imap_fetch_body_parse(s, strlen(s), &b, &err));
	assert_string_equal(b.section, "1.HEADER.FIELDS (a b)");
	imap_fetch_body_free(&b);
	/* but a literal cannot go back into the reply: written again, quoted
	 * where a name is not an atom */
	s = "BODY[2.HEADER.FIELDS ({4}\r\nA\"]b c)]";
	assert_true(imap_fetch_body_parse(s, strlen(s), &b, &err));
	assert_string_equal(b.section, "2.HEADER.FIELDS (\"A\\\"]b\" c)");
	imap_fetch_body_free(&b);
}

/* ---- SEARCH ---- */

static void show_keys(buf *out, const imap_search_key *k);

static void show_key(buf *out, const imap_search_key *k)
{
	static const char *const names[] = {
		"ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "NEW", "OLD", "RECENT", "SEEN",
		"UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN", "BCC", "BODY", "CC",
		"FROM", "SUBJECT", "TEXT", "TO", "HEADER", "KEYWORD", "UNKEYWORD", "BEFORE", "ON",
		"SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE",
		"OLDER", "YOUNGER", "SAVEDATESUPPORTED", "LARGER", "SMALLER", "UID", "SET",
		"MODSEQ", "NOT", "OR", "AND",
	};
	BUF_PUTS(out, names[k->op]);
	switch (k->op) {
	case IMAP_SK_BCC: case IMAP_SK_BODY: case IMAP_SK_CC: case IMAP_SK_FROM:
	case IMAP_SK_SUBJECT: case IMAP_SK_TEXT: case IMAP_SK_TO: case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
		BUF_PRINTF(out, "=%s", k->str);
		break;
	case IMAP_SK_HEADER:
		BUF_PRINTF(out, "=%s:%s", k->field, k->str);
		break;
	case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE: case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE: case IMAP_SK_SAVEDBEFORE: case IMAP_SK_SAVEDON:
	case IMAP_SK_SAVEDSINCE:
		BUF_PRINTF(out, "=%lld", (long long)k->date);
		break;
	case IMAP_SK_LARGER: case IMAP_SK_SMALLER: case IMAP_SK_OLDER: case IMAP_SK_YOUNGER:
		BUF_PRINTF(out, "=%llu", (unsigned long long)k->number);
		break;
	case IMAP_SK_MODSEQ:
		BUF_PRINTF(out, "=%s/%s/%llu", k->entry ? k->entry : "-",
		           k->entry_type ? k->entry_type : "-", (unsigned long long)k->number);
		break;
	case IMAP_SK_UID: case IMAP_SK_SEQSET:
		if (k->set.searchres)
			BUF_PUTS(out, "=$");
		for (size_t i = 0; i < k->set.n; i++)
			BUF_PRINTF(out, "%c%u:%u", i ? ',' : '=', k->set.ranges[i].lo, k->set.ranges[i].hi);
		break;
	case IMAP_SK_NOT: case IMAP_SK_OR: case IMAP_SK_AND:
		BUF_PUTC(out, '(');
		show_keys(out, k->child);
		BUF_PUTC(out, ')');
		break;
	default:
		break;
	}
}

static void show_keys(buf *out, const imap_search_key *k)
{
	for (; k != NULL; k = k->next) {
		show_key(out, k);
		if (k->next)
			BUF_PUTC(out, ' ');
	}
}

static const struct {
	const char *args;
	const char *want;   /* "[ret] [charset] | keys" or "!error" or "?badcharset" */
} search_cases[] = {
	{"ALL", "||ALL"},
	{"all answered DELETED draft FLAGGED NEW OLD RECENT SEEN", "||ALL ANSWERED DELETED DRAFT "
	 "FLAGGED NEW OLD RECENT SEEN"},
	{"UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN",
	 "||UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN"},
	{"BCC a CC \"b c\" FROM {1}\r\nd SUBJECT e TEXT f TO g BODY h",
	 "||BCC=a CC=b c FROM=d SUBJECT=e TEXT=f TO=g BODY=h"},
	{"HEADER X-Spam yes", "||HEADER=X-Spam:yes"},
	{"HEADER Subject \"\"", "||HEADER=Subject:"},
	{"KEYWORD $Junk UNKEYWORD foo", "||KEYWORD=$Junk UNKEYWORD=foo"},
	{"BEFORE 2-Jan-1970 ON 1-Jan-1970 SINCE \"1-Jan-1970\"", "||BEFORE=86400 ON=0 SINCE=0"},
	{"SENTBEFORE 2-Jan-1970 SENTON 1-Jan-1970 SENTSINCE 1-Jan-1970",
	 "||SENTBEFORE=86400 SENTON=0 SENTSINCE=0"},
	{"LARGER 100 SMALLER 9223372036854775807", "||LARGER=100 SMALLER=9223372036854775807"},
	{"SAVEDBEFORE 2-Jan-1970 SAVEDON 1-Jan-1970 savedsince 1-Jan-1970 SAVEDATESUPPORTED",
	 "||SAVEDBEFORE=86400 SAVEDON=0 SAVEDSINCE=0 SAVEDATESUPPORTED"},
	{"SAVEDON 32-Jan-2020", "!Invalid date (expected d-Mon-yyyy)."},
	{"OLDER 60 younger 1", "||OLDER=60 YOUNGER=1"},
	{"OLDER 0", "!OLDER and YOUNGER need a number of seconds from 1."},
	{"YOUNGER -5", "!OLDER and YOUNGER need a number of seconds from 1."},
	{"YOUNGER", "!OLDER and YOUNGER need a number of seconds from 1."},
	{"UID 1:*,5", "||UID=1:0,5:5"},
	{"UID $", "||UID=$"},
	{"1:5 * $", "||SET=1:5 SET=0:0 SET=$"},
	{"NOT SEEN", "||NOT(SEEN)"},
	{"NOT NOT SEEN", "||NOT(NOT(SEEN))"},
	{"OR SEEN FLAGGED", "||OR(SEEN FLAGGED)"},
	{"OR (SEEN DRAFT) NOT FROM x", "||OR(AND(SEEN DRAFT) NOT(FROM=x))"},
	{"OR OR 1:b c d", "!Invalid character in the sequence set."},
	{"OR OR SEEN DRAFT DELETED", "||OR(OR(SEEN DRAFT) DELETED)"},
	{"(SEEN (DRAFT))", "||AND(SEEN AND(DRAFT))"},
	{"MODSEQ 5", "||MODSEQ=-/-/5"},
	{"MODSEQ \"/flags/\\\\Seen\" all 620162338", "||MODSEQ=/flags/\\Seen/all/620162338"},
	{"MODSEQ \"/flags/$Junk\" PRIV 0", "||MODSEQ=/flags/$Junk/priv/0"},
	{"CHARSET UTF-8 FROM x", "|UTF-8|FROM=x"},
	{"charset us-ascii FROM x", "|us-ascii|FROM=x"},
	{"RETURN () ALL", "4||ALL"},
	{"RETURN (MIN MAX) ALL", "3||ALL"},
	{"RETURN (ALL COUNT SAVE) ALL", "1c||ALL"},
	{"RETURN (SAVE) CHARSET UTF-8 UNSEEN", "10|UTF-8|UNSEEN"},
	{"RETURN (UPDATE) ALL", "44||ALL"},
	{"RETURN (CONTEXT COUNT) ALL", "88||ALL"},
	{"RETURN (PARTIAL 5:2 UPDATE) ALL", "60||ALL"},
	/* errors */
	{"", "!Missing search keys."},
	{"FOO", "!Unknown search key."},
	{"FROM", "!Search key needs a string."},
	{"FROM (x)", "!Search key needs a string."},
	{"HEADER", "!HEADER needs a field name and a string."},
	{"HEADER \"\" x", "!HEADER needs a field name and a string."},
	{"HEADER X", "!Search key needs a string."},
	{"KEYWORD \\Seen", "!KEYWORD needs a keyword."},
	{"KEYWORD \"x\"", "!KEYWORD needs a keyword."},
	{"BEFORE 31-Feb-2020", "!Invalid date (expected d-Mon-yyyy)."},
	{"ON", "!Invalid date (expected d-Mon-yyyy)."},
	{"LARGER -1", "!Search key needs a number."},
	{"SMALLER 9223372036854775808", "!Search key needs a number."},
	{"UID", "!Expected a sequence set."},
	{"UID 0", "!Sequence numbers start at 1, not 0."},
	{"4294967296", "!Number in the sequence set is larger than 4294967295."},
	{"NOT", "!Missing search key."},
	{"OR SEEN", "!Missing search key."},
	{"()", "!Missing search keys."},
	{"\"SEEN\"", "!Expected a search key."},
	{"MODSEQ", "!MODSEQ needs a mod-sequence number."},
	{"MODSEQ \"/flags/\\\\Seen\" 5", "!MODSEQ entry type must be priv, shared or all."},
	{"MODSEQ \"/other/x\" all 5", "!Invalid MODSEQ entry name."},
	{"MODSEQ \"/flags/x\" mine 5", "!MODSEQ entry type must be priv, shared or all."},
	{"RETURN (FOO) ALL", "!Unknown or repeated RETURN option (MIN, MAX, ALL, COUNT, SAVE, PARTIAL, "
	                     "UPDATE and CONTEXT are known)."},
	{"RETURN (MIN MIN) ALL", "!Unknown or repeated RETURN option (MIN, MAX, ALL, COUNT, SAVE, PARTIAL, "
	                         "UPDATE and CONTEXT are known)."},
	{"RETURN (PARTIAL) ALL", "!PARTIAL needs a range n:m of positions from 1."},
	{"RETURN (PARTIAL 0:4) ALL", "!PARTIAL needs a range n:m of positions from 1."},
	{"RETURN (PARTIAL 4) ALL", "!PARTIAL needs a range n:m of positions from 1."},
	{"RETURN (PARTIAL 1:4294967296) ALL", "!PARTIAL needs a range n:m of positions from 1."},
	{"RETURN (ALL PARTIAL 1:5) ALL", "!PARTIAL and ALL cannot be asked for together."},
	{"RETURN ALL", "!RETURN needs a list of options."},
	{"RETURN", "!RETURN needs a list of options."},
	{"CHARSET", "!CHARSET needs a charset name."},
	{"CHARSET UTF-8", "!Missing search keys."},
	{"CHARSET ISO-8859-1 FROM x", "?Only the UTF-8 and US-ASCII charsets are supported."},
};

static void check_search(const char *args, const char *want, size_t i)
{
	buf line;
	buf_init(&line, BUF_UNBOUNDED);
	BUF_PRINTF(&line, "a SEARCH%s%s", args[0] ? " " : "", args);
	imap_command cmd;
	const char *err;
	if (!imap_command_parse(buf_str(&line), line.len, NULL, &cmd, &err))
		fail_msg("case %zu does not parse: %s", i, err);
	imap_search s;
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	imap_search_status st = imap_search_parse(cmd.args, &s, &err);
	if (st == IMAP_SEARCH_OK) {
		if (s.esearch)
			BUF_PRINTF(&out, "%x", s.ret);
		BUF_PRINTF(&out, "|%s|", s.charset ? s.charset : "");
		assert_int_equal(s.root->op, IMAP_SK_AND);
		show_keys(&out, s.root->child);
	} else {
		BUF_PRINTF(&out, "%c%s", st == IMAP_SEARCH_BADCHARSET ? '?' : '!', err);
	}
	if (strcmp(buf_str(&out), want) != 0)
		fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, buf_str(&line), buf_str(&out),
		         want);
	buf_free(&out);
	buf_free(&line);
	imap_search_free(&s);
	imap_command_free(&cmd);
}

static void test_search(void **state)
{
	for (size_t i = 0; i < sizeof(search_cases) / sizeof(search_cases[0]); i++)
		check_search(search_cases[i].args, search_cases[i].want, i);
}

/* NOT NOT ... and ((( ... ))) stop at the depth limit, never overflow. */
static void test_search_depth(void **state)
{
	static const size_t depths[] = {63, 64, 1000, 50000};
	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		buf args, want;
		buf_init(&args, BUF_UNBOUNDED);
		buf_init(&want, BUF_UNBOUNDED);
		for (size_t i = 0; i < depths[d]; i++)
			BUF_PUTS(&args, "NOT ");
		BUF_PUTS(&args, "SEEN");
		if (depths[d] < 64) {
			BUF_PUTS(&want, "||");
			for (size_t i = 0; i < depths[d]; i++)
				BUF_PUTS(&want, "NOT(");
			BUF_PUTS(&want, "SEEN");
			for (size_t i = 0; i < depths[d]; i++)
				BUF_PUTC(&want, ')');
		} else {
			BUF_PUTS(&want, "!Search keys are nested too deeply.");
		}
		check_search(buf_str(&args), buf_str(&want), d);
		buf_free(&args);
		buf_free(&want);
	}
	/* OR chains: "OR OR OR ... a b c ..." */
	buf args;
	buf_init(&args, BUF_UNBOUNDED);
	for (int i = 0; i < 200; i++)
		BUF_PUTS(&args, "OR ");
	for (int i = 0; i < 201; i++)
		BUF_PUTS(&args, i ? " SEEN" : "SEEN");
	check_search(buf_str(&args), "!Search keys are nested too deeply.", 999);
	buf_free(&args);
	/* groups and NOTs add up: 40 parentheses around 26 NOTs */
	buf_init(&args, BUF_UNBOUNDED);
	for (int i = 0; i < 40; i++)
		BUF_PUTC(&args, '(');
	for (int i = 0; i < 26; i++)
		BUF_PUTS(&args, "NOT ");
	BUF_PUTS(&args, "SEEN");
	for (int i = 0; i < 40; i++)
		BUF_PUTC(&args, ')');
	check_search(buf_str(&args), "!Search keys are nested too deeply.", 998);
	buf_free(&args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_tag_kept_on_error),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_seqset_parse),
		cmocka_unit_test(test_seqset_walk),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_mutf7_round_trip),
		cmocka_unit_test(test_mutf7_invalid),
		cmocka_unit_test(test_mailbox),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_search_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
