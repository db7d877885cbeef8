/* hooksdb.c — opening data_dir/hooks.db with the schema of the suppression
 * list, the webhook outbox and the follower's cursor (see hooksdb.h).  It
 * must not hold the logic of any of them. */
#include "api/hooksdb.h"

#include <stdlib.h>

#include "lib/strutil.h"
#include "policy/pdb.h"

static const char schema[] =
	/* one row per suppressed address (normalised as accounts.h says) */
	"CREATE TABLE IF NOT EXISTS suppressions(address TEXT PRIMARY KEY,"
	" reason TEXT NOT NULL, source TEXT NOT NULL, reply TEXT, qid TEXT,"
	" created INTEGER NOT NULL);"
	/* one row per webhook delivery still to make: the body is built once,
	 * so every retry sends the same bytes with the same event id */
	"CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY,"
	" event_id TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,"
	" created INTEGER NOT NULL, next_try INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, UNIQUE(event_id, url));"
	"CREATE INDEX IF NOT EXISTS outbox_due ON outbox(next_try);"
	"CREATE INDEX IF NOT EXISTS outbox_url ON outbox(url, id);"
	/* webhook endpoints registered through the API (api/whstore.h), each
	 * the API key's that registered it */
	"CREATE TABLE IF NOT EXISTS endpoints(id INTEGER PRIMARY KEY, url TEXT NOT NULL,"
	" secret TEXT NOT NULL, kinds INTEGER NOT NULL, created INTEGER NOT NULL,"
	" apikey TEXT NOT NULL, UNIQUE(apikey, url));"
	"CREATE TABLE IF NOT EXISTS follow(k INTEGER PRIMARY KEY CHECK (k = 1),"
	" last_id INTEGER NOT NULL);";

sqlite3 *hooksdb_open(const config *cfg, char **err_r)
{
	char *path = xasprintf("%s/hooks.db", cfg->data_dir);
	sqlite3 *db = pdb_open(path, true, schema, err_r);
	free(path);
	return db;
}

void hooksdb_close(sqlite3 **db)
{
	if (*db != NULL)
		sqlite3_close(*db);
	*db = NULL;
}

int64_t hooksdb_scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

long long hooksdb_cursor(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, "SELECT last_id FROM follow WHERE k = 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		v = 0;
	sqlite3_finalize(st);
	return v;
}

bool hooksdb_set_cursor(sqlite3 *db, long long id)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO follow(k, last_id) VALUES (1, ?1)"
	                           " ON CONFLICT(k) DO UPDATE SET last_id = excluded.last_id",
	                       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(st, 1, id);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok;
}
