/* query.c — reading the trail (yubin trace, the HTTP API, the dashboard,
 * the webhook sender): a read-only connection of the caller's own,
 * records by message, sender, recipient, state, time and kind, a
 * message's recipients, and hourly counts.  Never writes. */
#include "audit/audit_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000

audit_reader *audit_reader_open(const config *cfg, char **err_r)
{
	char *path = xasprintf("%s/audit.db", cfg->data_dir);
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(h, 5000);
		/* a file that is not a database fails here, not at the first query */
		rc = sqlite3_exec(h, "SELECT 1 FROM records LIMIT 1", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		*err_r = xasprintf("cannot read the audit trail %s: %s", path,
		                   h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		free(path);
		return NULL;
	}
	free(path);
	audit_reader *r = xcalloc(1, sizeof(*r));
	r->h = h;
	return r;
}

void audit_reader_close(audit_reader **rp)
{
	if (*rp == NULL)
		return;
	sqlite3_close((*rp)->h);
	free(*rp);
	*rp = NULL;
}

void audit_records_free(audit_records *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].qid);
		free(rs->v[i].rcpt);
		json_decref(rs->v[i].data);
	}
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s != NULL ? xstrdup((const char *)s) : NULL;
}

/* One row of "SELECT id, time_ms, kind, qid, rcpt, data ...". */
static void row_record(sqlite3_stmt *st, audit_record *rec)
{
	rec->id = sqlite3_column_int64(st, 0);
	rec->time_ms = sqlite3_column_int64(st, 1);
	int k = audit_kind_parse((const char *)sqlite3_column_text(st, 2));
	rec->kind = k < 0 ? AUDIT_KIND_COUNT : (audit_kind)k;
	rec->qid = col_dup(st, 3);
	rec->rcpt = col_dup(st, 4);
	const char *data = (const char *)sqlite3_column_text(st, 5);
	rec->data = data != NULL ? json_loads(data, JSON_DECODE_ANY, NULL) : NULL;
	if (!json_is_object(rec->data)) {
		json_decref(rec->data);
		rec->data = json_object();
	}
}

/* The WHERE clause of f, and its parameters in order (texts, then the
 * numbers are bound by the caller in the same order as '?'s). */
typedef struct bind {
	const char *text;
	int64_t num;
	bool is_text;
} bind;

static void add(buf *sql, bind *b, size_t *nb, const char *clause, const char *text, int64_t num, bool is_text)
{
	BUF_PUTS(sql, " AND ");
	BUF_PUTS(sql, clause);
	b[(*nb)++] = (bind){text, num, is_text};
}

static void build_query(const audit_filter *f, buf *sql, bind *b, size_t *nb)
{
	BUF_PUTS(sql, "SELECT id, time_ms, kind, qid, rcpt, data FROM records WHERE 1");
	bool by_message = f->sender != NULL || f->rcpt != NULL || f->status != NULL;
	if (by_message) {
		/* the matching messages (by the summary tables), whole timelines */
		BUF_PUTS(sql, " AND qid IN (SELECT m.qid FROM messages m WHERE 1");
		if (f->sender)
			add(sql, b, nb, "m.sender = ? COLLATE NOCASE", f->sender, 0, true);
		if (f->rcpt)
			add(sql, b, nb, "m.qid IN (SELECT qid FROM message_rcpts WHERE rcpt = ? COLLATE NOCASE)",
			    f->rcpt, 0, true);
		if (f->status)
			add(sql, b, nb, "m.qid IN (SELECT qid FROM message_rcpts WHERE state = ?)", f->status, 0, true);
		if (f->since_ms)
			add(sql, b, nb, "m.time_ms >= ?", NULL, f->since_ms, false);
		if (f->until_ms)
			add(sql, b, nb, "m.time_ms < ?", NULL, f->until_ms, false);
		BUF_PUTS(sql, ")");
	} else {
		if (f->since_ms)
			add(sql, b, nb, "time_ms >= ?", NULL, f->since_ms, false);
		if (f->until_ms)
			add(sql, b, nb, "time_ms < ?", NULL, f->until_ms, false);
	}
	if (f->qid)
		add(sql, b, nb, "qid = ?", f->qid, 0, true);
	if (f->apikey) {
		/* the key's messages, and records of no message it made itself */
		add(sql, b, nb, "(qid IN (SELECT qid FROM messages WHERE apikey = ?)"
		                " OR (qid IS NULL AND json_extract(data, '$.apikey') = ?))", f->apikey, 0, true);
		b[(*nb)++] = (bind){f->apikey, 0, true};
	}
	if (f->after_id)
		add(sql, b, nb, "id > ?", NULL, f->after_id, false);
	if (f->upto_id)
		add(sql, b, nb, "id <= ?", NULL, f->upto_id, false);
	if (f->kinds != 0) {
		BUF_PUTS(sql, " AND kind IN (''");
		for (int k = 0; k < AUDIT_KIND_COUNT; k++)
			if (f->kinds & (1u << k))
				BUF_PRINTF(sql, ", '%s'", audit_kind_name((audit_kind)k));
		BUF_PUTS(sql, ")");
	}
	size_t limit = f->limit == 0 ? LIMIT_DEFAULT : f->limit > LIMIT_MAX ? LIMIT_MAX : f->limit;
	BUF_PRINTF(sql, " ORDER BY id LIMIT %zu", limit);
}

