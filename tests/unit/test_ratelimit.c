/* test_ratelimit.c — unit tests for policy/ratelimit.c and policy/ratedb.c
 * with an injected clock: the window arithmetic against an exact log of
 * events (never forgets an event inside the window, forgets every event
 * one bucket after it), a clock that goes back, the checks at MAIL and
 * RCPT with the recipients of the open transaction, what is charged at the
 * end of data, keys (IPv6 /64, case, roles, no user, null sender), the
 * reply sentence, the bound on keys, and the save/restore round trip
 * through SQLite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/config.h"
#include "policy/ratedb.h"
#include "policy/ratelimit.h"

#define T0 ((time_t)1700000000)

static void test_width(void **state)
{
	assert_int_equal(rate_width(3600), 300);
	assert_int_equal(rate_width(3601), 301);
	assert_int_equal(rate_width(60), 5);
	assert_int_equal(rate_width(5), 1);
	assert_int_equal(rate_width(1), 1);
}

/* Against an exact log: every event within (now - window, now] is counted,
 * and no event older than window + width is. */
static void test_window_vs_exact_log(void **state)
{
	static const unsigned windows[] = {3600, 100, 7, 1, 86400};
	for (size_t wi = 0; wi < sizeof(windows) / sizeof(windows[0]); wi++) {
		unsigned window = windows[wi], width = rate_width(window);
		rate_window w = {0};
		time_t times[400];
		size_t n = 0;
		time_t now = T0;
		unsigned seed = 7;
		for (int step = 0; step < 400; step++) {
			seed = seed * 1103515245u + 12345u;
			now += (time_t)((seed >> 16) % (window / 4 + 2));
			rate_window_add(&w, window, 1, now);
			times[n++] = now;
			uint64_t inside = 0, maybe = 0;
			for (size_t i = 0; i < n; i++) {
				if (times[i] > now - (time_t)window)
					inside++;
				else if (times[i] > now - (time_t)window - (time_t)width)
					maybe++;
			}
			uint64_t sum = rate_window_sum(&w, window, now);
			assert_true(sum >= inside);
			assert_true(sum <= inside + maybe);
		}
	}
}

static void test_window_edges(void **state)
{
	rate_window w = {0};
	time_t t = T0 - T0 % 300; /* the start of a bucket */
	rate_window_add(&w, 3600, 5, t);
	assert_int_equal(rate_window_sum(&w, 3600, t), 5);
	assert_int_equal(rate_window_sum(&w, 3600, t + 3599), 5);
	/* its bucket still overlaps the window until it is a whole window old */
	assert_int_equal(rate_window_sum(&w, 3600, t + 3600 + 298), 5);
	assert_int_equal(rate_window_sum(&w, 3600, t + 3600 + 299), 0);
	/* adding much later clears the old slots */
	rate_window_add(&w, 3600, 1, t + 100000);
	assert_int_equal(rate_window_sum(&w, 3600, t + 100000), 1);
	/* saturates */
	rate_window_add(&w, 3600, UINT32_MAX, t + 100000);
	assert_int_equal(rate_window_sum(&w, 3600, t + 100000), UINT32_MAX);
}

/* The clock goes back: a little lands in its bucket, far is counted now. */
static void test_window_clock_back(void **state)
{
	rate_window w = {0};
	rate_window_add(&w, 3600, 1, T0);
	rate_window_add(&w, 3600, 1, T0 - 600);
	assert_int_equal(rate_window_sum(&w, 3600, T0), 2);
	rate_window_add(&w, 3600, 1, T0 - 100000);
	assert_int_equal(rate_window_sum(&w, 3600, T0), 3);
	/* a sum asked for a moment before the newest bucket still counts it */
	assert_int_equal(rate_window_sum(&w, 3600, T0 - 1000), 3);
	/* times before 1970 do not index outside the slots */
	rate_window v = {0};
	rate_window_add(&v, 60, 2, (time_t)-7);
	assert_int_equal(rate_window_sum(&v, 60, (time_t)-7), 2);
}

