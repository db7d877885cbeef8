/* pdb.c — opening the policy layer's SQLite databases (see pdb.h). */
#include "policy/pdb.h"

#include <stdlib.h>

#include "lib/sqlsetup.h"
#include "lib/strutil.h"

/* How long a writer waits for another (the CLI, the server's flush). */
#define PDB_BUSY_MS 2000

bool pdb_exec(sqlite3 *db, const char *sql, char **err_r)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	*err_r = xstrdup(msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return false;
}

sqlite3 *pdb_open(const char *path, bool create, const char *schema, char **err_r)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		*err_r = xasprintf("cannot open %s: %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, PDB_BUSY_MS);
	char *why = NULL;
	if (!sql_setup_wal(db, schema, PDB_BUSY_MS, &why)) {
		*err_r = xasprintf("cannot set up %s: %s", path, why);
		free(why);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}
