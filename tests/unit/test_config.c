/* test_config.c — unit tests for lib/config.c: a full valid file (a copy of
 * etc/yubin.conf.example), defaults, and the error messages.  Each test
 * writes its file into a fresh mkdtemp directory and loads it; error tests
 * check the exact "file:LINE: " prefix (or "file: " for problems that have
 * no line) and a key phrase of the sentence, and the number of messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/strutil.h"

/* etc/yubin.conf.example, comments trimmed (line numbers do not matter for
 * the valid file). */
static const char example_conf[] =
	"# yubin.conf — annotated example.\n"
	"hostname = \"mail.example.org\";\n"
	"data_dir = \"/var/lib/yubin\";\n"
	"user = \"yubin\";\n"
	"log = \"stderr\";\n"
	"domains = [ \"example.org\" ];\n"
	"tls: {\n"
	"  cert = \"/etc/yubin/cert.pem\";\n"
	"  key  = \"/etc/yubin/key.pem\";\n"
	"};\n"
	"listeners = (\n"
	"  { role = \"smtp\";        address = \"0.0.0.0\"; port = 25;   },\n"
	"  { role = \"submission\";  address = \"0.0.0.0\"; port = 587;  },\n"
	"  { role = \"submission\";  address = \"0.0.0.0\"; port = 2525; },\n"
	"  { role = \"submissions\"; address = \"0.0.0.0\"; port = 465;  }\n"
	");\n"
	"limits: {\n"
	"  message_size = 26214400;      # bytes\n"
	"  recipients = 1000;\n"
	"  line_length = 2048;\n"
	"  errors = 10;\n"
	"  commands_before_mail = 100;\n"
	"  command_timeout = 300;\n"
	"  data_timeout = 600;\n"
	"  connections = 2000;\n"
	"  connections_per_ip = 50;\n"
	"};\n"
	"auth: {\n"
	"  fail_delay_ms = 250;\n"
	"  fail_delay_max_ms = 4000;\n"
	"  lockout_failures = 10;\n"
	"  lockout_window = 600;\n"
	"  lockout_seconds = 300;\n"
	"};\n"
	"workers = 8;\n";

/* The smallest valid file: what has no default (lines 1-3). */
#define MINIMAL \
	"hostname = \"mx.example.net\";\n" \
	"tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n" \
	"listeners = ( { role = \"smtp\"; port = 25; } );\n"

typedef struct fixture {
	char dir[64];
	char *path;
	strlist errs;
} fixture;

static int setup(void **state)
{
	fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/yubin-test-cfg-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/yubin.conf", f->dir);
	strlist_init(&f->errs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	unlink(f->path);
	rmdir(f->dir);
	free(f->path);
	strlist_free(&f->errs);
	free(f);
	return 0;
}

/* Write text to the fixture's file and load it. */
static config *load(fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return config_load(f->path, &f->errs);
}

static void dump_errors(const strlist *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		print_error("  error: %s\n", errs->items[i]);
}

/* Load a file that must be valid. */
static config *load_ok(fixture *f, const char *text)
{
	config *cfg = load(f, text);
	if (cfg == NULL || f->errs.n != 0) {
		dump_errors(&f->errs);
		fail_msg("valid file refused");
	}
	return cfg;
}

/* Among the messages, one starts with exactly "<path>:<line>: " (or
 * "<path>: " when line is 0) and contains phrase. */
static void expect_error(const fixture *f, int line, const char *phrase)
{
	char *prefix = line > 0 ? xasprintf("%s:%d: ", f->path, line) : xasprintf("%s: ", f->path);
	for (size_t i = 0; i < f->errs.n; i++) {
		const char *e = f->errs.items[i];
		if (strncmp(e, prefix, strlen(prefix)) == 0 && strstr(e + strlen(prefix), phrase) != NULL) {
			free(prefix);
			return;
		}
	}
	dump_errors(&f->errs);
	print_error("  wanted: %s...%s\n", prefix, phrase);
	free(prefix);
	fail_msg("expected error message not found");
}

/* The file is refused with exactly n messages, one per problem. */
static void expect_refused(fixture *f, const char *text, size_t n)
{
	config *cfg = load(f, text);
	if (cfg != NULL) {
		config_free(&cfg);
		fail_msg("invalid file accepted");
	}
	if (f->errs.n != n) {
		dump_errors(&f->errs);
		fail_msg("want %zu error message(s), got %zu", n, f->errs.n);
	}
}

/* ---- valid files ---- */

static void test_example_file(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, example_conf);
	assert_string_equal(cfg->path, f->path);
	assert_string_equal(cfg->hostname, "mail.example.org");
	assert_string_equal(cfg->data_dir, "/var/lib/yubin");
	assert_string_equal(cfg->user, "yubin");
	assert_string_equal(cfg->log, "stderr");
	assert_int_equal(cfg->domains.n, 1);
	assert_string_equal(cfg->domains.items[0], "example.org");
	assert_string_equal(cfg->tls_cert, "/etc/yubin/cert.pem");
	assert_string_equal(cfg->tls_key, "/etc/yubin/key.pem");
	assert_int_equal(cfg->n_listeners, 4);
	static const struct {
		listener_role role;
		int port;
	} want[] = {{ROLE_SMTP, 25}, {ROLE_SUBMISSION, 587}, {ROLE_SUBMISSION, 2525}, {ROLE_SUBMISSIONS, 465}};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cfg->listeners[i].role, want[i].role);
		assert_int_equal(cfg->listeners[i].port, want[i].port);
		assert_string_equal(cfg->listeners[i].address, "0.0.0.0");
	}
	assert_int_equal(cfg->limits.message_size, 26214400);
	assert_int_equal(cfg->limits.recipients, 1000);
	assert_int_equal(cfg->limits.line_length, 2048);
	assert_int_equal(cfg->limits.errors, 10);
	assert_int_equal(cfg->limits.commands_before_mail, 100);
	assert_int_equal(cfg->limits.command_timeout, 300);
	assert_int_equal(cfg->limits.data_timeout, 600);
	assert_int_equal(cfg->limits.connections, 2000);
	assert_int_equal(cfg->limits.connections_per_ip, 50);
	assert_int_equal(cfg->auth.fail_delay_ms, 250);
	assert_int_equal(cfg->auth.fail_delay_max_ms, 4000);
	assert_int_equal(cfg->auth.lockout_failures, 10);
	assert_int_equal(cfg->auth.lockout_window, 600);
	assert_int_equal(cfg->auth.lockout_seconds, 300);
	assert_int_equal(cfg->workers, 8);
	assert_false(cfg->dev);
	char *p = config_path_db(cfg);
	assert_string_equal(p, "/var/lib/yubin/accounts.db");
	free(p);
	p = config_path_queue(cfg);
	assert_string_equal(p, "/var/lib/yubin/queue");
	free(p);
	p = config_path_mail(cfg);
	assert_string_equal(p, "/var/lib/yubin/mail");
	free(p);
	config_free(&cfg);
	assert_null(cfg);
}

