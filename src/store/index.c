/* index.c — the per-account SQLite index (see index.h).  SQLite because
 * the index must survive crashes without ever being half-written, and a
 * transaction is exactly that; WAL with synchronous=NORMAL, because losing
 * the last changes in a power cut is harmless here: flags come from the
 * file names again, and mod-sequences follow the clock (store_modseq_next)
 * so reassigned ones are still higher than any a client saw. */
#include "store/index.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/sqlsetup.h"
#include "lib/strutil.h"
#include "mime/imapfmt.h"
#include "mime/mime.h"
#include "mime/preview.h"

#define CACHE_MSG_MAX ((size_t)1 << 30)
#define CACHE_TEXT_MAX ((size_t)16 << 20)

enum { Q_GET_FOLDER, Q_ADD_FOLDER, Q_SET_FOLDER, Q_ROWS, Q_SET, Q_INSERT, Q_REMOVE, Q_CLEAR,
       Q_CACHE, Q_SET_CACHE, Q_RELOAD, Q_GET_RECENT, Q_SET_RECENT, Q_CLEAR_RECENT, Q_GONE_ADD,
       Q_GONE_CUT, Q_GONE_PRUNE, Q_GONE_FLOOR, Q_GONE_SINCE, Q_GONE_CLEAR, Q_COUNT };

static const char *const queries[Q_COUNT] = {
	[Q_GET_FOLDER] = "SELECT id, uidvalidity, highestmodseq FROM folders WHERE name = ?1",
	[Q_ADD_FOLDER] = "INSERT INTO folders (name, uidvalidity, highestmodseq) VALUES (?1, 0, 0)",
	[Q_SET_FOLDER] = "UPDATE folders SET uidvalidity = ?2, highestmodseq = ?3 WHERE id = ?1",
	[Q_ROWS] = ("SELECT uid, modseq, flags, envelope IS NOT NULL, savedate FROM msgs WHERE folder = ?1"
	            " ORDER BY uid"),
	[Q_SET] = "UPDATE msgs SET modseq = ?3, flags = ?4 WHERE folder = ?1 AND uid = ?2",
	[Q_INSERT] = ("INSERT OR REPLACE INTO msgs (folder, uid, modseq, flags, envelope, bodystructure, body,"
	              " savedate, preview) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
	[Q_REMOVE] = "DELETE FROM msgs WHERE folder = ?1 AND uid = ?2",
	[Q_CLEAR] = "DELETE FROM msgs WHERE folder = ?1",
	[Q_CACHE] = "SELECT envelope, bodystructure, body, preview FROM msgs WHERE folder = ?1 AND uid = ?2",
	[Q_RELOAD] = "SELECT uidvalidity, highestmodseq FROM folders WHERE id = ?1",
	[Q_GET_RECENT] = "SELECT floor FROM recent WHERE folder = ?1",
	[Q_SET_RECENT] = "INSERT OR REPLACE INTO recent (folder, floor) VALUES (?1, ?2)",
	[Q_CLEAR_RECENT] = "DELETE FROM recent WHERE folder = ?1",
	[Q_SET_CACHE] = ("UPDATE msgs SET envelope = ?3, bodystructure = ?4, body = ?5, preview = ?6"
	                 " WHERE folder = ?1 AND uid = ?2"),
	/* the expunged messages (QRESYNC): uid 0 holds the floor, see index.h */
	[Q_GONE_ADD] = "INSERT OR REPLACE INTO expunged (folder, uid, modseq) VALUES (?1, ?2, ?3)",
	[Q_GONE_CUT] = ("SELECT modseq FROM expunged WHERE folder = ?1 AND uid <> 0"
	                " ORDER BY modseq DESC LIMIT 1 OFFSET ?2"),
	[Q_GONE_PRUNE] = "DELETE FROM expunged WHERE folder = ?1 AND uid <> 0 AND modseq <= ?2",
	[Q_GONE_FLOOR] = "SELECT modseq FROM expunged WHERE folder = ?1 AND uid = 0",
	[Q_GONE_SINCE] = "SELECT uid FROM expunged WHERE folder = ?1 AND uid <> 0 AND modseq > ?2 ORDER BY uid",
	[Q_GONE_CLEAR] = "DELETE FROM expunged WHERE folder = ?1",
};

/* after lib/sqlsetup.h's switch to WAL */
static const char schema[] =
	"PRAGMA synchronous = NORMAL;"
	"PRAGMA cache_size = -512;"
	"CREATE TABLE IF NOT EXISTS folders (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
	" uidvalidity INTEGER NOT NULL, highestmodseq INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS msgs (folder INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL, flags INTEGER NOT NULL,"
	" envelope TEXT, bodystructure TEXT, body TEXT, savedate INTEGER, preview TEXT,"
	" PRIMARY KEY (folder, uid)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS recent (folder INTEGER PRIMARY KEY, floor INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS expunged (folder INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL, PRIMARY KEY (folder, uid)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS expunged_modseq ON expunged (folder, modseq);";

/* Columns added since the first index: an index made before them gets them
 * (empty; the save date then falls back to the file name's time, the
 * preview is built on the first FETCH PREVIEW). */
static const struct {
	const char *probe, *add;
} upgrades[] = {
	{"SELECT savedate FROM msgs LIMIT 0", "ALTER TABLE msgs ADD COLUMN savedate INTEGER"},
	{"SELECT preview FROM msgs LIMIT 0", "ALTER TABLE msgs ADD COLUMN preview TEXT"},
};

struct store_index {
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	int64_t folder;
	uint32_t uidvalidity;
	uint64_t highest;
	pthread_mutex_t lock;
};

/* What a row keeps of a message's flags: system flags and keyword letters. */
static int64_t flag_word(const mbox_msg *msg)
{
	return (int64_t)msg->flags | (int64_t)msg->kw << 8;
}

uint64_t store_modseq_next(uint64_t highest)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint64_t now = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	return now > highest ? now : highest + 1;
}

