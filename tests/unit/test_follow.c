/* test_follow.c — the audit-trail follower (api/follow.c) against a real
 * trail in a temporary folder: a bounce that says the address is bad
 * suppresses it (and emits a SUPPRESSED record, which is followed in
 * turn), a policy refusal does not, every event an endpoint asked for is
 * queued once, and the cursor makes a second pass a no-op. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/event.h"
#include "api/follow.h"
#include "api/hooksdb.h"
#include "api/outbox.h"
#include "api/suppress.h"
#include "audit/audit.h"

static void bounce(const char *qid, const char *rcpt, const char *status, const char *reply)
{
	audit_emit(AUDIT_BOUNCED, qid, rcpt, json_pack("{s:s, s:s, s:s}", "rcpt", rcpt, "status", status, "reply", reply));
}

static size_t step(follower *f)
{
	bool more = true;
	char *err = NULL;
	if (!follow_step(f, &more, &err))
		fail_msg("follow_step: %s", err);
	assert_false(more);
	return 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The outbox's event types, sorted, as "type:recipient" joined by ' '. */
static char *outbox_types(sqlite3 *db)
{
	outbox_row *v;
	size_t n;
	assert_true(outbox_claim(db, INT64_MAX / 2, 0, 100, &v, &n));
	strlist l;
	strlist_init(&l);
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_loads(v[i].body, 0, NULL);
		assert_non_null(j);
		strlist_add_owned(&l, xasprintf("%s:%s", json_string_value(json_object_get(j, "type")),
		                                json_string_value(json_object_get(j, "recipient"))));
		assert_string_equal(v[i].event_id, json_string_value(json_object_get(j, "id")));
		json_decref(j);
		outbox_row_free(&v[i]);
	}
	free(v);
	qsort(l.items, l.n, sizeof(l.items[0]), by_string);
	char *s = strlist_join(&l, " ");
	strlist_free(&l);
	return s;
}

/* A configuration whose data_dir is a new directory, with the trail open. */
static config *trail_open(void)
{
	char dir[] = "/tmp/yubin-test-follow-XXXXXX";
	assert_non_null(mkdtemp(dir));
	config *cfg = config_new_defaults();
	free(cfg->data_dir);
	cfg->data_dir = xstrdup(dir);
	char *err = NULL;
	assert_true(audit_open(cfg, &err));
	return cfg;
}