/* Every value changed from its default, to see that each one is read. */
static void test_every_setting_read(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f,
		"hostname = \"mx.example.net\";\n"
		"data_dir = \"/srv/yubin\";\n"
		"user = \"mail\";\n"
		"log = \"syslog\";\n"
		"domains = [ \"Example.ORG\", \"example.net\", \"xn--bcher-kva.example\" ];\n"
		"tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
		"listeners = ( { role = \"submissions\"; address = \"::1\"; port = 4465; },\n"
		"              { role = \"smtp\"; address = \"127.0.0.1\"; port = 2525; } );\n"
		"limits: { message_size = 2048; recipients = 5; line_length = 512; errors = 3;\n"
		"  commands_before_mail = 7; command_timeout = 30; data_timeout = 60;\n"
		"  connections = 9; connections_per_ip = 4; };\n"
		"auth: { fail_delay_ms = 0; fail_delay_max_ms = 0; lockout_failures = 3;\n"
		"  lockout_window = 60; lockout_seconds = 30; };\n"
		"workers = 2;\n");
	assert_string_equal(cfg->data_dir, "/srv/yubin");
	assert_string_equal(cfg->user, "mail");
	assert_string_equal(cfg->log, "syslog");
	assert_int_equal(cfg->domains.n, 3);
	assert_string_equal(cfg->domains.items[0], "example.org");     /* lower-cased */
	assert_string_equal(cfg->domains.items[1], "example.net");
	assert_string_equal(cfg->domains.items[2], "xn--bcher-kva.example");
	assert_int_equal(cfg->n_listeners, 2);
	assert_int_equal(cfg->listeners[0].role, ROLE_SUBMISSIONS);
	assert_string_equal(cfg->listeners[0].address, "::1");
	assert_int_equal(cfg->listeners[0].port, 4465);
	assert_int_equal(cfg->listeners[1].role, ROLE_SMTP);
	assert_string_equal(cfg->listeners[1].address, "127.0.0.1");
	assert_int_equal(cfg->listeners[1].port, 2525);
	assert_int_equal(cfg->limits.message_size, 2048);
	assert_int_equal(cfg->limits.recipients, 5);
	assert_int_equal(cfg->limits.line_length, 512);
	assert_int_equal(cfg->limits.errors, 3);
	assert_int_equal(cfg->limits.commands_before_mail, 7);
	assert_int_equal(cfg->limits.command_timeout, 30);
	assert_int_equal(cfg->limits.data_timeout, 60);
	assert_int_equal(cfg->limits.connections, 9);
	assert_int_equal(cfg->limits.connections_per_ip, 4);
	assert_int_equal(cfg->auth.fail_delay_ms, 0);
	assert_int_equal(cfg->auth.fail_delay_max_ms, 0);
	assert_int_equal(cfg->auth.lockout_failures, 3);
	assert_int_equal(cfg->auth.lockout_window, 60);
	assert_int_equal(cfg->auth.lockout_seconds, 30);
	assert_int_equal(cfg->workers, 2);
	config_free(&cfg);
}