void store_cache_free(store_cache *c)
{
	free(c->envelope);
	free(c->bodystructure);
	free(c->body);
	free(c->preview);
	*c = (store_cache){0};
}

static char *take(buf *b)
{
	char *s = xstrndup(b->data ? b->data : "", b->len);
	buf_clear(b);
	return s;
}

bool store_cache_build(const char *path, store_cache *c)
{
	size_t len;
	char *data = fs_read_file(path, CACHE_MSG_MAX, &len);
	if (data == NULL)
		return false;
	mime_message *m = mime_parse(data, len);
	buf b;
	buf_init(&b, CACHE_TEXT_MAX);
	imap_write_envelope(&b, m, m->root);
	c->envelope = take(&b);
	imap_write_body(&b, m, m->root, true);
	c->bodystructure = take(&b);
	imap_write_body(&b, m, m->root, false);
	c->body = take(&b);
	c->preview = mime_preview(m);
	buf_free(&b);
	mime_free(&m);
	free(data);
	return true;
}

static sqlite3_stmt *q(store_index *ix, int k)
{
	sqlite3_stmt *st = ix->q[k];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, ix->folder);
	return st;
}

static bool done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE;
}

static bool load_folder(store_index *ix, const char *key)
{
	for (int tries = 0; tries < 2; tries++) {
		sqlite3_stmt *st = ix->q[Q_GET_FOLDER];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			ix->folder = sqlite3_column_int64(st, 0);
			ix->uidvalidity = (uint32_t)sqlite3_column_int64(st, 1);
			ix->highest = (uint64_t)sqlite3_column_int64(st, 2);
			sqlite3_reset(st);
			return true;
		}
		sqlite3_reset(st);
		st = ix->q[Q_ADD_FOLDER];
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		if (!done(st))
			return false;
	}
	return false;
}

static bool reload_folder(store_index *ix)
{
	sqlite3_stmt *st = ix->q[Q_RELOAD];
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, ix->folder);
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		ix->uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		ix->highest = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return ok;
}

static int upgrade(sqlite3 *db)
{
	int rc = SQLITE_OK;
	for (size_t k = 0; rc == SQLITE_OK && k < sizeof upgrades / sizeof upgrades[0]; k++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, upgrades[k].probe, -1, &st, NULL) != SQLITE_OK)
			rc = sqlite3_exec(db, upgrades[k].add, NULL, NULL, NULL);
		sqlite3_finalize(st);
	}
	return rc;
}

/* When a message without a stored save date came into the folder: the
 * time its Maildir name starts with (when it was made there), else its
 * arrival time. */