static void trail_close(config *cfg)
{
	audit_close();
	char *cmd = xasprintf("rm -rf %s", cfg->data_dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	config_free(&cfg);
}

/* Without endpoints only bounces are read, and the cursor still moves
 * past every record; a full batch stops at its last record and says so. */
static void test_follow_reads_only_what_is_wanted(void **state)
{
	config *cfg = trail_open();
	char *err = NULL;
	follower *f = follower_new(cfg, NULL);
	for (int i = 0; i < 3; i++)
		audit_emit(AUDIT_RECEIVED, "Q1", NULL, json_pack("{s:s, s:[s]}", "sender", "a@example.org", "rcpts",
		                                                  "b@example.net"));
	audit_emit(AUDIT_DELIVERED, "Q1", "b@example.net", json_pack("{s:s}", "reply", "250 ok"));
	audit_sync();
	step(f);
	sqlite3 *db = hooksdb_open(cfg, &err);
	assert_non_null(db);
	assert_int_equal(hooksdb_cursor(db), 4);
	assert_int_equal(outbox_count(db), 0);

	/* FOLLOW_BATCH + 2 bounces: two steps, the first a full batch */
	for (int i = 0; i < FOLLOW_BATCH + 2; i++) {
		char *rcpt = xasprintf("gone%d@example.net", i);
		bounce("Q2", rcpt, "5.1.1", "550 5.1.1 no such user");
		free(rcpt);
	}
	audit_sync();
	bool more = false;
	assert_true(follow_step(f, &more, &err));
	assert_true(more);
	assert_int_equal(hooksdb_cursor(db), 4 + FOLLOW_BATCH);
	assert_int_equal(suppress_count(db), FOLLOW_BATCH);
	assert_true(follow_step(f, &more, &err));
	assert_false(more);
	assert_int_equal(suppress_count(db), FOLLOW_BATCH + 2);
	/* the SUPPRESSED records those steps emitted are not wanted here: skipped */
	audit_sync();
	step(f);
	assert_int_equal(hooksdb_cursor(db), 4 + 2 * (FOLLOW_BATCH + 2));

	follower_free(&f);
	hooksdb_close(&db);
	trail_close(cfg);
}

static void test_follow(void **state)
{
	config *cfg = trail_open();
	char *err = NULL;

	follower *f = follower_new(cfg, NULL);
	/* no records yet: nothing to do */
	step(f);

	audit_emit(AUDIT_RECEIVED, "Q1", NULL, json_pack("{s:s, s:[s,s,s]}", "sender", "a@example.org", "rcpts",
	                                                  "Bob@Example.NET", "carol@example.net", "dan@example.net"));
	bounce("Q1", "Bob@Example.NET", "5.1.1", "550 5.1.1 no such user");
	bounce("Q1", "carol@example.net", "5.7.1", "550 5.7.1 refused by policy");
	audit_emit(AUDIT_DELIVERED, "Q1", "dan@example.net", json_pack("{s:s, s:s}", "rcpt", "dan@example.net", "reply", "250 ok"));
	audit_emit(AUDIT_ATTEMPT, "Q1", NULL, json_pack("{s:[s], s:s}", "rcpts", "dan@example.net", "reply", "250 ok"));
	audit_sync();

	/* one endpoint for delivered, bounced and suppressed */
	strlist errs;
	strlist_init(&errs);
	config_t cf;
	config_init(&cf);
	assert_int_equal(config_read_string(&cf, "e = ( { url = \"https://h.example/x\"; secret = \"s\";"
	                                          " events = [\"delivered\", \"bounced\", \"suppressed\"]; } );"),
	                 CONFIG_TRUE);
	webhook_defs *defs = webhook_defs_read(config_lookup(&cf, "e"), "t.conf", &errs);
	config_destroy(&cf);
	assert_non_null(defs);
	follower_free(&f);
	f = follower_new(cfg, defs);
	step(f);

	sqlite3 *db = hooksdb_open(cfg, &err);
	assert_non_null(db);
	suppress_entry e = {0};
	assert_int_equal(suppress_get(db, "bob@example.net", &e), SUP_OK);
	assert_string_equal(e.source, "bounce");
	assert_string_equal(e.qid, "Q1");
	assert_string_equal(e.reply, "550 5.1.1 no such user");
	assert_string_equal(e.reason, "bounce: 550 5.1.1 no such user");
	suppress_entry_free(&e);
	assert_int_equal(suppress_get(db, "carol@example.net", NULL), SUP_NOT_FOUND);
	char *types = outbox_types(db);
	assert_string_equal(types, "bounced:Bob@Example.NET bounced:carol@example.net delivered:dan@example.net");
	free(types);

	/* the SUPPRESSED record the step emitted is followed next */
	audit_sync();
	step(f);
	types = outbox_types(db);
	assert_string_equal(types, "bounced:Bob@Example.NET bounced:carol@example.net delivered:dan@example.net "
	                           "suppressed:bob@example.net");
	free(types);
	long long cursor = hooksdb_cursor(db);
	assert_true(cursor >= 6);

	/* a new follower (a restart) starts at the cursor: nothing twice */
	follower_free(&f);
	f = follower_new(cfg, defs);
	step(f);
	assert_int_equal(outbox_count(db), 4);
	assert_int_equal(hooksdb_cursor(db), cursor);
	/* the same bounce again (another message): listed once, no new SUPPRESSED */
	bounce("Q2", "bob@example.net", "5.1.1", "550 5.1.1 still no such user");
	audit_sync();
	step(f);
	audit_sync();
	step(f);
	assert_int_equal(suppress_count(db), 1);
	assert_int_equal(outbox_count(db), 5);

	audit_reader *r = audit_reader_open(cfg, &err);
	audit_records rs;
	audit_filter flt = {.kinds = 1u << AUDIT_SUPPRESSED};
	assert_true(audit_query(r, &flt, &rs, &err));
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.v[0].rcpt, "bob@example.net");
	assert_string_equal(json_string_value(json_object_get(rs.v[0].data, "source")), "bounce");
	audit_records_free(&rs);
	audit_reader_close(&r);

	follower_free(&f);
	hooksdb_close(&db);
	webhook_defs_free(&defs);
	trail_close(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_follow_reads_only_what_is_wanted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
