/* test_hooks.c — the pure parts of the suppression list, events and
 * webhooks: signatures against vectors computed elsewhere, the retry
 * schedule, the mapping of audit records to events, times, cursors, which
 * bounces suppress, the suppression and outbox tables, and the endpoints'
 * configuration with its file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/event.h"
#include "api/hooksdb.h"
#include "api/outbox.h"
#include "api/pagecursor.h"
#include "api/suppress.h"
#include "api/whconf.h"
#include "api/whsign.h"
#include "api/whstore.h"

/* Vectors computed with python's hmac module, independently of OpenSSL:
 *   base64.b64encode(hmac.new(b'topsecret',
 *       b'evt_7.1700000000.{"id":"evt_7","type":"delivered"}', hashlib.sha256).digest())
 * and the Standard Webhooks specification's own example (secret
 * whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, id msg_p5jXN8AQM9LWM0D4loKWxJek,
 * timestamp 1614265330, body {"test": 2432232314}). */
static void test_signature(void **state)
{
	size_t n;
	unsigned char *k = whsign_key("topsecret", &n);
	assert_int_equal(n, 9);
	const char *body = "{\"id\":\"evt_7\",\"type\":\"delivered\"}";
	char *sig = whsign_signature(k, n, "evt_7", 1700000000, body, strlen(body));
	assert_string_equal(sig, "v1,JErRhqzc5Txxb2sJhD94dQXLqvqXfXjOWNLY43wAA5A=");
	free(sig);
	free(k);

	k = whsign_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &n);
	assert_non_null(k);
	assert_int_equal(n, 24);
	body = "{\"test\": 2432232314}";
	sig = whsign_signature(k, n, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body));
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	free(k);

	/* one byte more in the body: another signature */
	k = whsign_key("topsecret", &n);
	sig = whsign_signature(k, n, "evt_7", 1700000000, "{} ", 3);
	char *sig2 = whsign_signature(k, n, "evt_7", 1700000000, "{}", 2);
	assert_string_not_equal(sig, sig2);
	free(sig);
	free(sig2);
	free(k);

	assert_null(whsign_key("", &n));
	assert_null(whsign_key("whsec_", &n));
	assert_null(whsign_key("whsec_abc", &n));       /* not a multiple of 4 */
	assert_null(whsign_key("whsec_ab!d", &n));      /* not base64 */
	k = whsign_key("whsec_YWJj", &n);               /* "abc" */
	assert_int_equal(n, 3);
	assert_memory_equal(k, "abc", 3);
	free(k);
	k = whsign_key("whsec_YWI=", &n);               /* "ab", padded */
	assert_int_equal(n, 2);
	free(k);
}

static void test_backoff(void **state)
{
	const int64_t want[] = {30, 60, 120, 240, 480, 960, 1920, 3600, 3600};
	for (int a = 1; a <= 9; a++)
		assert_int_equal(whsign_backoff(a, 30, 3600), want[a - 1]);
	assert_int_equal(whsign_backoff(1000, 30, 3600), 3600); /* no overflow */
	assert_int_equal(whsign_backoff(1, 1, 4), 1);
	assert_int_equal(whsign_backoff(3, 1, 4), 4);
	/* 30 s doubling, capped at an hour: attempts over a day */
	int64_t t = 0;
	int attempts = 1;
	while (t + whsign_backoff(attempts, 30, 3600) <= 86400)
		t += whsign_backoff(attempts++, 30, 3600);
	assert_int_equal(attempts, 30);
	/* the next try, or -1 past retry_for (a day) after the event */
	assert_int_equal(whsign_next_try(1, 1000, 1000, 30, 3600, 86400), 1030);
	assert_int_equal(whsign_next_try(3, 1000, 1200, 30, 3600, 86400), 1320);
	assert_int_equal(whsign_next_try(20, 1000, 1000 + 86400 - 3600, 30, 3600, 86400), 1000 + 86400);
	assert_int_equal(whsign_next_try(20, 1000, 1000 + 86400 - 3599, 30, 3600, 86400), -1);
	assert_int_equal(whsign_next_try(1, 1000, 1000 + 86400, 30, 3600, 86400), -1);
}

