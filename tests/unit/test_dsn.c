/* test_dsn.c — unit tests for delivery/dsn.c: the bounce and delay report.
 * Each case builds a report, splits it on its MIME boundary the way a mail
 * reader would, and checks the top header, the three parts' content types
 * and the RFC 3464 fields.  Values from remote servers are checked to be
 * unable to start lines of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "delivery/dsn.h"
#include "lib/strutil.h"

#define ORIGINAL "From: alice@example.org\nTo: bob@example.net\nSubject: hi\n\nHello Bob.\nBye.\n"
#define ORIGINAL_HEADERS "From: alice@example.org\nTo: bob@example.net\nSubject: hi\n"
#define T_ARRIVAL ((time_t)1700000000) /* Tue, 14 Nov 2023 22:13:20 +0000 */
#define T_NOW ((time_t)1700003600)
#define T_UNTIL ((time_t)1700432000) /* Sun, 19 Nov 2023 22:13:20 +0000 */

/* A report split into its pieces: the top header block, and for each body
 * part its header block and its content (all owned copies). */
typedef struct report {
	char *text;
	char *head;
	char *boundary;
	size_t n_parts;
	char *part_head[8];
	char *part_body[8];
} report;

static dsn_info default_info(void)
{
	return (dsn_info){.reporting_mta = "mx.example.org", .qid = "ABC123DEF456", .envid = NULL,
	                  .sender = "alice@example.org", .arrival = T_ARRIVAL, .now = T_NOW,
	                  .headers_only = true};
}

static dsn_rcpt failed_rcpt(void)
{
	return (dsn_rcpt){.address = "bob@example.net", .status = "5.1.1", .remote_mta = "mx.example.net",
	                  .diagnostic = "550 5.1.1 <bob@example.net>: No such user",
	                  .last_attempt = T_NOW};
}

static dsn_rcpt delayed_rcpt(void)
{
	return (dsn_rcpt){.address = "carol@example.com", .action = DSN_ACTION_DELAYED, .status = "4.4.1",
	                  .remote_mta = "mx.example.com", .diagnostic = "451 4.4.1 Try again later",
	                  .last_attempt = T_NOW, .will_retry_until = T_UNTIL};
}

/* The value of the first field called name in a header block, unfolded;
 * NULL when absent. */
static char *field(const char *block, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = block; *p;) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			buf v;
			buf_init(&v, 1 << 20);
			for (;;) {
				const char *e = strchr(p, '\n');
				size_t len = e ? (size_t)(e - p) : strlen(p);
				assert_true(buf_append(&v, p, len));
				if (e == NULL || (e[1] != ' ' && e[1] != '\t'))
					break;
				p = e + 1; /* unfold: drop the LF, keep the white space */
			}
			return buf_steal(&v);
		}
		const char *e = strchr(p, '\n');
		if (e == NULL)
			break;
		p = e + 1;
	}
	return NULL;
}

static void expect_field(const char *block, const char *name, const char *want)
{
	char *v = field(block, name);
	if (v == NULL)
		fail_msg("no %s field in:\n%s", name, block);
	assert_string_equal(v, want);
	free(v);
}

static void expect_no_field(const char *block, const char *name)
{
	char *v = field(block, name);
	if (v != NULL)
		fail_msg("unexpected %s: %s", name, v);
}

/* The number of fields called name in block. */
static size_t count_fields(const char *block, const char *name)
{
	size_t n = 0, len = strlen(name);
	for (const char *p = block; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, len) == 0 && p[len] == ':')
			n++;
	return n;
}

/* Split text into header and body at the first empty line. */
static void split_head(const char *text, size_t len, char **head_r, char **body_r)
{
	const char *sep = NULL;
	if (len > 0 && text[0] == '\n')
		sep = text;
	else
		for (size_t i = 0; i + 1 < len; i++)
			if (text[i] == '\n' && text[i + 1] == '\n') {
				sep = text + i;
				break;
			}
	assert_non_null(sep);
	size_t hl = (size_t)(sep - text) + (sep == text ? 0 : 1);
	const char *body = text + hl + 1; /* past the empty line */
	*head_r = xstrndup(text, hl);
	*body_r = xstrndup(body, len - (size_t)(body - text));
}

/* Parse a report: top header, boundary, parts between "\n--b\n" lines,
 * closed by "\n--b--\n" at the very end. */
