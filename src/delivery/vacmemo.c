/* vacmemo.c — the vacation memory in SQLite (see vacmemo.h).  Sender
 * addresses are compared as given, after ASCII lower-casing (the local
 * part's case rarely matters in practice, and a second reply to the same
 * person is the failure users notice). */
#include "delivery/vacmemo.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sqlsetup.h"
#include "lib/strutil.h"

#define PRUNE_EVERY 256   /* writes between two prunes of expired entries */

struct vacmemo {
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *get, *put, *prune;
	unsigned writes;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS replied ("
	" account TEXT NOT NULL, sender TEXT NOT NULL, handle TEXT NOT NULL,"
	" until INTEGER NOT NULL, PRIMARY KEY (account, sender, handle)) WITHOUT ROWID;";

vacmemo *vacmemo_open(const char *path, char **err_r)
{
	sqlite3 *db = sql_open_wal(path, schema, 5000, err_r);
	if (db == NULL)
		return NULL;
	vacmemo *m = xcalloc(1, sizeof(*m));
	m->db = db;
	pthread_mutex_init(&m->lock, NULL);
	if (sqlite3_prepare_v2(db, "SELECT until FROM replied WHERE account=?1 AND sender=?2 AND handle=?3", -1,
	                       &m->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO replied VALUES (?1, ?2, ?3, ?4)", -1, &m->put, NULL) !=
	            SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM replied WHERE until < ?1", -1, &m->prune, NULL) != SQLITE_OK) {
		*err_r = xasprintf("%s: %s", path, sqlite3_errmsg(db));
		vacmemo_free(&m);
		return NULL;
	}
	return m;
}

void vacmemo_free(vacmemo **mp)
{
	vacmemo *m = *mp;
	if (m == NULL)
		return;
	sqlite3_finalize(m->get);
	sqlite3_finalize(m->put);
	sqlite3_finalize(m->prune);
	sqlite3_close(m->db);
	pthread_mutex_destroy(&m->lock);
	free(m);
	*mp = NULL;
}

static void bind3(sqlite3_stmt *st, const char *account, const char *sender, const char *handle)
{
	sqlite3_bind_text(st, 1, account, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, handle, -1, SQLITE_TRANSIENT);
}

bool vacmemo_replied(vacmemo *m, const char *account, const char *sender, const char *handle, time_t now)
{
	char *who = xstrdup(sender);
	str_ascii_lower(who);
	pthread_mutex_lock(&m->lock);
	bind3(m->get, account, who, handle);
	int rc = sqlite3_step(m->get);
	bool replied = rc == SQLITE_ROW ? sqlite3_column_int64(m->get, 0) > (sqlite3_int64)now : rc != SQLITE_DONE;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		log_event(LOG_LVL_ERROR, "vacation_memory", "account=%s error=\"%s\"", account, sqlite3_errmsg(m->db));
	sqlite3_reset(m->get);
	pthread_mutex_unlock(&m->lock);
	free(who);
	return replied;
}

bool vacmemo_remember(vacmemo *m, const char *account, const char *sender, const char *handle, time_t until)
{
	char *who = xstrdup(sender);
	str_ascii_lower(who);
	pthread_mutex_lock(&m->lock);
	bind3(m->put, account, who, handle);
	sqlite3_bind_int64(m->put, 4, (sqlite3_int64)until);
	bool ok = sqlite3_step(m->put) == SQLITE_DONE;
	if (!ok)
		log_event(LOG_LVL_ERROR, "vacation_memory", "account=%s error=\"%s\"", account, sqlite3_errmsg(m->db));
	sqlite3_reset(m->put);
	if (ok && ++m->writes % PRUNE_EVERY == 0) {
		sqlite3_bind_int64(m->prune, 1, (sqlite3_int64)time(NULL));
		sqlite3_step(m->prune);
		sqlite3_reset(m->prune);
	}
	pthread_mutex_unlock(&m->lock);
	free(who);
	return ok;
}
