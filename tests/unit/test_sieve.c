/* test_sieve.c — the Sieve compiler and interpreter (src/sieve): compile
 * errors with their line and column, each test, action and extension, the
 * RFCs' own examples, runtime errors and the bounds.  Results are written
 * as one compact line per run ("fileinto:A; redirect:b@c; +keep") so each
 * case shows what a user would see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "sieve/sieve.h"

static const char MSG[] =
	"Return-Path: <alice@example.com>\n"
	"From: Alice Example <alice@example.com>\n"
	"To: Bob <bob+lists@example.org>, carol@example.net\n"
	"Cc: \"Dave D.\" <dave@Example.ORG>\n"
	"Subject: Quarterly report for Q1\n"
	"Date: Tue, 03 Mar 2026 10:00:00 +0900\n"
	"X-N: first\n"
	"X-N: second\n"
	"X-Spam-Score: 12\n"
	"Content-Type: text/plain\n"
	"\n"
	"Hello Bob,\nrevenue is UP.\n";

/* The actions of a run in one line; "+keep" for the implicit keep,
 * "!error" after a runtime error. */
static char *describe(const sieve_result *r)
{
	static const char *const kinds[] = {"keep", "fileinto", "redirect", "discard",
					    "reject", "ereject", "vacation"};
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (size_t i = 0; i < r->n; i++) {
		const sieve_action *a = &r->actions[i];
		BUF_PRINTF(&b, "%s%s", b.len ? "; " : "", kinds[a->kind]);
		if (a->target != NULL)
			BUF_PRINTF(&b, ":%s", a->target);
		if (a->kind == SIEVE_ACT_VACATION)
			BUF_PRINTF(&b, ":%ld:%s", a->vac.seconds, a->vac.handle);
		if (a->flags.n > 0) {
			char *j = strlist_join(&a->flags, " ");
			BUF_PRINTF(&b, "[%s]", j);
			free(j);
		}
		if (a->copy)
			BUF_PUTS(&b, "(copy)");
		if (a->create)
			BUF_PUTS(&b, "(create)");
	}
	if (r->implicit_keep) {
		BUF_PRINTF(&b, "%s+keep", b.len ? "; " : "");
		if (r->keep_flags.n > 0) {
			char *j = strlist_join(&r->keep_flags, " ");
			BUF_PRINTF(&b, "[%s]", j);
			free(j);
		}
	}
	if (r->error != NULL)
		BUF_PUTS(&b, " !error");
	return buf_steal(&b);
}

typedef struct fixture_scripts {
	const char *name;
	const char *text;
} fixture_scripts;

static const fixture_scripts *loader_scripts;

static bool load(void *ctx, const char *name, bool global, char **text_r, size_t *len_r)
{
	for (const fixture_scripts *s = loader_scripts; s != NULL && s->name != NULL; s++) {
		bool g = strncmp(s->name, "global:", 7) == 0;
		if (g == global && strcmp(s->name + (g ? 7 : 0), name) == 0) {
			*text_r = strdup(s->text);
			*len_r = strlen(s->text);
			return true;
		}
	}
	return false;
}

static const char *missing_folder;
static bool exists(void *ctx, const char *name)
{
	return missing_folder == NULL || strcmp(name, missing_folder) != 0;
}
static time_t fixed_now(void *ctx) { return 1788000000; }  /* 2026-08-29 */

/* Compile and run script on msg; the description, or "compile: L:C: msg". */
static char *run_on(const char *script, const char *msg, const char *from, const char *to)
{
	sieve_loader loader = {load, NULL};
	sieve_script *s;
	sieve_error err;
	if (!sieve_compile(script, strlen(script), &loader, &s, &err)) {
		char *out;
		if (asprintf(&out, "compile: %u:%u: %s", err.line, err.col, err.msg) < 0)
			abort();
		sieve_error_free(&err);
		return out;
	}
	sieve_message m = {msg, strlen(msg)};
	sieve_envelope env = {from, to, NULL};
	sieve_env e = {.mailbox_exists = exists, .now = fixed_now, .zone_set = true};
	sieve_result r;
	sieve_run(s, &m, &env, &e, &r);
	char *d = describe(&r);
	sieve_result_free(&r);
	sieve_script_free(&s);
	return d;
}

static char *run(const char *script)
{
	return run_on(script, MSG, "alice@example.com", "bob+lists@example.org");
}

#define EXPECT(script, want) do { \
		char *got_ = run(script); \
		if (strcmp(got_, want) != 0) \
			fail_msg("script:\n%s\nwant: %s\ngot:  %s", script, want, got_); \
		free(got_); \
	} while (0)

/* A compile error at line:col whose message contains `part`. */
#define EXPECT_ERROR(script, line, col, part) do { \
		char *got_ = run(script); \
		char want_[64]; \
		snprintf(want_, sizeof(want_), "compile: %d:%d: ", line, col); \
		if (strncmp(got_, want_, strlen(want_)) != 0 || strstr(got_, part) == NULL) \
			fail_msg("script:\n%s\nwant: %s...%s\ngot:  %s", script, want_, part, got_); \
		free(got_); \
	} while (0)

static void test_lexer_errors(void **state)
{
	EXPECT_ERROR("keep;\n  \"abc", 2, 7, "end of script in the string started at line 2");
	EXPECT_ERROR("keep;\n/* never closed\n", 3, 1, "end of script in the comment started at line 2");
	EXPECT_ERROR("keep;\nif size :over 99999999999999999999 { keep; }", 2, 15, "too large");
	EXPECT_ERROR("if size :over 9G { keep; }\nif size :over 10x { keep; }", 2, 17,
		     "invalid character after a number");
	EXPECT_ERROR("keep;\n  @", 2, 3, "unexpected character");
	EXPECT_ERROR("require \"fileinto\";\nfileinto text:junk\nA\n.\n;", 2, 15,
		     "expected a line end after \"text:\"");
	EXPECT_ERROR("require \"fileinto\";\nfileinto text:\nA\n", 4, 1,
		     "multi-line string started at line 2");
}

/* Scripts with CRLF line ends (RFC 5228's own form) read the same. */
static void test_crlf_script(void **state)
{
	EXPECT("require \"reject\";\r\n# comment\r\nreject text:  # why\r\nline one\r\n..two\r\n.\r\n;\r\n",
	       "reject:line one\r\n.two\r\n");
	EXPECT_ERROR("keep;\r\n\r\n  frob;\r\n", 3, 3, "unknown command 'frob'");
}

