/* db.c — the layout of data_dir/audit.db and the append of one record:
 * the records table (the chain) and the summary tables kept from it in
 * the same transaction (messages: one row per message received;
 * message_rcpts: each recipient's current state, last reply, first read
 * and deletion), so that trace queries by sender, recipient and state use
 * indexes.  Must not decide when to write (store.c) or read for users
 * (query.c). */
#include "audit/audit_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/sqlsetup.h"

/* messages is keyed by its primary key alone (WITHOUT ROWID): one B-tree
 * instead of a table and its key's index, for every message stored.
 * message_rcpts keeps its rowid: a message's recipients are listed in the
 * order they were added.  Trails made before keep their layout; the
 * statements are the same for both. */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS records ("
	" id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
	" qid TEXT, rcpt TEXT, data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS records_qid ON records(qid, id);"
	/* no query looks records up by rcpt (message_rcpts answers that):
	 * an index on it cost every append and is dropped from older trails */
	"DROP INDEX IF EXISTS records_rcpt;"
	"CREATE INDEX IF NOT EXISTS records_time ON records(time_ms);"
	"CREATE TABLE IF NOT EXISTS messages ("
	" qid TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, sender TEXT NOT NULL COLLATE NOCASE,"
	" listener TEXT, client_ip TEXT, user TEXT, apikey TEXT, size INTEGER, message_id TEXT,"
	" subject TEXT) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS messages_sender ON messages(sender, time_ms);"
	"CREATE INDEX IF NOT EXISTS messages_time ON messages(time_ms);"
	"CREATE INDEX IF NOT EXISTS messages_apikey ON messages(apikey, time_ms);"
	"CREATE TABLE IF NOT EXISTS message_rcpts ("
	" qid TEXT NOT NULL, rcpt TEXT NOT NULL COLLATE NOCASE, state TEXT NOT NULL, reply TEXT,"
	" time_ms INTEGER NOT NULL, read_ms INTEGER, deleted_ms INTEGER, PRIMARY KEY (qid, rcpt));"
	"CREATE INDEX IF NOT EXISTS message_rcpts_rcpt ON message_rcpts(rcpt);"
	"CREATE INDEX IF NOT EXISTS message_rcpts_state ON message_rcpts(state, time_ms);";

typedef enum {
	ST_TIP, ST_INSERT, ST_MESSAGE, ST_RCPT_NEW, ST_RCPT_STATE, ST_SEEN_GET, ST_READ, ST_DELETED, ST_REMOVED,
	ST_COUNT
} stmt_id;

static const char *const stmt_sql[ST_COUNT] = {
	[ST_TIP] = "SELECT id, hash FROM records ORDER BY id DESC LIMIT 1",
	[ST_INSERT] = "INSERT INTO records (id, time_ms, kind, qid, rcpt, data, prev_hash, hash)"
	              " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_MESSAGE] = "INSERT OR REPLACE INTO messages (qid, time_ms, sender, listener, client_ip, user,"
	               " apikey, size, message_id, subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_RCPT_NEW] = "INSERT OR IGNORE INTO message_rcpts (qid, rcpt, state, time_ms)"
	                " VALUES (?, ?, 'queued', ?)",
	/* a deferral from an attempt that was running when `queue delete`
	 * removed the message does not reopen its recipient */
	[ST_RCPT_STATE] = "INSERT INTO message_rcpts (qid, rcpt, state, reply, time_ms) VALUES (?, ?, ?, ?, ?)"
	                  " ON CONFLICT (qid, rcpt) DO UPDATE SET state = excluded.state,"
	                  " reply = excluded.reply, time_ms = excluded.time_ms"
	                  " WHERE message_rcpts.state <> 'removed' OR excluded.state <> 'deferred'",
	[ST_SEEN_GET] = "SELECT read_ms, deleted_ms FROM message_rcpts WHERE qid = ? AND rcpt = ?",
	[ST_READ] = "INSERT INTO message_rcpts (qid, rcpt, state, time_ms, read_ms) VALUES (?, ?, 'delivered', ?, ?)"
	            " ON CONFLICT (qid, rcpt) DO UPDATE SET read_ms = excluded.read_ms",
	[ST_DELETED] = "INSERT INTO message_rcpts (qid, rcpt, state, time_ms, deleted_ms)"
	               " VALUES (?, ?, 'delivered', ?, ?)"
	               " ON CONFLICT (qid, rcpt) DO UPDATE SET deleted_ms = excluded.deleted_ms",
	[ST_REMOVED] = "UPDATE message_rcpts SET state = 'removed', time_ms = ?"
	               " WHERE qid = ? AND state IN ('queued', 'deferred')",
};

struct audit_db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];
};

