/* suppress.c — the suppression list's table and which bounces fill it (see
 * suppress.h).  It must not know HTTP, the CLI or the audit trail: the
 * follower and the handlers call it. */
#include "api/suppress.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "api/hooksdb.h"
#include "lib/strutil.h"

void suppress_entry_free(suppress_entry *e)
{
	free(e->address);
	free(e->reason);
	free(e->source);
	free(e->reply);
	free(e->qid);
	*e = (suppress_entry){0};
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t != NULL ? xstrdup((const char *)t) : NULL;
}

#define SUP_COLUMNS "address, reason, source, reply, qid, created"

static void row_entry(sqlite3_stmt *st, suppress_entry *e)
{
	e->address = col_dup(st, 0);
	e->reason = col_dup(st, 1);
	e->source = col_dup(st, 2);
	e->reply = col_dup(st, 3);
	e->qid = col_dup(st, 4);
	e->created = sqlite3_column_int64(st, 5);
}

/* The look-up, on a statement prepared from SUPPRESS_GET_SQL (reset
 * after). */
static suppress_status get_with(sqlite3_stmt *st, const char *address, suppress_entry *e_r)
{
	char *a = accounts_normalize(address);
	if (a == NULL)
		return SUP_NOT_FOUND;
	suppress_status s = SUP_ERROR;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (e_r != NULL)
			row_entry(st, e_r);
		s = SUP_OK;
	} else if (rc == SQLITE_DONE) {
		s = SUP_NOT_FOUND;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(a);
	return s;
}

#define SUPPRESS_GET_SQL "SELECT " SUP_COLUMNS " FROM suppressions WHERE address = ?1"

suppress_status suppress_get(sqlite3 *db, const char *address, suppress_entry *e_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, SUPPRESS_GET_SQL, -1, &st, NULL) != SQLITE_OK)
		return SUP_ERROR;
	suppress_status s = get_with(st, address, e_r);
	sqlite3_finalize(st);
	return s;
}

bool suppress_lookup(sqlite3 *db, sqlite3_stmt **cache, const char *address, bool *suppressed_r,
                     suppress_entry *e_r, char **err_r)
{
	suppress_status s = *cache != NULL || sqlite3_prepare_v2(db, SUPPRESS_GET_SQL, -1, cache, NULL) == SQLITE_OK
	                        ? get_with(*cache, address, e_r)
	                        : SUP_ERROR;
	if (s == SUP_ERROR) {
		*err_r = xasprintf("suppression list: %s", sqlite3_errmsg(db));
		return false;
	}
	*suppressed_r = s == SUP_OK;
	return true;
}

suppress_status suppress_add(sqlite3 *db, const char *address, const char *reason, const char *source,
                             const char *reply, const char *qid, int64_t now)
{
	if (reason == NULL || strlen(reason) > SUPPRESS_REASON_MAX)
		return SUP_INVALID;
	char *a = accounts_normalize(address);
	if (a == NULL)
		return SUP_INVALID;
	sqlite3_stmt *st = NULL;
	suppress_status s = SUP_ERROR;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO suppressions(" SUP_COLUMNS ")"
	                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, reply, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, qid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now);
		if (sqlite3_step(st) == SQLITE_DONE)
			s = sqlite3_changes(db) == 1 ? SUP_OK : SUP_EXISTS;
	}
	sqlite3_finalize(st);
	free(a);
	return s;
}

suppress_status suppress_del(sqlite3 *db, const char *address)
{
	char *a = accounts_normalize(address);
	if (a == NULL)
		return SUP_NOT_FOUND;
	sqlite3_stmt *st = NULL;
	suppress_status s = SUP_ERROR;
	if (sqlite3_prepare_v2(db, "DELETE FROM suppressions WHERE address = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			s = sqlite3_changes(db) == 1 ? SUP_OK : SUP_NOT_FOUND;
	}
	sqlite3_finalize(st);
	free(a);
	return s;
}

suppress_status suppress_list(sqlite3 *db, const char *after, size_t limit, suppress_entry **v_r, size_t *n_r)
{
	*v_r = NULL;
	*n_r = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT " SUP_COLUMNS " FROM suppressions WHERE address > ?1"
	                           " ORDER BY address LIMIT ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		return SUP_ERROR;
	sqlite3_bind_text(st, 1, after != NULL ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	suppress_entry *v = xcalloc(limit ? limit : 1, sizeof(*v));
	size_t n = 0;
	int rc;
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		row_entry(st, &v[n++]);
	bool ok = n == limit || rc == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			suppress_entry_free(&v[i]);
		free(v);
		return SUP_ERROR;
	}
	*v_r = v;
	*n_r = n;
	return SUP_OK;
}

int64_t suppress_count(sqlite3 *db)
{
	return hooksdb_scalar(db, "SELECT count(*) FROM suppressions");
}

/* ---- which permanent failures mean a bad address ---- */

/* Parse "C.S.D" (RFC 3463: class 2/4/5, subject and detail of 1-3
 * digits) at s; true with the three numbers when it is one, followed by
 * the end, a blank or nothing more. */
static bool parse_enhanced(const char *s, int v[3])
{
	for (int k = 0; k < 3; k++) {
		if (!isdigit((unsigned char)*s))
			return false;
		int n = 0, digits = 0;
		while (isdigit((unsigned char)*s) && digits < 4) {
			n = n * 10 + (*s++ - '0');
			digits++;
		}
		if (digits > 3)
			return false;
		v[k] = n;
		if (k < 2 && *s++ != '.')
			return false;
	}
	return *s == '\0' || *s == ' ' || *s == '\t';
}

/* The enhanced code after a "550 " or "550-" reply code. */
static bool status_from_reply(const char *reply, int v[3])
{
	if (reply == NULL || strlen(reply) < 5 || !isdigit((unsigned char)reply[0]) ||
	    !isdigit((unsigned char)reply[1]) || !isdigit((unsigned char)reply[2]) ||
	    (reply[3] != ' ' && reply[3] != '-'))
		return false;
	return parse_enhanced(reply + 4, v);
}

bool suppress_status_means_bad_address(const char *status, const char *reply)
{
	int v[3];
	if (!(status != NULL ? parse_enhanced(status, v) : status_from_reply(reply, v)))
		return false;
	if (v[0] != 5)
		return false;
	if (v[1] == 1)
		return v[2] <= 4 || v[2] == 6 || v[2] == 10;
	return v[1] == 2 && v[2] == 1;
}