static void test_parser_errors(void **state)
{
	EXPECT_ERROR("require \"fileinto\";\nif true {\n  fileinto \"A\"\n}", 4, 1,
		     "expected end of command ';' or the beginning of a compound block '{', but found '}'");
	EXPECT_ERROR("if true {\n  keep;\n", 3, 1, "expected a command or '}', but found end of script");
	EXPECT_ERROR("keep\n", 2, 1, "found end of script");
	EXPECT_ERROR("if anyof (true; false) { keep; }", 1, 15, "',' or ')' in the test list");
	EXPECT_ERROR("if anyof (true false) { keep; }", 1, 16, "true takes no tests");
	EXPECT_ERROR("if header [\"a\" \"b\"] \"x\" { keep; }", 1, 16, "',' or ']'");
	EXPECT_ERROR("\"x\";", 1, 1, "expected a command");
	EXPECT_ERROR("if ( { keep; }", 1, 6, "a test in the test list");
}

static void test_nesting_bound(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (int i = 0; i < 40; i++)
		BUF_PUTS(&b, "if true {\n");
	BUF_PUTS(&b, "keep;");
	for (int i = 0; i < 40; i++)
		BUF_PUTS(&b, "}");
	char *got = run(buf_str(&b));
	if (strstr(got, "compile: 33:4: nested more than 32 levels deep") == NULL)
		fail_msg("%s", got);
	free(got);
	buf_clear(&b);
	BUF_PUTS(&b, "if ");
	for (int i = 0; i < 40; i++)
		BUF_PUTS(&b, "not ");
	BUF_PUTS(&b, "true { keep; }");
	got = run(buf_str(&b));
	assert_non_null(strstr(got, "compile: 1:132: nested more than 32 levels deep"));
	free(got);
	buf_free(&b);
	/* the size bound */
	size_t big = SIEVE_MAX_SCRIPT_SIZE + 1;
	char *text = malloc(big + 1);
	memset(text, ' ', big);
	text[big] = '\0';
	got = run(text);
	assert_non_null(strstr(got, "compile: 1:1: script is larger than"));
	free(got);
	free(text);
}

static void test_validation_errors(void **state)
{
	EXPECT_ERROR("require [\"fileinto\",\n  \"x-nope\"];", 2, 3, "unknown Sieve capability 'x-nope'");
	EXPECT_ERROR("require \"Fileinto\";", 1, 9, "unknown Sieve capability");  /* case-sensitive */
	EXPECT_ERROR("keep;\nfileinto \"A\";", 2, 1, "unknown command 'fileinto' (its extension is not required)");
	EXPECT_ERROR("keep;\nrequire \"fileinto\";", 2, 1, "require must come before");
	EXPECT_ERROR("if true { require \"fileinto\"; }", 1, 11, "require must come before");
	EXPECT_ERROR("keep;\nelsif true { keep; }", 2, 1, "elsif must follow an if");
	EXPECT_ERROR("if true { keep; }\nelse { keep; }\nelse { keep; }", 3, 1, "else must follow");
	EXPECT_ERROR("frobnicate;", 1, 1, "unknown command 'frobnicate'");
	EXPECT_ERROR("if frob { keep; }", 1, 4, "unknown test 'frob'");
	EXPECT_ERROR("keep;\nif keep { keep; }", 2, 4, "'keep' is a command, not a test");
	EXPECT_ERROR("true;", 1, 1, "'true' is a test, not a command");
	EXPECT_ERROR("if size 100 { keep; }", 1, 4, "size needs :over or :under");
	EXPECT_ERROR("if size :over :under 1 { keep; }", 1, 15, "conflicts");
	EXPECT_ERROR("if header :is :contains \"a\" \"b\" { keep; }", 1, 15, "conflicts");
	EXPECT_ERROR("if header :comparator \"i;nope\" \"a\" \"b\" { keep; }", 1, 23,
		     "unknown comparator 'i;nope'");
	EXPECT_ERROR("if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }", 1, 23,
		     "unknown comparator");  /* not required */
	EXPECT_ERROR("require \"comparator-i;ascii-numeric\";\n"
		     "if header :matches :comparator \"i;ascii-numeric\" \"a\" \"1\" { keep; }", 2, 32,
		     "does not support the :matches match type");
	EXPECT_ERROR("require \"relational\";\nif header :value \"gg\" \"a\" \"b\" { keep; }", 2, 18,
		     "invalid relational operator 'gg'");
	EXPECT_ERROR("if header :value \"gt\" \"a\" \"b\" { keep; }", 1, 11, "unknown tagged argument ':value'");
	EXPECT_ERROR("if header :comparator { keep; }", 1, 11, "needs a string after it");
	EXPECT_ERROR("require \"fileinto\";\nfileinto [\"A\", \"B\"];", 2, 10, "must be a string");
	EXPECT_ERROR("if header \"a\" { keep; }", 1, 4, "takes 2 positional arguments, not 1");
	EXPECT_ERROR("keep \"x\";", 1, 6, "takes 0 positional arguments, not 1");
	EXPECT_ERROR("if header \"a\" :is \"b\" { keep; }", 1, 15, "after the positional arguments");
	EXPECT_ERROR("if allof true { keep; }", 1, 10, "needs a test list in parentheses");
	EXPECT_ERROR("if (true, false) { keep; }", 1, 1, "takes one test, not a test list");
	EXPECT_ERROR("if true;", 1, 1, "if needs a block");
	EXPECT_ERROR("keep { }", 1, 1, "keep takes no block");
	EXPECT_ERROR("keep true;", 1, 6, "keep takes no tests");
	EXPECT_ERROR("if true { redirect \"not an address\"; }", 1, 20, "invalid address");
	EXPECT_ERROR("require \"index\";\nif header :last \"a\" \"b\" { keep; }", 2, 4, ":last tag needs :index");
	EXPECT_ERROR("require \"index\";\nif header :index 0 \"a\" \"b\" { keep; }", 2, 18, "counts from 1");
	EXPECT_ERROR("require \"envelope\";\nif envelope \"bogus\" \"x\" { keep; }", 2, 13,
		     "unknown envelope part 'bogus'");
	EXPECT_ERROR("if address [\"from\",\n  \"subject\"] \"x\" { keep; }", 2, 3,
		     "header 'subject' holds no addresses");
	EXPECT_ERROR("require [\"reject\", \"vacation\"];\nvacation \"away\";\nreject \"no\";", 3, 1,
		     "conflicts with vacation");
	EXPECT("require [\"reject\", \"vacation\"];\nvacation \"away\";\nstop;\nreject \"no\";",
	       "vacation:604800:away<default-subject><default-from><NO-MIME>; +keep");
	EXPECT_ERROR("require \"vacation\";\nvacation :from \"nobody here\" \"x\";", 2, 16, "invalid address");
	EXPECT_ERROR("require \"vacation\";\nvacation :days \"3\" \"x\";", 2, 10, "needs a number after it");
	EXPECT_ERROR("require \"fileinto\";\nfileinto \"\";", 2, 10, "invalid folder name");
	EXPECT_ERROR("require \"fileinto\";\nfileinto \"a\r\nb\";", 2, 10, "invalid folder name");
	EXPECT_ERROR("require \"fileinto\";\nfileinto \"caf\xe9\";", 2, 10, "invalid folder name");
	EXPECT_ERROR("require \"fileinto\";\nfileinto :create \"A\";", 2, 10, "unknown tagged argument ':create'");
	EXPECT_ERROR("require \"fileinto\";\nfileinto :copy \"A\";", 2, 10, "unknown tagged argument ':copy'");
	EXPECT_ERROR("if header :count \"eq\" \"a\" \"1\" { keep; }", 1, 11, "':count'");
}