audit_db *audit_db_open_rw(const config *cfg, char **err_r)
{
	char *path = xasprintf("%s/audit.db", cfg->data_dir);
	sqlite3 *h = NULL;
	mode_t old = umask(077); /* the trail names people: the service user's only */
	int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	char *msg = NULL;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(h, 10000);
		/* the server and `yubin audit prune` may set it up at once */
		rc = sql_setup_wal(h, schema, 10000, &msg) ? SQLITE_OK : SQLITE_ERROR;
	}
	if (rc == SQLITE_OK && sqlite3_exec(h, "PRAGMA synchronous = FULL;", NULL, NULL, NULL) != SQLITE_OK)
		rc = SQLITE_ERROR;
	if (rc != SQLITE_OK) {
		*err_r = xasprintf("cannot open the audit trail %s: %s", path, msg ? msg : sqlite3_errmsg(h));
		free(msg);
		sqlite3_close(h);
		free(path);
		return NULL;
	}
	free(path);
	audit_db *db = xcalloc(1, sizeof(*db));
	db->h = h;
	return db;
}

void audit_db_close(audit_db **dbp)
{
	audit_db *db = *dbp;
	if (db == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	free(db);
	*dbp = NULL;
}

sqlite3 *audit_db_handle(audit_db *db)
{
	return db->h;
}

bool audit_db_exec(audit_db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	log_event(LOG_LVL_ERROR, "audit", "sql=\"%s\" error=\"%s\"", sql, msg ? msg : sqlite3_errmsg(db->h));
	sqlite3_free(msg);
	return false;
}

/* The cached statement, reset and unbound. */
static sqlite3_stmt *stmt(audit_db *db, stmt_id id)
{
	if (db->st[id] == NULL &&
	    sqlite3_prepare_v3(db->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &db->st[id], NULL) != SQLITE_OK) {
		log_event(LOG_LVL_ERROR, "audit", "error=\"%s\"", sqlite3_errmsg(db->h));
		return NULL;
	}
	sqlite3_reset(db->st[id]);
	sqlite3_clear_bindings(db->st[id]);
	return db->st[id];
}

bool audit_db_tip(audit_db *db, audit_tip *tip, char **err_r)
{
	tip->id = 0;
	memcpy(tip->hash, AUDIT_GENESIS, sizeof tip->hash);
	sqlite3_stmt *st = stmt(db, ST_TIP);
	int rc = st != NULL ? sqlite3_step(st) : SQLITE_ERROR;
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 1);
		tip->id = sqlite3_column_int64(st, 0);
		snprintf(tip->hash, sizeof tip->hash, "%s", h ? h : "");
	}
	if (st != NULL)
		sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return true;
	*err_r = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(db->h));
	return false;
}

static void bind_text(sqlite3_stmt *st, int col, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, col);
}

static const char *data_str(const audit_record *rec, const char *key)
{
	return json_string_value(json_object_get(rec->data, key));
}

static bool step_done(sqlite3_stmt *st)
{
	bool ok = st != NULL && sqlite3_step(st) == SQLITE_DONE;
	if (st != NULL)
		sqlite3_reset(st);
	return ok;
}

/* RECEIVED: the message's row and one row per recipient. */
static bool sum_received(audit_db *db, const audit_record *rec)
{
	sqlite3_stmt *st = stmt(db, ST_MESSAGE);
	if (st == NULL)
		return false;
	static const char *const cols[] = {"sender", "listener", "client_ip", "user", "apikey"};
	bind_text(st, 1, rec->qid);
	sqlite3_bind_int64(st, 2, rec->time_ms);
	for (int k = 0; k < 5; k++)
		bind_text(st, 3 + k, k == 0 && data_str(rec, "sender") == NULL ? "" : data_str(rec, cols[k]));
	json_t *size = json_object_get(rec->data, "size");
	if (json_is_integer(size))
		sqlite3_bind_int64(st, 8, json_integer_value(size));
	bind_text(st, 9, data_str(rec, "message_id"));
	bind_text(st, 10, data_str(rec, "subject"));
	if (!step_done(st))
		return false;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(rec->data, "rcpts"), i, r) {
		if (!json_is_string(r) || (st = stmt(db, ST_RCPT_NEW)) == NULL)
			continue;
		bind_text(st, 1, rec->qid);
		bind_text(st, 2, json_string_value(r));
		sqlite3_bind_int64(st, 3, rec->time_ms);
		if (!step_done(st))
			return false;
	}
	return true;
}

