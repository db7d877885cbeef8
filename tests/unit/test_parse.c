/* test_parse.c — unit tests for smtp/parse.c: verb splitting, MAIL / RCPT
 * paths and ESMTP parameters (SIZE, BODY, SMTPUTF8, AUTH), BDAT arguments
 * and the UTF-8 check.  Table-driven: each row is an argument string and the
 * status (and, on success, the fields) it must produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "envelope/address.h"
#include "smtp/parse.h"

static const char *status_name(smtp_parse_status st)
{
	switch (st) {
	case SP_OK: return "SP_OK";
	case SP_SYNTAX: return "SP_SYNTAX";
	case SP_BAD_ADDRESS: return "SP_BAD_ADDRESS";
	case SP_UNKNOWN_PARAM: return "SP_UNKNOWN_PARAM";
	case SP_BAD_PARAM: return "SP_BAD_PARAM";
	case SP_NEEDS_UTF8: return "SP_NEEDS_UTF8";
	case SP_BAD_RET: return "SP_BAD_RET";
	case SP_BAD_ENVID: return "SP_BAD_ENVID";
	case SP_BAD_NOTIFY: return "SP_BAD_NOTIFY";
	case SP_BAD_ORCPT: return "SP_BAD_ORCPT";
	case SP_REPEATED_PARAM: return "SP_REPEATED_PARAM";
	}
	return "?";
}

/* ---- smtp_split_verb ---- */