static void test_address_header_envelope(void **state)
{
	EXPECT("require \"fileinto\";\n"
	       "if address :localpart \"from\" \"alice\" { fileinto \"L\"; }\n"
	       "if address :domain \"cc\" \"example.org\" { fileinto \"D\"; }\n"
	       "if address :all :comparator \"i;octet\" \"cc\" \"dave@example.org\" { fileinto \"No\"; }\n"
	       "if address \"to\" \"carol@example.net\" { fileinto \"A\"; }",
	       "fileinto:L; fileinto:D; fileinto:A");
	EXPECT("if header :contains \"Subject\" \"REPORT\" { discard; }", "discard");
	EXPECT("if header :is :comparator \"i;octet\" \"subject\" \"quarterly report for Q1\" { discard; }",
	       "+keep");
	EXPECT("if header :contains \"x-missing\" \"\" { discard; }", "+keep");
	EXPECT("if header :contains \"subject\" \"\" { discard; }", "discard");
	EXPECT("require \"envelope\";\nif envelope :domain \"to\" \"example.org\" { discard; }", "discard");
	char *got = run_on("require \"envelope\";\nif envelope :all :is \"from\" \"\" { discard; }\n"
			   "if envelope :localpart :is \"from\" \"\" { keep; }", MSG, "", "bob@example.org");
	assert_string_equal(got, "discard");  /* null sender: "" for :all only (RFC 5228 5.4) */
	free(got);
	EXPECT("if exists [\"from\", \"x-n\"] { discard; }", "discard");
	EXPECT("if exists [\"from\", \"x-nope\"] { discard; }", "+keep");
}

static void test_size_and_logic(void **state)
{
	size_t n = 0;  /* the size in CRLF form */
	for (const char *p = MSG; *p; p++)
		n += *p == '\n' ? 2 : 1;
	char script[200];
	snprintf(script, sizeof(script), "if size :over %zu { discard; }", n - 1);
	EXPECT(script, "discard");
	snprintf(script, sizeof(script), "if size :over %zu { discard; }", n);
	EXPECT(script, "+keep");
	snprintf(script, sizeof(script), "if size :under %zu { discard; }", n);
	EXPECT(script, "+keep");
	snprintf(script, sizeof(script), "if size :under %zu { discard; }", n + 1);
	EXPECT(script, "discard");
	EXPECT("if allof (true, not false, anyof (false, true)) { discard; }", "discard");
	EXPECT("if anyof (false, false) { discard; } elsif false { keep; } else { redirect \"a@b.c\"; }",
	       "redirect:a@b.c");
	EXPECT("keep; stop; discard;", "keep");
}

static void test_comparators(void **state)
{
	const char *req = "require [\"relational\", \"comparator-i;ascii-numeric\"];\n";
	char s[400];
	static const struct { const char *test; bool want; } cases[] = {
		{":value \"gt\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"5\"", true},
		{":value \"gt\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"100\"", false},
		{":is :comparator \"i;ascii-numeric\" \"x-spam-score\" \"0012\"", true},
		/* RFC 4790 9.1: no leading digit is positive infinity */
		{":value \"gt\" :comparator \"i;ascii-numeric\" \"subject\" \"99999\"", true},
		{":is :comparator \"i;ascii-numeric\" \"subject\" \"abc\"", true},
		{":value \"lt\" \"subject\" \"R\"", true},
		{":value \"lt\" :comparator \"i;octet\" \"subject\" \"R\"", true},
		{":value \"ge\" :comparator \"i;octet\" \"subject\" \"quarterly\"", false},
		{":value \"ne\" \"subject\" \"quarterly report for q1\"", false},
		/* i;ascii-casemap orders after mapping to upper case (RFC 4790 9.2.1) */
		{":value \"lt\" \"subject\" \"_\"", true},
		{":value \"gt\" :comparator \"i;octet\" \"subject\" \"_\"", false},
		{":count \"eq\" :comparator \"i;ascii-numeric\" \"x-n\" \"2\"", true},
		{":count \"lt\" :comparator \"i;ascii-numeric\" \"x-none\" \"1\"", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(s, sizeof(s), "%sif header %s { discard; }", req, cases[i].test);
		EXPECT(s, cases[i].want ? "discard" : "+keep");
	}
	snprintf(s, sizeof(s), "%sif address :count \"eq\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"3\" { discard; }", req);
	EXPECT(s, "discard");
}

static void test_matches(void **state)
{
	static const struct { const char *key; bool want; } cases[] = {
		{"Quarterly*", true}, {"*Q?", true}, {"*q1", true}, {"Q?arterly*", true},
		{"*report*Q1", true}, {"*", true}, {"?*", true}, {"Quarterly", false},
		{"\\\\*", false}, {"*for Q1?", false}, {"*r*r*r*r*r*r*r*r*z", false},
	};
	char s[200];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(s, sizeof(s), "if header :matches \"subject\" \"%s\" { discard; }", cases[i].key);
		EXPECT(s, cases[i].want ? "discard" : "+keep");
	}
	/* '?' is one character, not one octet */
	char *got = run_on("if header :matches \"subject\" \"caf?\" { discard; }",
			   "Subject: caf\xc3\xa9\n\nx\n", "a@b.c", "d@e.f");
	assert_string_equal(got, "discard");
	free(got);
}

/* The comparison work bound: a :matches costs value times key length. */
static void test_work_bound(void **state)
{
	buf msg, script;
	buf_init(&msg, BUF_UNBOUNDED);
	buf_init(&script, BUF_UNBOUNDED);
	BUF_PUTS(&msg, "Subject: ");
	for (int i = 0; i < 100000; i++)
		BUF_PUTC(&msg, 'a');
	BUF_PUTS(&msg, "\n\nx\n");
	BUF_PUTS(&script, "if header :matches \"subject\" [");
	for (int i = 0; i < 30; i++) {
		BUF_PRINTF(&script, "%s\"", i ? ", " : "");
		for (int k = 0; k < 100; k++)
			BUF_PUTS(&script, "*a");
		BUF_PUTS(&script, "*b\"");
	}
	BUF_PUTS(&script, "] { discard; }");
	char *got = run_on(buf_str(&script), buf_str(&msg), "a@b.c", "d@e.f");
	assert_string_equal(got, "+keep !error");
	free(got);
	buf_free(&msg);
	buf_free(&script);
}