/* Only what has no default: everything else takes its default. */
static void test_defaults_applied(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL);
	assert_string_equal(cfg->hostname, "mx.example.net");
	assert_string_equal(cfg->data_dir, "/var/lib/yubin");
	assert_null(cfg->user);
	assert_string_equal(cfg->log, "stderr");
	assert_int_equal(cfg->domains.n, 0);
	assert_int_equal(cfg->n_listeners, 1);
	assert_int_equal(cfg->listeners[0].role, ROLE_SMTP);
	assert_string_equal(cfg->listeners[0].address, "0.0.0.0");   /* default address */
	assert_int_equal(cfg->listeners[0].port, 25);
	assert_int_equal(cfg->limits.message_size, 26214400);
	assert_int_equal(cfg->limits.recipients, 1000);
	assert_int_equal(cfg->limits.line_length, 2048);
	assert_int_equal(cfg->limits.errors, 10);
	assert_int_equal(cfg->limits.commands_before_mail, 100);
	assert_int_equal(cfg->limits.command_timeout, 300);
	assert_int_equal(cfg->limits.data_timeout, 600);
	assert_int_equal(cfg->limits.connections, 2000);
	assert_int_equal(cfg->limits.connections_per_ip, 50);
	assert_int_equal(cfg->auth.fail_delay_ms, 250);
	assert_int_equal(cfg->auth.fail_delay_max_ms, 4000);
	assert_int_equal(cfg->auth.lockout_failures, 10);
	assert_int_equal(cfg->auth.lockout_window, 600);
	assert_int_equal(cfg->auth.lockout_seconds, 300);
	assert_int_equal(cfg->workers, 8);
	config_free(&cfg);

	/* the same defaults from config_new_defaults */
	cfg = config_new_defaults();
	assert_null(cfg->hostname);
	assert_null(cfg->tls_cert);
	assert_null(cfg->tls_key);
	assert_string_equal(cfg->data_dir, "/var/lib/yubin");
	assert_string_equal(cfg->log, "stderr");
	assert_int_equal(cfg->limits.message_size, 26214400);
	assert_int_equal(cfg->workers, 8);
	assert_int_equal(cfg->n_listeners, 0);
	config_free(&cfg);
}

/* Bounds are inclusive; 64-bit values work for message_size. */
static void test_bounds_inclusive(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL
		"workers = 256;\n"
		"limits: { message_size = 2147483648L; line_length = 65536; };\n"
		"auth: { fail_delay_ms = 60000; fail_delay_max_ms = 600000; };\n");
	assert_int_equal(cfg->workers, 256);
	assert_int_equal(cfg->limits.message_size, 2147483648LL);
	assert_int_equal(cfg->limits.line_length, 65536);
	assert_int_equal(cfg->auth.fail_delay_ms, 60000);
	assert_int_equal(cfg->auth.fail_delay_max_ms, 600000);
	config_free(&cfg);
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	cfg = load_ok(f, MINIMAL
		"workers = 1;\n"
		"limits: { message_size = 1024; line_length = 512; };\n"
		"auth: { fail_delay_ms = 0; fail_delay_max_ms = 0; };\n");
	assert_int_equal(cfg->workers, 1);
	assert_int_equal(cfg->limits.message_size, 1024);
	assert_int_equal(cfg->limits.line_length, 512);
	assert_int_equal(cfg->auth.fail_delay_ms, 0);
	config_free(&cfg);
}

/* ---- error messages ---- */

static void test_missing_file(void **state)
{
	fixture *f = *state;
	config *cfg = config_load(f->path, &f->errs); /* never written */
	assert_null(cfg);
	assert_int_equal(f->errs.n, 1);
	expect_error(f, 0, "cannot read the file");
}

static void test_syntax_error(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "workers = ;\n", 1);
	expect_error(f, 4, "syntax error");
}

static void test_syntax_error_unclosed(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\";\n"
	                  "listeners = ( { role = \"smtp\"; port = 25; } )\n"
	                  "workers = 8;\n"
	                  "limits: { errors = 5 };\n"
	                  "auth: { lockout_failures = = 3; };\n", 1);
	expect_error(f, 6, "syntax error");
}

static void test_duplicate_setting(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "workers = 2;\nworkers = 3;\n", 1);
	expect_error(f, 5, "syntax error");
}

static void test_unknown_setting(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "\nworkerz = 2;\n", 1);
	expect_error(f, 5, "unknown setting \"workerz\"");
}

static void test_unknown_setting_in_group(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "limits: {\n  errors = 5;\n  eror = 5;\n};\n", 1);
	expect_error(f, 6, "unknown setting \"limits.eror\"");
}

/* Every problem is reported, not just the first. */
static void test_several_errors(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "foo = 1;\nbar = 2;\nworkers = 0;\n", 3);
	expect_error(f, 4, "unknown setting \"foo\"");
	expect_error(f, 5, "unknown setting \"bar\"");
	expect_error(f, 6, "workers is 0");
}