static void parse(const char *text, report *r)
{
	memset(r, 0, sizeof *r);
	r->text = xstrdup(text);
	char *body;
	split_head(text, strlen(text), &r->head, &body);
	char *ct = field(r->head, "Content-Type");
	assert_non_null(ct);
	const char *b = strstr(ct, "boundary=\"");
	assert_non_null(b);
	b += strlen("boundary=\"");
	r->boundary = xstrndup(b, strcspn(b, "\""));
	assert_true(strlen(r->boundary) >= 1 && strlen(r->boundary) <= 70);
	free(ct);

	char *delim = xasprintf("--%s\n", r->boundary);
	char *close = xasprintf("\n--%s--\n", r->boundary);
	size_t dl = strlen(delim);
	/* the preamble ends with the first delimiter at the start of a line */
	char *p = strstr(body, delim);
	assert_non_null(p);
	assert_true(p == body || p[-1] == '\n');
	p += dl;
	char *end = strstr(body, close);
	assert_non_null(end);
	assert_string_equal(end, close); /* nothing after the close delimiter */
	for (;;) {
		char *next = strstr(p, delim);
		while (next != NULL && next[-1] != '\n')
			next = strstr(next + 1, delim);
		char *stop = next != NULL && next < end ? next - 1 : end; /* the LF belongs to the delimiter */
		assert_true(r->n_parts < 8);
		split_head(p, (size_t)(stop - p), &r->part_head[r->n_parts], &r->part_body[r->n_parts]);
		r->n_parts++;
		if (stop == end)
			break;
		p = next + dl;
	}
	free(delim);
	free(close);
	free(body);
}

static void report_free(report *r)
{
	free(r->text);
	free(r->head);
	free(r->boundary);
	for (size_t i = 0; i < r->n_parts; i++) {
		free(r->part_head[i]);
		free(r->part_body[i]);
	}
}

/* Build and parse; the report must succeed. */
static void build(const dsn_info *info, const dsn_rcpt *rc, size_t n, const char *orig, report *r)
{
	buf out;
	buf_init(&out, 1 << 20);
	assert_true(dsn_build(info, rc, n, orig, strlen(orig), &out));
	assert_int_equal(strlen(buf_str(&out)), out.len); /* no NUL in the report */
	parse(buf_str(&out), r);
	buf_free(&out);
}

/* The report's per-recipient groups (the status part after the
 * per-message block), as blank-line-separated blocks. */
static size_t status_groups(const report *r, char **groups, size_t max)
{
	const char *s = r->part_body[1];
	size_t n = 0;
	const char *p = strstr(s, "\n\n");
	assert_non_null(p); /* per-message block first */
	while (p != NULL && p[2] != '\0') {
		p += 2;
		const char *e = strstr(p, "\n\n");
		size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
		assert_true(n < max);
		groups[n++] = xstrndup(p, len);
		p = e;
	}
	return n;
}

static void free_groups(char **g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i]);
}

static void test_structure_failure(void **state)
{
	dsn_info info = default_info();
	dsn_rcpt rc = failed_rcpt();
	report r;
	build(&info, &rc, 1, ORIGINAL, &r);

	expect_field(r.head, "From", "Mail Delivery System <MAILER-DAEMON@mx.example.org>");
	expect_field(r.head, "To", "<alice@example.org>");
	expect_field(r.head, "Subject", "Undelivered Mail Returned to Sender");
	expect_field(r.head, "Date", "Tue, 14 Nov 2023 23:13:20 +0000");
	expect_field(r.head, "Message-ID", "<ABC123DEF456.1700003600.dsn@mx.example.org>");
	expect_field(r.head, "Auto-Submitted", "auto-replied");
	expect_field(r.head, "MIME-Version", "1.0");
	char *ct = field(r.head, "Content-Type");
	assert_non_null(strstr(ct, "multipart/report; report-type=delivery-status;"));
	free(ct);

	assert_int_equal(r.n_parts, 3);
	expect_field(r.part_head[0], "Content-Type", "text/plain; charset=utf-8");
	expect_field(r.part_head[1], "Content-Type", "message/delivery-status");
	expect_field(r.part_head[2], "Content-Type", "text/rfc822-headers");

	/* the readable part names the message, the recipient, the server and its reply */
	const char *t = r.part_body[0];
	assert_non_null(strstr(t, "ABC123DEF456"));
	assert_non_null(strstr(t, "Tue, 14 Nov 2023 22:13:20 +0000"));
	assert_non_null(strstr(t, "<bob@example.net>"));
	assert_non_null(strstr(t, "mx.example.net"));
	assert_non_null(strstr(t, "550 5.1.1 <bob@example.net>: No such user"));
	assert_null(strstr(t, "keep trying until"));

	/* per-message fields */
	const char *s = r.part_body[1];
	expect_field(s, "Reporting-MTA", "dns; mx.example.org");
	expect_field(s, "Arrival-Date", "Tue, 14 Nov 2023 22:13:20 +0000");
	expect_no_field(s, "Original-Envelope-Id");

	char *g[4];
	assert_int_equal(status_groups(&r, g, 4), 1);
	expect_field(g[0], "Final-Recipient", "rfc822;bob@example.net");
	expect_field(g[0], "Action", "failed");
	expect_field(g[0], "Status", "5.1.1");
	expect_field(g[0], "Remote-MTA", "dns; mx.example.net");
	expect_field(g[0], "Diagnostic-Code", "smtp; 550 5.1.1 <bob@example.net>: No such user");
	expect_field(g[0], "Last-Attempt-Date", "Tue, 14 Nov 2023 23:13:20 +0000");
	expect_no_field(g[0], "Will-Retry-Until");
	expect_no_field(g[0], "Original-Recipient");
	/* the per-message block must not hold recipient fields */
	assert_int_equal(count_fields(s, "Final-Recipient"), 1);
	free_groups(g, 1);

	assert_string_equal(r.part_body[2], ORIGINAL_HEADERS);
	report_free(&r);
}