static void test_actions_and_duplicates(void **state)
{
	/* RFC 5228 2.10.3: the same folder twice is once; keep is INBOX */
	EXPECT("require \"fileinto\";\nfileinto \"A\"; fileinto \"A\"; keep; fileinto \"INBOX\"; keep;",
	       "fileinto:A; keep");
	EXPECT("redirect \"a@example.net\"; redirect \"A@example.net\";", "redirect:a@example.net");
	/* an RFC 5322 mailbox in any form; the action has its addr-spec */
	EXPECT("redirect \"Ann <ann@example.net>\"; redirect \"<b@example.net>\";"
	       " redirect \"c@example.net (C)\";",
	       "redirect:ann@example.net; redirect:b@example.net; redirect:c@example.net");
	EXPECT_ERROR("redirect \"a@example.net, b@example.net\";", 1, 10, "invalid address");
	EXPECT_ERROR("redirect \"list: a@example.net;\";", 1, 10, "invalid address");
	EXPECT_ERROR("redirect \"local-only\";", 1, 10, "invalid address");
	EXPECT("discard; discard;", "discard");
	/* :copy keeps the implicit keep (RFC 3894) */
	EXPECT("require [\"copy\", \"fileinto\"];\nfileinto :copy \"C\"; redirect :copy \"x@y.z\";",
	       "fileinto:C(copy); redirect:x@y.z(copy); +keep");
	EXPECT("require [\"copy\", \"fileinto\"];\nfileinto :copy \"C\"; fileinto \"C\";", "fileinto:C");
	EXPECT("require \"copy\";\nredirect :copy \"a@b.c\"; redirect \"a@b.c\";", "redirect:a@b.c");
	EXPECT("require [\"fileinto\", \"mailbox\"];\nfileinto :create \"New/Sub\";",
	       "fileinto:New/Sub(create)");
	EXPECT("require \"fileinto\";\nif true {}", "+keep");
}

static void test_runtime_errors(void **state)
{
	/* too many redirects: the whole result falls back to the implicit keep */
	EXPECT("redirect \"a@x.y\"; redirect \"b@x.y\"; redirect \"c@x.y\"; redirect \"d@x.y\";"
	       " redirect \"e@x.y\";", "+keep !error");
	/* a folder that does not exist, without :create (RFC 5490 3.2) */
	missing_folder = "Gone";
	EXPECT("require \"fileinto\";\nfileinto \"A\";\nfileinto \"Gone\";", "+keep !error");
	EXPECT("require [\"fileinto\", \"mailbox\"];\nfileinto :create \"Gone\";", "fileinto:Gone(create)");
	EXPECT("require [\"fileinto\", \"mailbox\"];\n"
	       "if mailboxexists \"Gone\" { discard; } elsif mailboxexists [\"A\", \"INBOX\"] { keep; }",
	       "keep");
	missing_folder = NULL;
	EXPECT("require \"variables\";\nset \"a\" \"not an address\";\nredirect \"${a}\";", "+keep !error");
	EXPECT("require [\"variables\", \"fileinto\"];\nset \"a\" \"x${hex:0a}\";\n"
	       "if header :matches \"x-n\" \"*\" { fileinto \"${a}\"; }", "fileinto:x${hex:0a}");
	EXPECT("require [\"variables\", \"fileinto\", \"encoded-character\"];\nset \"a\" \"x${hex:0a}\";\n"
	       "fileinto \"${a}\";", "+keep !error");
	/* the error text says where */
	sieve_script *s;
	sieve_error err;
	const char *text = "keep;\nredirect \"a@x.y\"; redirect \"b@x.y\"; redirect \"c@x.y\";\n"
			   "redirect \"d@x.y\";\nredirect \"e@x.y\";";
	assert_true(sieve_compile(text, strlen(text), NULL, &s, &err));
	sieve_message m = {MSG, strlen(MSG)};
	sieve_envelope env = {"a@b.c", "d@e.f", NULL};
	sieve_result r;
	sieve_run(s, &m, &env, NULL, &r);
	assert_true(r.implicit_keep);
	assert_int_equal(r.n, 0);
	assert_string_equal(r.error, "line 4: more than 4 redirects");
	sieve_result_free(&r);
	sieve_script_free(&s);
}

static void test_reject_ereject(void **state)
{
	EXPECT("require \"reject\";\nreject \"go away\";", "reject:go away");
	EXPECT("require \"ereject\";\nereject \"go away\";", "ereject:go away");
	EXPECT("require [\"reject\", \"ereject\"];\nreject \"a\"; ereject \"b\";", "+keep !error");
	EXPECT("require [\"reject\", \"fileinto\"];\nfileinto \"A\"; reject \"a\";", "+keep !error");
	EXPECT("require [\"reject\", \"vacation\"];\nif true { vacation \"x\"; } reject \"a\";", "+keep !error");
	EXPECT("require \"reject\";\nreject text:\nline one\n..line two\n.\n;",
	       "reject:line one\n.line two\n");
}

static void test_vacation(void **state)
{
	EXPECT("require \"vacation\";\nvacation \"away\";",
	       "vacation:604800:away<default-subject><default-from><NO-MIME>; +keep");
	EXPECT("require \"vacation\";\nvacation :days 3 :subject \"S\" :from \"me@example.org\" \"R\";",
	       "vacation:259200:RSme@example.org<NO-MIME>; +keep");
	EXPECT("require \"vacation\";\nvacation :days 0 :handle \"h\" \"R\";", "vacation:86400:h; +keep");
	EXPECT("require \"vacation\";\nvacation :days 1000 :mime :handle \"h\" \"R\";",
	       "vacation:31536000:h; +keep");
	EXPECT("require \"vacation\";\nvacation \"a\"; vacation \"b\";", "+keep !error");
	/* the handle is made from the text as written, before expansion */
	EXPECT("require [\"vacation\", \"variables\"];\nset \"s\" \"x\";\nvacation :subject \"${s}\" \"r${s}\";",
	       "vacation:604800:r${s}${s}<default-from><NO-MIME>; +keep");
	/* all parameters reach the result */
	const char *text = "require \"vacation\";\nvacation :subject \"Away\r\nnow\" :from \"Bob <bob@example.org>\""
			   " :addresses [\"b@example.org\", \"not valid\", \"bob@example.net\"] :mime \"Content-Type: "
			   "text/plain\r\n\r\nx\";";
	sieve_script *s;
	sieve_error err;
	assert_true(sieve_compile(text, strlen(text), NULL, &s, &err));
	sieve_message m = {MSG, strlen(MSG)};
	sieve_envelope env = {"alice@example.com", "bob@example.org", NULL};
	sieve_result r;
	sieve_run(s, &m, &env, NULL, &r);
	assert_int_equal(r.n, 1);
	const sieve_vacation *v = &r.actions[0].vac;
	assert_string_equal(v->subject, "Away  now");   /* no header injection */
	assert_string_equal(v->from, "Bob <bob@example.org>");
	assert_int_equal(v->addresses.n, 2);   /* "not valid" is dropped */
	assert_string_equal(v->addresses.items[1], "bob@example.net");
	assert_true(v->mime);
	assert_string_equal(v->reason, "Content-Type: text/plain\r\n\r\nx");
	sieve_result_free(&r);
	sieve_script_free(&s);
}