static void test_wrong_type(void **state)
{
	static const struct {
		const char *text;    /* appended at line 4 */
		const char *phrase;
	} cases[] = {
		{"workers = \"8\";\n", "workers must be a whole number"},
		{"workers = 8.0;\n", "workers must be a whole number"},
		{"workers = true;\n", "workers must be a whole number"},
		{"limits: { message_size = \"25M\"; };\n", "limits.message_size must be a whole number"},
		{"data_dir = 5;\n", "data_dir must be a string in double quotes"},
		{"user = [ \"a\" ];\n", "user must be a string in double quotes"},
		{"log = true;\n", "log must be a string in double quotes"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixture *f = *state;
		char *text = xasprintf("%s%s", MINIMAL, cases[i].text);
		expect_refused(f, text, 1);
		expect_error(f, 4, cases[i].phrase);
		free(text);
		strlist_free(&f->errs);
		strlist_init(&f->errs);
	}
}

/* audit.*: a switch takes true / false as well as 0 / 1; the Subject mode
 * and the journal address are checked. */
static void test_audit_settings(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL);
	assert_int_equal(cfg->audit.enabled, 1);
	assert_string_equal(cfg->audit.subject, "hash");
	assert_int_equal(cfg->audit.retention_days, 90);
	assert_null(cfg->audit.journal);
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL "audit: { enabled = false; subject = \"plain\"; retention_days = 0;\n"
	                 "  journal = \"archive@example.org\"; journal_match = \"example.org, b.example\"; };\n");
	assert_int_equal(cfg->audit.enabled, 0);
	assert_string_equal(cfg->audit.subject, "plain");
	assert_int_equal(cfg->audit.retention_days, 0);
	assert_string_equal(cfg->audit.journal, "archive@example.org");
	assert_string_equal(cfg->audit.journal_match, "example.org, b.example");
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL "audit: { enabled = true; };\n");
	assert_int_equal(cfg->audit.enabled, 1);
	config_free(&cfg);
	expect_refused(f, MINIMAL "audit: { subject = \"rot13\"; };\n", 1);
	expect_error(f, 0, "audit.subject must be \"off\", \"hash\" or \"plain\"");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "audit: { journal = \"archive\"; };\n", 1);
	expect_error(f, 0, "audit.journal must be a mail address");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "audit: { retention_days = true; };\n", 1);
	expect_error(f, 4, "audit.retention_days must be a whole number");
}

/* tlsrpt.*: defaults (off, everything derived), a full group, addresses and
 * the submitter domain checked. */
static void test_tlsrpt_settings(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL);
	assert_int_equal(cfg->tlsrpt.enable, 0);
	assert_null(cfg->tlsrpt.org_name);
	assert_null(cfg->tlsrpt.contact);
	assert_null(cfg->tlsrpt.submitter);
	assert_null(cfg->tlsrpt.mailbox);
	assert_int_equal(cfg->tlsrpt.https_timeout, 60);
	assert_int_equal(cfg->tlsrpt.https_retry, 1800);
	assert_int_equal(cfg->tlsrpt.https_tries, 8);
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL "tlsrpt: { https_timeout = 5; https_retry = 1; https_tries = 2; };\n");
	assert_int_equal(cfg->tlsrpt.https_timeout, 5);
	assert_int_equal(cfg->tlsrpt.https_retry, 1);
	assert_int_equal(cfg->tlsrpt.https_tries, 2);
	config_free(&cfg);
	expect_refused(f, MINIMAL "tlsrpt: { https_tries = 0; };\n", 1);
	expect_error(f, 4, "tlsrpt.https_tries");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "tlsrpt: { https_timeout = 601; };\n", 1);
	expect_error(f, 4, "tlsrpt.https_timeout");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	cfg = load_ok(f, MINIMAL "tlsrpt: { enable = 1; org_name = \"Example Org\"; contact = \"pm@example.org\";\n"
	                 "  submitter = \"example.org\"; mailbox = \"reports@example.org\"; };\n");
	assert_int_equal(cfg->tlsrpt.enable, 1);
	assert_string_equal(cfg->tlsrpt.org_name, "Example Org");
	assert_string_equal(cfg->tlsrpt.contact, "pm@example.org");
	assert_string_equal(cfg->tlsrpt.submitter, "example.org");
	assert_string_equal(cfg->tlsrpt.mailbox, "reports@example.org");
	config_free(&cfg);
	expect_refused(f, MINIMAL "tlsrpt: { mailbox = \"reports\"; };\n", 1);
	expect_error(f, 0, "tlsrpt.mailbox must be a mail address");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "tlsrpt: { contact = \"pm\"; };\n", 1);
	expect_error(f, 0, "tlsrpt.contact must be a mail address");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "tlsrpt: { submitter = \"pm@example.org\"; };\n", 1);
	expect_error(f, 0, "tlsrpt.submitter must be a domain name");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "tlsrpt: { enable = 2; };\n", 1);
	expect_error(f, 4, "tlsrpt.enable");
}

/* mtasts.*: defaults, a full group, the mode of our policy checked, the
 * bounds of the timing settings. */
