/* selfdb.c — app passwords and recent log-ins in the account database
 * (see selfdb.h).  Owns the apppass and logins tables and the app
 * password alphabet; must not hash or check passwords.  Statements are
 * prepared per call with user data bound as parameters; a mutex makes one
 * handle usable from the worker threads and the loop. */
#include "auth/selfdb.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sqlsetup.h"
#include "lib/strutil.h"

#define SELFDB_BUSY_MS 5000

/* 32 letters and digits without the ones read wrongly (0 o 1 l). */
static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

const char selfdb_schema[] =
	"CREATE TABLE IF NOT EXISTS apppass(user TEXT NOT NULL, name TEXT NOT NULL,"
	" selector TEXT NOT NULL, hash TEXT NOT NULL, created INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(user, name));"
	"CREATE TABLE IF NOT EXISTS logins(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user TEXT NOT NULL, at INTEGER NOT NULL, protocol TEXT NOT NULL, ip TEXT NOT NULL,"
	" result TEXT NOT NULL, app TEXT);"
	"CREATE INDEX IF NOT EXISTS logins_user ON logins(user, id);";

struct selfdb {
	sqlite3 *db;
	pthread_mutex_t lock;
};

selfdb *selfdb_open(const char *path, char **err_r)
{
	selfdb *db = xcalloc(1, sizeof(*db));
	pthread_mutex_init(&db->lock, NULL);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	char *why = NULL;
	if (sqlite3_open_v2(path, &db->db, flags, NULL) != SQLITE_OK)
		why = xstrdup(db->db != NULL ? sqlite3_errmsg(db->db) : "out of memory");
	else
		sqlite3_busy_timeout(db->db, SELFDB_BUSY_MS);
	if (why == NULL && !sql_setup_wal(db->db, selfdb_schema, SELFDB_BUSY_MS, &why)) {
		/* why is set */
	}
	if (why != NULL) {
		*err_r = xasprintf("cannot open %s: %s", path, why);
		free(why);
		selfdb_close(&db);
	}
	return db;
}

void selfdb_close(selfdb **dbp)
{
	selfdb *db = *dbp;
	if (db == NULL)
		return;
	sqlite3_close(db->db);
	pthread_mutex_destroy(&db->lock);
	free(db);
	*dbp = NULL;
}

/* ---- statements ---- */

/* A statement with text parameters ?1..?n bound (NULL binds NULL). */
static sqlite3_stmt *prep(selfdb *db, const char *sql, const char *const *args, size_t n)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_TRANSIENT) != SQLITE_OK) {
			sqlite3_finalize(st);
			return NULL;
		}
	}
	return st;
}

/* Run a statement without rows (lock held): ACC_EXISTS on a constraint. */
static accounts_status run(selfdb *db, const char *sql, const char *const *args, size_t n, int *changes_r)
{
	sqlite3_stmt *st = prep(db, sql, args, n);
	if (st == NULL)
		return ACC_ERROR;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return ACC_EXISTS;
	if (rc != SQLITE_DONE)
		return ACC_ERROR;
	if (changes_r != NULL)
		*changes_r = sqlite3_changes(db->db);
	return ACC_OK;
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	return v != NULL ? xstrdup((const char *)v) : NULL;
}

/* ---- app passwords ---- */

bool selfdb_apppass_generate(char out[SELFDB_APPPASS_SHOWN + 1])
{
	unsigned char raw[SELFDB_APPPASS_LEN];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return false;
	size_t o = 0;
	for (size_t i = 0; i < SELFDB_APPPASS_LEN; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[raw[i] % 32]; /* 256 is a multiple of 32: no bias */
	}
	out[o] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	return true;
}