static void test_split_verb(void **state)
{
	static const struct {
		const char *line;
		size_t cap;
		const char *verb;   /* NULL: the call must return NULL */
		const char *rest;
	} cases[] = {
		{"MAIL FROM:<a@b.example>", 16, "MAIL", "FROM:<a@b.example>"},
		{"mail from:<>", 16, "MAIL", "from:<>"},    /* only the verb is upper-cased */
		{"StartTLS", 16, "STARTTLS", ""},
		{"QUIT", 16, "QUIT", ""},
		{"NOOP ", 16, "NOOP", ""},
		{"EHLO  client.example", 16, "EHLO", " client.example"},
		{"X-FOO bar", 16, "X-FOO", "bar"},
		{"rcpt TO:<a@b>", 16, "RCPT", "TO:<a@b>"},
		{"", 16, NULL, NULL},
		{" QUIT", 16, NULL, NULL},
		{" ", 16, NULL, NULL},
		{"ABCD x", 5, "ABCD", "x"},                 /* exactly cap - 1 */
		{"ABCDE x", 5, NULL, NULL},                 /* one too many */
		{"ABCDE", 5, NULL, NULL},
		{"ABCD", 5, "ABCD", ""},
		{"A", 2, "A", ""},
		{"AB", 2, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char verb[32];
		memset(verb, 'Z', sizeof(verb));
		const char *rest = smtp_split_verb(cases[i].line, verb, cases[i].cap);
		if (cases[i].verb == NULL) {
			if (rest != NULL)
				fail_msg("case %zu \"%s\": want NULL, got verb \"%.*s\"", i, cases[i].line,
				         (int)cases[i].cap, verb);
			continue;
		}
		if (rest == NULL)
			fail_msg("case %zu \"%s\": want \"%s\", got NULL", i, cases[i].line, cases[i].verb);
		assert_string_equal(verb, cases[i].verb);
		assert_string_equal(rest, cases[i].rest);
		/* the rest points into the line */
		assert_true(rest >= cases[i].line && rest <= cases[i].line + strlen(cases[i].line));
		/* nothing written past the capacity */
		for (size_t k = cases[i].cap; k < sizeof(verb); k++)
			assert_int_equal(verb[k], 'Z');
	}
}

/* ---- MAIL / RCPT ---- */

typedef struct pcase {
	const char *args;
	bool utf8_session;     /* RCPT only */
	smtp_parse_status st;
	/* checked when st == SP_OK: */
	const char *addr;      /* NULL: not checked */
	bool non_ascii;
	bool has_size;
	uint64_t size;
	bool smtputf8;
	smtp_body body;
} pcase;

/* s with control and non-ASCII bytes as \xNN, into out. */
static const char *esc(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* Run one row; print what differs and return false on a mismatch. */
static bool check_case(const pcase *c, size_t i, bool is_mail)
{
	smtp_path p;
	memset(&p, 0xa5, sizeof(p));
	smtp_parse_status st = is_mail ? smtp_parse_mail(c->args, &p)
	                               : smtp_parse_rcpt(c->args, c->utf8_session, &p);
	char msg[1024] = "", shown[512];
	const char *args = esc(c->args, shown, sizeof(shown));
	if (st != c->st) {
		snprintf(msg, sizeof(msg), "%s case %zu \"%s\"%s: want %s, got %s", is_mail ? "MAIL" : "RCPT",
		         i, args, c->utf8_session ? " (utf8 session)" : "", status_name(c->st),
		         status_name(st));
	} else if (st == SP_OK) {
		if (p.address == NULL)
			snprintf(msg, sizeof(msg), "case %zu \"%s\": address NULL", i, args);
		else if (c->addr != NULL && strcmp(p.address, c->addr) != 0)
			snprintf(msg, sizeof(msg), "case %zu \"%s\": address \"%s\", want \"%s\"", i, args,
			         p.address, c->addr);
		else if (p.non_ascii != c->non_ascii || p.has_size != c->has_size ||
		         (c->has_size && p.size != c->size) || p.smtputf8 != c->smtputf8 ||
		         p.body != c->body)
			snprintf(msg, sizeof(msg),
			         "case %zu \"%s\": got non_ascii %d has_size %d size %llu smtputf8 %d body %d, "
			         "want %d %d %llu %d %d", i, args, p.non_ascii, p.has_size,
			         (unsigned long long)p.size, p.smtputf8, (int)p.body, c->non_ascii,
			         c->has_size, (unsigned long long)c->size, c->smtputf8, (int)c->body);
	}
	smtp_path_free(&p);
	assert_null(p.address);
	if (msg[0] != '\0')
		print_error("%s\n", msg);
	return msg[0] == '\0';
}

/* Rows with every flag at its default. */
#define OK(args, addr) {args, false, SP_OK, addr, false, false, 0, false, BODY_UNSPECIFIED}
#define ERR(args, st) {args, false, st, NULL, false, false, 0, false, BODY_UNSPECIFIED}

#define L64 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789ab"
#define L63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789a"

static const pcase mail_cases[] = {
	/* the basic forms */
	OK("FROM:<a@b.example>", "a@b.example"),
	OK("from:<a@b.example>", "a@b.example"),
	OK("From:<A.B@B.Example>", "A.B@B.Example"),
	OK("FROM:<>", ""),
	OK("FROM: <a@b.example>", "a@b.example"),   /* tolerated space */
	OK("FROM: <>", ""),
	OK("FROM:<a@b.example> ", "a@b.example"),
	OK("FROM:<a@localhost>", "a@localhost"),
	OK("FROM:<a+tag@b.example>", "a+tag@b.example"),
	OK("FROM:<!#$%&'*+-/=?^_`{|}~@b.example>", "!#$%&'*+-/=?^_`{|}~@b.example"),
	OK("FROM:<a.b.c@b.example>", "a.b.c@b.example"),
	OK("FROM:<a@b-c.example>", "a@b-c.example"),
	OK("FROM:<a@1.2.example>", "a@1.2.example"),
	/* syntax */
	ERR("", SP_SYNTAX),
	ERR("FROM:", SP_SYNTAX),
	ERR("FROM", SP_SYNTAX),
	ERR("FROM <a@b.example>", SP_SYNTAX),
	ERR("FROM:a@b.example", SP_SYNTAX),
	ERR("FROM:  <a@b.example>", SP_SYNTAX),             /* only one space tolerated */
	ERR("FROM:<a@b.example", SP_SYNTAX),
	ERR("FROM:<", SP_SYNTAX),
	ERR("FROM:<a@b.example>x", SP_SYNTAX),
	ERR("FROM:<a@b.example>SIZE=10", SP_SYNTAX),
	ERR("FROM:<a@b.example> =10", SP_SYNTAX),
	ERR("TO:<a@b.example>", SP_SYNTAX),
	ERR("FROM:<\"abc@b.example>", SP_SYNTAX),            /* unterminated quote */
	/* SIZE (RFC 1870) */
	{"FROM:<a@b.example> SIZE=1000", false, SP_OK, "a@b.example", false, true, 1000, false, BODY_UNSPECIFIED},
	{"FROM:<a@b.example> size=0", false, SP_OK, "a@b.example", false, true, 0, false, BODY_UNSPECIFIED},
	{"FROM:<> SIZE=123", false, SP_OK, "", false, true, 123, false, BODY_UNSPECIFIED},
	{"FROM:<a@b.example> SIZE=9999999999999999999", false, SP_OK, "a@b.example", false, true,
	 9999999999999999999ull, false, BODY_UNSPECIFIED},
	{"FROM:<a@b.example> SIZE=007", false, SP_OK, "a@b.example", false, true, 7, false, BODY_UNSPECIFIED},
	ERR("FROM:<a@b.example> SIZE=", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> SIZE", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> SIZE=abc", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> SIZE=-1", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> SIZE=+1", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> SIZE=1k", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> SIZE=99999999999999999999999", SP_BAD_PARAM),
	/* BODY (RFC 6152) */
	{"FROM:<a@b.example> BODY=7BIT", false, SP_OK, "a@b.example", false, false, 0, false, BODY_7BIT},
	{"FROM:<a@b.example> BODY=8BITMIME", false, SP_OK, "a@b.example", false, false, 0, false, BODY_8BITMIME},
	{"FROM:<a@b.example> body=8bitmime", false, SP_OK, "a@b.example", false, false, 0, false, BODY_8BITMIME},
	ERR("FROM:<a@b.example> BODY=BINARYMIME", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> BODY=8BIT", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> BODY=7BITX", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> BODY=", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> BODY", SP_BAD_PARAM),
	/* SMTPUTF8 (RFC 6531) */
	{"FROM:<a@b.example> SMTPUTF8", false, SP_OK, "a@b.example", false, false, 0, true, BODY_UNSPECIFIED},
	{"FROM:<a@b.example> smtputf8", false, SP_OK, "a@b.example", false, false, 0, true, BODY_UNSPECIFIED},
	ERR("FROM:<a@b.example> SMTPUTF8=yes", SP_BAD_PARAM),
	ERR("FROM:<a@b.example> SMTPUTF8=", SP_BAD_PARAM),
	/* AUTH= (RFC 4954 5) */
	OK("FROM:<a@b.example> AUTH=<>", "a@b.example"),
	OK("FROM:<a@b.example> AUTH=a@b.example", "a@b.example"),
	ERR("FROM:<a@b.example> AUTH", SP_BAD_PARAM),
	/* several parameters, extra spaces between them */
	{"FROM:<a@b.example> SIZE=10 BODY=8BITMIME SMTPUTF8", false, SP_OK, "a@b.example", false, true, 10,
	 true, BODY_8BITMIME},
	{"FROM:<a@b.example> SIZE=10  BODY=7BIT ", false, SP_OK, "a@b.example", false, true, 10, false, BODY_7BIT},
	/* unknown parameters */
	ERR("FROM:<a@b.example> FOO=bar", SP_UNKNOWN_PARAM),
	ERR("FROM:<a@b.example> FOO", SP_UNKNOWN_PARAM),
	ERR("FROM:<a@b.example> NOTIFY=NEVER", SP_UNKNOWN_PARAM),   /* RCPT's, not MAIL's */
	ERR("FROM:<a@b.example> ORCPT=rfc822;a@b.example", SP_UNKNOWN_PARAM),
	ERR("FROM:<a@b.example> SIZES=10", SP_UNKNOWN_PARAM),
	ERR("FROM:<a@b.example> SIZE=10 FOO=bar", SP_UNKNOWN_PARAM),
	/* quoted local parts */
	OK("FROM:<\"john doe\"@b.example>", "\"john doe\"@b.example"),
	OK("FROM:<\"a@b\"@c.example>", "\"a@b\"@c.example"),
	OK("FROM:<\"a>b\"@c.example>", "\"a>b\"@c.example"),
	OK("FROM:<\"a\\\"b\"@c.example>", "\"a\\\"b\"@c.example"),
	OK("FROM:<\"a\\\\b\"@c.example>", "\"a\\\\b\"@c.example"),
	OK("FROM:<\"a..b\"@c.example>", "\"a..b\"@c.example"),
	OK("FROM:<\"\"@c.example>", "\"\"@c.example"),
	ERR("FROM:<\"a\x01\"@c.example>", SP_BAD_ADDRESS),
	ERR("FROM:<\"a\tb\"@c.example>", SP_BAD_ADDRESS),
	ERR("FROM:<\"a\x7f\"@c.example>", SP_BAD_ADDRESS),
	ERR("FROM:<\"a\"b@c.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a\"b\"@c.example>", SP_BAD_ADDRESS),
	/* source routes (RFC 5321 C / 4.1.2): the route is dropped */
	OK("FROM:<@relay.example:a@b.example>", "a@b.example"),
	OK("FROM:<@r1.example,@r2.example:a@b.example>", "a@b.example"),
	ERR("FROM:<@relay.example>", SP_BAD_ADDRESS),
	ERR("FROM:<@relay.example:>", SP_BAD_ADDRESS),       /* a route needs a mailbox */
	ERR("FROM:<@:a@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<@relay\x01.example:a@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<@relay.example,a@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<@b.example>", SP_BAD_ADDRESS),
	/* address literals */
	OK("FROM:<a@[192.0.2.1]>", "a@[192.0.2.1]"),
	OK("FROM:<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]"),
	ERR("FROM:<a@[]>", SP_BAD_ADDRESS),
	ERR("FROM:<a@[192.0.2.1>", SP_BAD_ADDRESS),
	ERR("FROM:<a@[192.0.2 .1]>", SP_BAD_ADDRESS),
	ERR("FROM:<a@[192.0.2.1]x>", SP_BAD_ADDRESS),
	ERR("FROM:<a@[1[2]>", SP_BAD_ADDRESS),
	/* malformed mailboxes */
	ERR("FROM:<a>", SP_BAD_ADDRESS),
	ERR("FROM:<a@>", SP_BAD_ADDRESS),
	ERR("FROM:<@>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b@c.example>", SP_BAD_ADDRESS),
	ERR("FROM:<.a@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a.@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a..b@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a b@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a(b)@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a,b@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@-b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b-.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b..example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@.b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b.example.>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b_c.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b.example:25>", SP_BAD_ADDRESS),
	/* control characters anywhere in the path */
	ERR("FROM:<a\x01@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a\tb@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a\r@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a\n@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a\x7f@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b\x01.example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@b.example\x1b>", SP_BAD_ADDRESS),
	/* lengths: local part 64, label 63, path 254 */
	{"FROM:<" L64 "@b.example>", false, SP_OK, L64 "@b.example", false, false, 0, false, BODY_UNSPECIFIED},
	ERR("FROM:<" L64 "x@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<\"" L63 "x\"@b.example>", SP_BAD_ADDRESS),   /* 66 with quotes */
	OK("FROM:<a@" L63 ".example>", "a@" L63 ".example"),
	ERR("FROM:<a@" L64 ".example>", SP_BAD_ADDRESS),
	ERR("FROM:<a@" L63 "." L63 "." L63 "." L63 "x>", SP_BAD_ADDRESS),
	/* UTF-8 addresses (RFC 6531) */
	ERR("FROM:<\xc3\xbc@b.example>", SP_NEEDS_UTF8),
	{"FROM:<\xc3\xbc@b.example> SMTPUTF8", false, SP_OK, "\xc3\xbc@b.example", true, false, 0, true,
	 BODY_UNSPECIFIED},
	ERR("FROM:<a@b\xc3\xbc.example>", SP_NEEDS_UTF8),
	{"FROM:<a@b\xc3\xbc.example> SMTPUTF8", false, SP_OK, "a@b\xc3\xbc.example", true, false, 0, true,
	 BODY_UNSPECIFIED},
	{"FROM:<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8> SMTPUTF8", false, SP_OK,
	 "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8", true, false, 0, true,
	 BODY_UNSPECIFIED},
	ERR("FROM:<\"j\xc3\xb6 d\"@b.example>", SP_NEEDS_UTF8),
	{"FROM:<\"j\xc3\xb6 d\"@b.example> SMTPUTF8", false, SP_OK, "\"j\xc3\xb6 d\"@b.example", true, false,
	 0, true, BODY_UNSPECIFIED},
	{"FROM:<a@b.example> SMTPUTF8", false, SP_OK, "a@b.example", false, false, 0, true, BODY_UNSPECIFIED},
	/* invalid UTF-8 is a bad address with or without SMTPUTF8 */
	ERR("FROM:<\xff@b.example>", SP_BAD_ADDRESS),
	ERR("FROM:<\xff@b.example> SMTPUTF8", SP_BAD_ADDRESS),
	ERR("FROM:<\xc3@b.example> SMTPUTF8", SP_BAD_ADDRESS),
	ERR("FROM:<\xc0\xaf@b.example> SMTPUTF8", SP_BAD_ADDRESS),   /* overlong "/" */
	ERR("FROM:<\xed\xa0\x80@b.example> SMTPUTF8", SP_BAD_ADDRESS), /* surrogate */
	ERR("FROM:<a@b\x80.example> SMTPUTF8", SP_BAD_ADDRESS),
	ERR("FROM:<a@b\xc3.example>", SP_BAD_ADDRESS),
	ERR("FROM:<\"\xff\"@b.example> SMTPUTF8", SP_BAD_ADDRESS),
};

static void test_mail_table(void **state)
{
	size_t bad = 0;
	for (size_t i = 0; i < sizeof(mail_cases) / sizeof(mail_cases[0]); i++)
		bad += !check_case(&mail_cases[i], i, true);
	assert_int_equal(bad, 0);
}

static const pcase rcpt_cases[] = {
	OK("TO:<a@b.example>", "a@b.example"),
	OK("to:<a@b.example>", "a@b.example"),
	OK("TO: <a@b.example>", "a@b.example"),
	OK("TO:<a@b.example> ", "a@b.example"),
	OK("TO:<@relay.example:a@b.example>", "a@b.example"),
	OK("TO:<\"a b\"@b.example>", "\"a b\"@b.example"),
	OK("TO:<a@[192.0.2.1]>", "a@[192.0.2.1]"),
	/* RFC 5321 4.1.1.3 / 4.5.1: "<Postmaster>" without a domain MUST work */
	OK("TO:<Postmaster>", NULL),
	OK("TO:<postmaster>", NULL),
	/* no null path for RCPT */
	ERR("TO:<>", SP_BAD_ADDRESS),
	ERR("TO:<@relay.example:>", SP_BAD_ADDRESS),
	ERR("TO:<a>", SP_BAD_ADDRESS),
	ERR("TO:<a@>", SP_BAD_ADDRESS),
	ERR("TO:<a\x01@b.example>", SP_BAD_ADDRESS),
	ERR("TO:<" L64 "x@b.example>", SP_BAD_ADDRESS),
	/* syntax */
	ERR("", SP_SYNTAX),
	ERR("TO:", SP_SYNTAX),
	ERR("TO:a@b.example", SP_SYNTAX),
	ERR("TO:  <a@b.example>", SP_SYNTAX),
	ERR("FROM:<a@b.example>", SP_SYNTAX),
	ERR("TO:<a@b.example", SP_SYNTAX),
	ERR("TO:<a@b.example>x", SP_SYNTAX),
	/* MAIL parameters are not RCPT parameters; no DSN support */
	ERR("TO:<a@b.example> SIZE=10", SP_UNKNOWN_PARAM),
	ERR("TO:<a@b.example> BODY=8BITMIME", SP_UNKNOWN_PARAM),
	ERR("TO:<a@b.example> SMTPUTF8", SP_UNKNOWN_PARAM),
	ERR("TO:<a@b.example> AUTH=<>", SP_UNKNOWN_PARAM),
	ERR("TO:<a@b.example> RET=HDRS", SP_UNKNOWN_PARAM),          /* MAIL's, not RCPT's */
	ERR("TO:<a@b.example> ENVID=x", SP_UNKNOWN_PARAM),
	/* UTF-8 depends on the transaction */
	ERR("TO:<\xc3\xbc@b.example>", SP_NEEDS_UTF8),
	{"TO:<\xc3\xbc@b.example>", true, SP_OK, "\xc3\xbc@b.example", true, false, 0, false, BODY_UNSPECIFIED},
	ERR("TO:<a@\xc3\xbc.example>", SP_NEEDS_UTF8),
	{"TO:<a@\xc3\xbc.example>", true, SP_OK, "a@\xc3\xbc.example", true, false, 0, false, BODY_UNSPECIFIED},
	{"TO:<a@b.example>", true, SP_OK, "a@b.example", false, false, 0, false, BODY_UNSPECIFIED},
	ERR("TO:<\xff@b.example>", SP_BAD_ADDRESS),
	{"TO:<\xff@b.example>", true, SP_BAD_ADDRESS, NULL, false, false, 0, false, BODY_UNSPECIFIED},
	{"TO:<\xe0\x80\x80@b.example>", true, SP_BAD_ADDRESS, NULL, false, false, 0, false, BODY_UNSPECIFIED},
	{"TO:<\xf4\x90\x80\x80@b.example>", true, SP_BAD_ADDRESS, NULL, false, false, 0, false, BODY_UNSPECIFIED},
};

static void test_rcpt_table(void **state)
{
	size_t bad = 0;
	for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++)
		bad += !check_case(&rcpt_cases[i], i, false);
	assert_int_equal(bad, 0);
}

/* A path of exactly the longest allowed length and one byte more. */
/* ---- DSN parameters (RFC 3461) ---- */

typedef struct dcase {
	const char *args;
	bool is_mail;
	bool utf8_session;
	smtp_parse_status st;
	/* checked when st == SP_OK: */
	dsn_ret ret;
	const char *envid;    /* NULL: none */
	unsigned notify;
	const char *orcpt;    /* NULL: none */
} dcase;

#define N_S DSN_NOTIFY_SUCCESS
#define N_F DSN_NOTIFY_FAILURE
#define N_D DSN_NOTIFY_DELAY

static const dcase dsn_cases[] = {
	{"FROM:<a@b.example> RET=FULL", true, false, SP_OK, DSN_RET_FULL, NULL, 0, NULL},
	{"FROM:<a@b.example> ret=hdrs", true, false, SP_OK, DSN_RET_HDRS, NULL, 0, NULL},
	{"FROM:<a@b.example> ENVID=QQ314159", true, false, SP_OK, DSN_RET_UNSET, "QQ314159", 0, NULL},
	{"FROM:<a@b.example> RET=HDRS ENVID=a+2Bb SIZE=10", true, false, SP_OK, DSN_RET_HDRS, "a+b", 0, NULL},
	{"FROM:<> ENVID=x RET=FULL", true, false, SP_OK, DSN_RET_FULL, "x", 0, NULL},
	{"FROM:<a@b.example> RET=", true, false, SP_BAD_RET, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> RET", true, false, SP_BAD_RET, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> RET=BODY", true, false, SP_BAD_RET, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> RET=FULL RET=FULL", true, false, SP_REPEATED_PARAM, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> RET=FULL ret=HDRS", true, false, SP_REPEATED_PARAM, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> ENVID=", true, false, SP_BAD_ENVID, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> ENVID", true, false, SP_BAD_ENVID, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> ENVID=a=b", true, false, SP_BAD_ENVID, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> ENVID=a+0Db", true, false, SP_BAD_ENVID, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> ENVID=\xc3\xa9", true, true, SP_BAD_ENVID, 0, NULL, 0, NULL},
	{"FROM:<a@b.example> ENVID=" L64 "0123456789012345678901234567890123456", true, false,
	 SP_BAD_ENVID, 0, NULL, 0, NULL},                      /* 101 characters */
	{"FROM:<a@b.example> ENVID=" L64 "012345678901234567890123456789012345", true, false,
	 SP_OK, DSN_RET_UNSET, L64 "012345678901234567890123456789012345", 0, NULL}, /* 100 */
	{"FROM:<a@b.example> ENVID=a ENVID=a", true, false, SP_REPEATED_PARAM, 0, NULL, 0, NULL},
	/* RCPT */
	{"TO:<a@b.example> NOTIFY=NEVER", false, false, SP_OK, 0, NULL, DSN_NOTIFY_NEVER, NULL},
	{"TO:<a@b.example> NOTIFY=SUCCESS,FAILURE", false, false, SP_OK, 0, NULL, N_S | N_F, NULL},
	{"TO:<a@b.example> notify=delay", false, false, SP_OK, 0, NULL, N_D, NULL},
	{"TO:<a@b.example> NOTIFY=NEVER,DELAY", false, false, SP_BAD_NOTIFY, 0, NULL, 0, NULL},
	{"TO:<a@b.example> NOTIFY=", false, false, SP_BAD_NOTIFY, 0, NULL, 0, NULL},
	{"TO:<a@b.example> NOTIFY", false, false, SP_BAD_NOTIFY, 0, NULL, 0, NULL},
	{"TO:<a@b.example> NOTIFY=SOMETIMES", false, false, SP_BAD_NOTIFY, 0, NULL, 0, NULL},
	{"TO:<a@b.example> NOTIFY=DELAY NOTIFY=DELAY", false, false, SP_REPEATED_PARAM, 0, NULL, 0, NULL},
	{"TO:<a@b.example> ORCPT=rfc822;a@b.example", false, false, SP_OK, 0, NULL, 0, "rfc822;a@b.example"},
	{"TO:<a@b.example> NOTIFY=SUCCESS ORCPT=rfc822;x+2By@b.example", false, false, SP_OK, 0, NULL, N_S,
	 "rfc822;x+y@b.example"},
	{"TO:<a@b.example> ORCPT=utf-8;\\x{E9}@b.example", false, false, SP_OK, 0, NULL, 0,
	 "utf-8;\xc3\xa9@b.example"},
	{"TO:<a@b.example> ORCPT=utf-8;\xc3\xa9@b.example", false, true, SP_OK, 0, NULL, 0,
	 "utf-8;\xc3\xa9@b.example"},                          /* unitext with SMTPUTF8 */
	{"TO:<a@b.example> ORCPT=utf-8;\xc3\xa9@b.example", false, false, SP_BAD_ORCPT, 0, NULL, 0, NULL},
	{"TO:<a@b.example> ORCPT=a@b.example", false, false, SP_BAD_ORCPT, 0, NULL, 0, NULL},
	{"TO:<a@b.example> ORCPT=x400;a", false, false, SP_BAD_ORCPT, 0, NULL, 0, NULL},
	{"TO:<a@b.example> ORCPT=rfc822;", false, false, SP_BAD_ORCPT, 0, NULL, 0, NULL},
	{"TO:<a@b.example> ORCPT", false, false, SP_BAD_ORCPT, 0, NULL, 0, NULL},
	{"TO:<a@b.example> ORCPT=rfc822;a ORCPT=rfc822;a", false, false, SP_REPEATED_PARAM, 0, NULL, 0, NULL},
	/* good DSN parameters do not save a bad address */
	{"TO:<bad address> NOTIFY=NEVER", false, false, SP_BAD_ADDRESS, 0, NULL, 0, NULL},
};

static void test_dsn_table(void **state)
{
	size_t bad = 0;
	for (size_t i = 0; i < sizeof(dsn_cases) / sizeof(dsn_cases[0]); i++) {
		const dcase *c = &dsn_cases[i];
		smtp_path p;
		memset(&p, 0xa5, sizeof(p));
		smtp_parse_status st = c->is_mail ? smtp_parse_mail(c->args, &p)
		                                  : smtp_parse_rcpt(c->args, c->utf8_session, &p);
		char shown[512];
		const char *args = esc(c->args, shown, sizeof(shown));
		if (st != c->st) {
			print_error("DSN case %zu \"%s\": want %s, got %s\n", i, args, status_name(c->st),
			            status_name(st));
			bad++;
		} else if (st == SP_OK &&
		           (p.ret != c->ret || p.notify != c->notify ||
		            (c->envid == NULL) != (p.envid == NULL) ||
		            (c->envid != NULL && strcmp(c->envid, p.envid) != 0) ||
		            (c->orcpt == NULL) != (p.orcpt == NULL) ||
		            (c->orcpt != NULL && strcmp(c->orcpt, p.orcpt) != 0))) {
			print_error("DSN case %zu \"%s\": got ret %d envid %s notify %u orcpt %s\n", i, args,
			            (int)p.ret, p.envid ? p.envid : "-", p.notify, p.orcpt ? p.orcpt : "-");
			bad++;
		}
		smtp_path_free(&p);
		assert_null(p.envid);
		assert_null(p.orcpt);
	}
	assert_int_equal(bad, 0);
}

static void test_path_length(void **state)
{
	char args[400];
	/* local 64 + "@" + domain; domain of labels of up to 63 */
	char dom[300];
	size_t dl = 0;
	while (dl < 189) {          /* 64 + 1 + 189 = 254 */
		size_t take = 189 - dl > 61 ? 60 : 189 - dl;
		memset(dom + dl, 'd', take);
		dl += take;
		if (dl < 189)
			dom[dl++] = '.';
	}
	dom[dl] = '\0';
	assert_int_equal(strlen(dom), 189);
	assert_true(dom[188] != '.');
	snprintf(args, sizeof(args), "FROM:<%s@%s>", L64, dom);
	smtp_path p;
	assert_int_equal(smtp_parse_mail(args, &p), SP_OK);
	assert_int_equal(strlen(p.address), 254);
	smtp_path_free(&p);
	/* one more byte in the domain */
	snprintf(args, sizeof(args), "FROM:<%s@e%s>", L64, dom);
	assert_int_equal(smtp_parse_mail(args, &p), SP_BAD_ADDRESS);
	smtp_path_free(&p);
}

/* Free is safe after every outcome, and twice. */
static void test_path_free_twice(void **state)
{
	smtp_path p;
	assert_int_equal(smtp_parse_mail("FROM:<a@b.example>", &p), SP_OK);
	smtp_path_free(&p);
	smtp_path_free(&p);
	assert_int_equal(smtp_parse_mail("garbage", &p), SP_SYNTAX);
	smtp_path_free(&p);
	assert_int_equal(smtp_parse_rcpt("TO:<a@b.example> X=1", false, &p), SP_UNKNOWN_PARAM);
	smtp_path_free(&p);
}

/* ---- envelope_valid_mailbox ---- */

static void test_valid_mailbox(void **state)
{
	static const struct {
		const char *mbox;
		bool utf8;
		bool ok;
		bool non_ascii;
	} cases[] = {
		{"a@b.example", false, true, false},
		{"\xc3\xbc@b.example", true, true, true},
		{"\xc3\xbc@b.example", false, false, true},
		{"a@b.example", true, true, false},
		{"ab.example", false, false, false},
		{"\"a@b\"@c.example", false, true, false},
		{"a@[192.0.2.1]", false, true, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool na = !cases[i].non_ascii;
		bool ok = envelope_valid_mailbox(cases[i].mbox, cases[i].utf8, &na);
		if (ok != cases[i].ok || na != cases[i].non_ascii)
			fail_msg("case %zu \"%s\" utf8 %d: got ok %d non_ascii %d", i, cases[i].mbox,
			         cases[i].utf8, ok, na);
	}
}

/* ---- BDAT ---- */

static void test_bdat(void **state)
{
	static const struct {
		const char *args;
		bool ok;
		uint64_t size;
		bool last;
	} cases[] = {
		{"0", true, 0, false},
		{"100", true, 100, false},
		{"100 LAST", true, 100, true},
		{"100 last", true, 100, true},
		{"0 LAST", true, 0, true},
		{"007", true, 7, false},
		{"9999999999999999999", true, 9999999999999999999ull, false},
		{"", false, 0, false},
		{" ", false, 0, false},
		{"LAST", false, 0, false},
		{" 100", false, 0, false},
		{"100 ", false, 0, false},
		{"100  LAST", false, 0, false},
		{"100 LAST ", false, 0, false},
		{"100 LAST x", false, 0, false},
		{"100 FIRST", false, 0, false},
		{"100 LASTX", false, 0, false},
		{"100\tLAST", false, 0, false},
		{"-1", false, 0, false},
		{"+1", false, 0, false},
		{"1e3", false, 0, false},
		{"0x10", false, 0, false},
		{"10a", false, 0, false},
		{"99999999999999999999999", false, 0, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t size = 12345;
		bool last = true;
		bool ok = smtp_parse_bdat(cases[i].args, &size, &last);
		if (ok != cases[i].ok)
			fail_msg("case %zu \"%s\": want %d, got %d", i, cases[i].args, cases[i].ok, ok);
		if (ok && (size != cases[i].size || last != cases[i].last))
			fail_msg("case %zu \"%s\": got size %llu last %d", i, cases[i].args,
			         (unsigned long long)size, last);
	}
}

/* ---- envelope_valid_utf8 ---- */

#define U(lit) lit, sizeof(lit) - 1

static void test_valid_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		bool ok;
	} cases[] = {
		{U(""), true},
		{U("abc"), true},
		{U(" ~"), true},
		{U("\xc3\xbc"), true},                      /* U+00FC */
		{U("\xc2\xa0"), true},                      /* U+00A0 */
		{U("\xe2\x82\xac"), true},                  /* U+20AC */
		{U("\xef\xbf\xbd"), true},                  /* U+FFFD */
		{U("\xf0\x9f\x98\x80"), true},              /* U+1F600 */
		{U("\xf4\x8f\xbf\xbf"), true},              /* U+10FFFF */
		{U("a\xc3\xbc" "b\xe2\x82\xac" "c"), true},
		/* control characters are not printable */
		{U("a\tb"), false},
		{U("a\rb"), false},
		{U("a\nb"), false},
		{U("\x01"), false},
		{U("\x1f"), false},
		{U("\x7f"), false},
		{U("a\0b"), false},
		/* malformed */
		{U("\x80"), false},                         /* lone continuation */
		{U("\xbf"), false},
		{U("\xc3"), false},                         /* truncated */
		{U("\xe2\x82"), false},
		{U("\xf0\x9f\x98"), false},
		{U("\xc3\x28"), false},                     /* bad continuation */
		{U("\xe2\x28\xa1"), false},
		{U("\xe2\x82\x28"), false},
		{U("\xf0\x28\x8c\xbc"), false},
		{U("\xc0\x80"), false},                     /* overlong NUL */
		{U("\xc0\xaf"), false},                     /* overlong "/" */
		{U("\xc1\xbf"), false},
		{U("\xe0\x80\x80"), false},
		{U("\xe0\x9f\xbf"), false},
		{U("\xf0\x80\x80\x80"), false},
		{U("\xf0\x8f\xbf\xbf"), false},
		{U("\xed\xa0\x80"), false},                 /* surrogates */
		{U("\xed\xbf\xbf"), false},
		{U("\xf4\x90\x80\x80"), false},             /* above U+10FFFF */
		{U("\xf5\x80\x80\x80"), false},
		{U("\xf8\x88\x80\x80\x80"), false},         /* 5-byte form */
		{U("\xfc\x84\x80\x80\x80\x80"), false},
		{U("\xfe"), false},
		{U("\xff"), false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (envelope_valid_utf8(cases[i].s, cases[i].n) != cases[i].ok)
			fail_msg("case %zu (%zu bytes): want %d", i, cases[i].n, cases[i].ok);
	/* the length is respected: a sequence cut by n is invalid, bytes past n
	 * are not read */
	assert_false(envelope_valid_utf8("\xc3\xbc", 1));
	assert_true(envelope_valid_utf8("ab\xff", 2));
	assert_false(envelope_valid_utf8("\xe2\x82\xac", 2));
}

/* REQUIRETLS (RFC 8689 2): a MAIL parameter without a value, once. */
static void test_requiretls_param(void **state)
{
	static const struct {
		const char *args;
		smtp_parse_status st;
		bool requiretls;
	} cases[] = {
		{"FROM:<a@b.example> REQUIRETLS", SP_OK, true},
		{"FROM:<a@b.example> requiretls", SP_OK, true},
		{"FROM:<> REQUIRETLS", SP_OK, true},
		{"FROM:<a@b.example> SIZE=10 REQUIRETLS BODY=8BITMIME", SP_OK, true},
		{"FROM:<a@b.example>", SP_OK, false},
		{"FROM:<a@b.example> REQUIRETLS=yes", SP_BAD_PARAM, false},
		{"FROM:<a@b.example> REQUIRETLS=", SP_BAD_PARAM, false},
		{"FROM:<a@b.example> REQUIRETLS REQUIRETLS", SP_REPEATED_PARAM, false},
		{"FROM:<a@b.example> REQUIRETL", SP_UNKNOWN_PARAM, false},
		{"FROM:<a@b.example> REQUIRETLSX", SP_UNKNOWN_PARAM, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtp_path p;
		smtp_parse_status st = smtp_parse_mail(cases[i].args, &p);
		if (st != cases[i].st || (st == SP_OK && p.requiretls != cases[i].requiretls))
			fail_msg("%s: status %d requiretls %d", cases[i].args, st, p.requiretls);
		smtp_path_free(&p);
	}
	/* a RCPT parameter it is not */
	smtp_path p;
	assert_int_equal(smtp_parse_rcpt("TO:<a@b.example> REQUIRETLS", false, &p), SP_UNKNOWN_PARAM);
	smtp_path_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_verb),
		cmocka_unit_test(test_mail_table),
		cmocka_unit_test(test_requiretls_param),
		cmocka_unit_test(test_rcpt_table),
		cmocka_unit_test(test_dsn_table),
		cmocka_unit_test(test_path_length),
		cmocka_unit_test(test_path_free_twice),
		cmocka_unit_test(test_valid_mailbox),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_valid_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