static void test_vacation_should_reply(void **state)
{
	static const struct {
		const char *from, *msg;
		bool check_rcpt, want;
		const char *why;
	} cases[] = {
		{"alice@example.com", "To: bob@example.org\n\nx\n", true, true, NULL},
		{"", "To: bob@example.org\n\nx\n", false, false, "envelope sender is empty"},
		{"Bob@Example.org", "To: bob@example.org\n\nx\n", false, false, "the sender is the user"},
		{"owner-list@example.com", "To: bob@example.org\n\nx\n", false, false, "list or a daemon"},
		{"list-request@example.com", "\nx\n", false, false, "list or a daemon"},
		{"MAILER-DAEMON@example.com", "\nx\n", false, false, "list or a daemon"},
		{"majordomo@example.com", "\nx\n", false, false, "list or a daemon"},
		{"a@example.com", "Auto-Submitted: auto-replied\n\nx\n", false, false, "auto-submitted"},
		{"a@example.com", "Auto-Submitted: No (comment)\n\nx\n", false, true, NULL},
		{"a@example.com", "List-Id: <l.example.com>\n\nx\n", false, false, "mailing list"},
		{"a@example.com", "List-Unsubscribe: <mailto:u@x>\n\nx\n", false, false, "mailing list"},
		{"a@example.com", "Precedence: Bulk\n\nx\n", false, false, "Precedence"},
		{"a@example.com", "Precedence: junk\n\nx\n", false, false, "Precedence"},
		{"a@example.com", "Precedence: first-class\n\nx\n", false, true, NULL},
		{"a@example.com", "X-Auto-Response-Suppress: OOF\n\nx\n", false, false, "no automatic reply"},
		{"a@example.com", "X-Auto-Response-Suppress: DR, oof\n\nx\n", false, false, "no automatic reply"},
		{"a@example.com", "X-Auto-Response-Suppress: DR, RN\n\nx\n", false, true, NULL},
		{"a@example.com", "To: someone@example.org\n\nx\n", true, false, "none of the user's"},
		{"a@example.com", "To: someone@example.org\nCc: Bob <BOB@example.org>\n\nx\n", true, true, NULL},
		{"a@example.com", "Bcc: alias@example.net\n\nx\n", true, true, NULL},
	};
	strlist addrs;
	strlist_init(&addrs);
	strlist_add(&addrs, "alias@example.net");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sieve_message m = {cases[i].msg, strlen(cases[i].msg)};
		sieve_envelope env = {cases[i].from, "bob@example.org", NULL};
		const char *why;
		bool got = sieve_vacation_should_reply(&m, &env, "bob@example.org", &addrs,
						       cases[i].check_rcpt, &why);
		if (got != cases[i].want || (why == NULL) != (cases[i].why == NULL) ||
		    (why != NULL && strstr(why, cases[i].why) == NULL))
			fail_msg("case %zu: got %d (%s)", i, got, why ? why : "-");
	}
	strlist_free(&addrs);
}

static void test_imap4flags(void **state)
{
	/* RFC 5232 and Pigeonhole: a fileinto takes the flags as they are then;
	 * the implicit keep takes the final ones */
	EXPECT("require [\"fileinto\", \"imap4flags\"];\nfileinto \"A\"; addflag \"\\\\Seen\";"
	       " fileinto \"B\"; addflag [\"\\\\flagged Work\", \"work\"]; removeflag \"\\\\SEEN\";",
	       "fileinto:A; fileinto:B[\\Seen]");
	EXPECT("require \"imap4flags\";\naddflag \"\\\\Answered x\"; setflag \"\\\\Draft\"; addflag \"y\";",
	       "+keep[\\Draft y]");
	EXPECT("require [\"fileinto\", \"imap4flags\"];\nsetflag \"a\";\n"
	       "fileinto :flags [\"\\\\Seen\", \"\\\\Recent \\\\Bogus ok(no\"] \"T\";\nkeep :flags \"\";",
	       "fileinto:T[\\Seen]; keep");
	EXPECT("require [\"imap4flags\", \"fileinto\"];\nfileinto :flags \"x\" \"A\"; fileinto :flags \"y\" \"A\";",
	       "fileinto:A[x y]");
	EXPECT("require \"imap4flags\";\nsetflag \"\\\\Seen Work\";\n"
	       "if allof (hasflag \"work\", hasflag :contains \"or\", not hasflag :contains \"\\\\Se\","
	       " hasflag [\"x\", \"\\\\seen\"]) { discard; }", "discard");
	EXPECT("require [\"imap4flags\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
	       "addflag \"a b c\";\nif hasflag :count \"eq\" :comparator \"i;ascii-numeric\" \"3\" { discard; }",
	       "discard");
	/* the variable forms */
	EXPECT("require [\"imap4flags\", \"variables\", \"fileinto\"];\nset \"v\" \"x\";\n"
	       "addflag \"v\" \"y\";\nif hasflag \"v\" \"y\" { fileinto \"${v}\"; }",
	       "fileinto:x y");
	EXPECT_ERROR("require \"imap4flags\";\naddflag \"v\" \"y\";", 2, 9, "needs \"variables\"");
}