static void test_mtasts_settings(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL);
	assert_int_equal(cfg->mtasts.enable, 1);
	assert_int_equal(cfg->mtasts.fetch_timeout, 60);
	assert_int_equal(cfg->mtasts.fetch_retry, 300);
	assert_int_equal(cfg->mtasts.refresh_interval, 86400);
	assert_int_equal(cfg->mtasts.test_https_port, 0);
	assert_string_equal(cfg->mtasts.policy_mode, "testing");
	assert_int_equal(cfg->mtasts.policy_max_age, 604800);
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL "mtasts: { enable = 0; fetch_timeout = 5; fetch_retry = 0; refresh_interval = 30;\n"
	                 "  test_https_port = 18443; policy_mode = \"enforce\"; policy_max_age = 86400; };\n");
	assert_int_equal(cfg->mtasts.enable, 0);
	assert_int_equal(cfg->mtasts.fetch_timeout, 5);
	assert_int_equal(cfg->mtasts.fetch_retry, 0);
	assert_int_equal(cfg->mtasts.refresh_interval, 30);
	assert_int_equal(cfg->mtasts.test_https_port, 18443);
	assert_string_equal(cfg->mtasts.policy_mode, "enforce");
	assert_int_equal(cfg->mtasts.policy_max_age, 86400);
	config_free(&cfg);
	expect_refused(f, MINIMAL "mtasts: { policy_mode = \"strict\"; };\n", 1);
	expect_error(f, 0, "mtasts.policy_mode must be \"testing\", \"enforce\" or \"none\"");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "mtasts: { policy_max_age = 31557601; };\n", 1);
	expect_error(f, 4, "mtasts.policy_max_age");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "mtasts: { fetch_timeout = 0; };\n", 1);
	expect_error(f, 4, "mtasts.fetch_timeout");
}

static void test_hostname_wrong_type(void **state)
{
	fixture *f = *state;
	expect_refused(f, "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = ( { role = \"smtp\"; port = 25; } );\n"
	                  "hostname = 5;\n", 1);
	expect_error(f, 3, "hostname must be a string in double quotes");
}

static void test_out_of_range(void **state)
{
	static const struct {
		const char *text;    /* appended at line 4 */
		const char *phrase;
	} cases[] = {
		{"workers = 0;\n", "workers is 0, but must be between 1 and 256"},
		{"workers = 257;\n", "workers is 257, but must be between 1 and 256"},
		{"workers = -1;\n", "workers is -1, but must be between 1 and 256"},
		{"workers = 5000000000L;\n", "workers is 5000000000, but must be between 1 and 256"},
		{"limits: { message_size = 1023; };\n",
		 "limits.message_size is 1023, but must be between 1024 and 2147483648"},
		{"limits: { message_size = 2147483649L; };\n",
		 "limits.message_size is 2147483649, but must be between 1024 and 2147483648"},
		{"limits: { line_length = 511; };\n", "limits.line_length is 511, but must be between 512 and 65536"},
		{"auth: { fail_delay_ms = -5; };\n", "auth.fail_delay_ms is -5, but must be between 0 and 60000"},
		{"auth: { lockout_failures = 0; };\n", "auth.lockout_failures is 0, but must be between 1 and 100000"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixture *f = *state;
		char *text = xasprintf("%s%s", MINIMAL, cases[i].text);
		expect_refused(f, text, 1);
		expect_error(f, 4, cases[i].phrase);
		free(text);
		strlist_free(&f->errs);
		strlist_init(&f->errs);
	}
}

static void test_group_expected(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "limits = 5;\n", 1);
	expect_error(f, 4, "limits must be a group in braces");
}

static void test_bad_listener_role(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = (\n"
	                  "  { role = \"smtp\"; port = 25; },\n"
	                  "  { role = \"smtps\";\n"
	                  "    port = 465; }\n"
	                  ");\n", 1);
	expect_error(f, 5, "listener role must be \"smtp\", \"submission\", \"submissions\", \"pop3\", \"pop3s\", \"imap\", \"imaps\", \"https\" or \"managesieve\"");
}

static void test_bad_listener_role_type(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = ( { role = 25; port = 25; } );\n", 1);
	expect_error(f, 3, "listener role must be");
}

