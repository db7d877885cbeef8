/* tlsrptdb.c — TLS-RPT counts in DATA_DIR/tlsrpt.db (see tlsrptdb.h).
 * Absent strings are stored as '' so that they can be part of keys.
 * Failure details are written to `failures` (whose key has the
 * receiving-mx-helo); `details`, the same without it, is what older
 * versions wrote: still read and pruned, never written. */
#include "delivery/tlsrptdb.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sqlsetup.h"

struct tlsrptdb {
	sqlite3 *db;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS entries (day INTEGER NOT NULL, domain TEXT NOT NULL, type INTEGER NOT NULL,"
	" policy TEXT NOT NULL, ok INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (day, domain, type, policy));"
	"CREATE TABLE IF NOT EXISTS details (day INTEGER NOT NULL, domain TEXT NOT NULL, type INTEGER NOT NULL,"
	" policy TEXT NOT NULL, result INTEGER NOT NULL, sip TEXT NOT NULL, mx TEXT NOT NULL, rip TEXT NOT NULL,"
	" reason TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY (day, domain, type, policy, result, sip, mx, rip, reason));"
	"CREATE TABLE IF NOT EXISTS failures (day INTEGER NOT NULL, domain TEXT NOT NULL, type INTEGER NOT NULL,"
	" policy TEXT NOT NULL, result INTEGER NOT NULL, sip TEXT NOT NULL, mx TEXT NOT NULL, rip TEXT NOT NULL,"
	" reason TEXT NOT NULL, helo TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY (day, domain, type, policy, result, sip, mx, rip, reason, helo));"
	"CREATE TABLE IF NOT EXISTS mxs (day INTEGER NOT NULL, domain TEXT NOT NULL, type INTEGER NOT NULL,"
	" policy TEXT NOT NULL, mx TEXT NOT NULL, PRIMARY KEY (day, domain, type, policy, mx));"
	"CREATE TABLE IF NOT EXISTS posts (day INTEGER NOT NULL, domain TEXT NOT NULL, uri TEXT NOT NULL,"
	" tries INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, PRIMARY KEY (day, domain, uri));"
	"CREATE TABLE IF NOT EXISTS sent (day INTEGER NOT NULL, domain TEXT NOT NULL, PRIMARY KEY (day, domain));";

static char *db_error(sqlite3 *db, const char *what)
{
	return xasprintf("TLS-RPT counts: %s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
}

tlsrptdb *tlsrptdb_open(const char *path, char **err_r)
{
	char *e = NULL;
	sqlite3 *db = sql_open_wal(path, schema, 2000, &e);
	if (db == NULL) {
		*err_r = xasprintf("TLS-RPT counts: %s", e);
		free(e);
		return NULL;
	}
	tlsrptdb *t = xcalloc(1, sizeof(*t));
	t->db = db;
	return t;
}

void tlsrptdb_close(tlsrptdb **tp)
{
	if (*tp == NULL)
		return;
	sqlite3_close((*tp)->db);
	free(*tp);
	*tp = NULL;
}

static const char *nz(const char *s)
{
	return s != NULL ? s : "";
}

static void bind_key(sqlite3_stmt *st, const tlsrpt_entry *e)
{
	sqlite3_bind_int64(st, 1, e->day);
	sqlite3_bind_text(st, 2, e->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)e->type);
	sqlite3_bind_text(st, 4, nz(e->policy_string), -1, SQLITE_STATIC);
}

static bool step_done(sqlite3_stmt *st)
{
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ok;
}

static bool add_entry(sqlite3_stmt *const st[3], const tlsrpt_entry *e)
{
	bind_key(st[0], e);
	sqlite3_bind_int64(st[0], 5, (sqlite3_int64)e->ok);
	sqlite3_bind_int64(st[0], 6, (sqlite3_int64)e->failed);
	if (!step_done(st[0]))
		return false;
	for (size_t i = 0; i < e->n_details; i++) {
		const tlsrpt_detail *d = &e->details[i];
		bind_key(st[1], e);
		sqlite3_bind_int(st[1], 5, (int)d->result);
		sqlite3_bind_text(st[1], 6, nz(d->sending_ip), -1, SQLITE_STATIC);
		sqlite3_bind_text(st[1], 7, nz(d->receiving_mx), -1, SQLITE_STATIC);
		sqlite3_bind_text(st[1], 8, nz(d->receiving_ip), -1, SQLITE_STATIC);
		sqlite3_bind_text(st[1], 9, nz(d->reason), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[1], 10, (sqlite3_int64)d->count);
		sqlite3_bind_text(st[1], 11, nz(d->receiving_helo), -1, SQLITE_STATIC);
		if (!step_done(st[1]))
			return false;
	}
	for (size_t i = 0; i < e->n_mx; i++) {
		bind_key(st[2], e);
		sqlite3_bind_text(st[2], 5, e->mx[i], -1, SQLITE_STATIC);
		if (!step_done(st[2]))
			return false;
	}
	return true;
}

bool tlsrptdb_add(tlsrptdb *t, const tlsrpt_book *b, char **err_r)
{
	static const char *const sql[3] = {
		"INSERT INTO entries VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT (day, domain, type, policy) DO UPDATE SET ok = ok + ?5, failed = failed + ?6",
		"INSERT INTO failures VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?11,?10) ON CONFLICT (day, domain, type, policy, result, sip, mx, rip, reason, helo) DO UPDATE SET count = count + ?10",
		"INSERT OR IGNORE INTO mxs VALUES (?1,?2,?3,?4,?5)",
	};
	sqlite3_stmt *st[3] = {0};
	bool ok = sqlite3_exec(t->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
	for (int i = 0; ok && i < 3; i++)
		ok = sqlite3_prepare_v2(t->db, sql[i], -1, &st[i], NULL) == SQLITE_OK;
	for (size_t i = 0; ok && i < b->n; i++)
		ok = add_entry(st, &b->v[i]);
	if (!ok)
		*err_r = db_error(t->db, "add");
	for (int i = 0; i < 3; i++)
		sqlite3_finalize(st[i]);
	if (ok && sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		*err_r = db_error(t->db, "commit");
		ok = false;
	}
	if (!ok)
		sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	return ok;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s != NULL && *s != '\0' ? s : NULL;
}

/* One SELECT of (domain, type, policy, ...) rows for the day, each turned
 * into sessions of the book by row(). */
static bool each_row(tlsrptdb *t, const char *sql, int64_t day, const char *domain, tlsrpt_book *b,
                     void (*row)(sqlite3_stmt *, int64_t, tlsrpt_book *), char **err_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK) {
		*err_r = db_error(t->db, "load");
		return false;
	}
	sqlite3_bind_int64(st, 1, day);
	if (domain != NULL)
		sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row(st, day, b);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*err_r = db_error(t->db, "load");
		return false;
	}
	return true;
}

static tlsrpt_session row_session(sqlite3_stmt *st, int64_t day)
{
	return (tlsrpt_session){.when = (time_t)day, .policy_domain = col(st, 0),
	                        .type = (tlsrpt_policy)sqlite3_column_int(st, 1), .policy_string = col(st, 2)};
}

static void entry_row(sqlite3_stmt *st, int64_t day, tlsrpt_book *b)
{
	tlsrpt_session s = row_session(st, day);
	uint64_t ok = (uint64_t)sqlite3_column_int64(st, 3);
	if (ok > 0)
		(void)tlsrpt_book_add_n(b, &s, ok);
}

static void detail_row(sqlite3_stmt *st, int64_t day, tlsrpt_book *b)
{
	tlsrpt_session s = row_session(st, day);
	s.result = (tlsrpt_result)sqlite3_column_int(st, 3);
	s.sending_ip = col(st, 4);
	s.receiving_mx = col(st, 5);
	s.receiving_ip = col(st, 6);
	s.reason = col(st, 7);
	s.receiving_helo = col(st, 9);
	(void)tlsrpt_book_add_n(b, &s, (uint64_t)sqlite3_column_int64(st, 8));
}

static void mx_row(sqlite3_stmt *st, int64_t day, tlsrpt_book *b)
{
	tlsrpt_session s = row_session(st, day);
	s.receiving_mx = col(st, 3);
	(void)tlsrpt_book_add_n(b, &s, 0);
}

bool tlsrptdb_load(tlsrptdb *t, int64_t day, const char *domain, tlsrpt_book *b, char **err_r)
{
	const char *w = domain != NULL ? " WHERE day = ?1 AND domain = ?2" : " WHERE day = ?1";
	char *q1 = xasprintf("SELECT domain, type, policy, ok FROM entries%s ORDER BY rowid", w);
	char *q2 = xasprintf("SELECT domain, type, policy, result, sip, mx, rip, reason, count, '' FROM details%s "
	                     "ORDER BY rowid", w);
	char *q4 = xasprintf("SELECT domain, type, policy, result, sip, mx, rip, reason, count, helo FROM failures%s "
	                     "ORDER BY rowid", w);
	char *q3 = xasprintf("SELECT domain, type, policy, mx FROM mxs%s ORDER BY rowid", w);
	bool ok = each_row(t, q1, day, domain, b, entry_row, err_r) &&
	          each_row(t, q2, day, domain, b, detail_row, err_r) && each_row(t, q4, day, domain, b, detail_row, err_r) &&
	          each_row(t, q3, day, domain, b, mx_row, err_r);
	free(q4);
	free(q1);
	free(q2);
	free(q3);
	return ok;
}

bool tlsrptdb_unsent(tlsrptdb *t, int64_t day, strlist *domains, char **err_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(t->db,
	                       "SELECT DISTINCT domain FROM entries WHERE day = ?1 AND domain NOT IN "
	                       "(SELECT domain FROM sent WHERE day = ?1) ORDER BY domain",
	                       -1, &st, NULL) != SQLITE_OK) {
		*err_r = db_error(t->db, "unsent");
		return false;
	}
	sqlite3_bind_int64(st, 1, day);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		strlist_add(domains, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*err_r = db_error(t->db, "unsent");
		return false;
	}
	return true;
}

