/* verify.c — `yubin audit verify`: walk the chain in id order and prove
 * that every record's hash matches its content and the hash of the one
 * before, from record 1 (the genesis hash) or, after pruning, from the
 * oldest record kept as the last PRUNED record names it.  Reads only. */
#include "audit/audit_int.h"

#include <stdlib.h>
#include <string.h>

/* Where the chain must start: the last PRUNED record's first_id and
 * prev_hash, else record 1 and the genesis hash. */
static bool chain_start(sqlite3 *h, int64_t *first_r, char prev[AUDIT_HASH_HEX + 1], char **err_r)
{
	*first_r = 1;
	memcpy(prev, AUDIT_GENESIS, AUDIT_HASH_HEX + 1);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h, "SELECT id, data FROM records WHERE kind = 'pruned' ORDER BY id DESC LIMIT 1",
	                            -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		json_t *d = text ? json_loads(text, 0, NULL) : NULL;
		json_t *first = json_object_get(d, "first_id");
		const char *ph = json_string_value(json_object_get(d, "prev_hash"));
		if (!json_is_integer(first) || ph == NULL || strlen(ph) != AUDIT_HASH_HEX) {
			*err_r = xasprintf("record %lld: a PRUNED record without first_id and prev_hash",
			                   (long long)sqlite3_column_int64(st, 0));
			json_decref(d);
			sqlite3_finalize(st);
			return false;
		}
		*first_r = json_integer_value(first);
		memcpy(prev, ph, AUDIT_HASH_HEX + 1);
		json_decref(d);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*err_r = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(h));
		return false;
	}
	return true;
}

/* One record against the chain so far; NULL when it holds, else why. */
static char *check_one(sqlite3_stmt *st, int64_t want_id, const char *prev)
{
	int64_t id = sqlite3_column_int64(st, 0);
	if (id != want_id)
		return want_id < id ? xasprintf("record %lld: missing (the chain goes on at record %lld)",
		                                (long long)want_id, (long long)id)
		                    : xasprintf("record %lld: older than the oldest record kept (%lld)",
		                                (long long)id, (long long)want_id);
	const char *stored_prev = (const char *)sqlite3_column_text(st, 6);
	const char *stored_hash = (const char *)sqlite3_column_text(st, 7);
	if (stored_prev == NULL || strcmp(stored_prev, prev) != 0)
		return xasprintf("record %lld: its prev_hash is not the hash of the record before", (long long)id);
	const char *text = (const char *)sqlite3_column_text(st, 5);
	const char *kind = (const char *)sqlite3_column_text(st, 2);
	json_t *data = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (!json_is_object(data) || audit_kind_parse(kind) < 0) {
		json_decref(data);
		return xasprintf("record %lld: its %s cannot be read", (long long)id, data ? "kind" : "data");
	}
	audit_record rec = {.id = id, .time_ms = sqlite3_column_int64(st, 1), .kind = (audit_kind)audit_kind_parse(kind),
	                    .qid = (char *)sqlite3_column_text(st, 3), .rcpt = (char *)sqlite3_column_text(st, 4),
	                    .data = data};
	/* the hash covers the data as stored: an edit that leaves the JSON
	 * the same value (a blank, the order of keys) is an edit too */
	char hash[AUDIT_HASH_HEX + 1];
	audit_record_hash(&rec, text, prev, hash);
	json_decref(data);
	if (stored_hash == NULL || strcmp(hash, stored_hash) != 0)
		return xasprintf("record %lld: its content does not match its hash (altered)", (long long)id);
	return NULL;
}

bool audit_verify(audit_reader *r, int64_t *n_checked_r, char **err_r)
{
	sqlite3 *h = r->h;
	*n_checked_r = 0;
	int64_t want;
	char prev[AUDIT_HASH_HEX + 1];
	/* one read transaction: a writer appending or pruning meanwhile is not
	 * seen half-way */
	sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
	if (!chain_start(h, &want, prev, err_r)) {
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
		return false;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h, "SELECT id, time_ms, kind, qid, rcpt, data, prev_hash, hash FROM records"
	                               " ORDER BY id", -1, &st, NULL);
	char *why = NULL;
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && why == NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		why = check_one(st, want, prev);
		if (why == NULL) {
			snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 7));
			want++;
			(*n_checked_r)++;
		}
	}
	if (why == NULL && rc != SQLITE_DONE)
		why = xasprintf("cannot read the audit trail: %s", sqlite3_errmsg(h));
	sqlite3_finalize(st);
	sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
	if (why != NULL) {
		*err_r = why;
		return false;
	}
	return true;
}