bool audit_query(audit_reader *r, const audit_filter *f, audit_records *out, char **err_r)
{
	out->v = NULL;
	out->n = 0;
	buf sql;
	buf_init(&sql, BUF_UNBOUNDED);
	bind b[12];
	size_t nb = 0;
	build_query(f, &sql, b, &nb);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->h, buf_str(&sql), -1, &st, NULL);
	buf_free(&sql);
	for (size_t i = 0; rc == SQLITE_OK && i < nb; i++) {
		if (b[i].is_text)
			sqlite3_bind_text(st, (int)i + 1, b[i].text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, (int)i + 1, b[i].num);
	}
	size_t cap = 0;
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		row_record(st, &out->v[out->n++]);
	}
	if (rc != SQLITE_DONE) {
		*err_r = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(r->h));
		sqlite3_finalize(st);
		audit_records_free(out);
		return false;
	}
	sqlite3_finalize(st);
	return true;
}

bool audit_last_id(audit_reader *r, int64_t *id_r, char **err_r)
{
	*id_r = 0;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->h, "SELECT max(id) FROM records", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		*id_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		*err_r = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(r->h));
		return false;
	}
	return true;
}

bool audit_message_apikey(audit_reader *r, const char *qid, char **apikey_r, char **err_r)
{
	*apikey_r = NULL;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->h, "SELECT apikey FROM messages WHERE qid = ?", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, qid, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*apikey_r = col_dup(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*err_r = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(r->h));
		return false;
	}
	return true;
}

json_t *audit_message_state(audit_reader *r, const char *qid, char **err_r)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->h,
	                            "SELECT rcpt, state, reply, time_ms, read_ms, deleted_ms FROM message_rcpts"
	                            " WHERE qid = ? ORDER BY rowid", -1, &st, NULL);
	json_t *arr = json_array();
	if (rc == SQLITE_OK)
		sqlite3_bind_text(st, 1, qid, -1, SQLITE_STATIC);
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		static const char *const keys[] = {"rcpt", "state", "reply"};
		for (int k = 0; k < 3; k++)
			if (sqlite3_column_type(st, k) != SQLITE_NULL)
				json_object_set_new(o, keys[k], audit_str((const char *)sqlite3_column_text(st, k)));
		json_object_set_new(o, "time", json_integer(sqlite3_column_int64(st, 3)));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(o, "read", json_integer(sqlite3_column_int64(st, 4)));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(o, "deleted", json_integer(sqlite3_column_int64(st, 5)));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*err_r = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(r->h));
		json_decref(arr);
		return NULL;
	}
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

#define HOUR_MS 3600000LL
#define HOURS_MAX (24 * 366)

bool audit_hourly(audit_reader *r, int64_t since_ms, int64_t until_ms, uint32_t (**out_r)[4],
                  size_t *n_hours_r, char **err_r)
{
	int64_t first = since_ms / HOUR_MS;
	int64_t n = until_ms > since_ms ? (until_ms - 1) / HOUR_MS - first + 1 : 0;
	if (n > HOURS_MAX) {
		*err_r = xasprintf("at most %d hours at once", HOURS_MAX);
		return false;
	}
	uint32_t(*out)[4] = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*out));
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->h,
	                            "SELECT time_ms / 3600000, kind, count(*) FROM records"
	                            " WHERE time_ms >= ? AND time_ms < ?"
	                            " AND kind IN ('received', 'delivered', 'deferred', 'bounced')"
	                            " GROUP BY 1, 2", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, since_ms);
		sqlite3_bind_int64(st, 2, until_ms);
	}
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(st, 0) - first;
		int k = audit_kind_parse((const char *)sqlite3_column_text(st, 1));
		int col = k == AUDIT_RECEIVED ? 0 : k == AUDIT_DELIVERED ? 1 : k == AUDIT_DEFERRED ? 2 : 3;
		if (h >= 0 && h < n)
			out[h][col] += (uint32_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*err_r = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(r->h));
		free(out);
		return false;
	}
	*out_r = out;
	*n_hours_r = (size_t)n;
	return true;
}
