/* keys.c — the API key store in data_dir/apikeys.db (see keys.h): making,
 * listing, revoking and finding keys, and the per-key daily counts.  Knows
 * nothing of HTTP: the access check (api/access.c) and the CLI
 * (cli/cmd_apikey.c) call it.
 *
 * Keys are stored as the SHA-256 of the whole key, not with a password
 * hash (scrypt, argon2...): a slow hash protects secrets a person chose,
 * which an attacker can guess; a key is 256 random bits, which nobody can
 * guess or search, so a fast hash loses nothing and lets every request be
 * checked in microseconds with one indexed look-up. */
#include "api/keys.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "policy/pdb.h"

struct apikeys {
	sqlite3 *db;
	pthread_mutex_t lock;    /* a call's statements run together */
	sqlite3_stmt *find_st;   /* the key look-up of every request, prepared once */
	sqlite3_stmt *version_st; /* PRAGMA data_version, prepared once */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS apikey("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,"
	" hash TEXT NOT NULL UNIQUE, domains TEXT NOT NULL, rate_per_min INTEGER NOT NULL,"
	" daily INTEGER NOT NULL, created INTEGER NOT NULL, last_used INTEGER NOT NULL DEFAULT 0,"
	" revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS apikey_daily("
	" key_id INTEGER NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(key_id, day));"
	"CREATE TABLE IF NOT EXISTS idempotency("
	" key_id INTEGER NOT NULL, idem_key TEXT NOT NULL, body_hash TEXT NOT NULL,"
	" run TEXT NOT NULL, created INTEGER NOT NULL, status INTEGER NOT NULL DEFAULT 0,"
	" response TEXT, PRIMARY KEY(key_id, idem_key));"
	"CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created);";

/* Daily counts older than this many days are dropped as new ones come. */
#define DAILY_KEEP_DAYS 7

void apikey_free(apikey *k)
{
	if (k == NULL)
		return;
	free(k->name);
	free(k->prefix);
	strlist_free(&k->domains);
	memset(k, 0, sizeof(*k));
}

char *apikeys_path(const config *cfg)
{
	return xasprintf("%s/apikeys.db", cfg->data_dir);
}

apikeys *apikeys_open(const config *cfg, bool create, char **err_r)
{
	char *path = apikeys_path(cfg);
	sqlite3 *db = pdb_open(path, create, create ? schema : NULL, err_r);
	free(path);
	if (db == NULL)
		return NULL;
	apikeys *ks = xcalloc(1, sizeof(*ks));
	ks->db = db;
	pthread_mutex_init(&ks->lock, NULL);
	return ks;
}

void apikeys_close(apikeys **ks)
{
	if (*ks == NULL)
		return;
	sqlite3_finalize((*ks)->find_st);
	sqlite3_finalize((*ks)->version_st);
	sqlite3_close((*ks)->db);
	pthread_mutex_destroy(&(*ks)->lock);
	free(*ks);
	*ks = NULL;
}

void apikeys_set_busy_timeout(apikeys *ks, int ms)
{
	sqlite3_busy_timeout(ks->db, ms);
}

bool apikeys_valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > APIKEY_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

bool apikeys_valid_domain(const char *d)
{
	size_t n = strlen(d), label = 0;
	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.' || d[0] == '-')
		return false;
	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-' || p[1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* ---- helpers ---- */

static apikeys_status db_error(apikeys *ks, char **err_r)
{
	*err_r = xstrdup(sqlite3_errmsg(ks->db));
	return APIKEYS_ERROR;
}

void apikeys_hash(const char *secret, char out[APIKEY_HASH_LEN + 1])
{
	sha256_hex(secret, strlen(secret), out);
}

/* 32 random bytes as "yk_" + base64url, no padding. */
static bool new_secret(char out[APIKEY_LEN + 1])
{
	unsigned char raw[32], b64[48];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return false;
	EVP_EncodeBlock(b64, raw, sizeof raw); /* 44 characters, one '=' */
	memcpy(out, APIKEY_PREFIX, 3);
	for (size_t i = 0; i < 43; i++)
		out[3 + i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[APIKEY_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	return true;
}

static void split_domains(const char *text, strlist *out)
{
	strlist_init(out);
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n > 0)
			strlist_add_owned(out, xstrndup(p, n));
		p += n + (e != NULL);
	}
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return xstrdup(t ? (const char *)t : "");
}

#define KEY_COLUMNS "id, name, prefix, domains, rate_per_min, daily, created, last_used, revoked"

static void row_to_key(sqlite3_stmt *st, apikey *k)
{
	k->id = sqlite3_column_int64(st, 0);
	k->name = col_dup(st, 1);
	k->prefix = col_dup(st, 2);
	split_domains((const char *)sqlite3_column_text(st, 3), &k->domains);
	k->rate_per_min = sqlite3_column_int64(st, 4);
	k->daily = sqlite3_column_int64(st, 5);
	k->created = sqlite3_column_int64(st, 6);
	k->last_used = sqlite3_column_int64(st, 7);
	k->revoked = sqlite3_column_int64(st, 8);
}

/* ---- the calls (each holds the lock for its statements) ---- */

static apikeys_status add_locked(apikeys *ks, const char *name, const strlist *domains, int64_t rate,
                                 int64_t daily, int64_t now, char **secret_r, char **err_r)
{
	char secret[APIKEY_LEN + 1], hash[65];
	if (!new_secret(secret)) {
		*err_r = xstrdup("no random bytes from OpenSSL");
		return APIKEYS_ERROR;
	}
	apikeys_hash(secret, hash);
	char prefix[APIKEY_SHOWN + 1];
	memcpy(prefix, secret, APIKEY_SHOWN);
	prefix[APIKEY_SHOWN] = '\0';
	char *joined = strlist_join(domains, ",");
	sqlite3_stmt *st = NULL;
	apikeys_status r = APIKEYS_OK;
	if (sqlite3_prepare_v2(ks->db,
	                       "INSERT INTO apikey(name, prefix, hash, domains, rate_per_min, daily, created)"
	                       " VALUES(?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		r = db_error(ks, err_r);
	} else {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, joined, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, rate);
		sqlite3_bind_int64(st, 6, daily);
		sqlite3_bind_int64(st, 7, now);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(ks->db) == SQLITE_CONSTRAINT_UNIQUE)
			r = APIKEYS_EXISTS;
		else if (rc != SQLITE_DONE)
			r = db_error(ks, err_r);
	}
	sqlite3_finalize(st);
	free(joined);
	if (r == APIKEYS_OK)
		*secret_r = xstrdup(secret);
	OPENSSL_cleanse(secret, sizeof secret);
	return r;
}

apikeys_status apikeys_add(apikeys *ks, const char *name, const strlist *domains, int64_t rate,
                           int64_t daily, int64_t now, char **secret_r, char **err_r)
{
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = add_locked(ks, name, domains, rate, daily, now, secret_r, err_r);
	pthread_mutex_unlock(&ks->lock);
	return r;
}

static apikeys_status list_locked(apikeys *ks, apikey **v_r, size_t *n_r, char **err_r)
{
	sqlite3_stmt *st = NULL;
	*v_r = NULL;
	*n_r = 0;
	if (sqlite3_prepare_v2(ks->db, "SELECT " KEY_COLUMNS " FROM apikey ORDER BY name", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_error(ks, err_r);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n_r == cap) {
			cap = cap ? 2 * cap : 8;
			*v_r = xrealloc(*v_r, cap * sizeof(**v_r));
		}
		memset(&(*v_r)[*n_r], 0, sizeof(**v_r));
		row_to_key(st, &(*v_r)[(*n_r)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		apikeys_list_free(*v_r, *n_r);
		*v_r = NULL;
		*n_r = 0;
		return db_error(ks, err_r);
	}
	return APIKEYS_OK;
}

apikeys_status apikeys_list(apikeys *ks, apikey **v_r, size_t *n_r, char **err_r)
{
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = list_locked(ks, v_r, n_r, err_r);
	pthread_mutex_unlock(&ks->lock);
	return r;
}

void apikeys_list_free(apikey *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		apikey_free(&v[i]);
	free(v);
}

/* Run one statement with up to two int64 and one text parameters bound
 * in the order given by the SQL (?1 text, ?2 and ?3 integers); the rows
 * changed in *changes_r. */
static apikeys_status run1(apikeys *ks, const char *sql, const char *t, int64_t a, int64_t b,
                           int *changes_r, char **err_r)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = APIKEYS_OK;
	if (sqlite3_prepare_v2(ks->db, sql, -1, &st, NULL) != SQLITE_OK) {
		r = db_error(ks, err_r);
	} else {
		if (t != NULL)
			sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, a);
		sqlite3_bind_int64(st, 3, b);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_error(ks, err_r);
		else if (changes_r != NULL)
			*changes_r = sqlite3_changes(ks->db);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&ks->lock);
	return r;
}

apikeys_status apikeys_revoke(apikeys *ks, const char *name, int64_t now, char **err_r)
{
	int changed = 0;
	apikeys_status r = run1(ks, "UPDATE apikey SET revoked = ?2 WHERE name = ?1 AND revoked = 0", name, now,
	                        0, &changed, err_r);
	if (r != APIKEYS_OK)
		return r;
	if (changed > 0)
		return APIKEYS_OK;
	/* none changed: unknown, or revoked already (which is fine) */
	apikey *v;
	size_t n;
	if ((r = apikeys_list(ks, &v, &n, err_r)) != APIKEYS_OK)
		return r;
	r = APIKEYS_NOT_FOUND;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			r = APIKEYS_OK;
	apikeys_list_free(v, n);
	return r;
}

apikeys_status apikeys_touch(apikeys *ks, int64_t id, int64_t now, char **err_r)
{
	return run1(ks, "UPDATE apikey SET last_used = ?2 WHERE id = ?3 AND last_used < ?2", NULL, now, id, NULL,
	            err_r);
}

static apikeys_status find_locked(apikeys *ks, const char *secret, apikey *out, char **err_r)
{
	char hash[65];
	apikeys_hash(secret, hash);
	if (ks->find_st == NULL &&
	    sqlite3_prepare_v2(ks->db, "SELECT " KEY_COLUMNS " FROM apikey WHERE hash = ?", -1, &ks->find_st,
	                       NULL) != SQLITE_OK)
		return db_error(ks, err_r);
	sqlite3_stmt *st = ks->find_st;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	apikeys_status r = APIKEYS_NOT_FOUND;
	if (rc == SQLITE_ROW) {
		row_to_key(st, out);
		r = out->revoked ? APIKEYS_REVOKED : APIKEYS_OK;
	} else if (rc != SQLITE_DONE) {
		r = db_error(ks, err_r);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

apikeys_status apikeys_version(apikeys *ks, int64_t *version_r, char **err_r)
{
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = APIKEYS_OK;
	if (ks->version_st == NULL &&
	    sqlite3_prepare_v2(ks->db, "PRAGMA data_version", -1, &ks->version_st, NULL) != SQLITE_OK)
		r = db_error(ks, err_r);
	else if (sqlite3_step(ks->version_st) == SQLITE_ROW)
		*version_r = sqlite3_column_int64(ks->version_st, 0);
	else
		r = db_error(ks, err_r);
	if (ks->version_st != NULL)
		sqlite3_reset(ks->version_st);
	pthread_mutex_unlock(&ks->lock);
	return r;
}

apikeys_status apikeys_find(apikeys *ks, const char *secret, apikey *out, char **err_r)
{
	memset(out, 0, sizeof(*out));
	/* not even the shape of a key: no look-up */
	if (strlen(secret) != APIKEY_LEN || strncmp(secret, APIKEY_PREFIX, 3) != 0)
		return APIKEYS_NOT_FOUND;
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = find_locked(ks, secret, out, err_r);
	pthread_mutex_unlock(&ks->lock);
	return r;
}

apikeys_status apikeys_daily_get(apikeys *ks, int64_t id, int64_t day, int64_t *count_r, char **err_r)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = APIKEYS_OK;
	*count_r = 0;
	if (sqlite3_prepare_v2(ks->db, "SELECT count FROM apikey_daily WHERE key_id = ?1 AND day = ?2", -1, &st,
	                       NULL) != SQLITE_OK) {
		r = db_error(ks, err_r);
	} else {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, day);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*count_r = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE)
			r = db_error(ks, err_r);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&ks->lock);
	return r;
}

apikeys_status apikeys_daily_add(apikeys *ks, int64_t id, int64_t day, int64_t n, char **err_r)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = APIKEYS_OK;
	if (sqlite3_prepare_v2(ks->db,
	                       "INSERT INTO apikey_daily(key_id, day, count) VALUES(?1, ?2, max(?3, 0))"
	                       " ON CONFLICT(key_id, day) DO UPDATE SET count = max(count + ?3, 0)",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(ks, err_r);
	} else {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, day);
		sqlite3_bind_int64(st, 3, n);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_error(ks, err_r);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&ks->lock);
	if (r == APIKEYS_OK) { /* old days go as new ones are counted */
		char *why = NULL;
		if (run1(ks, "DELETE FROM apikey_daily WHERE key_id = ?3 AND day < ?2", NULL, day - DAILY_KEEP_DAYS,
		         id, NULL, &why) != APIKEYS_OK)
			free(why); /* only housekeeping */
	}
	return r;
}

apikeys_status apikeys_with_db(apikeys *ks, apikeys_status (*fn)(sqlite3 *db, void *arg), void *arg)
{
	pthread_mutex_lock(&ks->lock);
	apikeys_status r = fn(ks->db, arg);
	pthread_mutex_unlock(&ks->lock);
	return r;
}
