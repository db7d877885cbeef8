/* mtastsdb.c — the MTA-STS policy cache's SQLite file (see mtastsdb.h).
 * Must not decide anything about policies. */
#include "delivery/mtastsdb.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sqlsetup.h"
#include "lib/strutil.h"

struct mtastsdb {
	sqlite3 *db;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS policies ("
	" domain TEXT PRIMARY KEY, id TEXT NOT NULL, text TEXT NOT NULL,"
	" fetched INTEGER NOT NULL, expires INTEGER NOT NULL);";

static char *db_error(sqlite3 *db, const char *what)
{
	return xasprintf("MTA-STS cache: %s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
}

mtastsdb *mtastsdb_open(const char *path, char **err_r)
{
	char *e = NULL;
	sqlite3 *db = sql_open_wal(path, schema, 2000, &e);
	if (db == NULL) {
		*err_r = xasprintf("MTA-STS cache: %s", e);
		free(e);
		return NULL;
	}
	mtastsdb *m = xcalloc(1, sizeof(*m));
	m->db = db;
	return m;
}

void mtastsdb_close(mtastsdb **mp)
{
	if (*mp == NULL)
		return;
	sqlite3_close((*mp)->db);
	free(*mp);
	*mp = NULL;
}

bool mtastsdb_load(mtastsdb *m, time_t now, size_t max, mtastsdb_row_fn *fn, void *arg, char **err_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(m->db,
	                       "SELECT domain, id, text, fetched, expires FROM policies WHERE expires > ?1"
	                       " ORDER BY expires DESC LIMIT ?2",
	                       -1, &st, NULL) != SQLITE_OK) {
		*err_r = db_error(m->db, "load");
		return false;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 2);
		int len = sqlite3_column_bytes(st, 2);
		mtasts_policy p;
		const char *why;
		if (text == NULL || !mtasts_policy_parse(text, (size_t)len, &p, &why))
			continue;
		p.id = xstrdup((const char *)sqlite3_column_text(st, 1));
		p.fetched = (time_t)sqlite3_column_int64(st, 3);
		p.expires = (time_t)sqlite3_column_int64(st, 4);
		fn(arg, (const char *)sqlite3_column_text(st, 0), &p);
	}
	bool ok = rc == SQLITE_DONE;
	if (!ok)
		*err_r = db_error(m->db, "load");
	sqlite3_finalize(st);
	return ok;
}

bool mtastsdb_store(mtastsdb *m, const char *domain, const char *id, const char *text, time_t fetched,
                    time_t expires, time_t now, char **err_r)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(m->db,
	                             "INSERT OR REPLACE INTO policies (domain, id, text, fetched, expires)"
	                             " VALUES (?1, ?2, ?3, ?4, ?5)",
	                             -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)fetched);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)expires);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (ok) {
		st = NULL;
		ok = sqlite3_prepare_v2(m->db, "DELETE FROM policies WHERE expires <= ?1", -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
	}
	if (!ok)
		*err_r = db_error(m->db, "store");
	return ok;
}