static time_t savedate_of(const mbox_msg *msg)
{
	char *end;
	long long t = strtoll(msg->file ? msg->file : "", &end, 10);
	if (end != msg->file && *end == '.' && t > 0 && t <= (long long)time(NULL) + 86400)
		return (time_t)t;
	return msg->internal;
}

store_index *store_index_open(const char *root, const char *key, char **err_r)
{
	char *path = xasprintf("%s/" STORE_INDEX_FILE, root);
	store_index *ix = xcalloc(1, sizeof(*ix));
	pthread_mutex_init(&ix->lock, NULL);
	int rc = sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	free(path);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(ix->db, 10000); /* `yubin mailbox reindex` may hold it a moment */
		/* two connections opening a new index at once: SQLite may answer
		 * BUSY at once there; tried again for up to two seconds (a worker
		 * thread may wait) */
		char *why = NULL;
		if (!sql_setup_wal(ix->db, schema, 2000, &why)) {
			*err_r = xasprintf("index %s/" STORE_INDEX_FILE ": %s", root, why);
			free(why);
			store_index_close(&ix);
			return NULL;
		}
	}
	if (rc == SQLITE_OK)
		rc = upgrade(ix->db);
	for (int k = 0; rc == SQLITE_OK && k < Q_COUNT; k++)
		rc = sqlite3_prepare_v3(ix->db, queries[k], -1, SQLITE_PREPARE_PERSISTENT, &ix->q[k], NULL);
	if (rc != SQLITE_OK || !load_folder(ix, key)) {
		*err_r = xasprintf("index %s/" STORE_INDEX_FILE ": %s", root,
		                   ix->db ? sqlite3_errmsg(ix->db) : "cannot open");
		store_index_close(&ix);
	}
	return ix;
}

void store_index_close(store_index **ixp)
{
	store_index *ix = *ixp;
	if (ix == NULL)
		return;
	for (int k = 0; k < Q_COUNT; k++)
		sqlite3_finalize(ix->q[k]);
	sqlite3_close(ix->db);
	pthread_mutex_destroy(&ix->lock);
	free(ix);
	*ixp = NULL;
}

