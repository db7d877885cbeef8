/* test_imap_list.c — unit tests for what LIST is made of: its arguments
 * (imap/listargs.c, basic and LIST-EXTENDED forms, with their BAD
 * sentences), the STATUS item lists it shares with STATUS (imap/status.c),
 * and the wildcard match (imap/wildcard.c).  Table-driven: each row is an
 * input and the request, or the error, it must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/listargs.h"
#include "imap/parse.h"
#include "imap/status.h"
#include "imap/wildcard.h"
#include "lib/buf.h"

/* ---- LIST / LSUB arguments ---- */

enum { SUB = IMAP_LIST_SEL_SUBSCRIBED, REM = IMAP_LIST_SEL_REMOTE,
       REC = IMAP_LIST_SEL_RECURSIVEMATCH, SPU = IMAP_LIST_SEL_SPECIAL_USE };
enum { R_SUB = IMAP_LIST_RET_SUBSCRIBED, R_CHI = IMAP_LIST_RET_CHILDREN,
       R_SPU = IMAP_LIST_RET_SPECIAL_USE, R_STA = IMAP_LIST_RET_STATUS };

static const struct {
	const char *args;    /* after "a LIST " */
	bool lsub, utf8, rev2;
	const char *want;    /* "ext sel ret items ref|pat|pat" or "!error" */
} list_cases[] = {
	/* the basic form */
	{"\"\" *", false, false, false, "0 0 0 0 |*"},
	{"\"\" \"\"", false, false, false, "0 0 0 0 |"},
	{"Proj. %", false, false, false, "0 0 0 0 Proj.|%"},
	{"\"\" Entw&APw-*", false, false, false, "0 0 0 0 |Entw\xc3\xbc*"},
	{"\"\" {3}\r\n\xc3\xbc*", false, true, false, "0 0 0 0 |\xc3\xbc*"},
	{"\"\" *", true, false, false, "0 0 0 0 |*"},
	/* selection options, and what they imply */
	{"() \"\" *", false, false, false, "1 0 0 0 |*"},
	{"(subscribed) \"\" *", false, false, false, "1 1 1 0 |*"},
	{"(REMOTE) \"\" *", false, false, false, "1 2 0 0 |*"},
	{"(SUBSCRIBED RECURSIVEMATCH) \"\" %", false, false, false, "1 5 1 0 |%"},
	{"(SPECIAL-USE) \"\" *", false, false, false, "1 8 4 0 |*"},
	{"(SPECIAL-USE RECURSIVEMATCH REMOTE) \"\" *", false, false, false, "1 14 4 0 |*"},
	/* patterns */
	{"\"\" (INBOX \"Sent\" {1}\r\n*)", false, false, false, "1 0 0 0 |INBOX|Sent|*"},
	{"\"\" (%)", false, false, false, "1 0 0 0 |%"},
	/* return options */
	{"\"\" * RETURN ()", false, false, false, "1 0 0 0 |*"},
	{"\"\" * return (CHILDREN subscribed SPECIAL-USE)", false, false, false, "1 0 7 0 |*"},
	{"\"\" * RETURN (STATUS (MESSAGES UNSEEN))", false, false, false, "1 0 8 17 |*"},
	{"\"\" * RETURN (STATUS (SIZE) CHILDREN STATUS (DELETED))", false, false, false, "1 0 10 96 |*"},
	{"\"\" * RETURN (STATUS (RECENT))", false, false, false, "1 0 8 2 |*"},
	{"(SUBSCRIBED) \"\" (a b) RETURN (CHILDREN)", false, false, false, "1 1 3 0 |a|b"},
	/* errors */
	{"", false, false, false, "!LIST needs a reference and a pattern"},
	{"\"\"", false, false, false, "!LIST needs a reference and a pattern"},
	{"()", false, false, false, "!LIST needs a reference and a pattern"},
	{"() \"\"", false, false, false, "!LIST needs a reference and a pattern"},
	{"(BOGUS) \"\" *", false, false, false, "!Unknown LIST selection option"},
	{"((SUBSCRIBED)) \"\" *", false, false, false, "!Unknown LIST selection option"},
	{"(RECURSIVEMATCH) \"\" *", false, false, false, "!RECURSIVEMATCH needs another selection option"},
	{"(REMOTE RECURSIVEMATCH) \"\" *", false, false, false, "!RECURSIVEMATCH needs another selection option"},
	{"\"\" ()", false, false, false, "!The pattern list is empty"},
	{"\"\" (a (b))", false, false, false, "!Expected a mailbox name or pattern."},
	{"\"\" * RETURN", false, false, false, "!Only RETURN (options) may follow the patterns"},
	{"\"\" * RETURN CHILDREN", false, false, false, "!Only RETURN (options) may follow the patterns"},
	{"\"\" * RETURN () x", false, false, false, "!Only RETURN (options) may follow the patterns"},
	{"\"\" * OTHER ()", false, false, false, "!Only RETURN (options) may follow the patterns"},
	{"\"\" * RETURN (BOGUS)", false, false, false, "!Unknown LIST return option"},
	{"\"\" * RETURN (REMOTE)", false, false, false, "!Unknown LIST return option"},
	{"\"\" * RETURN (STATUS)", false, false, false, "!STATUS items must be a list of one or more names"},
	{"\"\" * RETURN (STATUS ())", false, false, false, "!STATUS items must be a list of one or more names"},
	{"\"\" * RETURN (STATUS MESSAGES)", false, false, false, "!STATUS items must be a list of one or more names"},
	{"\"\" * RETURN (STATUS (BOGUS))", false, false, false, "!Unknown STATUS item"},
	{"\"\" * RETURN (STATUS (RECENT))", false, false, true, "!Unknown STATUS item"},
	{"\"\" \"Entw\xc3\xbc*\"", false, true, false, "0 0 0 0 |Entw\xc3\xbc*"},
	{"\"\" {3}\r\n\xc3\xbc*", false, false, false, "!Mailbox names must be modified UTF-7 (printable ASCII only)."},
	{"\"\" {2}\r\n\xc3*", false, true, false, "!Mailbox name is not valid UTF-8."},
	{"{2}\r\n\xff* *", false, true, false, "!Mailbox name is not valid UTF-8."},
	{"\"\" &Jjo", false, false, false, "!Unterminated & sequence in the mailbox name."},
	/* LSUB: the basic form only */
	{"(SUBSCRIBED) \"\" *", true, false, false, "!Expected a mailbox name or pattern."},
	{"\"\" (*)", true, false, false, "!LSUB needs a reference and a pattern"},
	{"\"\" * RETURN ()", true, false, false, "!LSUB needs a reference and a pattern"},
	{"\"\"", true, false, false, "!LSUB needs a reference and a pattern"},
};

