/* greylist.c — the greylisting store (see greylist.h): the triplets and
 * the allowed client networks in SQLite, and the rules that turn a
 * sighting into pass or defer.  Runs on worker threads; knows nothing of
 * SMTP replies, sessions or which clients are exempt (pol_greylist.c). */
#include "policy/greylist.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

/* Prune at least this often, and after this many new triplets (or a tenth
 * of max_entries, whichever is more), so the table stays near its bound
 * between prunes. */
#define GREYLIST_PRUNE_EVERY 300
#define GREYLIST_PRUNE_INSERTS 100

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS triplets ("
	" net TEXT NOT NULL, sender TEXT NOT NULL, rcpt TEXT NOT NULL,"
	" first INTEGER NOT NULL,"        /* first sight of the current round */
	" passed INTEGER NOT NULL,"       /* last pass, 0 while still waiting */
	" expires INTEGER NOT NULL,"
	" PRIMARY KEY (net, sender, rcpt)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS triplets_expires ON triplets (expires);"
	"CREATE TABLE IF NOT EXISTS clients ("
	" net TEXT PRIMARY KEY, passes INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS clients_expires ON clients (expires);";

enum { Q_CLIENT_GET, Q_CLIENT_PASS, Q_TRIP_GET, Q_TRIP_NEW, Q_TRIP_PASS,
       Q_PRUNE_TRIP, Q_PRUNE_CLIENT, Q_CAP_TRIP, Q_CAP_CLIENT, Q_COUNT };

static const char *const queries[Q_COUNT] = {
	[Q_CLIENT_GET] = "SELECT passes FROM clients WHERE net = ?1 AND expires > ?2",
	/* a pass after the last one expired starts the count again */
	[Q_CLIENT_PASS] = "INSERT INTO clients (net, passes, expires) VALUES (?1, 1, ?2)"
	                  " ON CONFLICT (net) DO UPDATE SET"
	                  " passes = CASE WHEN expires > ?3 THEN passes + 1 ELSE 1 END, expires = ?2",
	[Q_TRIP_GET] = "SELECT first, passed FROM triplets"
	               " WHERE net = ?1 AND sender = ?2 AND rcpt = ?3 AND expires > ?4",
	[Q_TRIP_NEW] = "INSERT OR REPLACE INTO triplets (net, sender, rcpt, first, passed, expires)"
	               " VALUES (?1, ?2, ?3, ?4, 0, ?5)",
	[Q_TRIP_PASS] = "UPDATE triplets SET passed = ?4, expires = ?5"
	                " WHERE net = ?1 AND sender = ?2 AND rcpt = ?3",
	[Q_PRUNE_TRIP] = "DELETE FROM triplets WHERE expires <= ?1",
	[Q_PRUNE_CLIENT] = "DELETE FROM clients WHERE expires <= ?1",
	[Q_CAP_TRIP] = "DELETE FROM triplets WHERE (net, sender, rcpt) IN"
	               " (SELECT net, sender, rcpt FROM triplets ORDER BY expires"
	               "  LIMIT max(0, (SELECT count(*) FROM triplets) - ?1))",
	[Q_CAP_CLIENT] = "DELETE FROM clients WHERE net IN"
	                 " (SELECT net FROM clients ORDER BY expires"
	                 "  LIMIT max(0, (SELECT count(*) FROM clients) - ?1))",
};

struct greylist {
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	pthread_mutex_t lock;    /* one call at a time on the connection */
	time_t next_prune;
	long inserts;            /* new triplets since the last prune */
};

greylist *greylist_open(const char *path, char **err_r)
{
	greylist *g = xcalloc(1, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	int rc = sqlite3_open_v2(path, &g->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(g->db, 2000); /* a second process (a copy, sqlite3) may read it */
		rc = sqlite3_exec(g->db, schema, NULL, NULL, NULL);
	}
	for (int k = 0; rc == SQLITE_OK && k < Q_COUNT; k++)
		rc = sqlite3_prepare_v3(g->db, queries[k], -1, SQLITE_PREPARE_PERSISTENT, &g->q[k], NULL);
	if (rc != SQLITE_OK) {
		*err_r = xasprintf("greylist database %s: %s", path, g->db ? sqlite3_errmsg(g->db) : "cannot open");
		greylist_close(&g);
	}
	return g;
}

void greylist_close(greylist **gp)
{
	greylist *g = *gp;
	if (g == NULL)
		return;
	for (int k = 0; k < Q_COUNT; k++)
		sqlite3_finalize(g->q[k]);
	sqlite3_close(g->db);
	pthread_mutex_destroy(&g->lock);
	free(g);
	*gp = NULL;
}

/* Bind text and integer parameters in order: "tti" = two texts, one int. */
static sqlite3_stmt *q_bind(greylist *g, int k, const char *types, ...)
{
	sqlite3_stmt *st = g->q[k];
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
	}
	va_end(ap);
	return st;
}

/* Run a statement that returns no row. */
static bool run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE;
}

/* Run a query; its first row's columns into out[0..n) (false, out
 * untouched, when there is no row).  *ok_r false on an error. */