static void test_bad_port(void **state)
{
	static const char *const ports[] = {"0", "65536", "-25", "\"25\"", "25.0", "100000L"};
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		fixture *f = *state;
		char *text = xasprintf("hostname = \"mx.example.net\";\n"
		                       "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
		                       "listeners = (\n"
		                       "  { role = \"smtp\";\n"
		                       "    port = %s; }\n"
		                       ");\n", ports[i]);
		expect_refused(f, text, 1);
		expect_error(f, 5, "listener port must be a number from 1 to 65535");
		free(text);
		strlist_free(&f->errs);
		strlist_init(&f->errs);
	}
	/* both ends of the range are fine */
	fixture *f = *state;
	config *cfg = load_ok(f, "hostname = \"mx.example.net\";\n"
	                         "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                         "listeners = ( { role = \"smtp\"; port = 1; },\n"
	                         "  { role = \"smtp\"; port = 65535; } );\n");
	assert_int_equal(cfg->listeners[0].port, 1);
	assert_int_equal(cfg->listeners[1].port, 65535);
	config_free(&cfg);
}

static void test_bad_listener_address(void **state)
{
	static const char *const addrs[] = {"\"localhost\"", "\"0.0.0.0:25\"", "\"\"", "\"[::1]\"",
	                                    "\"256.0.0.1\"", "127"};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fixture *f = *state;
		char *text = xasprintf("hostname = \"mx.example.net\";\n"
		                       "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
		                       "listeners = (\n"
		                       "  { role = \"smtp\";\n"
		                       "    port = 25;\n"
		                       "    address = %s; }\n"
		                       ");\n", addrs[i]);
		expect_refused(f, text, 1);
		expect_error(f, 6, "listener address must be an IPv4 or IPv6 address");
		free(text);
		strlist_free(&f->errs);
		strlist_init(&f->errs);
	}
}

static void test_unknown_listener_setting(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = (\n"
	                  "  { role = \"smtp\"; port = 25;\n"
	                  "    tls = true; }\n"
	                  ");\n", 1);
	expect_error(f, 5, "unknown listener setting \"tls\"");
}

static void test_listener_incomplete(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = (\n"
	                  "  { role = \"smtp\"; port = 25; },\n"
	                  "  {\n"
	                  "    address = \"::1\"; port = 26;\n"
	                  "  }\n"
	                  ");\n", 1);
	expect_error(f, 5, "a listener needs at least a role and a port");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = ( { role = \"smtp\"; port = 25; },\n"
	                  "  { role = \"smtp\"; } );\n", 1);
	expect_error(f, 4, "a listener needs at least a role and a port");
}

static void test_listeners_not_a_list(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = { role = \"smtp\"; port = 25; };\n", 1);
	expect_error(f, 3, "listeners must be a list in parentheses");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = ( { role = \"smtp\"; port = 25; },\n"
	                  "  25 );\n", 1);
	expect_error(f, 4, "each listener must be a group");
}

static void test_bad_domain(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "domains = [ \"example.org\",\n"
	                          "  \"bad domain\" ];\n", 1);
	expect_error(f, 5, "domains entry 2 is not a domain name");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "domains = \"example.org\";\n", 1);
	expect_error(f, 4, "domains must be a list of strings");
}

/* web.admins: account addresses, lower-cased; anything else refused
 * with its line. */
static void test_web_admins(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL "web: { admins = [ \"PostMaster@Example.ORG\", \"ops@example.net\" ];\n"
	                                 "  session_idle = 600; };\n");
	assert_int_equal(cfg->web.admins.n, 2);
	assert_string_equal(cfg->web.admins.items[0], "postmaster@example.org");
	assert_string_equal(cfg->web.admins.items[1], "ops@example.net");
	assert_int_equal(cfg->web.session_idle, 600);
	assert_int_equal(cfg->web.session_lifetime, 43200);
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL);
	assert_int_equal(cfg->web.admins.n, 0); /* nobody by default */
	config_free(&cfg);
	expect_refused(f, MINIMAL "web: { admins = [ \"ok@example.org\",\n  \"no-at-sign\", \"@example.org\" ]; };\n", 2);
	expect_error(f, 5, "web.admins entry 2 is not an account address");
	expect_error(f, 5, "web.admins entry 3 is not an account address");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "web: { admins = \"root@example.org\"; };\n", 1);
	expect_error(f, 4, "web.admins must be a list of account addresses");
}

static void test_missing_hostname(void **state)
{
	fixture *f = *state;
	expect_refused(f, "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = ( { role = \"smtp\"; port = 25; } );\n", 1);
	expect_error(f, 0, "hostname is required");
}

static void test_bad_hostname(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mail example\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = ( { role = \"smtp\"; port = 25; } );\n", 1);
	expect_error(f, 0, "hostname is required and must be a domain name");
}

static void test_missing_tls(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; };\n"
	                  "listeners = ( { role = \"smtp\"; port = 25; } );\n", 1);
	expect_error(f, 0, "tls.cert and tls.key are required");
}

static void test_no_listeners(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n", 1);
	expect_error(f, 0, "no listeners");
}

static void test_bad_log_and_data_dir(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "log = \"file\";\ndata_dir = \"var/lib/yubin\";\n", 2);
	expect_error(f, 0, "log must be \"stderr\" or \"syslog\"");
	expect_error(f, 0, "data_dir must be an absolute path");
}

static void test_delay_order(void **state)
{
	fixture *f = *state;
	expect_refused(f, MINIMAL "auth: { fail_delay_ms = 500; fail_delay_max_ms = 100; };\n", 1);
	expect_error(f, 0, "auth.fail_delay_max_ms must not be less than auth.fail_delay_ms");
}

/* dns.trust_anchor (DANE, issue 14): "auto" by default, "" and a readable
 * file are taken, a file that is not there is refused with its name. */