static bool exec(store_index *ix, const char *sql)
{
	return sqlite3_exec(ix->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

bool store_index_begin(store_index *ix)
{
	pthread_mutex_lock(&ix->lock);
	bool ok = exec(ix, "BEGIN IMMEDIATE");
	if (!ok)
		pthread_mutex_unlock(&ix->lock);
	return ok;
}

bool store_index_commit(store_index *ix)
{
	bool ok = exec(ix, "COMMIT");
	if (!ok)
		exec(ix, "ROLLBACK");
	pthread_mutex_unlock(&ix->lock);
	return ok;
}

/* Inside a transaction: expunges at or below modseq may be forgotten. */
static bool raise_floor(store_index *ix, uint64_t modseq)
{
	sqlite3_stmt *st = q(ix, Q_GONE_FLOOR);
	uint64_t floor = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (modseq <= floor)
		return true;
	st = q(ix, Q_GONE_ADD);
	sqlite3_bind_int64(st, 2, 0);
	sqlite3_bind_int64(st, 3, (int64_t)modseq);
	return done(st);
}

bool store_index_clear(store_index *ix)
{
	if (!store_index_begin(ix))
		return false;
	/* messages that go while the rows are missing are never seen going */
	bool ok = reload_folder(ix) && done(q(ix, Q_CLEAR)) && raise_floor(ix, ix->highest);
	return store_index_commit(ix) && ok;
}

static bool insert(store_index *ix, const mbox_msg *msg, const store_cache *c)
{
	sqlite3_stmt *st = q(ix, Q_INSERT);
	sqlite3_bind_int64(st, 2, msg->uid);
	sqlite3_bind_int64(st, 3, (int64_t)msg->modseq);
	sqlite3_bind_int64(st, 4, flag_word(msg));
	sqlite3_bind_text(st, 5, c->envelope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->bodystructure, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (int64_t)(msg->savedate ? msg->savedate : savedate_of(msg)));
	sqlite3_bind_text(st, 9, c->preview, -1, SQLITE_STATIC);
	return done(st);
}

/* Inside a transaction (the lock held). */
static bool set_row(store_index *ix, const mbox_msg *msg, const char *path)
{
	sqlite3_stmt *st = q(ix, Q_SET);
	sqlite3_bind_int64(st, 2, msg->uid);
	sqlite3_bind_int64(st, 3, (int64_t)msg->modseq);
	sqlite3_bind_int64(st, 4, flag_word(msg));
	if (!done(st))
		return false;
	if (sqlite3_changes(ix->db) > 0 || path == NULL)
		return true;
	store_cache c = {0};
	store_cache_build(path, &c); /* unreadable: an empty cache, built again when fetched */
	bool ok = insert(ix, msg, &c);
	store_cache_free(&c);
	return ok;
}

bool store_index_set(store_index *ix, const mbox_msg *msg, const char *path)
{
	return set_row(ix, msg, path);
}

bool store_index_remove(store_index *ix, uint32_t uid)
{
	sqlite3_stmt *st = q(ix, Q_REMOVE);
	sqlite3_bind_int64(st, 2, uid);
	return done(st);
}

bool store_index_expunged(store_index *ix, uint32_t uid, uint64_t modseq)
{
	if (!store_index_remove(ix, uid))
		return false;
	sqlite3_stmt *st = q(ix, Q_GONE_ADD);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, (int64_t)modseq);
	if (!done(st))
		return false;
	/* keep the newest STORE_EXPUNGED_MAX; what goes raises the floor */
	st = q(ix, Q_GONE_CUT);
	sqlite3_bind_int64(st, 2, STORE_EXPUNGED_MAX);
	bool over = sqlite3_step(st) == SQLITE_ROW;
	uint64_t cut = over ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (!over)
		return true;
	st = q(ix, Q_GONE_PRUNE);
	sqlite3_bind_int64(st, 2, (int64_t)cut);
	return done(st) && raise_floor(ix, cut);
}

bool store_index_vanished(store_index *ix, uint64_t since, uint32_t **uids_r, size_t *n_r,
                          bool *exact_r)
{
	size_t n = 0, cap = 64;
	uint32_t *v = xcalloc(cap, sizeof(uint32_t));
	pthread_mutex_lock(&ix->lock);
	sqlite3_stmt *st = q(ix, Q_GONE_FLOOR);
	int rc = sqlite3_step(st);
	uint64_t floor = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	st = q(ix, Q_GONE_SINCE);
	sqlite3_bind_int64(st, 2, (int64_t)(since > INT64_MAX ? INT64_MAX : since));
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(uint32_t));
		}
		v[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	ok = ok && rc == SQLITE_DONE;
	sqlite3_reset(st);
	pthread_mutex_unlock(&ix->lock);
	*uids_r = v;
	*n_r = n;
	*exact_r = ok && since >= floor;
	return ok;
}

bool store_index_set_highest(store_index *ix, uint32_t uidvalidity, uint64_t highest)
{
	sqlite3_stmt *st = q(ix, Q_SET_FOLDER);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, (int64_t)highest);
	if (!done(st))
		return false;
	ix->uidvalidity = uidvalidity;
	ix->highest = highest;
	return true;
}

typedef struct row {
	uint32_t uid;
	uint64_t modseq;
	int64_t flags;
	bool cached;
	time_t savedate;       /* 0: none stored */
} row;

static row *read_rows(store_index *ix, size_t *n_r)
{
	size_t n = 0, cap = 256;
	row *v = xcalloc(cap, sizeof(row));
	sqlite3_stmt *st = q(ix, Q_ROWS);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(row));
		}
		v[n++] = (row){.uid = (uint32_t)sqlite3_column_int64(st, 0),
		               .modseq = (uint64_t)sqlite3_column_int64(st, 1),
		               .flags = sqlite3_column_int64(st, 2), .cached = sqlite3_column_int(st, 3) != 0,
		               .savedate = (time_t)sqlite3_column_int64(st, 4)};
	}
	sqlite3_reset(st);
	*n_r = n;
	return v;
}

