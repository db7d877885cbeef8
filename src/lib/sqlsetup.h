/* sqlsetup.h — putting an SQLite database into WAL mode and creating its
 * schema when several processes may do it at once (the server at start
 * and a `yubin ...` command run right after it began to listen): in some
 * of those moments SQLite answers "locked" without waiting for its busy
 * timeout, so the set-up is tried again for a bounded time. */
#ifndef YUBIN_LIB_SQLSETUP_H
#define YUBIN_LIB_SQLSETUP_H

#include <sqlite3.h>
#include <stdbool.h>

/* "PRAGMA journal_mode=WAL;" then schema (may be NULL), again while the
 * answer is SQLITE_BUSY or SQLITE_LOCKED, for up to max_ms.  False with
 * *err_r (malloc'd SQLite message) otherwise. */
bool sql_setup_wal(sqlite3 *db, const char *schema, int max_ms, char **err_r);

#endif
