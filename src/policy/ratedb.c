/* ratedb.c — the rate-limit counters in SQLite (see ratedb.h).  The slots
 * are stored as text ("3,0,1,..."), which reads the same on any machine.
 * It stores and reads rows; the counting is policy/ratelimit.c's. */
#include "policy/ratedb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"
#include "policy/pdb.h"

struct ratedb {
	sqlite3 *db;
};

static const char ratedb_schema[] =
	"CREATE TABLE IF NOT EXISTS rate ("
	" rule TEXT NOT NULL, key TEXT NOT NULL, width INTEGER NOT NULL,"
	" last INTEGER NOT NULL, slots TEXT NOT NULL, expires INTEGER NOT NULL,"
	" PRIMARY KEY (rule, key)) WITHOUT ROWID;";

ratedb *ratedb_open(const char *path, char **err_r)
{
	sqlite3 *db = pdb_open(path, true, ratedb_schema, err_r);
	if (db == NULL)
		return NULL;
	ratedb *r = xcalloc(1, sizeof(*r));
	r->db = db;
	return r;
}

void ratedb_close(ratedb **rp)
{
	ratedb *r = *rp;
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	free(r);
	*rp = NULL;
}

static char *slots_text(const rate_window *w)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (size_t i = 0; i < RATE_SLOTS; i++)
		BUF_PRINTF(&b, "%s%" PRIu32, i ? "," : "", w->slot[i]);
	return buf_steal(&b);
}

/* Exactly RATE_SLOTS comma-separated numbers. */
static bool slots_parse(const char *s, rate_window *w)
{
	for (size_t i = 0; i < RATE_SLOTS; i++) {
		char *end;
		if (*s < '0' || *s > '9')
			return false;
		unsigned long long v = strtoull(s, &end, 10);
		if (v > UINT32_MAX || *end != (i + 1 < RATE_SLOTS ? ',' : '\0'))
			return false;
		w->slot[i] = (uint32_t)v;
		s = end + (i + 1 < RATE_SLOTS);
	}
	return true;
}

static bool db_fail(ratedb *r, sqlite3_stmt *st, const char *what, char **err_r)
{
	*err_r = xasprintf("%s: %s", what, sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return false;
}

bool ratedb_load(ratedb *r, rate_table *t, time_t now, size_t *restored_r, char **err_r)
{
	sqlite3_stmt *st = NULL;
	*restored_r = 0;
	if (sqlite3_prepare_v2(r->db, "SELECT rule, key, width, last, slots, expires FROM rate"
	                       " WHERE expires > ?1 ORDER BY expires", -1, &st, NULL) != SQLITE_OK)
		return db_fail(r, st, "reading rate limits", err_r);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rule = (const char *)sqlite3_column_text(st, 0);
		const char *key = (const char *)sqlite3_column_text(st, 1);
		const char *slots = (const char *)sqlite3_column_text(st, 4);
		sqlite3_int64 width = sqlite3_column_int64(st, 2);
		rate_row row = {.width = width > 0 && width <= UINT32_MAX ? (unsigned)width : 0,
		                .expires = sqlite3_column_int64(st, 5)};
		row.w.last = sqlite3_column_int64(st, 3);
		if (rule == NULL || key == NULL || slots == NULL || !slots_parse(slots, &row.w))
			continue; /* a damaged row counts nothing */
		row.rule = (char *)rule;
		row.key = (char *)key;
		*restored_r += rate_restore(t, &row, now);
	}
	if (rc != SQLITE_DONE)
		return db_fail(r, st, "reading rate limits", err_r);
	sqlite3_finalize(st);
	return true;
}

static bool save_row(ratedb *r, sqlite3_stmt *put, sqlite3_stmt *del, const rate_row *row)
{
	sqlite3_stmt *st = row->empty ? del : put;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, row->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->key, -1, SQLITE_STATIC);
	char *slots = NULL;
	if (!row->empty) {
		slots = slots_text(&row->w);
		sqlite3_bind_int64(st, 3, row->width);
		sqlite3_bind_int64(st, 4, row->w.last);
		sqlite3_bind_text(st, 5, slots, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, row->expires);
	}
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_reset(st);
	free(slots);
	return ok;
}

bool ratedb_save(ratedb *r, const rate_row *rows, size_t n, time_t now, char **err_r)
{
	sqlite3_stmt *put = NULL, *del = NULL, *purge = NULL;
	char *why = NULL;
	if (!pdb_exec(r->db, "BEGIN IMMEDIATE;", &why)) {
		*err_r = xasprintf("saving rate limits: %s", why);
		free(why);
		return false;
	}
	bool ok = sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO rate (rule, key, width, last, slots, expires)"
	                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &put, NULL) == SQLITE_OK &&
	          sqlite3_prepare_v2(r->db, "DELETE FROM rate WHERE rule = ?1 AND key = ?2", -1, &del,
	                             NULL) == SQLITE_OK &&
	          sqlite3_prepare_v2(r->db, "DELETE FROM rate WHERE expires <= ?1", -1, &purge, NULL) == SQLITE_OK;
	for (size_t i = 0; ok && i < n; i++)
		ok = save_row(r, put, del, &rows[i]);
	if (ok) {
		sqlite3_bind_int64(purge, 1, (sqlite3_int64)now);
		ok = sqlite3_step(purge) == SQLITE_DONE;
	}
	if (!ok)
		*err_r = xasprintf("saving rate limits: %s", sqlite3_errmsg(r->db));
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	sqlite3_finalize(purge);
	if (ok && !pdb_exec(r->db, "COMMIT;", &why)) {
		*err_r = xasprintf("saving rate limits: %s", why);
		free(why);
		ok = false;
	}
	if (!ok)
		(void)sqlite3_exec(r->db, "ROLLBACK;", NULL, NULL, NULL);
	return ok;
}