static json_t *ev_of(audit_kind kind, int64_t id, const char *rcpt, json_t *data)
{
	audit_record r = {.id = id, .time_ms = 1764969243120LL, .kind = kind, .qid = (char *)"Q1abc",
	                  .rcpt = (char *)rcpt, .data = data};
	json_t *ev = event_json(&r);
	json_decref(data);
	return ev;
}

static void test_event_json(void **state)
{
	json_t *ev = ev_of(AUDIT_BOUNCED, 42, "bob@example.net",
	                   json_pack("{s:s, s:s, s:s}", "rcpt", "bob@example.net", "reply", "550 5.1.1 no such user",
	                             "status", "5.1.1"));
	char *s = json_dumps(ev, JSON_COMPACT);
	assert_string_equal(s, "{\"id\":\"evt_42\",\"type\":\"bounced\",\"time\":\"2025-12-05T21:14:03.120Z\","
	                       "\"message_id\":\"Q1abc\",\"recipient\":\"bob@example.net\","
	                       "\"reply\":\"550 5.1.1 no such user\",\"status\":\"5.1.1\"}");
	free(s);
	json_decref(ev);

	ev = ev_of(AUDIT_DEFERRED, 5, "a@b.example", json_pack("{s:s, s:I}", "reply", "451 later", "next_try",
	                                                        (json_int_t)1764969300));
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "deferred");
	assert_string_equal(json_string_value(json_object_get(ev, "next_try")), "2025-12-05T21:15:00.000Z");
	json_decref(ev);

	ev = ev_of(AUDIT_DELIVERED, 6, "a@b.example", json_pack("{s:s, s:s}", "host", "mx.b.example", "reply", "250 ok"));
	assert_string_equal(json_string_value(json_object_get(ev, "host")), "mx.b.example");
	json_decref(ev);

	ev = ev_of(AUDIT_SUPPRESSED, 7, "a@b.example", json_pack("{s:s}", "reason", "manual"));
	assert_string_equal(json_string_value(json_object_get(ev, "reason")), "manual");
	assert_true(json_is_null(json_object_get(ev, "reply")));
	json_decref(ev);

	ev = ev_of(AUDIT_RECEIVED, 8, NULL, json_pack("{s:s, s:[s,s], s:i}", "sender", "s@x.example", "rcpts",
	                                               "a@b.example", "c@d.example", "size", 1234));
	assert_int_equal(json_array_size(json_object_get(ev, "recipients")), 2);
	assert_null(json_object_get(ev, "recipient"));
	json_decref(ev);

	assert_null(ev_of(AUDIT_ATTEMPT, 9, "a@b.example", json_object()));
	assert_null(ev_of(AUDIT_POLICY, 9, NULL, json_object()));
	assert_int_equal(event_type_parse("bounced"), AUDIT_BOUNCED);
	assert_int_equal(event_type_parse("attempt"), -1);
	assert_int_equal(event_type_parse(NULL), -1);

	int64_t id;
	char *eid = event_id(123);
	assert_string_equal(eid, "evt_123");
	assert_true(event_id_parse(eid, &id));
	assert_int_equal(id, 123);
	free(eid);
	assert_false(event_id_parse("evt_", &id));
	assert_false(event_id_parse("evt_1x", &id));
	assert_false(event_id_parse("ev_1", &id));
}

