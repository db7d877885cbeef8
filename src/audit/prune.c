/* prune.c — retention: records older than audit.retention_days go, with
 * the summaries of the messages received before then, and a PRUNED record
 * is appended that names the oldest record kept and the hash it chains
 * from, so that `yubin audit verify` still proves the rest.  Run daily by
 * the server's writer thread (store.c) and by `yubin audit prune`; both
 * take the database's write lock, so they may run at the same time. */
#include "audit/audit_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static bool query_int(sqlite3 *h, const char *sql, int64_t arg, int64_t *out_r, bool *null_r)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, arg);
		int rc = sqlite3_step(st);
		ok = rc == SQLITE_ROW;
		if (ok) {
			*null_r = sqlite3_column_type(st, 0) == SQLITE_NULL;
			*out_r = sqlite3_column_int64(st, 0);
		}
	}
	sqlite3_finalize(st);
	return ok;
}

static bool exec_int(sqlite3 *h, const char *sql, int64_t arg)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, arg);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return ok;
}

/* The hash record first_id chains from (its prev_hash). */
static bool chain_from(sqlite3 *h, int64_t first_id, const audit_tip *tip, char out[AUDIT_HASH_HEX + 1])
{
	if (first_id > tip->id) {
		memcpy(out, tip->hash, AUDIT_HASH_HEX + 1);
		return true;
	}
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(h, "SELECT prev_hash FROM records WHERE id = ?", -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int64(st, 1, first_id);
		ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL;
		if (ok)
			snprintf(out, AUDIT_HASH_HEX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return ok;
}

int64_t audit_db_prune(audit_db *db, int64_t cutoff_ms, audit_tip *tip)
{
	sqlite3 *h = audit_db_handle(db);
	int64_t first_id, removed;
	bool none;
	/* the oldest record kept is the first one at or after the cutoff
	 * (records are in id order; one a little older after it stays) */
	if (!query_int(h, "SELECT min(id) FROM records WHERE time_ms >= ?", cutoff_ms, &first_id, &none))
		return -1;
	if (none)
		first_id = tip->id + 1; /* all of them: the PRUNED record starts the chain */
	if (!query_int(h, "SELECT count(*) FROM records WHERE id < ?", first_id, &removed, &none))
		return -1;
	if (removed == 0)
		return 0;
	char prev[AUDIT_HASH_HEX + 1];
	if (!chain_from(h, first_id, tip, prev) || !exec_int(h, "DELETE FROM records WHERE id < ?", first_id) ||
	    !exec_int(h, "DELETE FROM message_rcpts WHERE qid IN (SELECT qid FROM messages WHERE time_ms < ?)",
	              cutoff_ms) ||
	    !exec_int(h, "DELETE FROM messages WHERE time_ms < ?", cutoff_ms) ||
	    !exec_int(h, "DELETE FROM message_rcpts WHERE time_ms < ?"
	                 " AND qid NOT IN (SELECT qid FROM messages)", cutoff_ms))
		return -1;
	json_t *data = json_object();
	json_object_set_new(data, "first_id", json_integer(first_id));
	json_object_set_new(data, "prev_hash", json_string(prev));
	json_object_set_new(data, "removed", json_integer(removed));
	json_object_set_new(data, "before_ms", json_integer(cutoff_ms));
	audit_record rec = {.time_ms = audit_now_ms(), .kind = AUDIT_PRUNED, .data = data};
	bool stored;
	bool ok = audit_db_append(db, &rec, tip, &stored);
	json_decref(data);
	return ok ? removed : -1;
}

int64_t audit_prune(const config *cfg, int days, char **err_r)
{
	if (days < 0) {
		*err_r = xstrdup("the number of days must be 0 or more");
		return -1;
	}
	audit_db *db = audit_db_open_rw(cfg, err_r);
	if (db == NULL)
		return -1;
	audit_tip tip;
	int64_t removed = -1;
	if (audit_db_exec(db, "BEGIN IMMEDIATE")) {
		if (audit_db_tip(db, &tip, err_r))
			removed = audit_db_prune(db, audit_now_ms() - (int64_t)days * 86400000, &tip);
		if (removed < 0 || !audit_db_exec(db, "COMMIT")) {
			audit_db_exec(db, "ROLLBACK");
			if (*err_r == NULL)
				*err_r = xasprintf("cannot prune the audit trail: %s", sqlite3_errmsg(audit_db_handle(db)));
			removed = -1;
		}
	} else {
		*err_r = xasprintf("cannot lock the audit trail: %s", sqlite3_errmsg(audit_db_handle(db)));
	}
	audit_db_close(&db);
	return removed;
}