static void test_names_and_phrases(void **state)
{
	rate_keykind k;
	rate_countkind c;
	assert_true(rate_keykind_parse("sender_domain", &k));
	assert_int_equal(k, RATE_KEY_SENDER_DOMAIN);
	assert_string_equal(rate_keykind_name(RATE_KEY_RECIPIENT), "recipient");
	assert_false(rate_keykind_parse("ip", &k));
	assert_true(rate_countkind_parse("recipients", &c));
	assert_int_equal(c, RATE_COUNT_RECIPIENTS);
	assert_false(rate_countkind_parse("bytes", &c));
	static const struct { unsigned w; const char *p; } ph[] = {
		{3600, "hour"}, {7200, "2 hours"}, {86400, "day"}, {60, "minute"}, {90, "90 seconds"},
		{1, "second"}, {600, "10 minutes"}, {604800, "week"},
	};
	for (size_t i = 0; i < sizeof(ph) / sizeof(ph[0]); i++) {
		char *p = rate_window_phrase(ph[i].w);
		assert_string_equal(p, ph[i].p);
		free(p);
	}
}

static rate_rule rule(const char *name, rate_keykind k, rate_countkind c, unsigned limit, unsigned window)
{
	return (rate_rule){.name = (char *)name, .key = k, .count = c, .limit = limit, .window = window};
}

static void test_keys(void **state)
{
	rate_subject sub = {.client_ip = "2001:db8:1:2:aaaa::5", .user = "Alice@Example.ORG",
	                    .sender = "Bob@Sub.Example.COM", .role = ROLE_SMTP};
	char *key;
	rate_rule r = rule("x", RATE_KEY_CLIENT, RATE_COUNT_MESSAGES, 1, 60);
	assert_true(rate_key(&r, &sub, NULL, &key));
	assert_string_equal(key, "2001:db8:1:2::/64");
	free(key);
	r.key = RATE_KEY_USER;
	assert_true(rate_key(&r, &sub, NULL, &key));
	assert_string_equal(key, "alice@example.org");
	free(key);
	r.key = RATE_KEY_SENDER_DOMAIN;
	assert_true(rate_key(&r, &sub, NULL, &key));
	assert_string_equal(key, "sub.example.com");
	free(key);
	r.key = RATE_KEY_RECIPIENT;
	assert_false(rate_key(&r, &sub, NULL, &key));
	assert_true(rate_key(&r, &sub, "Carol@Example.NET", &key));
	assert_string_equal(key, "carol@example.net");
	free(key);
	/* no user, the null sender: the rule does not apply */
	rate_subject anon = {.client_ip = "192.0.2.1", .sender = "", .role = ROLE_SMTP};
	r.key = RATE_KEY_USER;
	assert_false(rate_key(&r, &anon, NULL, &key));
	r.key = RATE_KEY_SENDER_DOMAIN;
	assert_false(rate_key(&r, &anon, NULL, &key));
	/* roles */
	r.key = RATE_KEY_CLIENT;
	r.roles = 1u << ROLE_SUBMISSION | 1u << ROLE_SUBMISSIONS;
	assert_false(rate_key(&r, &anon, NULL, &key));
	anon.role = ROLE_SUBMISSIONS;
	assert_true(rate_key(&r, &anon, NULL, &key));
	assert_string_equal(key, "192.0.2.1");
	free(key);
}

/* 3 recipients an hour per user: the transaction's own recipients count
 * before they are charged, a refused recipient is never charged, another
 * user is not affected, and the window frees them again. */