bool selfdb_apppass_normalize(const char *typed, char out[SELFDB_APPPASS_LEN + 1])
{
	size_t n = 0;
	for (const char *p = typed; *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
		if (n == SELFDB_APPPASS_LEN || strchr(alphabet, c) == NULL || c == '\0')
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == SELFDB_APPPASS_LEN;
}

bool selfdb_name_valid(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;
	if (n == 0 || n > SELFDB_NAME_MAX || name[0] == ' ' || name[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
			return false;
	return true;
}

static accounts_status count_of(selfdb *db, const char *user, long long *n_r)
{
	const char *args[] = {user};
	sqlite3_stmt *st = prep(db, "SELECT count(*) FROM apppass WHERE user = ?1", args, 1);
	if (st == NULL)
		return ACC_ERROR;
	accounts_status s = sqlite3_step(st) == SQLITE_ROW ? ACC_OK : ACC_ERROR;
	*n_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return s;
}

accounts_status selfdb_apppass_add(selfdb *db, const char *user, const char *name, const char *normalized,
                                   const char *hash, time_t now)
{
	if (!selfdb_name_valid(name) || strlen(normalized) != SELFDB_APPPASS_LEN)
		return ACC_INVALID;
	char selector[SELFDB_SELECTOR_LEN + 1], created[24];
	memcpy(selector, normalized, SELFDB_SELECTOR_LEN);
	selector[SELFDB_SELECTOR_LEN] = '\0';
	snprintf(created, sizeof created, "%lld", (long long)now);
	const char *args[] = {user, name, selector, hash, created};
	pthread_mutex_lock(&db->lock);
	long long have = 0;
	accounts_status s = count_of(db, user, &have);
	if (s == ACC_OK && have >= SELFDB_APPPASS_MAX)
		s = ACC_LIMIT;
	if (s == ACC_OK)
		s = run(db, "INSERT INTO apppass(user, name, selector, hash, created) VALUES (?1, ?2, ?3, ?4, ?5)",
		        args, 5, NULL);
	pthread_mutex_unlock(&db->lock);
	return s;
}

accounts_status selfdb_apppass_revoke(selfdb *db, const char *user, const char *name)
{
	const char *args[] = {user, name};
	int changes = 0;
	pthread_mutex_lock(&db->lock);
	accounts_status s = run(db, "DELETE FROM apppass WHERE user = ?1 AND name = ?2", args, 2, &changes);
	pthread_mutex_unlock(&db->lock);
	return s == ACC_OK && changes == 0 ? ACC_NOT_FOUND : s;
}

accounts_status selfdb_apppass_list(selfdb *db, const char *user, selfdb_apppass **list_r, size_t *n_r)
{
	*list_r = NULL;
	*n_r = 0;
	const char *args[] = {user};
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT name, created, last_used FROM apppass WHERE user = ?1 ORDER BY name",
	                        args, 1);
	accounts_status s = st != NULL ? ACC_OK : ACC_ERROR;
	int rc = SQLITE_DONE;
	while (st != NULL && *n_r < SELFDB_APPPASS_MAX * 2 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*list_r = xrealloc(*list_r, (*n_r + 1) * sizeof(**list_r));
		selfdb_apppass *a = &(*list_r)[(*n_r)++];
		a->name = col_text(st, 0);
		a->created = sqlite3_column_int64(st, 1);
		a->last_used = sqlite3_column_int64(st, 2);
	}
	if (st != NULL && rc != SQLITE_DONE && rc != SQLITE_ROW)
		s = ACC_ERROR;
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return s;
}

void selfdb_apppass_list_free(selfdb_apppass *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

accounts_status selfdb_apppass_candidates(selfdb *db, const char *user, const char *normalized, size_t max,
                                          strlist *names, strlist *hashes)
{
	char selector[SELFDB_SELECTOR_LEN + 1];
	memcpy(selector, normalized, SELFDB_SELECTOR_LEN);
	selector[SELFDB_SELECTOR_LEN] = '\0';
	const char *args[] = {user, selector};
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT name, hash FROM apppass WHERE user = ?1 AND selector = ?2 ORDER BY name",
	                        args, 2);
	accounts_status s = st != NULL ? ACC_OK : ACC_ERROR;
	for (size_t n = 0; st != NULL && n < max && sqlite3_step(st) == SQLITE_ROW; n++) {
		strlist_add_owned(names, col_text(st, 0));
		strlist_add_owned(hashes, col_text(st, 1));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return s;
}

accounts_status selfdb_apppass_used(selfdb *db, const char *user, const char *name, time_t now)
{
	char at[24];
	snprintf(at, sizeof at, "%lld", (long long)now);
	const char *args[] = {user, name, at};
	pthread_mutex_lock(&db->lock);
	accounts_status s = run(db, "UPDATE apppass SET last_used = ?3 WHERE user = ?1 AND name = ?2", args, 3, NULL);
	pthread_mutex_unlock(&db->lock);
	return s;
}

/* ---- log-ins ---- */

accounts_status selfdb_login_record(selfdb *db, const char *user, const char *protocol, const char *ip,
                                    const char *result, const char *app, time_t now)
{
	char at[24], keep[24];
	snprintf(at, sizeof at, "%lld", (long long)now);
	snprintf(keep, sizeof keep, "%d", SELFDB_LOGINS_MAX);
	const char *args[] = {user, at, protocol, ip, result, app};
	const char *prune[] = {user, keep};
	pthread_mutex_lock(&db->lock);
	accounts_status s = run(db, "BEGIN IMMEDIATE", NULL, 0, NULL);
	if (s == ACC_OK)
		s = run(db, "INSERT INTO logins(user, at, protocol, ip, result, app) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		        args, 6, NULL);
	if (s == ACC_OK)
		s = run(db, "DELETE FROM logins WHERE user = ?1 AND id <= (SELECT id FROM logins WHERE user = ?1"
		        " ORDER BY id DESC LIMIT 1 OFFSET CAST(?2 AS INTEGER))", prune, 2, NULL);
	if (s == ACC_OK)
		s = run(db, "COMMIT", NULL, 0, NULL);
	if (s != ACC_OK)
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&db->lock);
	return s;
}

accounts_status selfdb_login_list(selfdb *db, const char *user, size_t max, selfdb_login **list_r, size_t *n_r)
{
	*list_r = NULL;
	*n_r = 0;
	const char *args[] = {user};
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT at, protocol, ip, result, app FROM logins WHERE user = ?1"
	                        " ORDER BY id DESC", args, 1);
	accounts_status s = st != NULL ? ACC_OK : ACC_ERROR;
	while (st != NULL && *n_r < max && sqlite3_step(st) == SQLITE_ROW) {
		*list_r = xrealloc(*list_r, (*n_r + 1) * sizeof(**list_r));
		selfdb_login *l = &(*list_r)[(*n_r)++];
		l->at = sqlite3_column_int64(st, 0);
		l->protocol = col_text(st, 1);
		l->ip = col_text(st, 2);
		l->result = col_text(st, 3);
		l->app = col_text(st, 4);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return s;
}

void selfdb_login_list_free(selfdb_login *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].protocol);
		free(list[i].ip);
		free(list[i].result);
		free(list[i].app);
	}
	free(list);
}
