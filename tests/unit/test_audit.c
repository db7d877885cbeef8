/* test_audit.c — unit tests for the audit trail: the canonical byte form
 * and hash of a record (audit/chain.c: same record, same hash; any field
 * changed, another), the --since / --until forms and state names
 * (audit/facts.c), strings made safe for JSON, and a trail in a temporary
 * folder written by the writer thread, read back, verified, tampered
 * with (verify names the record) and pruned (verify still passes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit_int.h"

static audit_record sample(json_t *data)
{
	return (audit_record){.id = 7, .time_ms = 1764547200123, .kind = AUDIT_DELIVERED, .qid = (char *)"Q1",
	                      .rcpt = (char *)"bob@example.org", .data = data};
}

static void test_canonical_form(void **state)
{
	json_t *d = json_pack("{s:s, s:i, s:b}", "reply", "250 ok", "code", 250, "tls", 1);
	audit_record r = sample(d);
	char *dt = audit_data_text(d);
	char *c = audit_canonical(&r, dt, AUDIT_GENESIS);
	assert_string_equal(c, "{\"data\":{\"code\":250,\"reply\":\"250 ok\",\"tls\":true},\"id\":7,"
	                       "\"kind\":\"delivered\",\"prev\":\"" AUDIT_GENESIS "\",\"qid\":\"Q1\","
	                       "\"rcpt\":\"bob@example.org\",\"time\":1764547200123}");
	free(c);
	r.qid = NULL;
	r.rcpt = NULL;
	c = audit_canonical(&r, dt, "ab");
	assert_non_null(strstr(c, "\"qid\":null,\"rcpt\":null"));
	free(c);
	free(dt);
	json_decref(d);
}

/* The form as it was first written: the record as one jansson object,
 * dumped with sorted keys.  Trails stored then must verify now. */
static char *one_object_dump(const audit_record *rec, const char *prev)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(rec->id));
	json_object_set_new(o, "time", json_integer(rec->time_ms));
	json_object_set_new(o, "kind", json_string(audit_kind_name(rec->kind)));
	json_object_set_new(o, "qid", rec->qid ? json_string(rec->qid) : json_null());
	json_object_set_new(o, "rcpt", rec->rcpt ? json_string(rec->rcpt) : json_null());
	json_object_set_new(o, "data", json_incref(rec->data));
	json_object_set_new(o, "prev", json_string(prev));
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(o);
	return s;
}

static void test_canonical_matches_the_one_object_form(void **state)
{
	static const char *const texts[] = {
		"plain", "", "with \"quotes\" and \\ back\\slash", "tab\there\nnewline\r\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa8", "\"<odd local>\"@example.org", "a/b",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		json_t *d = json_pack("{s:s, s:i, s:[s, s], s:{s:s, s:n}, s:f}", "reply", texts[i], "code", -250,
		                      "rcpts", texts[i], "x", "nested", "b", texts[i], "a", "real", 0.1);
		audit_record r = sample(d);
		r.id = (int64_t)i * 1000000007LL;
		r.rcpt = (char *)texts[i];
		r.qid = i % 2 ? NULL : (char *)texts[i];
		r.kind = (audit_kind)(i % AUDIT_KIND_COUNT);
		char *dt = audit_data_text(d);
		char *now = audit_canonical(&r, dt, i % 3 ? AUDIT_GENESIS : texts[i]);
		char *then = one_object_dump(&r, i % 3 ? AUDIT_GENESIS : texts[i]);
		assert_string_equal(now, then);
		free(now);
		free(then);
		free(dt);
		json_decref(d);
	}
}