static bool sum_state(audit_db *db, const audit_record *rec, const char *state)
{
	sqlite3_stmt *st = stmt(db, ST_RCPT_STATE);
	if (st == NULL)
		return false;
	bind_text(st, 1, rec->qid);
	bind_text(st, 2, rec->rcpt);
	bind_text(st, 3, state);
	bind_text(st, 4, data_str(rec, rec->kind == AUDIT_SUPPRESSED ? "reason" : "reply"));
	sqlite3_bind_int64(st, 5, rec->time_ms);
	return step_done(st);
}

/* REMOVED: what was still to do ends there. */
static bool sum_removed(audit_db *db, const audit_record *rec)
{
	sqlite3_stmt *st = stmt(db, ST_REMOVED);
	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, rec->time_ms);
	bind_text(st, 2, rec->qid);
	return step_done(st);
}

/* READ / DELETED: only the first of each is kept. */
static bool sum_seen(audit_db *db, const audit_record *rec, bool *keep_r)
{
	bool read = rec->kind == AUDIT_READ;
	sqlite3_stmt *st = stmt(db, ST_SEEN_GET);
	if (st == NULL)
		return false;
	bind_text(st, 1, rec->qid);
	bind_text(st, 2, rec->rcpt);
	int rc = sqlite3_step(st);
	bool seen = rc == SQLITE_ROW && sqlite3_column_type(st, read ? 0 : 1) != SQLITE_NULL;
	sqlite3_reset(st);
	if (seen) {
		*keep_r = false;
		return true;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return false;
	st = stmt(db, read ? ST_READ : ST_DELETED);
	if (st == NULL)
		return false;
	bind_text(st, 1, rec->qid);
	bind_text(st, 2, rec->rcpt);
	sqlite3_bind_int64(st, 3, rec->time_ms);
	sqlite3_bind_int64(st, 4, rec->time_ms);
	return step_done(st);
}

/* The summary tables after rec; *keep_r false for a repeat. */
static bool summarise(audit_db *db, const audit_record *rec, bool *keep_r)
{
	*keep_r = true;
	if (rec->qid == NULL)
		return true;
	switch (rec->kind) {
	case AUDIT_RECEIVED: return sum_received(db, rec);
	case AUDIT_DELIVERED:
	case AUDIT_DEFERRED:
	case AUDIT_BOUNCED: return rec->rcpt == NULL || sum_state(db, rec, audit_kind_name(rec->kind));
	/* a SUPPRESSED record of a message follows a recipient's bounce (the
	 * address went on the list): the recipient's outcome stays bounced */
	case AUDIT_SUPPRESSED: return true;
	case AUDIT_READ:
	case AUDIT_DELETED: return rec->rcpt == NULL || sum_seen(db, rec, keep_r);
	case AUDIT_REMOVED: return sum_removed(db, rec);
	default: return true;
	}
}

bool audit_db_append(audit_db *db, audit_record *rec, audit_tip *tip, bool *stored_r)
{
	*stored_r = false;
	bool keep;
	if (!summarise(db, rec, &keep))
		return false;
	if (!keep)
		return true;
	rec->id = tip->id + 1;
	char hash[AUDIT_HASH_HEX + 1];
	char *data = audit_data_text(rec->data);
	audit_record_hash(rec, data, tip->hash, hash);
	sqlite3_stmt *st = stmt(db, ST_INSERT);
	bool ok = st != NULL;
	if (ok) {
		sqlite3_bind_int64(st, 1, rec->id);
		sqlite3_bind_int64(st, 2, rec->time_ms);
		bind_text(st, 3, audit_kind_name(rec->kind));
		bind_text(st, 4, rec->qid);
		bind_text(st, 5, rec->rcpt);
		bind_text(st, 6, data);
		bind_text(st, 7, tip->hash);
		bind_text(st, 8, hash);
		ok = step_done(st);
	}
	free(data);
	if (!ok)
		return false;
	tip->id = rec->id;
	memcpy(tip->hash, hash, sizeof hash);
	*stored_r = true;
	return true;
}