static void show_request(buf *out, const imap_list_args *la)
{
	BUF_PRINTF(out, "%d %u %u %u %s", la->extended, la->select, la->ret, la->status_items, la->ref);
	for (size_t i = 0; i < la->patterns.n; i++)
		BUF_PRINTF(out, "|%s", la->patterns.items[i]);
}

static void test_list_args(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const char *args = list_cases[i].args;
		char *text = xasprintf("a %s%s%s", list_cases[i].lsub ? "LSUB" : "LIST", *args ? " " : "", args);
		imap_parse_opts o = {.utf8 = list_cases[i].utf8};
		imap_command cmd;
		const char *err;
		if (!imap_command_parse(text, strlen(text), &o, &cmd, &err))
			fail_msg("case %zu does not parse: %s", i, err);
		imap_list_args la;
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		if (imap_list_args_parse(cmd.args, list_cases[i].lsub, list_cases[i].utf8, list_cases[i].rev2,
		                         &la, &err))
			show_request(&out, &la);
		else
			BUF_PRINTF(&out, "!%s", err);
		if (strcmp(buf_str(&out), list_cases[i].want) != 0)
			fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i, list_cases[i].args, buf_str(&out),
			         list_cases[i].want);
		imap_list_args_free(&la);
		buf_free(&out);
		imap_command_free(&cmd);
		free(text);
	}
}