static void test_hash_changes(void **state)
{
	json_t *d = json_pack("{s:s}", "reply", "250 ok");
	audit_record r = sample(d);
	char h0[65], h[65];
#define HASH(rec, prev, out) do { \
		char *t_ = audit_data_text((rec)->data); \
		audit_record_hash((rec), t_, (prev), (out)); \
		free(t_); \
	} while (0)
	HASH(&r, AUDIT_GENESIS, h0);
	assert_int_equal(strlen(h0), 64);
	HASH(&r, AUDIT_GENESIS, h);
	assert_string_equal(h0, h); /* same record, same hash */
	/* key order in the data does not matter (sorted keys) */
	json_t *d2 = json_pack("{s:s, s:s}", "b", "2", "a", "1"), *d3 = json_pack("{s:s, s:s}", "a", "1", "b", "2");
	audit_record r2 = sample(d2), r3 = sample(d3);
	HASH(&r2, AUDIT_GENESIS, h);
	HASH(&r3, AUDIT_GENESIS, h0 + 0);
	assert_string_equal(h0, h);
	HASH(&r, AUDIT_GENESIS, h0);
	/* every field changed gives another hash */
	audit_record v;
	v = r; v.id = 8; HASH(&v, AUDIT_GENESIS, h); assert_string_not_equal(h, h0);
	v = r; v.time_ms++; HASH(&v, AUDIT_GENESIS, h); assert_string_not_equal(h, h0);
	v = r; v.kind = AUDIT_BOUNCED; HASH(&v, AUDIT_GENESIS, h); assert_string_not_equal(h, h0);
	v = r; v.qid = (char *)"Q2"; HASH(&v, AUDIT_GENESIS, h); assert_string_not_equal(h, h0);
	v = r; v.qid = NULL; HASH(&v, AUDIT_GENESIS, h); assert_string_not_equal(h, h0);
	v = r; v.rcpt = (char *)"bob@example.net"; HASH(&v, AUDIT_GENESIS, h); assert_string_not_equal(h, h0);
	json_t *d4 = json_pack("{s:s}", "reply", "250 OK");
	v = r; v.data = d4; HASH(&v, AUDIT_GENESIS, h); assert_string_not_equal(h, h0);
	HASH(&r, "1111111111111111111111111111111111111111111111111111111111111111", h);
	assert_string_not_equal(h, h0); /* the previous hash is covered */
	json_decref(d);
	json_decref(d2);
	json_decref(d3);
	json_decref(d4);
#undef HASH
}

static void test_kind_names(void **state)
{
	for (int k = 0; k < AUDIT_KIND_COUNT; k++)
		assert_int_equal(audit_kind_parse(audit_kind_name((audit_kind)k)), k);
	assert_int_equal(audit_kind_parse("BOUNCED"), AUDIT_BOUNCED);
	assert_int_equal(audit_kind_parse("nope"), -1);
	assert_int_equal(audit_kind_parse(NULL), -1);
}

static void test_parse_when(void **state)
{
	const int64_t now = 1764547200000; /* 2025-12-01T00:00:00Z */
	static const struct { const char *in; int64_t want; } good[] = {
		{"2d", 1764547200000 - 2 * 86400000LL},
		{"12h", 1764547200000 - 12 * 3600000LL},
		{"30m", 1764547200000 - 30 * 60000LL},
		{"1w", 1764547200000 - 7 * 86400000LL},
		{"0s", 1764547200000},
		{"2026-12-01", 1796083200000},
		{"2026-12-01T10:30", 1796083200000 + 37800000},
		{"2026-12-01 10:30:15", 1796083200000 + 37815000},
		{"@1764547200", 1764547200000},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t ms = -1;
		char *err = NULL;
		assert_true(audit_parse_when(good[i].in, now, &ms, &err));
		assert_int_equal(ms, good[i].want);
	}
	static const char *const bad[] = {"", "d", "2", "2x", "-2d", "2dd", "2026-13-01", "2026-02-31",
	                                  "2026-12-01X10:30", "2026-12-1", "2026-12-01T25:00", "@", "@x",
	                                  "yesterday", "2d ", "999999999d"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = 0;
		char *err = NULL;
		assert_false(audit_parse_when(bad[i], now, &ms, &err));
		assert_non_null(strstr(err, "is not a time"));
		free(err);
	}
	assert_true(audit_status_valid("bounced"));
	assert_true(audit_status_valid("delivered"));
	assert_true(audit_status_valid("deferred"));
	assert_false(audit_status_valid("Bounced"));
	assert_false(audit_status_valid("lost"));
}

