/* mtastsdb.h — the MTA-STS policy cache on disk (data_dir/mtasts.db,
 * SQLite in WAL mode): one row per policy domain with the TXT id, the
 * policy text as fetched, when it was fetched and when it expires, so that
 * a restart keeps enforcing what was learnt (RFC 8461 5.1).  Only storage:
 * what a row means is mtasts.c's.  One connection, used by one thread at a
 * time (the caller's mutex or the loop). */
#ifndef YUBIN_DELIVERY_MTASTSDB_H
#define YUBIN_DELIVERY_MTASTSDB_H

#include <stdbool.h>
#include <time.h>

#include "delivery/mtasts.h"

typedef struct mtastsdb mtastsdb;

/* Open (creating it) path.  NULL with *err_r on failure. */
mtastsdb *mtastsdb_open(const char *path, char **err_r);
void mtastsdb_close(mtastsdb **db);

/* Called once per row whose policy has not expired at now (the text is
 * parsed again; a row that no longer parses is skipped).  Takes p. */
typedef void mtastsdb_row_fn(void *arg, const char *domain, mtasts_policy *p);
/* At most max rows, the latest to expire first.  False with *err_r. */
bool mtastsdb_load(mtastsdb *db, time_t now, size_t max, mtastsdb_row_fn *fn, void *arg, char **err_r);
/* Insert or replace the row of domain; rows expired at now go too.
 * False with *err_r. */
bool mtastsdb_store(mtastsdb *db, const char *domain, const char *id, const char *text, time_t fetched,
                    time_t expires, time_t now, char **err_r);

#endif