static bool exec_day(tlsrptdb *t, const char *sql, int64_t day, const char *domain, char **err_r)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, day);
		if (domain != NULL)
			sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (!ok)
		*err_r = db_error(t->db, "update");
	return ok;
}

bool tlsrptdb_mark_sent(tlsrptdb *t, int64_t day, const char *domain, char **err_r)
{
	return exec_day(t, "INSERT OR IGNORE INTO sent VALUES (?1, ?2)", day, domain, err_r);
}

bool tlsrptdb_prune(tlsrptdb *t, int64_t before, char **err_r)
{
	return exec_day(t, "DELETE FROM entries WHERE day < ?1", before, NULL, err_r) &&
	       exec_day(t, "DELETE FROM details WHERE day < ?1", before, NULL, err_r) &&
	       exec_day(t, "DELETE FROM failures WHERE day < ?1", before, NULL, err_r) &&
	       exec_day(t, "DELETE FROM mxs WHERE day < ?1", before, NULL, err_r) &&
	       exec_day(t, "DELETE FROM posts WHERE day < ?1", before, NULL, err_r) &&
	       exec_day(t, "DELETE FROM sent WHERE day < ?1", before, NULL, err_r);
}

bool tlsrptdb_post_add(tlsrptdb *t, int64_t day, const char *domain, const char *uri, int64_t next_at,
                       char **err_r)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(t->db, "INSERT OR IGNORE INTO posts (day, domain, uri, next_at) VALUES (?1,?2,?3,?4)",
	                             -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, day);
		sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, uri, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, next_at);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (!ok)
		*err_r = db_error(t->db, "post add");
	return ok;
}

