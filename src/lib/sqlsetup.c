/* sqlsetup.c — WAL mode and schema with retries (see sqlsetup.h). */
#include "lib/sqlsetup.h"

#include <stdlib.h>
#include <unistd.h>

#include "lib/strutil.h"

#define RETRY_STEP_MS 20

bool sql_setup_wal(sqlite3 *db, const char *schema, int max_ms, char **err_r)
{
	for (int waited_ms = 0;; waited_ms += RETRY_STEP_MS) {
		char *msg = NULL;
		if (sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, &msg) == SQLITE_OK &&
		    (schema == NULL || sqlite3_exec(db, schema, NULL, NULL, &msg) == SQLITE_OK))
			return true;
		int rc = sqlite3_errcode(db) & 0xff;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited_ms >= max_ms) {
			*err_r = xstrdup(msg != NULL ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			return false;
		}
		sqlite3_free(msg);
		usleep(RETRY_STEP_MS * 1000);
	}
}

sqlite3 *sql_open_wal(const char *path, const char *schema, int busy_ms, char **err_r)
{
	sqlite3 *db = NULL;
	char *e = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		*err_r = xasprintf("%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
	} else {
		sqlite3_busy_timeout(db, busy_ms);
		if (sql_setup_wal(db, schema, 5000, &e))
			return db;
		*err_r = xasprintf("%s: %s", path, e);
		free(e);
	}
	sqlite3_close(db);
	return NULL;
}