static void test_dns_trust_anchor(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL);
	assert_string_equal(cfg->dns_trust_anchor, "auto");
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL "dns: { trust_anchor = \"\"; };\n");
	assert_string_equal(cfg->dns_trust_anchor, "");
	config_free(&cfg);
	char *ta = xasprintf("dns: { trust_anchor = \"%s\"; };\n", f->path); /* any readable file */
	char *text = xasprintf("%s%s", MINIMAL, ta);
	cfg = load_ok(f, text);
	assert_string_equal(cfg->dns_trust_anchor, f->path);
	config_free(&cfg);
	free(text);
	free(ta);
	expect_refused(f, MINIMAL "dns: { trust_anchor = \"/nonexistent/ta.ds\"; };\n", 1);
	expect_error(f, 0, "dns.trust_anchor /nonexistent/ta.ds cannot be read");
}

static void test_duplicate_listener(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = (\n"
	                  "  { role = \"smtp\"; port = 25; },\n"
	                  "  { role = \"submission\"; address = \"0.0.0.0\"; port = 25; }\n"
	                  ");\n", 1);
	expect_error(f, 5, "two listeners use 0.0.0.0 port 25"); /* the second one's line */
	/* the same port on different addresses is fine */
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	config *cfg = load_ok(f, "hostname = \"mx.example.net\";\n"
	                         "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                         "listeners = ( { role = \"smtp\"; address = \"127.0.0.1\"; port = 25; },\n"
	                         "  { role = \"smtp\"; address = \"::1\"; port = 25; } );\n");
	assert_int_equal(cfg->n_listeners, 2);
	config_free(&cfg);
}

/* The same IPv6 address written two ways is the same socket. */
/* metrics.allow: loopback by default; the file's list replaces it; an
 * entry that is no network is refused with its line. */
static void test_metrics_allow(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL);
	assert_int_equal(cfg->metrics.allow.n, 2);
	assert_string_equal(cfg->metrics.allow.items[0], "127.0.0.1");
	assert_string_equal(cfg->metrics.allow.items[1], "::1");
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL "metrics: { allow = [ \"10.0.0.0/8\", \"2001:db8::/32\" ]; };\n");
	assert_int_equal(cfg->metrics.allow.n, 2);
	assert_string_equal(cfg->metrics.allow.items[0], "10.0.0.0/8");
	assert_string_equal(cfg->metrics.allow.items[1], "2001:db8::/32");
	config_free(&cfg);
	expect_refused(f, MINIMAL "metrics: {\n  allow = [ \"127.0.0.1\",\n    \"everyone\" ];\n};\n", 1);
	expect_error(f, 6, "metrics.allow entry 2 is not a network");
}

/* Routing (delivery/route.h): defaults, a full valid map, and each
 * refusal with its line. */