bool tlsrptdb_post_due(tlsrptdb *t, int64_t now, int max_tries, tlsrptdb_post *out, size_t max, size_t *n_r,
                       char **err_r)
{
	*n_r = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(t->db,
	                       "SELECT day, domain, uri, tries FROM posts WHERE next_at <= ?1 AND tries < ?2 "
	                       "ORDER BY next_at LIMIT ?3",
	                       -1, &st, NULL) != SQLITE_OK) {
		*err_r = db_error(t->db, "post due");
		return false;
	}
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, max_tries);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n_r < max)
		out[(*n_r)++] = (tlsrptdb_post){.day = sqlite3_column_int64(st, 0),
		                                .domain = xstrdup((const char *)sqlite3_column_text(st, 1)),
		                                .uri = xstrdup((const char *)sqlite3_column_text(st, 2)),
		                                .tries = sqlite3_column_int(st, 3)};
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*err_r = db_error(t->db, "post due");
		return false;
	}
	return true;
}

bool tlsrptdb_post_result(tlsrptdb *t, const tlsrptdb_post *p, bool done, int tries, int64_t next_at,
                          char **err_r)
{
	sqlite3_stmt *st = NULL;
	const char *sql = done ? "DELETE FROM posts WHERE day = ?1 AND domain = ?2 AND uri = ?3"
	                       : "UPDATE posts SET tries = ?4, next_at = ?5 WHERE day = ?1 AND domain = ?2 AND uri = ?3";
	bool ok = sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, p->day);
		sqlite3_bind_text(st, 2, p->domain, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->uri, -1, SQLITE_STATIC);
		if (!done) {
			sqlite3_bind_int(st, 4, tries);
			sqlite3_bind_int64(st, 5, next_at);
		}
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (!ok)
		*err_r = db_error(t->db, "post result");
	return ok;
}

void tlsrptdb_post_clear(tlsrptdb_post *p)
{
	free(p->domain);
	free(p->uri);
	*p = (tlsrptdb_post){0};
}