static bool row(sqlite3_stmt *st, long long *out, int n, bool *ok_r)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		for (int i = 0; i < n; i++)
			out[i] = sqlite3_column_int64(st, i);
	else if (rc != SQLITE_DONE)
		*ok_r = false;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW;
}

static bool count_pass(greylist *g, const greylist_rules *r, const char *net, time_t now)
{
	if (r->auto_allow <= 0)
		return true;
	return run(q_bind(g, Q_CLIENT_PASS, "tii", net, (long long)now + r->auto_allow_time, (long long)now));
}

/* Inside the transaction: the verdict on one triplet. */
static greylist_result judge(greylist *g, const greylist_rules *r, const char *net, const char *sender,
                             const char *rcpt, time_t now, int *wait_r, bool *ok_r)
{
	long long passes = 0, t[2];
	if (r->auto_allow > 0 && row(q_bind(g, Q_CLIENT_GET, "ti", net, (long long)now), &passes, 1, ok_r) &&
	    passes >= r->auto_allow)
		return count_pass(g, r, net, now) ? GREYLIST_PASS : GREYLIST_ERROR;
	if (!*ok_r)
		return GREYLIST_ERROR;
	if (row(q_bind(g, Q_TRIP_GET, "ttti", net, sender, rcpt, (long long)now), t, 2, ok_r)) {
		long long age = (long long)now - t[0];
		if (t[1] == 0 && age < r->delay) {
			*wait_r = (int)(age < 0 ? r->delay : r->delay - age);
			return GREYLIST_DEFER;
		}
		bool ok = run(q_bind(g, Q_TRIP_PASS, "tttii", net, sender, rcpt, (long long)now,
		                   (long long)now + r->expire)) &&
		          count_pass(g, r, net, now);
		return ok ? GREYLIST_PASS : GREYLIST_ERROR;
	}
	if (!*ok_r)
		return GREYLIST_ERROR;
	/* new, or its last round expired: a new round; it waits at most
	 * retry_window for the retry */
	if (!run(q_bind(g, Q_TRIP_NEW, "tttii", net, sender, rcpt, (long long)now, (long long)now + r->retry_window)))
		return GREYLIST_ERROR;
	g->inserts++;
	*wait_r = r->delay;
	return GREYLIST_DEFER;
}

static bool exec(greylist *g, const char *sql)
{
	return sqlite3_exec(g->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static bool prune_locked(greylist *g, const greylist_rules *r, time_t now)
{
	bool ok = run(q_bind(g, Q_PRUNE_TRIP, "i", (long long)now)) && run(q_bind(g, Q_PRUNE_CLIENT, "i", (long long)now));
	if (ok && r->max_entries > 0)
		ok = run(q_bind(g, Q_CAP_TRIP, "i", (long long)r->max_entries)) &&
		     run(q_bind(g, Q_CAP_CLIENT, "i", (long long)r->max_entries));
	if (ok) {
		g->inserts = 0;
		g->next_prune = now + GREYLIST_PRUNE_EVERY;
	}
	return ok;
}

static bool prune_due(const greylist *g, const greylist_rules *r, time_t now)
{
	long every = r->max_entries / 10 > GREYLIST_PRUNE_INSERTS ? r->max_entries / 10 : GREYLIST_PRUNE_INSERTS;
	return now >= g->next_prune || g->inserts >= every;
}

greylist_result greylist_check(greylist *g, const greylist_rules *r, const char *net,
                               const char *sender, const char *rcpt, time_t now,
                               int *wait_r, char **err_r)
{
	pthread_mutex_lock(&g->lock);
	bool ok = exec(g, "BEGIN IMMEDIATE");
	greylist_result res = GREYLIST_ERROR;
	if (ok) {
		res = judge(g, r, net, sender, rcpt, now, wait_r, &ok);
		if (res != GREYLIST_ERROR && prune_due(g, r, now))
			ok = prune_locked(g, r, now) && ok;
		if (res == GREYLIST_ERROR || !ok || !exec(g, "COMMIT")) {
			res = GREYLIST_ERROR;
			exec(g, "ROLLBACK");
		}
	}
	if (res == GREYLIST_ERROR)
		*err_r = xstrdup(sqlite3_errmsg(g->db));
	pthread_mutex_unlock(&g->lock);
	return res;
}

bool greylist_prune(greylist *g, const greylist_rules *r, time_t now, char **err_r)
{
	pthread_mutex_lock(&g->lock);
	bool ok = exec(g, "BEGIN IMMEDIATE");
	if (ok && !(prune_locked(g, r, now) && exec(g, "COMMIT"))) {
		exec(g, "ROLLBACK");
		ok = false;
	}
	if (!ok)
		*err_r = xstrdup(sqlite3_errmsg(g->db));
	pthread_mutex_unlock(&g->lock);
	return ok;
}

void greylist_network(const char *ip, char key_r[ADDRKEY_MAX])
{
	addrkey_of(ip, key_r); /* IPv6: already its /64; IPv4: the address */
	struct in_addr v4;
	if (inet_pton(AF_INET, key_r, &v4) != 1)
		return;
	unsigned char *b = (unsigned char *)&v4.s_addr;
	b[3] = 0;
	char text[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &v4, text, sizeof text);
	snprintf(key_r, ADDRKEY_MAX, "%s/24", text);
}