static void test_delay_fields(void **state)
{
	dsn_info info = default_info();
	info.envid = "QQ314159";
	dsn_rcpt rc = delayed_rcpt();
	report r;
	build(&info, &rc, 1, ORIGINAL, &r);
	expect_field(r.head, "Subject", "Delayed Mail (still being retried)");
	expect_field(r.part_body[1], "Original-Envelope-Id", "QQ314159");
	char *g[4];
	assert_int_equal(status_groups(&r, g, 4), 1);
	expect_field(g[0], "Action", "delayed");
	expect_field(g[0], "Status", "4.4.1");
	expect_field(g[0], "Will-Retry-Until", "Sun, 19 Nov 2023 22:13:20 +0000");
	free_groups(g, 1);
	/* the reader learns until when we keep trying */
	assert_non_null(strstr(r.part_body[0], "keep trying until: Sun, 19 Nov 2023 22:13:20 +0000"));
	assert_non_null(strstr(r.part_body[0], "451 4.4.1 Try again later"));
	report_free(&r);
}

/* Subject and Action by the mix of failed and delayed recipients. */
static void test_subject_action_table(void **state)
{
	static const struct {
		bool delayed[3];
		size_t n;
		const char *subject;
	} cases[] = {
	    {{false}, 1, "Undelivered Mail Returned to Sender"},
	    {{true}, 1, "Delayed Mail (still being retried)"},
	    {{true, true}, 2, "Delayed Mail (still being retried)"},
	    /* one failure makes it a bounce even if it is not first */
	    {{true, false, true}, 3, "Undelivered Mail Returned to Sender"},
	    {{false, false}, 2, "Undelivered Mail Returned to Sender"},
	};
	static const char *const addrs[] = {"a@x.example", "b@y.example", "c@z.example"};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		dsn_info info = default_info();
		dsn_rcpt rc[3];
		for (size_t i = 0; i < cases[c].n; i++) {
			rc[i] = cases[c].delayed[i] ? delayed_rcpt() : failed_rcpt();
			rc[i].address = addrs[i];
		}
		report r;
		build(&info, rc, cases[c].n, ORIGINAL, &r);
		expect_field(r.head, "Subject", cases[c].subject);
		char *g[4];
		assert_int_equal(status_groups(&r, g, 4), cases[c].n);
		for (size_t i = 0; i < cases[c].n; i++) {
			char *want = xasprintf("rfc822;%s", addrs[i]);
			expect_field(g[i], "Final-Recipient", want);
			expect_field(g[i], "Action", cases[c].delayed[i] ? "delayed" : "failed");
			if (cases[c].delayed[i])
				expect_field(g[i], "Will-Retry-Until", "Sun, 19 Nov 2023 22:13:20 +0000");
			else
				expect_no_field(g[i], "Will-Retry-Until");
			free(want);
			assert_non_null(strstr(r.part_body[0], addrs[i]));
		}
		free_groups(g, cases[c].n);
		report_free(&r);
	}
}

/* NOTIFY=SUCCESS reports: delivered into a mailbox, or relayed to a server
 * without DSN; the Subject names the gravest action of the report. */