static void test_user_recipients(void **state)
{
	rate_rule rules[] = {rule("user-rcpts", RATE_KEY_USER, RATE_COUNT_RECIPIENTS, 3, 3600)};
	rate_table *t = rate_new(rules, 1);
	strlist rcpts;
	strlist_init(&rcpts);
	rate_subject sub = {.client_ip = "192.0.2.1", .user = "alice@example.org", .sender = "alice@example.org",
	                    .role = ROLE_SUBMISSION, .rcpts = &rcpts};
	rate_exceeded ex;
	assert_false(rate_check_mail(t, &sub, T0, &ex)); /* recipients are counted at RCPT */
	for (int i = 0; i < 3; i++) {
		assert_false(rate_check_rcpt(t, &sub, "x@example.net", T0, &ex));
		strlist_add(&rcpts, "x@example.net");
	}
	assert_true(rate_check_rcpt(t, &sub, "y@example.net", T0, &ex));
	assert_string_equal(ex.key, "alice@example.org");
	assert_int_equal(ex.count, 0);
	char *text = rate_exceeded_text(&ex);
	assert_string_equal(text, "Too many recipients from alice@example.org: at most 3 per hour; try again later");
	free(text);
	rate_exceeded_free(&ex);
	/* nothing is charged by checks */
	assert_int_equal(rate_size(t), 0);
	rate_charge(t, &sub, T0);
	strlist_free(&rcpts);
	strlist_init(&rcpts);
	assert_true(rate_check_rcpt(t, &sub, "z@example.net", T0 + 10, &ex));
	assert_int_equal(ex.count, 3);
	rate_exceeded_free(&ex);
	/* another user is not affected; nor are sessions without AUTH */
	rate_subject bob = sub;
	bob.user = "bob@example.org";
	assert_false(rate_check_rcpt(t, &bob, "z@example.net", T0 + 10, &ex));
	bob.user = NULL;
	assert_false(rate_check_rcpt(t, &bob, "z@example.net", T0 + 10, &ex));
	/* an hour and a bucket later, alice may send again */
	assert_false(rate_check_rcpt(t, &sub, "z@example.net", T0 + 3600 + 300, &ex));
	rate_free(&t);
	assert_null(t);
}

/* Messages per client, checked at MAIL: IPv6 /64 is one client. */
static void test_client_messages(void **state)
{
	rate_rule rules[] = {rule("client-msgs", RATE_KEY_CLIENT, RATE_COUNT_MESSAGES, 2, 60)};
	rate_table *t = rate_new(rules, 1);
	strlist rcpts;
	strlist_init(&rcpts);
	strlist_add(&rcpts, "a@example.org");
	strlist_add(&rcpts, "b@example.org");
	rate_subject sub = {.client_ip = "2001:db8::1", .sender = "x@example.net", .role = ROLE_SMTP, .rcpts = &rcpts};
	rate_exceeded ex;
	for (int i = 0; i < 2; i++) {
		assert_false(rate_check_mail(t, &sub, T0 + i, &ex));
		assert_false(rate_check_rcpt(t, &sub, "c@example.org", T0 + i, &ex));
		rate_charge(t, &sub, T0 + i);
	}
	sub.client_ip = "2001:db8::ffff:2";
	assert_true(rate_check_mail(t, &sub, T0 + 2, &ex));
	char *text = rate_exceeded_text(&ex);
	assert_string_equal(text, "Too many messages from 2001:db8::/64: at most 2 per minute; try again later");
	free(text);
	rate_exceeded_free(&ex);
	sub.client_ip = "192.0.2.9";
	assert_false(rate_check_mail(t, &sub, T0 + 2, &ex));
	/* a transaction without recipients charges nothing */
	strlist_free(&rcpts);
	rate_charge(t, &sub, T0 + 2);
	assert_false(rate_check_mail(t, &sub, T0 + 2, &ex));
	assert_int_equal(rate_size(t), 1);
	rate_free(&t);
}

/* Per recipient: a message counts once per distinct recipient; per sender
 * domain: recipients summed. */
