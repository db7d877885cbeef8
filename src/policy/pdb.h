/* pdb.h — opening the small SQLite databases of the policy layer (rate
 * limit state, lists): one place for the flags, the busy timeout and the
 * journal mode.  Blocking calls: run them on a worker or at start-up. */
#ifndef YUBIN_POLICY_PDB_H
#define YUBIN_POLICY_PDB_H

#include <sqlite3.h>
#include <stdbool.h>

/* Open path (created when create is true) and run schema (may be NULL).
 * NULL and *err_r (malloc'd sentence naming path) on failure. */
sqlite3 *pdb_open(const char *path, bool create, const char *schema, char **err_r);
/* Run sql (no rows); false and *err_r on failure. */
bool pdb_exec(sqlite3 *db, const char *sql, char **err_r);

#endif