static void test_times(void **state)
{
	int64_t ms;
	assert_true(event_time_parse("2025-12-05T21:14:03Z", &ms));
	assert_int_equal(ms, 1764969243000LL);
	assert_true(event_time_parse("2025-12-05T21:14:03.12Z", &ms));
	assert_int_equal(ms, 1764969243120LL);
	assert_true(event_time_parse("2025-12-06T06:14:03+09:00", &ms));
	assert_int_equal(ms, 1764969243000LL);
	assert_true(event_time_parse("1764969243", &ms));
	assert_int_equal(ms, 1764969243000LL);
	const char *bad[] = {"", "2025-12-05", "2025-12-05T21:14:03", "2025-13-05T21:14:03Z",
	                     "2025-12-05T21:14:03Zjunk", "2025-12-05T25:14:03Z", "yesterday", "2025-12-05T21:14:03.Z",
	                     "12345678901234567"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(event_time_parse(bad[i], &ms));
	char t[32];
	event_time_format(1764969243120LL, t);
	assert_string_equal(t, "2025-12-05T21:14:03.120Z");
}

static void test_cursor(void **state)
{
	json_t *st = json_pack("{s:I, s:s, s:i}", "after", (json_int_t)991, "rcpt", "bob@example.net", "limit", 2);
	char *c = pagecursor_encode(st);
	assert_null(strpbrk(c, "+/="));
	json_t *back = pagecursor_decode(c);
	assert_true(json_equal(st, back));
	json_decref(back);
	c[3] = '*';
	assert_null(pagecursor_decode(c));
	assert_null(pagecursor_decode(""));
	assert_null(pagecursor_decode("W10")); /* "[]": not an object */
	free(c);
	json_decref(st);
}

static void test_bad_address(void **state)
{
	const char *yes[] = {"5.1.1", "5.1.0", "5.1.2", "5.1.3", "5.1.6", "5.1.10", "5.2.1"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(suppress_status_means_bad_address(yes[i], NULL));
	const char *no[] = {"5.7.1", "5.3.4", "5.2.2", "5.1.7", "5.1.8", "4.1.1", "5.4.4", "5.0.0", "5.7.26",
	                    "x", "5.1", "5.1.1000"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(suppress_status_means_bad_address(no[i], NULL));
	/* without a status, the reply's enhanced code */
	assert_true(suppress_status_means_bad_address(NULL, "550 5.1.1 <bob@example.net>: no such user"));
	assert_true(suppress_status_means_bad_address(NULL, "550-5.2.1 The mailbox is disabled"));
	assert_false(suppress_status_means_bad_address(NULL, "550 5.7.1 Rejected by policy"));
	assert_false(suppress_status_means_bad_address(NULL, "552 5.3.4 Message too big"));
	assert_false(suppress_status_means_bad_address(NULL, "550 No such user here"));
	assert_false(suppress_status_means_bad_address(NULL, NULL));
	assert_false(suppress_status_means_bad_address(NULL, "55"));
}

static sqlite3 *temp_db(char *dir, config *cfg)
{
	assert_non_null(mkdtemp(dir));
	cfg->data_dir = dir;
	char *err = NULL;
	sqlite3 *db = hooksdb_open(cfg, &err);
	assert_non_null(db);
	return db;
}

static void test_suppress_store(void **state)
{
	char dir[] = "/tmp/yubin-test-hooks-XXXXXX";
	config cfg = {0};
	sqlite3 *db = temp_db(dir, &cfg);
	bool sup = true;
	char *err = NULL;
	sqlite3_stmt *cache = NULL;
	assert_true(suppress_lookup(db, &cache, "Bob@Example.NET", &sup, NULL, &err));
	assert_false(sup);
	assert_int_equal(suppress_add(db, "Bob@Example.NET", "bounce: 550 5.1.1", "bounce", "550 5.1.1 no", "Q1", 100),
	                 SUP_OK);
	assert_int_equal(suppress_add(db, "bob@example.net", "again", "manual", NULL, NULL, 200), SUP_EXISTS);
	suppress_entry e = {0};
	assert_true(suppress_lookup(db, &cache, "BOB@example.net", &sup, &e, &err));
	assert_true(sup);
	assert_string_equal(e.address, "bob@example.net");
	assert_string_equal(e.reason, "bounce: 550 5.1.1"); /* the first reason is kept */
	assert_string_equal(e.source, "bounce");
	assert_string_equal(e.qid, "Q1");
	assert_int_equal(e.created, 100);
	suppress_entry_free(&e);
	/* the kept statement sees an addition and a removal at once */
	assert_int_equal(suppress_add(db, "carol@example.net", "x", "manual", NULL, NULL, 1), SUP_OK);
	assert_true(suppress_lookup(db, &cache, "carol@example.net", &sup, NULL, &err));
	assert_true(sup);
	assert_int_equal(suppress_del(db, "carol@example.net"), SUP_OK);
	assert_true(suppress_lookup(db, &cache, "carol@example.net", &sup, NULL, &err));
	assert_false(sup);
	sqlite3_finalize(cache);
	assert_int_equal(suppress_add(db, "not-an-address", "x", "manual", NULL, NULL, 1), SUP_INVALID);
	char longr[SUPPRESS_REASON_MAX + 2];
	memset(longr, 'r', sizeof longr - 1);
	longr[sizeof longr - 1] = '\0';
	assert_int_equal(suppress_add(db, "c@example.net", longr, "manual", NULL, NULL, 1), SUP_INVALID);
	for (int i = 0; i < 5; i++) {
		char a[32];
		snprintf(a, sizeof a, "u%d@example.org", i);
		assert_int_equal(suppress_add(db, a, "manual", "manual", NULL, NULL, 1), SUP_OK);
	}
	/* pages of 2 return every address once, in order */
	char *after = NULL;
	size_t total = 0;
	for (;;) {
		suppress_entry *v;
		size_t n;
		assert_int_equal(suppress_list(db, after, 2, &v, &n), SUP_OK);
		free(after);
		after = n ? strdup(v[n - 1].address) : NULL;
		total += n;
		for (size_t i = 0; i < n; i++)
			suppress_entry_free(&v[i]);
		free(v);
		if (n < 2)
			break;
	}
	free(after);
	assert_int_equal(total, 6);
	assert_int_equal(suppress_count(db), 6);
	assert_int_equal(suppress_del(db, "BOB@example.net"), SUP_OK);
	assert_int_equal(suppress_del(db, "bob@example.net"), SUP_NOT_FOUND);
	assert_int_equal(suppress_get(db, "bob@example.net", NULL), SUP_NOT_FOUND);
	assert_int_equal(hooksdb_cursor(db), 0);
	assert_true(hooksdb_set_cursor(db, 77));
	assert_int_equal(hooksdb_cursor(db), 77);
	hooksdb_close(&db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_outbox(void **state)
{
	char dir[] = "/tmp/yubin-test-hooks-XXXXXX";
	config cfg = {0};
	sqlite3 *db = temp_db(dir, &cfg);
	int64_t dropped = -1;
	assert_true(outbox_add(db, "evt_1", "https://a.example/h", "{\"n\":1}", 1000, 3, &dropped));
	assert_int_equal(dropped, 0);
	assert_true(outbox_add(db, "evt_1", "https://a.example/h", "{\"n\":1}", 1000, 3, &dropped)); /* same event: once */
	assert_true(outbox_add(db, "evt_1", "https://b.example/h", "{\"n\":1}", 1000, 3, &dropped));
	assert_int_equal(outbox_count(db), 2);
	for (int i = 2; i <= 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "evt_%d", i);
		assert_true(outbox_add(db, id, "https://a.example/h", "{}", 1000 + i, 3, &dropped));
	}
	/* the bound: 3 for a.example; the oldest (evt_1, evt_2) were dropped */
	assert_int_equal(dropped, 1);
	assert_int_equal(outbox_count(db), 4);
	outbox_row *v;
	size_t n;
	assert_true(outbox_claim(db, 999, 60, 10, &v, &n));
	assert_int_equal(n, 0);
	free(v);
	assert_true(outbox_claim(db, 1003, 60, 10, &v, &n));
	assert_int_equal(n, 2); /* evt_1 for b (due 1000) and evt_3 for a (1003) */
	assert_string_equal(v[0].event_id, "evt_1");
	assert_string_equal(v[0].url, "https://b.example/h");
	assert_string_equal(v[1].event_id, "evt_3");
	int64_t id3 = v[1].id, id1 = v[0].id;
	for (size_t i = 0; i < n; i++)
		outbox_row_free(&v[i]);
	free(v);
	/* claimed: not claimed again within the lease */
	assert_true(outbox_claim(db, 1004, 60, 10, &v, &n));
	assert_int_equal(n, 1);
	assert_string_equal(v[0].event_id, "evt_4");
	outbox_row_free(&v[0]);
	free(v);
	assert_true(outbox_reschedule(db, id3, 1, 1100));
	assert_true(outbox_remove(db, id1));
	assert_true(outbox_claim(db, 1100, 60, 10, &v, &n));
	assert_int_equal(n, 3); /* evt_5 (due 1005), evt_4 (its lease ended at 1064), evt_3 again */
	assert_string_equal(v[0].event_id, "evt_5");
	assert_string_equal(v[1].event_id, "evt_4");
	assert_string_equal(v[2].event_id, "evt_3");
	assert_int_equal(v[2].attempts, 1);
	for (size_t i = 0; i < n; i++)
		outbox_row_free(&v[i]);
	free(v);
	assert_int_equal(outbox_count(db), 3);
	hooksdb_close(&db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_whstore(void **state)
{
	char dir[] = "/tmp/yubin-test-hooks-XXXXXX";
	config cfg = {0};
	sqlite3 *db = temp_db(dir, &cfg);
	int64_t id, id2;
	char *secret = NULL, *secret2 = NULL;
	assert_int_equal(whstore_add(db, "shop", "https://a.example/h", 1u << AUDIT_BOUNCED, 100, &id, &secret), WHS_OK);
	assert_int_equal(strncmp(secret, "whsec_", 6), 0);
	assert_int_equal(strlen(secret), 6 + 44);
	assert_int_equal(whstore_add(db, "shop", "https://a.example/h", 1u << AUDIT_BOUNCED, 100, &id2, &secret2),
	                 WHS_EXISTS);
	assert_null(secret2);
	assert_int_equal(whstore_add(db, "shop", "https://b.example/h", 1u << AUDIT_DELIVERED, 101, &id2, &secret2),
	                 WHS_OK);
	assert_string_not_equal(secret, secret2);
	/* another key: its own endpoints, the same url too */
	int64_t id3;
	char *secret3 = NULL;
	assert_int_equal(whstore_add(db, "news", "https://a.example/h", 1u << AUDIT_BOUNCED, 102, &id3, &secret3),
	                 WHS_OK);
	webhook_defs *d = whstore_defs(db);
	assert_non_null(d);
	assert_int_equal(d->n, 3);
	assert_string_equal(d->v[0].host, "a.example");
	assert_string_equal(d->v[0].apikey, "shop");
	assert_string_equal(d->v[2].apikey, "news");
	assert_int_equal(d->v[0].key_len, 32);
	size_t klen;
	unsigned char *k = whsign_key(secret, &klen);
	assert_memory_equal(k, d->v[0].key, 32);
	free(k);
	webhook_defs_free(&d);
	whstore_entry *v;
	size_t n;
	assert_int_equal(whstore_list(db, "shop", &v, &n), WHS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].id, id2);
	assert_int_equal(v[1].kinds, 1u << AUDIT_DELIVERED);
	assert_int_equal(v[1].created, 101);
	for (size_t i = 0; i < n; i++)
		free(v[i].url);
	free(v);
	assert_int_equal(whstore_list(db, "news", &v, &n), WHS_OK);
	assert_int_equal(n, 1);
	free(v[0].url);
	free(v);
	/* a key cannot delete another's */
	assert_int_equal(whstore_del(db, "news", id), WHS_NOT_FOUND);
	assert_int_equal(whstore_del(db, "shop", id), WHS_OK);
	assert_int_equal(whstore_del(db, "shop", id), WHS_NOT_FOUND);
	free(secret);
	free(secret2);
	free(secret3);
	/* the bound is per key */
	for (int i = 1; i < WEBHOOK_ENDPOINTS_MAX; i++) {
		char url[64];
		snprintf(url, sizeof url, "https://h%d.example/", i);
		assert_int_equal(whstore_add(db, "shop", url, 1, 1, &id, &secret), WHS_OK);
		free(secret);
	}
	assert_int_equal(whstore_add(db, "shop", "https://one-more.example/", 1, 1, &id, &secret), WHS_FULL);
	assert_int_equal(whstore_add(db, "news", "https://one-more.example/", 1, 1, &id, &secret), WHS_OK);
	free(secret);
	hooksdb_close(&db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Read webhooks.endpoints from text; the errors into errs. */
static webhook_defs *read_conf(const char *text, strlist *errs)
{
	config_t cf;
	config_init(&cf);
	assert_int_equal(config_read_string(&cf, text), CONFIG_TRUE);
	const config_setting_t *s = config_lookup(&cf, "webhooks.endpoints");
	assert_non_null(s);
	webhook_defs *d = webhook_defs_read(s, "yubin.conf", errs);
	config_destroy(&cf);
	return d;
}

static void test_config(void **state)
{
	strlist errs;
	strlist_init(&errs);
	webhook_defs *d = read_conf("webhooks: { endpoints = (\n"
	                            "  { url = \"https://app.example:8443/hooks\"; secret = \"s3cret\";\n"
	                            "    events = [\"delivered\", \"bounced\"]; },\n"
	                            "  { url = \"https://b.example/x\"; secret = \"whsec_YWJj\"; } ); };",
	                            &errs);
	assert_int_equal(errs.n, 0);
	assert_non_null(d);
	assert_int_equal(d->n, 2);
	assert_string_equal(d->v[0].host, "app.example:8443");
	assert_int_equal(d->v[0].kinds, (1u << AUDIT_DELIVERED) | (1u << AUDIT_BOUNCED));
	assert_int_equal(d->v[1].key_len, 3);
	/* by default every event but received */
	assert_true(d->v[1].kinds & (1u << AUDIT_SUPPRESSED));
	assert_false(d->v[1].kinds & (1u << AUDIT_RECEIVED));
	assert_ptr_equal(webhook_defs_find(d, "https://b.example/x"), &d->v[1]);
	webhook_defs_free(&d);

	d = read_conf("webhooks: { endpoints = (\n"
	              "  { url = \"http://app.example/hooks\"; secret = \"whsec_!!!!\"; },\n"
	              "  { url = \"https://u:pw@app.example/\"; secret = \"x\"; secret_file = \"/y\"; },\n"
	              "  { url = \"https://c.example/\"; secret_file = \"/nonexistent/secret\"; colour = 1;\n"
	              "    events = [\"opened\"]; } ); };",
	              &errs);
	assert_null(d);
	char *all = strlist_join(&errs, "\n");
	assert_non_null(strstr(all, "yubin.conf:2: webhooks.endpoints: \"http://app.example/hooks\" is not an https:// URL"));
	assert_non_null(strstr(all, "yubin.conf:2: webhooks.endpoints: endpoint \"http://app.example/hooks\": a secret starting whsec_ must be base64"));
	assert_non_null(strstr(all, "yubin.conf:3: webhooks.endpoints: \"https://u:pw@app.example/\" is not an https:// URL"));
	assert_non_null(strstr(all, "needs one of secret or secret_file"));
	assert_non_null(strstr(all, "yubin.conf:4: webhooks.endpoints: cannot read the secret file /nonexistent/secret"));
	assert_non_null(strstr(all, "yubin.conf:4: webhooks.endpoints: unknown setting \"colour\""));
	assert_non_null(strstr(all, "yubin.conf:5: webhooks.endpoints: an event must be"));
	/* never the secret itself */
	assert_null(strstr(all, "!!!!"));
	free(all);
	strlist_free(&errs);
}

static void test_url_host(void **state)
{
	char *h = webhook_url_host("https://hooks.example/path?q=1");
	assert_string_equal(h, "hooks.example");
	free(h);
	h = webhook_url_host("https://[::1]:8443");
	assert_string_equal(h, "[::1]:8443");
	free(h);
	assert_null(webhook_url_host("https:///x"));
	assert_null(webhook_url_host("ftp://x/"));
	assert_null(webhook_url_host("https://a b/"));
	assert_null(webhook_url_host("https://user@host/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature),     cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_event_json),    cmocka_unit_test(test_times),
		cmocka_unit_test(test_cursor),        cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_suppress_store), cmocka_unit_test(test_outbox),
		cmocka_unit_test(test_config),        cmocka_unit_test(test_url_host),
		cmocka_unit_test(test_whstore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