static void test_success_actions(void **state)
{
	static const struct {
		dsn_action actions[3];
		size_t n;
		const char *subject;
		const char *heading; /* in the text part */
	} cases[] = {
	    {{DSN_ACTION_DELIVERED}, 1, "Delivered Mail (delivery report)", "Delivered into the recipient's mailbox"},
	    {{DSN_ACTION_RELAYED}, 1, "Delivered Mail (delivery report)", "Handed to the next mail server"},
	    {{DSN_ACTION_DELIVERED, DSN_ACTION_RELAYED}, 2, "Delivered Mail (delivery report)", "Handed to"},
	    {{DSN_ACTION_DELIVERED, DSN_ACTION_DELAYED}, 2, "Delayed Mail (still being retried)", "Not delivered yet"},
	    {{DSN_ACTION_RELAYED, DSN_ACTION_DELAYED, DSN_ACTION_FAILED}, 3, "Undelivered Mail Returned to Sender",
	     "Could not be delivered"},
	};
	static const char *const fields[] = {"failed", "delayed", "delivered", "relayed"};
	static const char *const addrs[] = {"a@x.example", "b@y.example", "c@z.example"};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		dsn_info info = default_info();
		info.envid = "ENV+1";
		dsn_rcpt rc[3];
		for (size_t i = 0; i < cases[c].n; i++) {
			rc[i] = (dsn_rcpt){.address = addrs[i], .orig = "rfc822;Orig@x.example",
			                   .action = cases[c].actions[i], .last_attempt = T_NOW};
			if (rc[i].action == DSN_ACTION_DELAYED)
				rc[i].will_retry_until = T_UNTIL;
		}
		report r;
		build(&info, rc, cases[c].n, ORIGINAL, &r);
		expect_field(r.head, "Subject", cases[c].subject);
		expect_field(r.part_body[1], "Original-Envelope-Id", "ENV+1");
		assert_non_null(strstr(r.part_body[0], cases[c].heading));
		char *g[4];
		assert_int_equal(status_groups(&r, g, 4), cases[c].n);
		for (size_t i = 0; i < cases[c].n; i++) {
			dsn_action a = cases[c].actions[i];
			expect_field(g[i], "Action", fields[a]);
			expect_field(g[i], "Original-Recipient", "rfc822;Orig@x.example");
			expect_field(g[i], "Status", a == DSN_ACTION_FAILED ? "5.0.0" : a == DSN_ACTION_DELAYED ? "4.0.0"
			                                                                                      : "2.0.0");
			if (a != DSN_ACTION_DELAYED)
				expect_no_field(g[i], "Will-Retry-Until");
		}
		free_groups(g, cases[c].n);
		/* only the headers come back with a success report */
		assert_non_null(strstr(r.part_head[2], "text/rfc822-headers"));
		report_free(&r);
	}
}

static void test_multiple_recipients(void **state)
{
	dsn_info info = default_info();
	dsn_rcpt rc[3] = {failed_rcpt(), failed_rcpt(), failed_rcpt()};
	rc[1].address = "dave@example.net";
	rc[1].remote_mta = NULL;
	rc[1].diagnostic = NULL;
	rc[1].last_attempt = 0;
	rc[2].address = "erin@example.net";
	rc[2].status = "5.2.2";
	rc[2].diagnostic = "552 5.2.2 Mailbox full";
	report r;
	build(&info, rc, 3, ORIGINAL, &r);
	char *g[4];
	assert_int_equal(status_groups(&r, g, 4), 3);
	expect_field(g[0], "Final-Recipient", "rfc822;bob@example.net");
	expect_field(g[1], "Final-Recipient", "rfc822;dave@example.net");
	expect_no_field(g[1], "Remote-MTA");
	expect_no_field(g[1], "Diagnostic-Code");
	expect_no_field(g[1], "Last-Attempt-Date");
	expect_field(g[2], "Status", "5.2.2");
	expect_field(g[2], "Diagnostic-Code", "smtp; 552 5.2.2 Mailbox full");
	free_groups(g, 3);
	assert_int_equal(count_fields(r.part_body[1], "Final-Recipient"), 3);
	assert_non_null(strstr(r.part_body[0], "<dave@example.net>"));
	assert_non_null(strstr(r.part_body[0], "552 5.2.2 Mailbox full"));
	report_free(&r);
}

