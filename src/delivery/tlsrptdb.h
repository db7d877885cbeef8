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
/* HTTPS deliveries of reports (RFC 8460 5.4): one row per day, policy
 * domain and https: rua address, until it succeeds or has had its tries. */
typedef struct tlsrptdb_post {
	int64_t day;
	char *domain;
	char *uri;
	int tries;            /* POSTs so far */
} tlsrptdb_post;

/* Remember to POST the day's report for domain to uri from next_at on
 * (nothing when it is remembered already). */
bool tlsrptdb_post_add(tlsrptdb *db, int64_t day, const char *domain, const char *uri, int64_t next_at,
                       char **err_r);
/* Up to max rows due at now with fewer than max_tries tries, the most
 * overdue first, into out (*n_r of them; free each with
 * tlsrptdb_post_clear). */
bool tlsrptdb_post_due(tlsrptdb *db, int64_t now, int max_tries, tlsrptdb_post *out, size_t max, size_t *n_r,
                       char **err_r);
/* After a POST: done forgets the row; else its tries become tries and
 * the next one waits until next_at. */
bool tlsrptdb_post_result(tlsrptdb *db, const tlsrptdb_post *p, bool done, int tries, int64_t next_at,
                          char **err_r);
void tlsrptdb_post_clear(tlsrptdb_post *p);

/* Forget the days before `before`. */
bool tlsrptdb_prune(tlsrptdb *db, int64_t before, char **err_r);

#endif