/* ---- STATUS items ---- */

static void test_status_items(void **state)
{
	(void)state;
	static const struct {
		const char *list;
		bool rev2;
		const char *want;  /* the items written for fixed counts, or "!error" */
	} cases[] = {
		{"(MESSAGES)", false, "(MESSAGES 7)"},
		{"(deleted size UNSEEN uidvalidity UIDNEXT RECENT messages)", false,
		 "(MESSAGES 7 RECENT 0 UIDNEXT 12 UIDVALIDITY 99 UNSEEN 3 SIZE 5000000000 DELETED 2)"},
		{"(SIZE SIZE)", true, "(SIZE 5000000000)"},
		{"(RECENT)", true, "!Unknown STATUS item"},
		{"(MESSAGES BOGUS)", false, "!Unknown STATUS item"},
		{"(\"MESSAGES\")", false, "!Unknown STATUS item"},
		{"((MESSAGES))", false, "!Unknown STATUS item"},
		{"()", false, "!STATUS items must be a list of one or more names"},
		{"MESSAGES", false, "!STATUS items must be a list of one or more names"},
	};
	const imap_status_counts counts = {.messages = 7, .unseen = 3, .deleted = 2, .size = 5000000000ULL,
	                                   .uidnext = 12, .uidvalidity = 99};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = xasprintf("a STATUS INBOX %s", cases[i].list);
		imap_command cmd;
		const char *err;
		assert_true(imap_command_parse(text, strlen(text), NULL, &cmd, &err));
		unsigned items;
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		if (imap_status_items_parse(cmd.args->next, cases[i].rev2, &items, &err))
			imap_status_write_items(&out, items, &counts);
		else
			BUF_PRINTF(&out, "!%s", err);
		if (strcmp(buf_str(&out), cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&out), cases[i].want);
		buf_free(&out);
		imap_command_free(&cmd);
		free(text);
	}
	unsigned items;
	const char *err;
	assert_false(imap_status_items_parse(NULL, false, &items, &err));
}

/* ---- wildcards ---- */

static void test_wildcard(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *name;
		bool match;
	} cases[] = {
		{"*", "INBOX", true},         {"*", "a.b.c", true},       {"%", "a", true},
		{"%", "a.b", false},          {"a.%", "a.b", true},       {"a.%", "a.b.c", false},
		{"a.*", "a.b.c", true},       {"a*", "a", true},          {"a%b", "axxb", true},
		{"a%b", "ax.xb", false},      {"a*b", "ax.xb", true},     {"", "", true},
		{"", "a", false},             {"INBOX", "inbox", false},  {"%.%", "a.b", true},
		{"*%*", "a.b", true},         {"a", "ab", false},         {"ab", "a", false},
		{"\xc3\xbc%", "\xc3\xbc" "x", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (imap_wildcard_match(cases[i].pattern, cases[i].name) != cases[i].match)
			fail_msg("case %zu: \"%s\" against \"%s\"", i, cases[i].pattern, cases[i].name);
	/* no pattern is slow, and names past the limit never match */
	char name[IMAP_WILDCARD_NAME_MAX + 2];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_false(imap_wildcard_match("*", name));
	name[IMAP_WILDCARD_NAME_MAX] = '\0';
	assert_true(imap_wildcard_match("*", name));
	char pattern[1025];
	for (size_t i = 0; i < 1024; i++)
		pattern[i] = i % 2 ? '%' : '*';
	pattern[1024] = '\0';
	assert_true(imap_wildcard_match(pattern, name));
	pattern[1023] = 'b';
	assert_false(imap_wildcard_match(pattern, name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_args),
		cmocka_unit_test(test_status_items),
		cmocka_unit_test(test_wildcard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