static void test_route_settings(void **state)
{
	fixture *f = *state;
	config *cfg = load_ok(f, MINIMAL);
	assert_string_equal(cfg->route.prefer_family, "any");
	assert_string_equal(cfg->route.relay_when, "always");
	assert_int_equal(cfg->route.probe_interval, 300);
	assert_int_equal(cfg->route.probe_blocked_interval, 60);
	assert_int_equal(cfg->route.probe_rounds, 2);
	assert_null(cfg->route.probe_domain);
	assert_int_equal(cfg->route.probe_hosts.n, 0);
	assert_int_equal(cfg->route.n_transport, 0);
	config_free(&cfg);
	cfg = load_ok(f, MINIMAL
	              "relays = ( { name = \"office\"; host = \"smtp.example.org\"; ports = [ 587 ]; user = \"u\"; password_file = \"/p\"; verify = 0; } );\n"
	              "transport = ( { domain = \".Example.COM\"; route = \"relay:office\"; tls = \"verify\"; },\n"
	              "  { domain = \"*\"; route = \"host:[2001:db8::7]:2525\"; source_ipv4 = \"192.0.2.1\"; source_ipv6 = \"2001:db8::1\"; } );\n"
	              "sender_sources = ( { sender_domain = \"brand.example\"; source_ipv4 = \"192.0.2.2\"; } );\n"
	              "delivery: { prefer_family = \"ipv6\"; probe_hosts = [ \"mx.example.net\", \"[::1]:2525\", \"192.0.2.9:25\" ];\n"
	              "  probe_domain = \"example.net\"; probe_interval = 5; probe_rounds = 3; source_ipv4 = \"192.0.2.3\"; };\n"
	              "relay: { host = \"smart.example\"; when = \"blocked\"; };\n");
	assert_int_equal(cfg->route.n_relays, 1);
	assert_int_equal(cfg->route.relays[0].verify, 0);
	assert_int_equal(cfg->route.relays[0].ports[0], 587);
	assert_int_equal(cfg->route.n_transport, 2);
	assert_string_equal(cfg->route.transport[0].domain, ".example.com");
	assert_string_equal(cfg->route.transport[1].source6, "2001:db8::1");
	assert_int_equal(cfg->route.probe_hosts.n, 3);
	assert_string_equal(cfg->route.prefer_family, "ipv6");
	assert_string_equal(cfg->route.relay_when, "blocked");
	config_free(&cfg);
	/* a relays entry without ports gets 587, 465, 2525 */
	cfg = load_ok(f, MINIMAL "relays = ( { name = \"o\"; host = \"192.0.2.5\"; } );\n");
	assert_int_equal(cfg->route.relays[0].n_ports, 3);
	assert_int_equal(cfg->route.relays[0].verify, 1);
	config_free(&cfg);

	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = (\n  { domain = \"a.example\"; route = \"smtp:x\"; } );\n", 1);
	expect_error(f, 5, "transport route must be");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = (\n  { domain = \"a.example\"; tls = \"dane-ony\"; } );\n", 1);
	expect_error(f, 5, "transport tls must be \"none\", \"may\", \"encrypt\", \"verify\", \"dane\" or \"dane-only\"");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	/* the DANE levels (RFC 7672) are taken */
	cfg = load_ok(f, MINIMAL "transport = ( { domain = \"a.example\"; tls = \"dane-only\"; },\n"
	                         "  { domain = \"b.example\"; tls = \"dane\"; } );\n");
	assert_string_equal(cfg->route.transport[0].tls, "dane-only");
	assert_string_equal(cfg->route.transport[1].tls, "dane");
	config_free(&cfg);
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = (\n  { domain = \"a.example\"; route = \"relay:nowhere\"; } );\n", 1);
	expect_error(f, 5, "names no relay");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = ( { domain = \"a.example\"; route = \"relay\"; } );\n", 1);
	expect_error(f, 4, "transport route \"relay\" needs relay.host");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = ( { domain = \"a.example\"; },\n  { domain = \"A.example\"; } );\n", 1);
	expect_error(f, 5, "listed twice");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = ( { route = \"host:2001:db8::1\"; domain = \"x.test\"; } );\n", 1);
	expect_error(f, 4, "transport route must be");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = ( { domain = \"x.test\";\n source_ipv4 = \"::1\"; } );\n", 1);
	expect_error(f, 5, "source_ipv4 must be an IPv4 address");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "relays = ( { name = \"o\"; host = \"h.example\"; user = \"u\"; } );\n", 1);
	expect_error(f, 4, "user and password_file go together");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "sender_sources = ( { sender_domain = \"s.example\"; } );\n", 1);
	expect_error(f, 4, "needs a sender_domain and a source_ipv4 or source_ipv6");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "delivery: { probe_hosts = [ \"ok.example\",\n \"bad host\" ]; };\n", 1);
	expect_error(f, 5, "delivery.probe_hosts entry 2 is not a host");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "delivery: { prefer_family = \"ipv5\"; };\n", 1);
	expect_error(f, 0, "delivery.prefer_family must be");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "delivery: { source_ipv6 = \"127.0.0.1\"; };\n", 1);
	expect_error(f, 0, "delivery.source_ipv6 must be an IPv6 address");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "relay: { host = \"h.example\"; when = \"sometimes\"; };\n", 1);
	expect_error(f, 0, "relay.when must be");
	strlist_free(&f->errs);
	strlist_init(&f->errs);
	expect_refused(f, MINIMAL "transport = { domain = \"x\"; };\n", 1);
	expect_error(f, 4, "transport must be a list of groups");
}

static void test_duplicate_listener_ipv6_spelling(void **state)
{
	fixture *f = *state;
	expect_refused(f, "hostname = \"mx.example.net\";\n"
	                  "tls: { cert = \"/c.pem\"; key = \"/k.pem\"; };\n"
	                  "listeners = ( { role = \"smtp\"; address = \"::1\"; port = 25; },\n"
	                  "  { role = \"smtp\"; address = \"0:0:0:0:0:0:0:1\"; port = 25; } );\n", 1);
	expect_error(f, 4, "two listeners use");
}

/* config_validate on a config built in code uses "(config)" as the file. */
static void test_validate_in_code(void **state)
{
	config *cfg = config_new_defaults();
	strlist errs;
	strlist_init(&errs);
	assert_false(config_validate(cfg, &errs));
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.items[0],
	                    "(config): hostname is required and must be a domain name, like hostname = \"mail.example.org\";");
	assert_true(strncmp(errs.items[1], "(config): tls.cert and tls.key are required", 43) == 0);
	assert_true(strncmp(errs.items[2], "(config): no listeners", 22) == 0);
	strlist_free(&errs);
	config_free(&cfg);
	assert_string_equal(config_role_name(ROLE_SMTP), "smtp");
	assert_string_equal(config_role_name(ROLE_SUBMISSION), "submission");
	assert_string_equal(config_role_name(ROLE_SUBMISSIONS), "submissions");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_example_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_setting_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds_inclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error_unclosed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_setting_in_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mtasts_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlsrpt_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_expected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_listener_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_listener_role_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_listener_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_listener_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listener_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listeners_not_a_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_web_admins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_log_and_data_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_trust_anchor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_listener_ipv6_spelling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_settings, setup, teardown),
		cmocka_unit_test(test_validate_in_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
