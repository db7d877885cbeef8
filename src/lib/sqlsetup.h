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

/* Open (creating it) the database at path for one thread's use, with a
 * busy timeout of busy_ms, then sql_setup_wal(schema) for up to 5 s.
 * NULL with *err_r (malloc'd: "path: SQLite's message") on failure. */
sqlite3 *sql_open_wal(const char *path, const char *schema, int busy_ms, char **err_r);

#endif