static void test_variables(void **state)
{
	EXPECT("require [\"variables\", \"fileinto\"];\n"
	       "set \"a\" \"x\"; set :upper \"b\" \"mIx\"; set :lower :upperfirst \"c\" \"hELLO\";\n"
	       "set :length \"d\" \"h\xc3\xa9llo\"; set :quotewildcard \"e\" \"a*?\\\\\";\n"
	       "fileinto \"${a}-${B}-${c}-${d}-${e}-${none}-${1}-${bad name}-$\";",
	       "fileinto:x-MIX-Hello-5-a\\*\\?\\\\---${bad name}-$");
	/* RFC 5229 example: match variables from the last successful :matches */
	EXPECT("require [\"variables\", \"fileinto\"];\n"
	       "if header :matches \"subject\" \"* for *\" { set \"s\" \"${1}|${2}|${0}\"; }\n"
	       "if header :matches \"subject\" \"nothing*\" { set \"s\" \"no\"; }\n"
	       "fileinto \"${s}|${1}\";",
	       "fileinto:Quarterly report|Q1|Quarterly report for Q1|Quarterly report");
	EXPECT("require [\"variables\"];\nif string :is \"${a}\" \"\" { discard; }", "discard");
	EXPECT("require [\"variables\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
	       "if string :count \"eq\" :comparator \"i;ascii-numeric\" [\"a\", \"\", \"b\"] \"2\" { discard; }",
	       "discard");
	/* without "variables" ${...} is literal text */
	EXPECT("require \"fileinto\";\nfileinto \"${a}\";", "fileinto:${a}");
	EXPECT_ERROR("require \"variables\";\nset :lower :upper \"a\" \"b\";", 2, 12, "same precedence");
	EXPECT_ERROR("require \"variables\";\nset \"a.b\" \"x\";", 2, 5, "invalid variable name 'a.b'");
	EXPECT_ERROR("require [\"variables\", \"fileinto\"];\nfileinto \"x${env.home}\";", 2, 10,
		     "variable namespace 'env' is not supported");
	/* match variables are numbers: ${0001} is ${1}, ${10} is beyond them */
	EXPECT("require [\"variables\", \"fileinto\"];\n"
	       "if header :matches \"subject\" \"* *\" { fileinto \"${0001}|${10}|${a.}\"; }",
	       "fileinto:Quarterly||${a.}");
	/* the value bound cuts long values on a character boundary */
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, "require [\"variables\", \"relational\", \"comparator-i;ascii-numeric\"];\nset \"a\" \"");
	for (int i = 0; i < 5000; i++)
		BUF_PUTS(&b, "\xc3\xa9");
	BUF_PUTS(&b, "\";\nset :length \"n\" \"${a}\";\nif string :is \"${n}\" \"2048\" { discard; }");
	EXPECT(buf_str(&b), "discard");
	buf_free(&b);
	/* the expansion bound: 20 references to a 4 KiB value are 80 KiB */
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, "require [\"variables\", \"fileinto\"];\nset \"a\" \"");
	for (int i = 0; i < 4000; i++)
		BUF_PUTC(&b, 'x');
	BUF_PUTS(&b, "\";\nfileinto \"");
	for (int i = 0; i < 20; i++)
		BUF_PUTS(&b, "${a}");
	BUF_PUTS(&b, "\";");
	EXPECT(buf_str(&b), "+keep !error");
	buf_free(&b);
	/* the count bound */
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, "require \"variables\";\n");
	for (int i = 0; i < SIEVE_MAX_VARIABLES + 1; i++)
		BUF_PRINTF(&b, "set \"v%d\" \"x\";\n", i);
	char *got = run(buf_str(&b));
	assert_non_null(strstr(got, "compile: 257:5: more than 255 variables"));
	free(got);
	buf_free(&b);
}

static const char MIME_MSG[] =
	"From: =?UTF-8?B?SsO8cmdlbg==?= <juergen@example.de>\n"
	"To: bob@example.org\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"B\"\n"
	"\n"
	"preamble text\n"
	"--B\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Gr=FC=DFe, marzipan\n"
	"--B\n"
	"Content-Type: application/pdf\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"c2VjcmV0IHBheWxvYWQ=\n"
	"--B--\n";

static void test_body_and_rfc2047(void **state)
{
	static const struct { const char *test; bool want; } cases[] = {
		{"body :contains \"Gr\xc3\xbc\xc3\x9f\x65\"", true},    /* decoded, to UTF-8 */
		{"body :text :contains \"marzipan\"", true},
		{"body :contains \"preamble\"", false},
		{"body :contains \"secret payload\"", false},           /* not a text part */
		{"body :content \"application\" :contains \"secret payload\"", true},
		{"body :content \"application/pdf\" :contains \"secret\"", true},
		{"body :content \"text/html\" :contains \"marzipan\"", false},
		{"body :raw :contains \"c2VjcmV0IHBheWxvYWQ=\"", true},
		{"body :raw :contains \"=FC\"", true},
		{"header :is \"subject\" \"Gr\xc3\xbc\xc3\x9f\x65\"", true},
		{"header :contains \"from\" \"J\xc3\xbcrgen\"", true},
	};
	char s[300];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(s, sizeof(s), "require \"body\";\nif %s { discard; }", cases[i].test);
		char *got = run_on(s, MIME_MSG, "j@example.de", "bob@example.org");
		if (strcmp(got, cases[i].want ? "discard" : "+keep") != 0)
			fail_msg("%s: %s", cases[i].test, got);
		free(got);
	}
	EXPECT_ERROR("require \"body\";\nif body :raw :text \"x\" { keep; }", 2, 14, "conflicts");
	/* :text reads HTML as text; :content "text/html" sees the markup */
	static const char html[] = "Content-Type: text/html\n\n<p>Tom &amp; <b>bold</b></p>\n";
	char *h = run_on("require [\"body\", \"fileinto\"];\n"
			 "if body :text :contains \"Tom &  bold\" { fileinto \"T\"; }\n"
			 "if body :text :contains \"<b>\" { fileinto \"Wrong\"; }\n"
			 "if body :content \"text/html\" :contains \"<b>bold</b>\" { fileinto \"C\"; }",
			 html, "a@b.c", "d@e.f");
	assert_string_equal(h, "fileinto:T; fileinto:C");
	free(h);
	/* RFC 5173 5: a multipart's own text is its prologue and epilogue */
	char *got = run_on("require \"body\";\nif body :content \"multipart\" :contains \"preamble\" { discard; }",
			   MIME_MSG, "j@example.de", "bob@example.org");
	assert_string_equal(got, "discard");
	free(got);
	got = run_on("require \"body\";\nif body :content \"multipart\" :contains \"marzipan\" { discard; }",
		     MIME_MSG, "j@example.de", "bob@example.org");
	assert_string_equal(got, "+keep");
	free(got);
}

static void test_subaddress(void **state)
{
	EXPECT("require [\"subaddress\", \"envelope\"];\n"
	       "if envelope :detail \"to\" \"lists\" { discard; }", "discard");
	EXPECT("require [\"subaddress\", \"envelope\"];\n"
	       "if envelope :user \"to\" \"bob\" { discard; }", "discard");
	/* RFC 5233 4: no separator, no detail: not even :matches "*" */
	EXPECT("require \"subaddress\";\nif address :detail :matches \"cc\" \"*\" { discard; }", "+keep");
	char *got = run_on("require [\"subaddress\", \"envelope\"];\n"
			   "if envelope :detail :is \"to\" \"\" { discard; }", MSG, "a@b.c", "bob+@example.org");
	assert_string_equal(got, "discard");
	free(got);
	/* a quoted local part is compared without its quotes; :all keeps them */
	got = run_on("require [\"subaddress\", \"fileinto\"];\n"
		     "if address :localpart \"from\" \"john doe\" { fileinto \"L\"; }\n"
		     "if address :user \"from\" \"john doe\" { fileinto \"U\"; }\n"
		     "if address :all \"from\" \"\\\"john doe\\\"@example.com\" { fileinto \"A\"; }",
		     "From: \"john doe\"@example.com\n\nx\n", "a@b.c", "d@e.f");
	assert_string_equal(got, "fileinto:L; fileinto:U; fileinto:A");
	free(got);
}

