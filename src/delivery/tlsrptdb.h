/* tlsrptdb.h — TLS-RPT's counts on disk: DATA_DIR/tlsrpt.db, written by
 * the server's worker threads (tlsrptlive.h) and read by
 * `yubin tlsrpt send-now` and the daily sender.  Knows nothing of the
 * report's format (delivery/tlsrpt.h). */
#ifndef YUBIN_DELIVERY_TLSRPTDB_H
#define YUBIN_DELIVERY_TLSRPTDB_H

#include <stdbool.h>

#include "delivery/tlsrpt.h"
#include "lib/strutil.h"

typedef struct tlsrptdb tlsrptdb;

/* Open (creating) the file; NULL with *err_r (malloc'd) on failure. */
tlsrptdb *tlsrptdb_open(const char *path, char **err_r);
void tlsrptdb_close(tlsrptdb **db);
/* Add every count of the book to the file, in one transaction. */
bool tlsrptdb_add(tlsrptdb *db, const tlsrpt_book *b, char **err_r);
/* The counts of one day (and one domain, or all when NULL) into b. */
bool tlsrptdb_load(tlsrptdb *db, int64_t day, const char *domain, tlsrpt_book *b, char **err_r);
/* The policy domains with counts on that day whose report is not yet
 * marked sent. */
bool tlsrptdb_unsent(tlsrptdb *db, int64_t day, strlist *domains, char **err_r);
/* Remember that the day's report for domain went out (or had nowhere to
 * go), so that it is not sent twice. */
bool tlsrptdb_mark_sent(tlsrptdb *db, int64_t day, const char *domain, char **err_r);
/* Forget the days before `before`. */
bool tlsrptdb_prune(tlsrptdb *db, int64_t before, char **err_r);

#endif
