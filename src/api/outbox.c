/* outbox.c — the webhook outbox's table (see outbox.h).  It must not send
 * anything, sign, or log. */
#include "api/outbox.h"

#include <stdlib.h>

#include "api/hooksdb.h"
#include "lib/strutil.h"

void outbox_row_free(outbox_row *r)
{
	free(r->event_id);
	free(r->url);
	free(r->body);
	*r = (outbox_row){0};
}

static bool run(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	int n = sqlite3_bind_parameter_count(st);
	const int64_t v[3] = {a, b, c};
	for (int i = 0; i < n && i < 3; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok;
}

/* Remove url's oldest rows beyond max; their count into *dropped_r. */
static bool trim(sqlite3 *db, const char *url, int max, int64_t *dropped_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "DELETE FROM outbox WHERE url = ?1 AND id IN (SELECT id FROM outbox"
	                           " WHERE url = ?1 ORDER BY id DESC LIMIT -1 OFFSET ?2)",
	                       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, max);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	if (ok && dropped_r != NULL)
		*dropped_r = sqlite3_changes(db);
	sqlite3_finalize(st);
	return ok;
}

bool outbox_add(sqlite3 *db, const char *event_id, const char *url, const char *body, int64_t now,
                int max_pending, int64_t *dropped_r)
{
	if (dropped_r != NULL)
		*dropped_r = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO outbox(event_id, url, body, created, next_try)"
	                           " VALUES (?1, ?2, ?3, ?4, ?4)",
	                       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	bool added = ok && sqlite3_changes(db) == 1;
	sqlite3_finalize(st);
	return ok && (!added || trim(db, url, max_pending, dropped_r));
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return xstrdup(t != NULL ? (const char *)t : "");
}

bool outbox_claim(sqlite3 *db, int64_t now, int64_t lease, size_t max, outbox_row **v_r, size_t *n_r)
{
	*v_r = NULL;
	*n_r = 0;
	if (max == 0)
		return true;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT id, event_id, url, body, created, attempts FROM outbox"
	                           " WHERE next_try <= ?1 ORDER BY next_try, id LIMIT ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	outbox_row *v = xcalloc(max, sizeof(*v));
	size_t n = 0;
	int rc;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		v[n] = (outbox_row){.id = sqlite3_column_int64(st, 0), .event_id = col_dup(st, 1),
		                    .url = col_dup(st, 2), .body = col_dup(st, 3),
		                    .created = sqlite3_column_int64(st, 4), .attempts = sqlite3_column_int(st, 5)};
		n++;
	}
	bool ok = n == max || rc == SQLITE_DONE;
	sqlite3_finalize(st);
	for (size_t i = 0; ok && i < n; i++)
		ok = run(db, "UPDATE outbox SET next_try = ?2 WHERE id = ?1", v[i].id, now + lease, 0);
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			outbox_row_free(&v[i]);
		free(v);
		return false;
	}
	*v_r = v;
	*n_r = n;
	return true;
}

bool outbox_remove(sqlite3 *db, int64_t id)
{
	return run(db, "DELETE FROM outbox WHERE id = ?1", id, 0, 0);
}

bool outbox_reschedule(sqlite3 *db, int64_t id, int attempts, int64_t next_try)
{
	return run(db, "UPDATE outbox SET attempts = ?2, next_try = ?3 WHERE id = ?1", id, attempts, next_try);
}

int64_t outbox_count(sqlite3 *db)
{
	return hooksdb_scalar(db, "SELECT count(*) FROM outbox");
}