static void test_recipient_and_domain(void **state)
{
	rate_rule rules[] = {
		rule("to-bob", RATE_KEY_RECIPIENT, RATE_COUNT_MESSAGES, 2, 3600),
		rule("domain-rcpts", RATE_KEY_SENDER_DOMAIN, RATE_COUNT_RECIPIENTS, 5, 3600),
	};
	rate_table *t = rate_new(rules, 2);
	strlist rcpts;
	strlist_init(&rcpts);
	rate_subject sub = {.client_ip = "192.0.2.1", .sender = "x@Example.NET", .role = ROLE_SMTP, .rcpts = &rcpts};
	rate_exceeded ex;
	assert_false(rate_check_rcpt(t, &sub, "bob@example.org", T0, &ex));
	strlist_add(&rcpts, "bob@example.org");
	/* the same recipient again in one message is no second message */
	assert_false(rate_check_rcpt(t, &sub, "BOB@example.org", T0, &ex));
	strlist_add(&rcpts, "BOB@example.org");
	rate_charge(t, &sub, T0);
	strlist_free(&rcpts);
	strlist_init(&rcpts);
	assert_false(rate_check_rcpt(t, &sub, "bob@example.org", T0, &ex));
	strlist_add(&rcpts, "bob@example.org");
	rate_charge(t, &sub, T0);
	strlist_free(&rcpts);
	strlist_init(&rcpts);
	assert_true(rate_check_rcpt(t, &sub, "bob@example.org", T0, &ex));
	assert_string_equal(ex.rule->name, "to-bob");
	char *text = rate_exceeded_text(&ex);
	assert_string_equal(text, "Too many messages to bob@example.org: at most 2 per hour; try again later");
	free(text);
	rate_exceeded_free(&ex);
	/* example.net has used 3 of 5 recipients */
	assert_false(rate_check_rcpt(t, &sub, "c@example.org", T0, &ex));
	strlist_add(&rcpts, "c@example.org");
	assert_false(rate_check_rcpt(t, &sub, "d@example.org", T0, &ex));
	strlist_add(&rcpts, "d@example.org");
	assert_true(rate_check_rcpt(t, &sub, "e@example.org", T0, &ex));
	assert_string_equal(ex.rule->name, "domain-rcpts");
	assert_string_equal(ex.key, "example.net");
	rate_exceeded_free(&ex);
	strlist_free(&rcpts);
	rate_free(&t);
}

/* Rotating keys never holds more than max_keys. */
static void test_bounded(void **state)
{
	rate_rule r = rule("c", RATE_KEY_CLIENT, RATE_COUNT_MESSAGES, 1, 3600);
	r.max_keys = 100;
	rate_table *t = rate_new(&r, 1);
	strlist rcpts;
	strlist_init(&rcpts);
	strlist_add(&rcpts, "a@example.org");
	char ip[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
		rate_subject sub = {.client_ip = ip, .role = ROLE_SMTP, .rcpts = &rcpts};
		rate_charge(t, &sub, T0);
	}
	assert_int_equal(rate_size(t), 100);
	strlist_free(&rcpts);
	rate_free(&t);
}

/* Snapshots hold what changed; restore puts counts back, skipping rows of
 * a rule that is gone, of another width, or expired. */
static void test_snapshot_restore(void **state)
{
	rate_rule rules[] = {rule("u", RATE_KEY_USER, RATE_COUNT_RECIPIENTS, 10, 3600)};
	rate_table *t = rate_new(rules, 1);
	strlist rcpts;
	strlist_init(&rcpts);
	strlist_add(&rcpts, "a@example.org");
	strlist_add(&rcpts, "b@example.org");
	rate_subject sub = {.user = "alice", .role = ROLE_SUBMISSION, .rcpts = &rcpts};
	rate_charge(t, &sub, T0);
	size_t n;
	rate_row *rows = rate_snapshot(t, T0, &n);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].rule, "u");
	assert_string_equal(rows[0].key, "alice");
	assert_false(rows[0].empty);
	rate_row *again = rate_snapshot(t, T0, &n);
	assert_int_equal(n, 0); /* nothing changed since */
	rate_rows_free(again, n);
	rate_row *all = rate_snapshot_all(t, T0, &n);
	assert_int_equal(n, 1);
	rate_rows_free(all, n);

	rate_table *t2 = rate_new(rules, 1);
	assert_true(rate_restore(t2, &rows[0], T0 + 5));
	rate_exceeded ex;
	for (int i = 0; i < 8; i++)
		strlist_add(&rcpts, "c@example.org");
	sub.rcpts = &rcpts; /* 10 pending + 2 restored */
	assert_true(rate_check_rcpt(t2, &sub, "d@example.org", T0 + 5, &ex));
	assert_int_equal(ex.count, 2);
	rate_exceeded_free(&ex);
	assert_false(rate_restore(t2, &rows[0], T0 + 3600 + 300)); /* expired */
	rate_row other = rows[0];
	other.width = 10;
	assert_false(rate_restore(t2, &other, T0));
	other = rows[0];
	other.rule = (char *)"gone";
	assert_false(rate_restore(t2, &other, T0));
	rate_rows_free(rows, 1);
	strlist_free(&rcpts);
	rate_free(&t2);
	rate_free(&t);
}

