/* idem.c — the Idempotency-Key records in the key store's file (see
 * idem.h).  One transaction per call, under the store's lock, so that two
 * requests with the same key never both see it absent. */
#include "api/idem.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct begin_args {
	int64_t key_id;
	const char *idem_key, *body_hash, *run;
	int64_t now, ttl;
	int *status_r;
	char **response_r;
	char **err_r;
	idem_status out;
} begin_args;

static bool exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* The existing record's verdict, or IDEM_NEW after (re)recording it. */
static idem_status begin_in_txn(sqlite3 *db, begin_args *a)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
	                       "DELETE FROM idempotency WHERE created < ?1", -1, &st, NULL) != SQLITE_OK)
		return IDEM_ERROR;
	sqlite3_bind_int64(st, 1, a->now - a->ttl);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE ||
	    sqlite3_prepare_v2(db,
	                       "SELECT body_hash, run, status, response FROM idempotency"
	                       " WHERE key_id = ?1 AND idem_key = ?2", -1, &st, NULL) != SQLITE_OK)
		return IDEM_ERROR;
	sqlite3_bind_int64(st, 1, a->key_id);
	sqlite3_bind_text(st, 2, a->idem_key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		idem_status r;
		const char *hash = (const char *)sqlite3_column_text(st, 0);
		const char *run = (const char *)sqlite3_column_text(st, 1);
		int status = sqlite3_column_int(st, 2);
		if (hash == NULL || strcmp(hash, a->body_hash) != 0)
			r = IDEM_MISMATCH;
		else if (status == 0)
			r = run != NULL && strcmp(run, a->run) == 0 ? IDEM_IN_FLIGHT : IDEM_INTERRUPTED;
		else {
			const char *resp = (const char *)sqlite3_column_text(st, 3);
			*a->status_r = status;
			*a->response_r = xstrdup(resp ? resp : "");
			r = IDEM_REPLAY;
		}
		sqlite3_finalize(st);
		return r;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE ||
	    sqlite3_prepare_v2(db,
	                       "INSERT INTO idempotency(key_id, idem_key, body_hash, run, created)"
	                       " VALUES(?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) != SQLITE_OK)
		return IDEM_ERROR;
	sqlite3_bind_int64(st, 1, a->key_id);
	sqlite3_bind_text(st, 2, a->idem_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->body_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->run, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? IDEM_NEW : IDEM_ERROR;
}

static apikeys_status begin_fn(sqlite3 *db, void *arg)
{
	begin_args *a = arg;
	if (!exec_sql(db, "BEGIN IMMEDIATE")) {
		a->out = IDEM_ERROR;
		*a->err_r = xstrdup(sqlite3_errmsg(db));
		return APIKEYS_ERROR;
	}
	a->out = begin_in_txn(db, a);
	if (a->out == IDEM_ERROR) {
		*a->err_r = xstrdup(sqlite3_errmsg(db));
		exec_sql(db, "ROLLBACK");
		if (*a->response_r != NULL) {
			free(*a->response_r);
			*a->response_r = NULL;
		}
		return APIKEYS_ERROR;
	}
	if (!exec_sql(db, "COMMIT")) {
		*a->err_r = xstrdup(sqlite3_errmsg(db));
		exec_sql(db, "ROLLBACK");
		a->out = IDEM_ERROR;
		free(*a->response_r);
		*a->response_r = NULL;
		return APIKEYS_ERROR;
	}
	return APIKEYS_OK;
}

idem_status idem_begin(apikeys *ks, int64_t key_id, const char *idem_key, const char *body_hash,
                       const char *run, int64_t now, int64_t ttl, int *status_r, char **response_r,
                       char **err_r)
{
	begin_args a = {key_id, idem_key, body_hash, run, now, ttl, status_r, response_r, err_r, IDEM_ERROR};
	*response_r = NULL;
	apikeys_with_db(ks, begin_fn, &a);
	return a.out;
}

typedef struct finish_args {
	int64_t key_id;
	const char *idem_key;
	int status;
	const char *response;
	char **err_r;
} finish_args;

static apikeys_status finish_fn(sqlite3 *db, void *arg)
{
	finish_args *a = arg;
	sqlite3_stmt *st = NULL;
	const char *sql = a->response != NULL
		? "UPDATE idempotency SET status = ?3, response = ?4 WHERE key_id = ?1 AND idem_key = ?2"
		: "DELETE FROM idempotency WHERE key_id = ?1 AND idem_key = ?2";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*a->err_r = xstrdup(sqlite3_errmsg(db));
		return APIKEYS_ERROR;
	}
	sqlite3_bind_int64(st, 1, a->key_id);
	sqlite3_bind_text(st, 2, a->idem_key, -1, SQLITE_STATIC);
	if (a->response != NULL) {
		sqlite3_bind_int(st, 3, a->status);
		sqlite3_bind_text(st, 4, a->response, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*a->err_r = xstrdup(sqlite3_errmsg(db));
		return APIKEYS_ERROR;
	}
	return APIKEYS_OK;
}

apikeys_status idem_finish(apikeys *ks, int64_t key_id, const char *idem_key, int status,
                           const char *response, char **err_r)
{
	finish_args a = {key_id, idem_key, status, response ? response : "", err_r};
	return apikeys_with_db(ks, finish_fn, &a);
}

apikeys_status idem_forget(apikeys *ks, int64_t key_id, const char *idem_key, char **err_r)
{
	finish_args a = {key_id, idem_key, 0, NULL, err_r};
	return apikeys_with_db(ks, finish_fn, &a);
}