static void test_date_index(void **state)
{
	/* the env's zone is UTC (zone_set, 0 minutes) */
	EXPECT("require \"date\";\nif date :is \"date\" \"hour\" \"01\" { discard; }", "discard");
	EXPECT("require \"date\";\nif date :originalzone :is \"date\" \"hour\" \"10\" { discard; }", "discard");
	EXPECT("require \"date\";\nif date :zone \"-0500\" :is \"date\" \"date\" \"2026-03-02\" { discard; }",
	       "discard");
	EXPECT("require \"date\";\nif allof (date :is \"date\" \"julian\" \"61102\","
	       " date :is \"date\" \"weekday\" \"2\", date :is \"date\" \"std11\" \"Tue, 03 Mar 2026 01:00:00 +0000\","
	       " date :is \"date\" \"iso8601\" \"2026-03-03T01:00:00Z\","
	       " date :originalzone :is \"date\" \"iso8601\" \"2026-03-03T10:00:00+09:00\","
	       " date :originalzone :is \"date\" \"zone\" \"+0900\") { discard; }", "discard");
	EXPECT("require \"date\";\nif date :is \"x-n\" \"year\" \"2026\" { discard; }", "+keep");  /* unreadable */
	EXPECT("require \"date\";\nif date :is \"date\" \"fortnight\" \"1\" { discard; }", "+keep");
	EXPECT("require [\"date\", \"relational\"];\nif currentdate :value \"eq\" \"date\" \"2026-08-29\" { discard; }",
	       "discard");
	/* a :zone that is not "+hhmm" is ignored: the local zone (UTC here) */
	EXPECT("require \"date\";\nif date :zone \"0500\" :is \"date\" \"hour\" \"01\" { discard; }", "discard");
	EXPECT("require \"date\";\nif date :zone \"EST\" :is \"date\" \"hour\" \"01\" { discard; }", "discard");
	EXPECT_ERROR("require \"date\";\nif currentdate :originalzone \"hour\" \"1\" { keep; }", 2, 4,
		     "no :originalzone");
	/* obsolete zones and two-digit years (RFC 5322 4.3) */
	char *got = run_on("require \"date\";\nif date :is \"date\" \"iso8601\" \"1999-12-31T22:30:00Z\""
			   " { discard; }", "Date: 31 Dec 99 17:30 EST\n\nx\n", "a@b.c", "d@e.f");
	assert_string_equal(got, "discard");
	free(got);
	EXPECT("require \"index\";\nif header :index 2 :is \"x-n\" \"second\" { discard; }", "discard");
	EXPECT("require \"index\";\nif header :index 1 :last :is \"x-n\" \"second\" { discard; }", "discard");
	EXPECT("require \"index\";\nif header :index 3 :is \"x-n\" \"first\" { discard; }", "+keep");
	EXPECT("require \"index\";\nif address :index 1 :is \"cc\" \"dave@example.org\" { discard; }", "discard");
}

static void test_encoded_character(void **state)
{
	EXPECT("require [\"encoded-character\", \"fileinto\"];\n"
	       "fileinto \"${hex:41 42}${unicode:e9}${HEX: 43 }${unicode:1F600}x${hex:zz}\";",
	       "fileinto:AB\xc3\xa9" "C\xf0\x9f\x98\x80x${hex:zz}");
	EXPECT("require \"fileinto\";\nfileinto \"${hex:41}\";", "fileinto:${hex:41}");
	EXPECT_ERROR("require [\"encoded-character\", \"fileinto\"];\nfileinto \"${unicode:D800}\";", 2, 10,
		     "invalid Unicode code point");
}

static void test_include(void **state)
{
	static const fixture_scripts scripts[] = {
		{"one", "require [\"include\", \"fileinto\"];\nfileinto \"One\";\nreturn;\nfileinto \"No\";"},
		{"global:g", "require \"fileinto\";\nfileinto \"G\";"},
		{"vars", "require [\"include\", \"variables\", \"fileinto\"];\nglobal \"x\";\n"
			 "fileinto \"in-${x}-${local}\";\nset \"x\" \"changed\";"},
		{"loop", "require \"include\";\ninclude \"loop2\";"},
		{"loop2", "require \"include\";\ninclude \"loop\";"},
		{"bad", "require \"include\";\nkeep\n"},
		{"stopper", "stop;"},
		{NULL, NULL},
	};
	loader_scripts = scripts;
	EXPECT("require [\"include\", \"fileinto\"];\ninclude \"one\";\ninclude :once \"one\";\n"
	       "include :optional \"none\";\ninclude :global \"g\";\nfileinto \"Main\";",
	       "fileinto:One; fileinto:G; fileinto:Main");
	EXPECT("require [\"include\", \"variables\", \"fileinto\"];\nglobal \"x\";\nset \"x\" \"main\";\n"
	       "set \"local\" \"L\";\ninclude \"vars\";\nfileinto \"${x}\";",
	       "fileinto:in-main-; fileinto:changed");
	EXPECT("require \"include\";\ninclude \"stopper\";\ndiscard;", "+keep");
	EXPECT_ERROR("require \"include\";\ninclude \"none\";", 2, 9, "included personal script 'none' does not exist");
	EXPECT_ERROR("require \"include\";\ninclude :global \"one\";", 2, 17, "included global script");
	EXPECT_ERROR("require \"include\";\n\ninclude \"loop\";", 2, 9, "is recursive");
	EXPECT_ERROR("require \"include\";\ninclude \"bad\";", 3, 1, "found end of script");
	EXPECT_ERROR("require \"include\";\ninclude \"a/b\";", 2, 9, "invalid script name");
	EXPECT_ERROR("require \"include\";\nglobal \"x\";", 2, 1, "global needs \"variables\"");
	/* the bounds on includes: their number, and their size together */
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, "require \"include\";\n");
	for (int i = 0; i < SIEVE_MAX_INCLUDES + 1; i++)
		BUF_PUTS(&b, "include \"one\";\n");
	char *got = run(buf_str(&b));
	assert_string_equal(got, "compile: 257:9: more than 255 includes");
	free(got);
	buf_free(&b);
	char *big = malloc(SIEVE_MAX_SCRIPT_SIZE);
	memset(big, ' ', SIEVE_MAX_SCRIPT_SIZE - 1);
	big[SIEVE_MAX_SCRIPT_SIZE - 1] = '\0';
	const fixture_scripts bigs[] = {{"big", big}, {NULL, NULL}};
	loader_scripts = bigs;
	got = run("require \"include\";\ninclude \"big\"; include \"big\"; include \"big\";\n"
		  "include \"big\";");
	assert_string_equal(got, "compile: 3:9: the included scripts are larger than 4194304 bytes together");
	free(got);
	free(big);
	loader_scripts = scripts;
	/* the error names the included script */
	sieve_loader loader = {load, NULL};
	sieve_script *s;
	sieve_error err;
	const char *text = "require \"include\";\ninclude \"bad\";";
	assert_false(sieve_compile(text, strlen(text), &loader, &s, &err));
	assert_string_equal(err.script, "bad");
	sieve_error_free(&err);
	loader_scripts = NULL;
}

