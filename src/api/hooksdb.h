/* hooksdb.h — data_dir/hooks.db: the suppression list, the webhook
 * outbox and the audit-trail follower's cursor, in one SQLite file so that
 * one transaction advances the cursor together with the suppressions and
 * webhook deliveries the records it read produced (nothing is done twice
 * or lost across a crash).  This file only opens the database with its
 * schema; suppress.c, outbox.c and follow.c own their tables.  Blocking:
 * call it at start-up, from the CLI or on a worker. */
#ifndef YUBIN_API_HOOKSDB_H
#define YUBIN_API_HOOKSDB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

/* Open (creating it and its tables when missing) data_dir/hooks.db.  The
 * connection is serialized (SQLITE_OPEN_FULLMUTEX): single statements may
 * come from any thread; a transaction needs a connection of its own.
 * NULL and *err_r (malloc'd sentence naming the file) on failure. */
sqlite3 *hooksdb_open(const config *cfg, char **err_r);
void hooksdb_close(sqlite3 **db);

/* The integer a one-row query answers (count(*) ...); -1 on error. */
int64_t hooksdb_scalar(sqlite3 *db, const char *sql);

/* The follower's cursor (the id of the last audit record it handled);
 * 0 when it never ran.  -1 on a database error. */
long long hooksdb_cursor(sqlite3 *db);
/* Store it (inside the caller's transaction).  False on error. */
bool hooksdb_set_cursor(sqlite3 *db, long long id);

#endif