bool store_index_reconcile(store_index *ix, mbox *m, uint64_t *highest_r, uint32_t **gone_r,
                           size_t *n_gone_r, char **err_r)
{
	*gone_r = NULL;
	*n_gone_r = 0;
	if (!store_index_begin(ix)) {
		*err_r = xasprintf("index: %s", sqlite3_errmsg(ix->db));
		return false;
	}
	/* another connection (STATUS, `yubin mailbox reindex`) may have moved it on */
	bool ok = reload_folder(ix);
	uint64_t highest = ix->highest > *highest_r ? ix->highest : *highest_r;
	if (ix->uidvalidity != m->uidvalidity) {
		/* a new UIDVALIDITY: nothing of the old one holds */
		ok = done(q(ix, Q_CLEAR)) && done(q(ix, Q_CLEAR_RECENT)) && done(q(ix, Q_GONE_CLEAR));
		highest = store_modseq_next(highest);
	}
	size_t nr = 0, r = 0;
	row *rows = ok ? read_rows(ix, &nr) : NULL;
	uint32_t *gone = xcalloc(nr + 1, sizeof(uint32_t));
	size_t ng = 0;
	for (size_t i = 0; ok && i <= m->n; i++) {
		uint32_t uid = i < m->n ? m->msgs[i].uid : UINT32_MAX;
		for (; r < nr && rows[r].uid < uid; r++)
			gone[ng++] = rows[r].uid;
		if (i == m->n)
			break;
		mbox_msg *msg = &m->msgs[i];
		bool have = r < nr && rows[r].uid == uid;
		msg->savedate = have && rows[r].savedate > 0 ? rows[r].savedate : savedate_of(msg);
		if (have && rows[r].flags == flag_word(msg) && rows[r].cached) {
			msg->modseq = rows[r].modseq;
			r++;
			continue;
		}
		if (!have || rows[r].flags != flag_word(msg))
			msg->modseq = highest = store_modseq_next(highest);
		else
			msg->modseq = rows[r].modseq;
		char *path = mbox_msg_path(m, i);
		if (have && !rows[r].cached)
			ok = store_index_remove(ix, uid);
		ok = ok && set_row(ix, msg, path);
		free(path);
		r += have;
	}
	if (ng > 0)
		highest = store_modseq_next(highest);
	for (size_t k = 0; ok && k < ng; k++)
		ok = store_index_expunged(ix, gone[k], highest);
	/* rows built from nothing (a new, lost or cleared index): what went
	 * before now was never seen going */
	if (ok && nr == 0 && m->n > 0)
		ok = raise_floor(ix, highest);
	ok = ok && store_index_set_highest(ix, m->uidvalidity, highest);
	if (!ok)
		*err_r = xasprintf("index: %s", sqlite3_errmsg(ix->db));
	ok = store_index_commit(ix) && ok;
	free(rows);
	if (ok && ng > 0) {
		*gone_r = gone;
		*n_gone_r = ng;
	} else {
		free(gone);
	}
	*highest_r = highest;
	return ok;
}

static char *col_text(sqlite3_stmt *st, int k)
{
	const unsigned char *t = sqlite3_column_text(st, k);
	return t ? xstrdup((const char *)t) : NULL;
}

bool store_index_cache(store_index *ix, uint32_t uid, const char *path, store_cache *c)
{
	*c = (store_cache){0};
	pthread_mutex_lock(&ix->lock);
	sqlite3_stmt *st = q(ix, Q_CACHE);
	sqlite3_bind_int64(st, 2, uid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		c->envelope = col_text(st, 0);
		c->bodystructure = col_text(st, 1);
		c->body = col_text(st, 2);
		c->preview = col_text(st, 3);
	}
	sqlite3_reset(st);
	bool ok = c->envelope != NULL && c->bodystructure != NULL && c->body != NULL && c->preview != NULL;
	if (!ok) {
		store_cache_free(c);
		ok = store_cache_build(path, c);
		st = q(ix, Q_SET_CACHE);
		sqlite3_bind_int64(st, 2, uid);
		sqlite3_bind_text(st, 3, c->envelope, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, c->bodystructure, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, c->body, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, c->preview, -1, SQLITE_STATIC);
		if (ok)
			done(st);
	}
	pthread_mutex_unlock(&ix->lock);
	return ok;
}

uint32_t store_index_recent(store_index *ix)
{
	pthread_mutex_lock(&ix->lock);
	sqlite3_stmt *st = q(ix, Q_GET_RECENT);
	uint32_t floor = sqlite3_step(st) == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 1;
	sqlite3_reset(st);
	pthread_mutex_unlock(&ix->lock);
	return floor;
}

bool store_index_set_recent(store_index *ix, uint32_t floor)
{
	pthread_mutex_lock(&ix->lock);
	sqlite3_stmt *st = q(ix, Q_SET_RECENT);
	sqlite3_bind_int64(st, 2, floor);
	bool ok = done(st);
	pthread_mutex_unlock(&ix->lock);
	return ok;
}