/* Address typing: rfc822 for ASCII, RFC 6533 utf-8 xtext otherwise. */
static void test_address_types(void **state)
{
	static const struct {
		const char *address, *orig;
		const char *want_final, *want_orig; /* want_orig NULL: no field */
	} cases[] = {
	    {"bob@example.net", NULL, "rfc822;bob@example.net", NULL},
	    {"bob@example.net", "Bob@Example.NET", "rfc822;bob@example.net", "rfc822;Bob@Example.NET"},
	    /* an ORCPT that carries its own type is kept as it is */
	    {"bob@example.net", "rfc822;list+bob@example.net", "rfc822;bob@example.net",
	     "rfc822;list+bob@example.net"},
	    {"j\xc3\xbcrgen@example.de", NULL, "utf-8;j\\x{FC}rgen@example.de", NULL},
	    {"\xe7\x94\xb0\xe4\xb8\xad@\xe4\xbe\x8b.jp", "\xe7\x94\xb0\xe4\xb8\xad@\xe4\xbe\x8b.jp",
	     "utf-8;\\x{7530}\\x{4E2D}@\\x{4F8B}.jp", "utf-8;\\x{7530}\\x{4E2D}@\\x{4F8B}.jp"},
	    /* '+', '=' and '\' are not QCHARs; invalid UTF-8 becomes U+FFFD */
	    {"a+b=\xc3\xa9@x.example", NULL, "utf-8;a\\x{2B}b\\x{3D}\\x{E9}@x.example", NULL},
	    {"bad\xff\xc3@x.example", NULL, "utf-8;bad\\x{FFFD}\\x{FFFD}@x.example", NULL},
	    {"\xf0\x9f\x98\x80@x.example", NULL, "utf-8;\\x{1F600}@x.example", NULL},
	    /* a typed ORCPT with raw UTF-8 keeps its type, its address encoded */
	    {"\xc3\xa9@x.example", "utf-8;\xc3\xa9@x.example", "utf-8;\\x{E9}@x.example",
	     "utf-8;\\x{E9}@x.example"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		dsn_info info = default_info();
		dsn_rcpt rc = failed_rcpt();
		rc.address = cases[c].address;
		rc.orig = cases[c].orig;
		report r;
		build(&info, &rc, 1, ORIGINAL, &r);
		char *g[2];
		assert_int_equal(status_groups(&r, g, 2), 1);
		expect_field(g[0], "Final-Recipient", cases[c].want_final);
		if (cases[c].want_orig != NULL)
			expect_field(g[0], "Original-Recipient", cases[c].want_orig);
		else
			expect_no_field(g[0], "Original-Recipient");
		/* message/delivery-status stays 7bit */
		for (const char *p = r.part_body[1]; *p; p++)
			assert_true((unsigned char)*p < 0x80);
		/* the person-readable part shows the address as it is (utf-8) */
		assert_non_null(strstr(r.part_body[0], cases[c].address));
		free_groups(g, 1);
		report_free(&r);
	}
}

/* A line that is no field and no continuation: something injected. */
static void expect_only_fields(const char *block)
{
	for (const char *p = block; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		assert_true(len <= 998);
		if (len > 0 && p[0] != ' ' && p[0] != '\t') {
			size_t name = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");
			if (name == 0 || p[name] != ':')
				fail_msg("not a field: %.*s", (int)len, p);
		}
		if (len > 0 && (p[0] == ' ' || p[0] == '\t'))
			assert_true(strspn(p, " \t") < len); /* no white-space-only line */
		if (e == NULL)
			break;
		p = e + 1;
	}
}

static void test_diagnostic_neutralised(void **state)
{
	static const char *const diags[] = {
	    "550 no\r\nX-Injected: yes",
	    "550 no\n\nX-Injected: yes",
	    "550 no\rX-Injected: yes",
	    "550 bell\a esc\x1b[31m del\x7f nul-free tab\there",
	    "550 trailing newline\r\n",
	    "550 utf-8 \xc3\xa9 in a reply",
	};
	for (size_t c = 0; c < sizeof diags / sizeof diags[0]; c++) {
		dsn_info info = default_info();
		info.envid = "ENV\r\nX-Injected: env";
		dsn_rcpt rc = failed_rcpt();
		rc.diagnostic = diags[c];
		rc.remote_mta = "evil.example\nX-Injected: mta";
		report r;
		build(&info, &rc, 1, ORIGINAL, &r);
		/* no byte of the report is a control other than LF (and the TAB we
		 * fold Content-Type with) */
		for (const char *p = r.text; *p; p++) {
			unsigned char ch = (unsigned char)*p;
			assert_true(ch >= 0x20 || ch == '\n' || ch == '\t');
			assert_true(ch != 0x7f);
		}
		assert_null(strstr(r.text, "\nX-Injected"));
		expect_only_fields(r.head);
		expect_only_fields(r.part_body[1]);
		char *g[2];
		assert_int_equal(status_groups(&r, g, 2), 1);
		char *d = field(g[0], "Diagnostic-Code");
		assert_non_null(d);
		assert_true(strncmp(d, "smtp; 550 ", 10) == 0);
		for (const char *p = d; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
		free(d);
		free_groups(g, 1);
		report_free(&r);
	}
}

static void test_long_diagnostic_folded(void **state)
{
	/* a long multi-line reply joined with spaces, and a long unbroken word */
	buf d;
	buf_init(&d, 1 << 16);
	assert_true(buf_puts(&d, "550"));
	for (int i = 0; i < 300; i++)
		assert_true(buf_printf(&d, " word%d", i));
	assert_true(buf_putc(&d, ' '));
	for (int i = 0; i < 2000; i++)
		assert_true(buf_putc(&d, 'x'));
	dsn_info info = default_info();
	dsn_rcpt rc = failed_rcpt();
	rc.diagnostic = buf_str(&d);
	report r;
	build(&info, &rc, 1, ORIGINAL, &r);
	for (const char *p = r.text; *p;) {
		size_t len = strcspn(p, "\n");
		assert_true(len <= 998);
		p += len + (p[len] == '\n');
	}
	expect_only_fields(r.part_body[1]);
	char *g[2];
	assert_int_equal(status_groups(&r, g, 2), 1);
	char *v = field(g[0], "Diagnostic-Code");
	/* unfolding gives back the reply where it was folded at spaces */
	assert_true(strncmp(v, "smtp; ", 6) == 0);
	assert_true(strncmp(v + 6, buf_str(&d), 1000) == 0);
	free(v);
	free_groups(g, 1);
	report_free(&r);
	buf_free(&d);
}

/* Bad or missing status codes become the generic one; a diagnostic that
 * is not in the shape of an SMTP reply is no Diagnostic-Code at all (RFC
 * 3464 2.3.6: only the transport's own code goes there). */
static void test_status_and_diag_type(void **state)
{
	static const struct {
		bool delayed;
		const char *status, *diag;
		const char *want_status, *want_diag; /* NULL: no field */
	} cases[] = {
	    {false, "5.1.1", "550 x", "5.1.1", "smtp; 550 x"},
	    {false, NULL, NULL, "5.0.0", NULL},
	    {true, NULL, "421-multi", "4.0.0", "smtp; 421-multi"},
	    {false, "5.1.1\nX-Injected: 1", "550 x", "5.0.0", "smtp; 550 x"},
	    {false, "5.1", "Host not found", "5.0.0", NULL},
	    {false, "5.1234.1", "55 short", "5.0.0", NULL},
	    {true, "4.4.7", "5500 long code", "4.4.7", NULL},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		dsn_info info = default_info();
		dsn_rcpt rc = cases[c].delayed ? delayed_rcpt() : failed_rcpt();
		rc.status = cases[c].status;
		rc.diagnostic = cases[c].diag;
		report r;
		build(&info, &rc, 1, ORIGINAL, &r);
		char *g[2];
		assert_int_equal(status_groups(&r, g, 2), 1);
		expect_field(g[0], "Status", cases[c].want_status);
		if (cases[c].want_diag)
			expect_field(g[0], "Diagnostic-Code", cases[c].want_diag);
		else
			expect_no_field(g[0], "Diagnostic-Code");
		free_groups(g, 1);
		report_free(&r);
	}
}

/* Our own reasons (RFC 3464 2.3.6): a DNS failure, a refused connection or
 * an expired lifetime is told in the readable part and by Status, with no
 * Diagnostic-Code, even when the reason is written like a reply; a remote
 * reply that came with a reason of ours keeps its smtp Diagnostic-Code. */
static void test_own_reasons_are_not_diagnostics(void **state)
{
	static const struct {
		const char *status, *reason, *diag, *want_diag; /* want_diag NULL: no field */
	} cases[] = {
	    {"5.1.2", "550 5.1.2 Domain nosuch.example does not exist (NXDOMAIN)", NULL, NULL},
	    {"4.4.1", "451 4.4.1 Cannot connect to mx.example.net: Connection refused", NULL, NULL},
	    {"4.7.5", "451 4.7.5 The certificate of mx.example.net does not verify", NULL, NULL},
	    {"4.4.7", "Delivery time expired (4.4.7); last reply: 451 4.4.1 Cannot connect", NULL, NULL},
	    {"4.4.7", "Delivery time expired (4.4.7); last reply: 450 4.2.0 busy", "450 4.2.0 busy",
	     "smtp; 450 4.2.0 busy"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		dsn_info info = default_info();
		dsn_rcpt rc = failed_rcpt();
		rc.status = cases[c].status;
		rc.reason = cases[c].reason;
		rc.diagnostic = cases[c].diag;
		rc.remote_mta = cases[c].diag ? "mx.example.net" : NULL;
		report r;
		build(&info, &rc, 1, ORIGINAL, &r);
		char *g[2];
		assert_int_equal(status_groups(&r, g, 2), 1);
		expect_field(g[0], "Status", cases[c].status);
		if (cases[c].want_diag)
			expect_field(g[0], "Diagnostic-Code", cases[c].want_diag);
		else
			expect_no_field(g[0], "Diagnostic-Code");
		assert_int_equal(count_fields(r.part_body[1], "Diagnostic-Code"), cases[c].want_diag != NULL);
		free_groups(g, 1);
		/* the reader is told why, in words */
		char *want = xasprintf("reason: %s", cases[c].reason);
		assert_non_null(strstr(r.part_body[0], want));
		free(want);
		if (cases[c].diag)
			assert_non_null(strstr(r.part_body[0], cases[c].diag));
		report_free(&r);
	}
}

/* What the third part holds, by original shape and RET. */
static void test_original_part_table(void **state)
{
	static const struct {
		const char *original;
		bool headers_only;
		const char *type, *want;
	} cases[] = {
	    {ORIGINAL, true, "text/rfc822-headers", ORIGINAL_HEADERS},
	    {ORIGINAL, false, "message/rfc822", ORIGINAL},
	    /* no empty line: it is all header */
	    {"Subject: only headers\nX-A: b\n", true, "text/rfc822-headers",
	     "Subject: only headers\nX-A: b\n"},
	    /* no final LF: one is added so the delimiter stays on its own line */
	    {"Subject: no final newline", true, "text/rfc822-headers", "Subject: no final newline\n"},
	    {"Subject: no final newline", false, "message/rfc822", "Subject: no final newline\n"},
	    /* empty body */
	    {"Subject: empty body\n\n", true, "text/rfc822-headers", "Subject: empty body\n"},
	    {"Subject: empty body\n\n", false, "message/rfc822", "Subject: empty body\n\n"},
	    /* body with blank lines and a "--" line of its own */
	    {"Subject: s\n\n--notours\n\nend\n", false, "message/rfc822", "Subject: s\n\n--notours\n\nend\n"},
	    /* nothing at all */
	    {"", true, "text/rfc822-headers", ""},
	    {"\nbody without header\n", true, "text/rfc822-headers", ""},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		dsn_info info = default_info();
		info.headers_only = cases[c].headers_only;
		dsn_rcpt rc = failed_rcpt();
		report r;
		build(&info, &rc, 1, cases[c].original, &r);
		assert_int_equal(r.n_parts, 3);
		expect_field(r.part_head[2], "Content-Type", cases[c].type);
		assert_string_equal(r.part_body[2], cases[c].want);
		report_free(&r);
	}
}

static void test_boundary_collision(void **state)
{
	dsn_info info = default_info();
	dsn_rcpt rc = failed_rcpt();
	report r1;
	build(&info, &rc, 1, ORIGINAL, &r1);

	/* an original that carries the boundary we would have chosen, in its
	 * headers and as a delimiter line in its body */
	char *orig = xasprintf("Subject: %s\nX-B: \"%s\"\n\n--%s\ntext\n--%s--\n", r1.boundary,
	                       r1.boundary, r1.boundary, r1.boundary);
	for (int ho = 0; ho < 2; ho++) {
		info.headers_only = ho;
		report r2;
		build(&info, &rc, 1, orig, &r2);
		assert_string_not_equal(r2.boundary, r1.boundary);
		assert_null(strstr(orig, r2.boundary));
		assert_int_equal(r2.n_parts, 3);
		if (ho)
			assert_non_null(strstr(r2.part_body[2], r1.boundary));
		else
			assert_string_equal(r2.part_body[2], orig);
		report_free(&r2);
	}
	free(orig);

	/* the same facts give the same boundary; other ones another */
	report r3;
	build(&info, &rc, 1, ORIGINAL, &r3);
	assert_string_equal(r3.boundary, r1.boundary);
	report_free(&r3);
	report_free(&r1);
}

/* Message-ID and boundary differ between reports about different messages
 * or at different times, and fit their syntax whatever the qid holds. */
static void test_message_id_unique(void **state)
{
	static const struct {
		const char *qid;
		time_t now;
	} cases[] = {{"AAA", 1000}, {"AAA", 1001}, {"BBB", 1000}, {"C<>\n\"C", 1000}};
	char *ids[4];
	char *bounds[4];
	for (size_t c = 0; c < 4; c++) {
		dsn_info info = default_info();
		info.qid = cases[c].qid;
		info.now = cases[c].now;
		dsn_rcpt rc = failed_rcpt();
		report r;
		build(&info, &rc, 1, ORIGINAL, &r);
		ids[c] = field(r.head, "Message-ID");
		bounds[c] = xstrdup(r.boundary);
		const char *id = ids[c];
		assert_true(id[0] == '<' && id[strlen(id) - 1] == '>');
		assert_int_equal(strcspn(id + 1, "<> \"\t"), strlen(id) - 2);
		assert_int_equal(strcspn(r.boundary, "\" \t"), strlen(r.boundary));
		report_free(&r);
	}
	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++) {
			assert_string_not_equal(ids[i], ids[j]);
			assert_string_not_equal(bounds[i], bounds[j]);
		}
	for (size_t i = 0; i < 4; i++)
		free(ids[i]), free(bounds[i]);
}

static void test_dates(void **state)
{
	static const struct {
		time_t t;
		const char *want;
	} cases[] = {
	    {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
	    {951782400, "Tue, 29 Feb 2000 00:00:00 +0000"},
	    {1700003600, "Tue, 14 Nov 2023 23:13:20 +0000"},
	    {4102444799, "Thu, 31 Dec 2099 23:59:59 +0000"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		dsn_info info = default_info();
		info.now = cases[c].t;
		dsn_rcpt rc = failed_rcpt();
		report r;
		build(&info, &rc, 1, ORIGINAL, &r);
		expect_field(r.head, "Date", cases[c].want);
		report_free(&r);
	}
}

/* Every maximum short of the full size fails and leaves out untouched,
 * including what was in it before. */
static void test_buffer_too_small(void **state)
{
	dsn_info info = default_info();
	info.headers_only = false;
	dsn_rcpt rc[2] = {failed_rcpt(), delayed_rcpt()};
	buf full;
	buf_init(&full, 1 << 20);
	assert_true(dsn_build(&info, rc, 2, ORIGINAL, strlen(ORIGINAL), &full));
	const size_t prefix = 5;
	for (size_t max = 0; max < full.len + prefix; max++) {
		buf out;
		buf_init(&out, max);
		bool had = buf_puts(&out, "PRE::");
		size_t before = out.len;
		assert_false(dsn_build(&info, rc, 2, ORIGINAL, strlen(ORIGINAL), &out));
		assert_int_equal(out.len, before);
		if (had)
			assert_string_equal(buf_str(&out), "PRE::");
		buf_free(&out);
	}
	/* exactly enough room succeeds, after the prefix too */
	buf out;
	buf_init(&out, full.len + prefix);
	assert_true(buf_puts(&out, "PRE::"));
	assert_true(dsn_build(&info, rc, 2, ORIGINAL, strlen(ORIGINAL), &out));
	assert_memory_equal(out.data + prefix, full.data, full.len);
	buf_free(&out);
	buf_free(&full);
}

/* The envelope sender cannot add header fields to the report either. */
static void test_sender_neutralised(void **state)
{
	dsn_info info = default_info();
	info.sender = "a@b.example>\nBcc: victim@example.com";
	dsn_rcpt rc = failed_rcpt();
	report r;
	build(&info, &rc, 1, ORIGINAL, &r);
	expect_no_field(r.head, "Bcc");
	expect_only_fields(r.head);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structure_failure),
	    cmocka_unit_test(test_delay_fields),
	    cmocka_unit_test(test_subject_action_table),
	    cmocka_unit_test(test_success_actions),
	    cmocka_unit_test(test_multiple_recipients),
	    cmocka_unit_test(test_address_types),
	    cmocka_unit_test(test_diagnostic_neutralised),
	    cmocka_unit_test(test_long_diagnostic_folded),
	    cmocka_unit_test(test_status_and_diag_type),
	    cmocka_unit_test(test_own_reasons_are_not_diagnostics),
	    cmocka_unit_test(test_original_part_table),
	    cmocka_unit_test(test_boundary_collision),
	    cmocka_unit_test(test_message_id_unique),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_buffer_too_small),
	    cmocka_unit_test(test_sender_neutralised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
