/* ratedb.h — where the rate-limit counters (policy/ratelimit.h) survive a
 * restart: data_dir/ratelimit.db, one row per limit and key.  Blocking
 * SQLite calls: the server loads at start-up and saves on a worker thread,
 * one save at a time.  A failure is reported to the caller, which logs it;
 * it never refuses mail. */
#ifndef YUBIN_POLICY_RATEDB_H
#define YUBIN_POLICY_RATEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "policy/ratelimit.h"

typedef struct ratedb ratedb;

/* Open (creating) the database at path; NULL and *err_r on failure. */
ratedb *ratedb_open(const char *path, char **err_r);
void ratedb_close(ratedb **db);
/* Put every unexpired row back into t (oldest first, so that the keys
 * touched last are evicted last); *restored_r rows taken. */
bool ratedb_load(ratedb *db, rate_table *t, time_t now, size_t *restored_r, char **err_r);
/* Write rows (an empty row deletes its key) and drop the rows that have
 * expired, in one transaction. */
bool ratedb_save(ratedb *db, const rate_row *rows, size_t n, time_t now, char **err_r);

#endif