static int rows_in(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM rate", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Through SQLite: saved, loaded into a fresh table, an emptied key deleted,
 * expired rows purged. */
static void test_ratedb_roundtrip(void **state)
{
	char path[] = "/tmp/yubin-test-ratedb-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	rate_rule rules[] = {rule("c", RATE_KEY_CLIENT, RATE_COUNT_MESSAGES, 3, 60),
	                     rule("u", RATE_KEY_USER, RATE_COUNT_MESSAGES, 3, 86400)};
	rate_table *t = rate_new(rules, 2);
	strlist rcpts;
	strlist_init(&rcpts);
	strlist_add(&rcpts, "a@example.org");
	rate_subject sub = {.client_ip = "192.0.2.7", .user = "alice", .role = ROLE_SUBMISSION, .rcpts = &rcpts};
	for (int i = 0; i < 3; i++)
		rate_charge(t, &sub, T0);
	char *err = NULL;
	ratedb *db = ratedb_open(path, &err);
	assert_non_null(db);
	size_t n, got;
	rate_row *rows = rate_snapshot(t, T0, &n);
	assert_int_equal(n, 2);
	assert_true(ratedb_save(db, rows, n, T0, &err));
	rate_rows_free(rows, n);
	ratedb_close(&db);

	db = ratedb_open(path, &err);
	rate_table *t2 = rate_new(rules, 2);
	assert_true(ratedb_load(db, t2, T0 + 1, &got, &err));
	assert_int_equal(got, 2);
	rate_exceeded ex;
	assert_true(rate_check_mail(t2, &sub, T0 + 1, &ex));
	assert_string_equal(ex.rule->name, "c");
	assert_int_equal(ex.count, 3);
	rate_exceeded_free(&ex);
	/* three minutes later the client row has expired; the user's has not */
	rate_table *t3 = rate_new(rules, 2);
	assert_true(ratedb_load(db, t3, T0 + 200, &got, &err));
	assert_int_equal(got, 1);
	assert_int_equal(rows_in(path), 2);
	/* a key whose window emptied is deleted by the next save */
	rate_charge(t, &sub, T0 + 1);
	rows = rate_snapshot(t, T0 + 200, &n);
	assert_int_equal(n, 2);
	assert_true(rows[0].empty != rows[1].empty);
	assert_true(ratedb_save(db, rows, n, T0 + 1, &err));
	rate_rows_free(rows, n);
	assert_int_equal(rows_in(path), 1);
	/* damaged rows count nothing and do not stop the others */
	sqlite3 *raw;
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw,
	                              "INSERT INTO rate VALUES ('c', '192.0.2.99', 5, 1, '1,2', 9999999999);"
	                              "INSERT INTO rate VALUES ('c', '192.0.2.98', 5, 1, 'x,y,z', 9999999999);"
	                              "INSERT INTO rate VALUES ('c', '192.0.2.97', 5, 1, "
	                              "'1,1,1,1,1,1,1,1,1,1,1,1,99999999999', 9999999999);"
	                              "INSERT INTO rate VALUES ('c', '192.0.2.96', 5, 1, '1,1,1,1,1,1,1,1,1,1,1,1,1,', 9999999999);",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(raw);
	rate_table *t5 = rate_new(rules, 2);
	assert_true(ratedb_load(db, t5, T0 + 200, &got, &err));
	assert_int_equal(got, 1); /* the user's row only */
	rate_free(&t5);
	/* expired rows are purged by a save */
	assert_true(ratedb_save(db, NULL, 0, T0 + 86400 * 3, &err));
	assert_int_equal(rows_in(path), 4); /* the damaged rows with a far expiry stay */
	ratedb_close(&db);
	/* a database that cannot be opened says why */
	assert_null(ratedb_open("/nonexistent-dir/x/ratelimit.db", &err));
	assert_non_null(strstr(err, "/nonexistent-dir/x/ratelimit.db"));
	free(err);
	strlist_free(&rcpts);
	rate_free(&t);
	rate_free(&t2);
	rate_free(&t3);
	unlink(path);
	char side[64];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_window_vs_exact_log),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_window_clock_back),
		cmocka_unit_test(test_names_and_phrases),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_user_recipients),
		cmocka_unit_test(test_client_messages),
		cmocka_unit_test(test_recipient_and_domain),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_snapshot_restore),
		cmocka_unit_test(test_ratedb_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
