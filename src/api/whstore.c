/* whstore.c — the API's webhook endpoints table (see whstore.h).  It must
 * not send or log, and never returns a secret but the one just made. */
#include "api/whstore.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "api/hooksdb.h"
#include "api/whsign.h"
#include "lib/strutil.h"

static char *new_secret(void)
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof raw) != 1)
		abort(); /* no randomness: nothing safe to do */
	char b64[4 * ((sizeof raw + 2) / 3) + 1];
	EVP_EncodeBlock((unsigned char *)b64, raw, sizeof raw);
	OPENSSL_cleanse(raw, sizeof raw);
	return xasprintf("whsec_%s", b64);
}

/* The key's endpoints, or -1 on a database error. */
static int64_t count_of(sqlite3 *db, const char *apikey)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM endpoints WHERE apikey = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, apikey, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

whstore_status whstore_add(sqlite3 *db, const char *apikey, const char *url, unsigned kinds, int64_t now,
                           int64_t *id_r, char **secret_r)
{
	int64_t n = count_of(db, apikey);
	if (n < 0)
		return WHS_ERROR;
	if (n >= WEBHOOK_ENDPOINTS_MAX)
		return WHS_FULL;
	char *secret = new_secret();
	sqlite3_stmt *st = NULL;
	whstore_status s = WHS_ERROR;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO endpoints(url, secret, kinds, created, apikey)"
	                           " VALUES (?1, ?2, ?3, ?4, ?5)",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, secret, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, kinds);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_text(st, 5, apikey, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			s = sqlite3_changes(db) == 1 ? WHS_OK : WHS_EXISTS;
	}
	sqlite3_finalize(st);
	if (s == WHS_OK) {
		*id_r = sqlite3_last_insert_rowid(db);
		*secret_r = secret;
	} else {
		str_secure_free(secret);
	}
	return s;
}

whstore_status whstore_del(sqlite3 *db, const char *apikey, int64_t id)
{
	sqlite3_stmt *st = NULL;
	whstore_status s = WHS_ERROR;
	if (sqlite3_prepare_v2(db, "DELETE FROM endpoints WHERE id = ?1 AND apikey = ?2", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, apikey, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			s = sqlite3_changes(db) == 1 ? WHS_OK : WHS_NOT_FOUND;
	}
	sqlite3_finalize(st);
	return s;
}

whstore_status whstore_list(sqlite3 *db, const char *apikey, whstore_entry **v_r, size_t *n_r)
{
	*v_r = NULL;
	*n_r = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT id, url, kinds, created FROM endpoints WHERE apikey = ?1 ORDER BY id", -1,
	                       &st, NULL) != SQLITE_OK)
		return WHS_ERROR;
	sqlite3_bind_text(st, 1, apikey, -1, SQLITE_STATIC);
	whstore_entry *v = xcalloc(WEBHOOK_ENDPOINTS_MAX, sizeof(*v));
	size_t n = 0;
	int rc;
	while (n < WEBHOOK_ENDPOINTS_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *u = sqlite3_column_text(st, 1);
		v[n++] = (whstore_entry){.id = sqlite3_column_int64(st, 0), .url = xstrdup(u ? (const char *)u : ""),
		                         .kinds = (unsigned)sqlite3_column_int64(st, 2),
		                         .created = sqlite3_column_int64(st, 3)};
	}
	bool ok = n == WEBHOOK_ENDPOINTS_MAX || rc == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			free(v[i].url);
		free(v);
		return WHS_ERROR;
	}
	*v_r = v;
	*n_r = n;
	return WHS_OK;
}

webhook_defs *whstore_defs(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT url, secret, kinds, apikey FROM endpoints ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	webhook_defs *d = xcalloc(1, sizeof(*d));
	d->v = xcalloc(WEBHOOK_ENDPOINTS_MAX, sizeof(*d->v));
	int rc;
	while (d->n < WEBHOOK_ENDPOINTS_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *url = (const char *)sqlite3_column_text(st, 0);
		const char *secret = (const char *)sqlite3_column_text(st, 1);
		webhook_endpoint e = {.kinds = (unsigned)sqlite3_column_int64(st, 2)};
		e.host = webhook_url_host(url);
		e.key = whsign_key(secret, &e.key_len);
		if (e.host == NULL || e.key == NULL) { /* written by whstore_add only: skip what is not its */
			free(e.host);
			free(e.key);
			continue;
		}
		e.url = xstrdup(url);
		const unsigned char *owner = sqlite3_column_text(st, 3);
		e.apikey = xstrdup(owner ? (const char *)owner : "");
		d->v[d->n++] = e;
	}
	bool ok = d->n == WEBHOOK_ENDPOINTS_MAX || rc == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok)
		webhook_defs_free(&d);
	return d;
}