static void test_str_safe(void **state)
{
	json_t *j = audit_str("caf\xc3\xa9 \xff!");
	assert_string_equal(json_string_value(j), "caf\xc3\xa9 ?!");
	json_decref(j);
	j = audit_str(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
	char big[AUDIT_STR_MAX + 100];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	j = audit_str(big);
	assert_int_equal(json_string_length(j), AUDIT_STR_MAX);
	json_decref(j);
	json_t *o = json_object();
	audit_set(o, "a", "");
	audit_set(o, "b", NULL);
	audit_set(o, "c", "x");
	assert_int_equal(json_object_size(o), 1);
	json_decref(o);
}

static void test_subject_form(void **state)
{
	config *cfg = config_new_defaults();
	char *s = audit_subject_form(cfg, "Hello");
	/* sha256("Hello") */
	assert_string_equal(s, "sha256:185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969");
	free(s);
	free(cfg->audit.subject);
	cfg->audit.subject = xstrdup("plain");
	s = audit_subject_form(cfg, "Hello");
	assert_string_equal(s, "Hello");
	free(s);
	free(cfg->audit.subject);
	cfg->audit.subject = xstrdup("off");
	assert_null(audit_subject_form(cfg, "Hello"));
	config_free(&cfg);
}

/* ---- a real trail in a temporary folder ---- */

static config *temp_trail(char dir[64])
{
	strcpy(dir, "/tmp/test_audit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	config *cfg = config_new_defaults();
	free(cfg->data_dir);
	cfg->data_dir = xstrdup(dir);
	return cfg;
}

static void remove_trail(config *cfg, const char *dir)
{
	static const char *const files[] = {"audit.db", "audit.db-wal", "audit.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	config_free(&cfg);
}

static void exec_sql(const char *dir, const char *sql)
{
	char *p = xasprintf("%s/audit.db", dir);
	sqlite3 *h;
	assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	free(p);
}

static bool verify(const config *cfg, int64_t *n, char **err)
{
	char *e = NULL;
	audit_reader *r = audit_reader_open(cfg, &e);
	assert_non_null(r);
	bool ok = audit_verify(r, n, err);
	audit_reader_close(&r);
	return ok;
}

static void emit_message(const char *qid, const char *sender, const char *rcpt, audit_kind final)
{
	audit_emit(AUDIT_RECEIVED, qid, NULL,
	           json_pack("{s:s, s:s, s:s, s:[s]}", "listener", "submission", "client_ip", "127.0.0.1",
	                     "sender", sender, "rcpts", rcpt));
	audit_emit(final, qid, rcpt, json_pack("{s:s, s:s}", "rcpt", rcpt, "reply", "250 2.0.0 ok"));
}

static void test_trail_round_trip(void **state)
{
	char dir[64];
	config *cfg = temp_trail(dir);
	char *err = NULL;
	audit_emit(AUDIT_RECEIVED, "QX", NULL, NULL); /* not open: dropped, no crash */
	assert_true(audit_open(cfg, &err));
	assert_true(audit_is_open());
	emit_message("Q1", "alice@example.org", "bob@example.net", AUDIT_DELIVERED);
	emit_message("Q2", "carol@example.org", "dan@example.net", AUDIT_BOUNCED);
	for (int i = 0; i < 3; i++) /* READ twice: kept once */
		audit_emit(i < 2 ? AUDIT_READ : AUDIT_DELETED, "Q1", "bob@example.net",
		           json_pack("{s:s, s:s}", "mailbox", "bob@example.net", "protocol", "imap"));
	audit_sync();
	audit_close();
	assert_false(audit_is_open());

	audit_reader *r = audit_reader_open(cfg, &err);
	assert_non_null(r);
	audit_records rs;
	audit_filter f = {.qid = "Q1"};
	if (!audit_query(r, &f, &rs, &err))
		fail_msg("%s", err);
	assert_int_equal(rs.n, 4); /* received, delivered, read, deleted */
	assert_int_equal(rs.v[0].kind, AUDIT_RECEIVED);
	assert_int_equal(rs.v[2].kind, AUDIT_READ);
	assert_int_equal(rs.v[3].kind, AUDIT_DELETED);
	audit_records_free(&rs);
	f = (audit_filter){.status = "bounced"};
	if (!audit_query(r, &f, &rs, &err))
		fail_msg("%s", err);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.v[0].qid, "Q2");
	audit_records_free(&rs);
	f = (audit_filter){.sender = "ALICE@example.org", .kinds = 1u << AUDIT_DELIVERED};
	if (!audit_query(r, &f, &rs, &err))
		fail_msg("%s", err);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.v[0].rcpt, "bob@example.net");
	audit_records_free(&rs);
	f = (audit_filter){.rcpt = "dan@example.net", .limit = 1};
	if (!audit_query(r, &f, &rs, &err))
		fail_msg("%s", err);
	assert_int_equal(rs.n, 1);
	audit_records_free(&rs);
	json_t *st = audit_message_state(r, "Q2", &err);
	assert_string_equal(json_string_value(json_object_get(json_array_get(st, 0), "state")), "bounced");
	json_decref(st);
	assert_null(audit_message_state(r, "nope", &err));
	uint32_t(*hours)[4];
	size_t nh;
	int64_t now = audit_now_ms();
	assert_true(audit_hourly(r, now - 3600000, now + 1, &hours, &nh, &err));
	assert_int_equal(nh, 2);
	assert_int_equal(hours[0][0] + hours[1][0], 2); /* received */
	assert_int_equal(hours[0][3] + hours[1][3], 1); /* bounced */
	free(hours);
	audit_reader_close(&r);

	int64_t n;
	assert_true(verify(cfg, &n, &err));
	assert_int_equal(n, 6);
	/* an edited row is named */
	exec_sql(dir, "UPDATE records SET data = replace(data, 'dan@', 'eve@') WHERE id = 3");
	assert_false(verify(cfg, &n, &err));
	assert_non_null(strstr(err, "record 3:"));
	free(err);
	err = NULL;
	exec_sql(dir, "UPDATE records SET data = replace(data, 'eve@', 'dan@') WHERE id = 3");
	assert_true(verify(cfg, &n, &err));
	/* the hash covers the stored text: a blank that leaves the JSON value
	 * the same is an edit too */
	exec_sql(dir, "UPDATE records SET data = replace(data, '{\"', '{ \"') WHERE id = 3");
	assert_false(verify(cfg, &n, &err));
	assert_non_null(strstr(err, "record 3:"));
	free(err);
	err = NULL;
	exec_sql(dir, "UPDATE records SET data = replace(data, '{ \"', '{\"') WHERE id = 3");
	assert_true(verify(cfg, &n, &err));
	/* a deleted row too */
	exec_sql(dir, "DELETE FROM records WHERE id = 4");
	assert_false(verify(cfg, &n, &err));
	assert_non_null(strstr(err, "record 4: missing"));
	free(err);
	err = NULL;
	remove_trail(cfg, dir);
}

/* A database that cannot be written (here: locked by another connection)
 * never makes audit_emit wait, not even past AUDIT_BACKLOG_MAX records:
 * the trail says it is backlogged instead (SMTP then refuses new mail for
 * now), and stores every record once the database is back. */
static void test_backlog_never_blocks(void **state)
{
	char dir[64];
	config *cfg = temp_trail(dir);
	char *err = NULL;
	assert_true(audit_open(cfg, &err));
	char *p = xasprintf("%s/audit.db", dir);
	sqlite3 *lock;
	assert_int_equal(sqlite3_open(p, &lock), SQLITE_OK);
	free(p);
	sqlite3_busy_timeout(lock, 10000); /* the writer's prune at start */
	assert_int_equal(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	assert_false(audit_backlogged());
	for (int i = 0; i <= AUDIT_BACKLOG_MAX; i++)
		audit_emit(AUDIT_POLICY, NULL, NULL, json_pack("{s:s, s:i}", "stage", "connect", "n", i));
	assert_true(audit_backlogged());
	assert_int_equal(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	audit_sync();
	assert_false(audit_backlogged());
	audit_close();
	int64_t n;
	assert_true(verify(cfg, &n, &err));
	assert_int_equal(n, AUDIT_BACKLOG_MAX + 1);
	remove_trail(cfg, dir);
}

static void test_prune_keeps_chain(void **state)
{
	char dir[64];
	config *cfg = temp_trail(dir);
	char *err = NULL;
	assert_true(audit_open(cfg, &err));
	emit_message("Q1", "a@example.org", "b@example.net", AUDIT_DELIVERED);
	audit_sync();
	audit_close();
	/* make the first message old */
	exec_sql(dir, "PRAGMA journal_mode=WAL");
	char *p = xasprintf("%s/audit.db", dir);
	int64_t old = audit_now_ms() - 10 * 86400000LL;
	sqlite3 *h;
	assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
	char *sql = xasprintf("UPDATE messages SET time_ms = %lld", (long long)old);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	sqlite3_close(h);
	free(p);
	/* the times are hashed: old records are made by emitting now and
	 * pruning with 0 days, which removes everything before now */
	int64_t n;
	assert_int_equal(audit_prune(cfg, 0, &err), 2);
	assert_true(verify(cfg, &n, &err));
	assert_int_equal(n, 1); /* the PRUNED record alone */
	assert_true(audit_open(cfg, &err));
	emit_message("Q2", "a@example.org", "c@example.net", AUDIT_DELIVERED);
	audit_sync();
	audit_close();
	assert_true(verify(cfg, &n, &err));
	assert_int_equal(n, 3);
	assert_int_equal(audit_prune(cfg, 30, &err), 0); /* nothing that old */
	assert_int_equal(audit_prune(cfg, 0, &err), 3);
	assert_true(verify(cfg, &n, &err));
	assert_int_equal(n, 1);
	audit_reader *r = audit_reader_open(cfg, &err);
	assert_null(audit_message_state(r, "Q1", &err)); /* its summary went too */
	audit_reader_close(&r);
	/* deleting the PRUNED record's predecessor-less start is caught */
	exec_sql(dir, "UPDATE records SET data = replace(data, '\"removed\":3', '\"removed\":2')");
	assert_false(verify(cfg, &n, &err));
	free(err);
	remove_trail(cfg, dir);
}

/* The server's writer prunes by audit.retention_days at start (and daily):
 * records made 10 days ago go, the chain still verifies. */
static void test_writer_prunes_at_start(void **state)
{
	char dir[64];
	config *cfg = temp_trail(dir);
	char *err = NULL;
	audit_db *db = audit_db_open_rw(cfg, &err);
	assert_non_null(db);
	audit_tip tip;
	assert_true(audit_db_exec(db, "BEGIN IMMEDIATE"));
	assert_true(audit_db_tip(db, &tip, &err));
	int64_t old = audit_now_ms() - 10 * 86400000LL;
	for (int i = 0; i < 5; i++) {
		json_t *d = json_pack("{s:s, s:[s]}", "sender", "a@example.org", "rcpts", "b@example.org");
		audit_record rec = {.time_ms = old + i, .kind = AUDIT_RECEIVED, .qid = (char *)"OLD", .data = d};
		bool stored;
		assert_true(audit_db_append(db, &rec, &tip, &stored));
		assert_true(stored);
		json_decref(d);
	}
	assert_true(audit_db_exec(db, "COMMIT"));
	audit_db_close(&db);
	cfg->audit.retention_days = 3;
	assert_true(audit_open(cfg, &err));
	emit_message("NEW", "a@example.org", "c@example.org", AUDIT_DELIVERED);
	audit_sync();
	audit_close();
	int64_t n;
	assert_true(verify(cfg, &n, &err));
	assert_int_equal(n, 3); /* the two new records and the PRUNED one */
	audit_reader *r = audit_reader_open(cfg, &err);
	audit_records rs;
	audit_filter f = {.kinds = 1u << AUDIT_PRUNED};
	assert_true(audit_query(r, &f, &rs, &err));
	assert_int_equal(rs.n, 1);
	assert_int_equal(json_integer_value(json_object_get(rs.v[0].data, "removed")), 5);
	assert_int_equal(json_integer_value(json_object_get(rs.v[0].data, "first_id")), 6);
	audit_records_free(&rs);
	assert_null(audit_message_state(r, "OLD", &err));
	audit_reader_close(&r);
	remove_trail(cfg, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_form),  cmocka_unit_test(test_hash_changes),
		cmocka_unit_test(test_canonical_matches_the_one_object_form),
		cmocka_unit_test(test_kind_names),      cmocka_unit_test(test_parse_when),
		cmocka_unit_test(test_str_safe),        cmocka_unit_test(test_subject_form),
		cmocka_unit_test(test_trail_round_trip), cmocka_unit_test(test_prune_keeps_chain),
		cmocka_unit_test(test_backlog_never_blocks),
		cmocka_unit_test(test_writer_prunes_at_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