/* RFC 5228 section 9's example script, as printed there. */
static void test_rfc5228_example(void **state)
{
	const char *script =
		"require \"fileinto\";\n"
		"if header :is \"X-Caffeine\" \"\" { discard; stop; }\n"
		"if header :contains \"from\" \"coyote\" {\n"
		"    discard;\n"
		"} elsif header :contains [\"subject\"] [\"$$$\"] {\n"
		"    discard;\n"
		"} else {\n"
		"    fileinto \"INBOX\";\n"
		"}\n"
		"if size :over 100k {\n"
		"    discard;\n"
		"} elsif address :DOMAIN :is [\"From\", \"To\"] \"example.com\" {\n"
		"    keep;\n"
		"} elsif anyof (NOT address :all :contains [\"To\", \"Cc\", \"Bcc\"] \"me@example.com\",\n"
		"               header :matches \"subject\" [\"*make*money*fast*\", \"*university*dipl*mas*\"]) {\n"
		"    fileinto \"spam\";\n"
		"} else {\n"
		"    fileinto \"personal\";\n"
		"}\n";
	char *got = run_on(script, "From: coyote@desert.example.org\nTo: me@example.com\n\nx\n",
			   "c@d.e", "me@example.com");
	assert_string_equal(got, "discard; keep");  /* To's domain is example.com */
	free(got);
	got = run_on(script, "From: friend@example.com\nTo: me@example.com\nSubject: hi\n\nx\n",
		     "c@d.e", "me@example.com");
	assert_string_equal(got, "fileinto:INBOX");  /* then keep merges with it */
	free(got);
	got = run_on(script, "From: a@b.org\nTo: x@y.org\nSubject: Make money fast\n\nx\n",
		     "c@d.e", "me@example.com");
	assert_string_equal(got, "fileinto:INBOX; fileinto:spam");
	free(got);
	got = run_on(script, "X-Caffeine: \nFrom: a@b.org\n\nx\n", "c@d.e", "me@example.com");
	assert_string_equal(got, "discard");
	free(got);
}

/* RFC 5229 section 7's example (adapted: the list's name goes into the folder). */
static void test_rfc5229_example(void **state)
{
	const char *script =
		"require [\"fileinto\", \"variables\"];\n"
		"if header :matches \"List-ID\" \"*<*@*\" {\n"
		"    fileinto \"INBOX.lists.${2}\"; stop;\n"
		"}\n"
		"# Imagine the header\n"
		"# Subject: [acme-users] [fwd] version 1.0 is out\n"
		"if header :matches \"Subject\" \"[*] *\" {\n"
		"    # ${1} will hold \"acme-users\",\n"
		"    # ${2} will hold \"[fwd] version 1.0 is out\"\n"
		"    fileinto \"INBOX.lists.${1}\"; stop;\n"
		"}\n"
		"# Imagine the header\n"
		"# To: coyote@ACME.Example.COM\n"
		"if address :matches [\"To\", \"Cc\"] [\"coyote@**.com\",\n"
		"        \"wile@**.com\"] {\n"
		"    # ${0} is the matching address\n"
		"    # ${1} is always the empty string\n"
		"    # ${2} is part of the domain name (\"ACME.Example\")\n"
		"    fileinto \"INBOX.business.${2}\"; stop;\n"
		"} else {\n"
		"    # Control wouldn't reach this block if any match was\n"
		"    # successful, so no match variables are set at this\n"
		"    # point.\n"
		"}\n";
	char *got = run_on(script, "List-ID: Acme <acme-users@example.com>\n\nx\n", "a@b.c", "d@e.f");
	assert_string_equal(got, "fileinto:INBOX.lists.acme-users");
	free(got);
	got = run_on(script, "Subject: [acme-users] [fwd] version 1.0 is out\n\nx\n", "a@b.c", "d@e.f");
	assert_string_equal(got, "fileinto:INBOX.lists.acme-users");
	free(got);
	got = run_on(script, "To: coyote@ACME.Example.COM\n\nx\n", "a@b.c", "d@e.f");
	assert_string_equal(got, "fileinto:INBOX.business.ACME.Example");
	free(got);
}

/* RFC 5230 section 7's first example and RFC 5232's flagging pattern. */
static void test_rfc5230_5232_examples(void **state)
{
	const char *vac = "require \"vacation\";\n"
			  "if header :contains \"subject\" \"cyrus\" {\n"
			  "    vacation \"I'm out -- send mail to cyrus-bugs\";\n"
			  "} else {\n"
			  "    vacation \"I'm out -- call me at 555-1212\";\n"
			  "}\n";
	char *got = run_on(vac, "Subject: cyrus crashes\n\nx\n", "a@b.c", "me@d.e");
	assert_string_equal(got, "vacation:604800:I'm out -- send mail to cyrus-bugs"
			    "<default-subject><default-from><NO-MIME>; +keep");
	free(got);
	const char *flags = "require [\"imap4flags\", \"fileinto\"];\n"
			    "if header :contains \"from\" \"boss@frobnitzm.example.edu\" {\n"
			    "    setflag \"\\\\Flagged\";\n"
			    "    fileinto \"INBOX.From Boss\";\n"
			    "}\n"
			    "if size :over 1K { setflag \"\\\\Deleted\"; }\n";
	got = run_on(flags, "From: boss@frobnitzm.example.edu\n\nx\n", "a@b.c", "me@d.e");
	assert_string_equal(got, "fileinto:INBOX.From Boss[\\Flagged]");
	free(got);
}

static void test_capabilities(void **state)
{
	const char *caps = sieve_capabilities();
	assert_non_null(strstr(caps, "fileinto"));
	assert_non_null(strstr(caps, "ereject"));
	assert_non_null(strstr(caps, "comparator-i;ascii-numeric"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lexer_errors),
		cmocka_unit_test(test_crlf_script),
		cmocka_unit_test(test_parser_errors),
		cmocka_unit_test(test_nesting_bound),
		cmocka_unit_test(test_validation_errors),
		cmocka_unit_test(test_address_header_envelope),
		cmocka_unit_test(test_size_and_logic),
		cmocka_unit_test(test_comparators),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_work_bound),
		cmocka_unit_test(test_actions_and_duplicates),
		cmocka_unit_test(test_runtime_errors),
		cmocka_unit_test(test_reject_ereject),
		cmocka_unit_test(test_vacation),
		cmocka_unit_test(test_vacation_should_reply),
		cmocka_unit_test(test_imap4flags),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_body_and_rfc2047),
		cmocka_unit_test(test_subaddress),
		cmocka_unit_test(test_date_index),
		cmocka_unit_test(test_encoded_character),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_rfc5228_example),
		cmocka_unit_test(test_rfc5229_example),
		cmocka_unit_test(test_rfc5230_5232_examples),
		cmocka_unit_test(test_capabilities),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
