/* accounts.c — the account store in SQLite (see accounts.h): address
 * normalisation, the domains / users / aliases tables, and recipient
 * resolution through aliases.  It must not hash or check passwords
 * (password.c) and must not know about SMTP replies.
 *
 * Every call prepares its statements afresh and binds user data as
 * parameters; no SQL is ever built from user data.  A handle is not meant to
 * be shared by threads at the same time (last_error is per handle): open one
 * per thread.  Several processes may use the same file; WAL mode and a busy
 * timeout let the CLI write while the server reads. */
#include "auth/accounts.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "auth/selfdb.h"
#include "lib/sqlsetup.h"

#define ACC_LOCAL_MAX 64
#define ACC_DOMAIN_MAX 253
#define ACC_LABEL_MAX 63
/* Alias expansions allowed on one path before we call it a loop. */
#define ACC_DEPTH_MAX 10
#define ACC_BUSY_MS 5000

#define ACC_STMT_CACHE 32

struct accounts {
	sqlite3 *db;
	strlist static_domains;   /* normalised copies */
	char *last_error;
	/* Prepared statements, keyed by the address of their SQL text (every
	 * query here is a string literal): RCPT look-ups are on the hot path,
	 * and preparing costs more than running them. */
	struct { const char *sql; sqlite3_stmt *st; } cache[ACC_STMT_CACHE];
	size_t n_cached;
};

static const char acc_schema[] =
	"CREATE TABLE IF NOT EXISTS domains(name TEXT PRIMARY KEY NOT NULL);"
	"CREATE TABLE IF NOT EXISTS users(address TEXT PRIMARY KEY NOT NULL,"
	" hash TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS aliases(alias TEXT NOT NULL,"
	" target TEXT NOT NULL, PRIMARY KEY(alias, target));"
	"CREATE TABLE IF NOT EXISTS sendas(user TEXT NOT NULL,"
	" address TEXT NOT NULL, PRIMARY KEY(user, address));"
	/* storage, messages: NULL the default (limits.*), 0 no limit; warned:
	 * the ACC_QUOTA_WARNED_* bits of the 90 % warnings sent */
	"CREATE TABLE IF NOT EXISTS quotas(address TEXT PRIMARY KEY NOT NULL,"
	" storage INTEGER, messages INTEGER, warned INTEGER NOT NULL DEFAULT 0);";

/* ---- normalisation ---------------------------------------------------- */

static bool acc_label_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c >= 0x80;
}

/* Labels of letters, digits, '-' or UTF-8 bytes; no empty label (so no
 * leading, trailing or double dot); at most 63 bytes a label (DNS). */
static bool acc_domain_valid(const char *d)
{
	size_t len = strlen(d), label = 0;
	if (len == 0 || len > ACC_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			if (label == 0)
				return false;
			label = 0;
		} else if (!acc_label_byte_ok((unsigned char)d[i]) ||
			   ++label > ACC_LABEL_MAX) {
			return false;
		}
	}
	return true;
}

/* Non-empty, at most 64 bytes, no control characters, space or '@'. */
static bool acc_local_valid(const char *l, size_t len)
{
	if (len == 0 || len > ACC_LOCAL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c < 0x20 || c == 0x7f || c == ' ' || c == '@')
			return false;
	}
	return true;
}

/* A malloc'd lower-case copy of a valid domain, else NULL. */
static char *acc_domain_normalize(const char *domain)
{
	if (domain == NULL || !acc_domain_valid(domain))
		return NULL;
	char *d = xstrdup(domain);
	str_ascii_lower(d);
	return d;
}

char *accounts_normalize(const char *address)
{
	if (address == NULL)
		return NULL;
	const char *at = strchr(address, '@');
	if (at == NULL || !acc_local_valid(address, (size_t)(at - address)) ||
	    !acc_domain_valid(at + 1))
		return NULL;
	char *a = xstrdup(address);
	str_ascii_lower(a);
	return a;
}

/* An alias name: an address, or "@domain" for the catch-all. */
static char *acc_alias_normalize(const char *alias)
{
	if (alias == NULL || alias[0] != '@')
		return accounts_normalize(alias);
	char *d = acc_domain_normalize(alias + 1);
	if (d == NULL)
		return NULL;
	char *a = xasprintf("@%s", d);
	free(d);
	return a;
}

/* The domain part of a normalised address or alias. */
static const char *acc_domain_of(const char *address)
{
	return strchr(address, '@') + 1;
}

/* address with the "+tag" of its local part removed (malloc'd), or NULL when
 * it has no tag or nothing would be left before the '+'. */
static char *acc_strip_tag(const char *address)
{
	const char *at = strchr(address, '@');
	const char *plus = memchr(address, '+', (size_t)(at - address));
	if (plus == NULL || plus == address)
		return NULL;
	return xasprintf("%.*s%s", (int)(plus - address), address, at);
}

/* ---- SQL helpers ------------------------------------------------------- */

static accounts_status acc_db_error(accounts *acc, const char *what)
{
	free(acc->last_error);
	acc->last_error = xasprintf("%s: %s", what, sqlite3_errmsg(acc->db));
	return ACC_ERROR;
}

/* Done with a statement from acc_prepare: reset a cached one, finalize one
 * that did not fit in the cache. */
static void acc_release(accounts *acc, sqlite3_stmt *st)
{
	for (size_t i = 0; i < acc->n_cached; i++) {
		if (acc->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

/* Prepare sql (or reuse its cached statement) and bind args[0..nargs) as
 * text parameters ?1..?n.  Pair with acc_release. */
static accounts_status acc_prepare(accounts *acc, const char *sql,
				   const char *const *args, size_t nargs,
				   sqlite3_stmt **stmt_r)
{
	sqlite3_stmt *st = NULL;
	for (size_t i = 0; i < acc->n_cached && st == NULL; i++)
		if (acc->cache[i].sql == sql)
			st = acc->cache[i].st;
	if (st == NULL) {
		if (sqlite3_prepare_v3(acc->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
			return acc_db_error(acc, "prepare");
		if (acc->n_cached < ACC_STMT_CACHE) {
			acc->cache[acc->n_cached].sql = sql;
			acc->cache[acc->n_cached++].st = st;
		}
	}
	for (size_t i = 0; i < nargs; i++) {
		if (sqlite3_bind_text(st, (int)i + 1, args[i], -1,
				      SQLITE_TRANSIENT) != SQLITE_OK) {
			acc_release(acc, st);
			return acc_db_error(acc, "bind");
		}
	}
	*stmt_r = st;
	return ACC_OK;
}

/* Run a statement that returns no rows.  A constraint violation (duplicate
 * primary key) is ACC_EXISTS.  *changes_r (may be NULL) gets the number of
 * rows changed. */
static accounts_status acc_exec(accounts *acc, const char *sql,
				const char *const *args, size_t nargs,
				int *changes_r)
{
	sqlite3_stmt *st;
	accounts_status s = acc_prepare(acc, sql, args, nargs, &st);
	if (s != ACC_OK)
		return s;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CONSTRAINT)
		s = acc_db_error(acc, "write");
	acc_release(acc, st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return ACC_EXISTS;
	if (s != ACC_OK)
		return s;
	if (changes_r != NULL)
		*changes_r = sqlite3_changes(acc->db);
	return ACC_OK;
}

/* Append the first column (text) of every row to out. */
static accounts_status acc_collect(accounts *acc, const char *sql,
				   const char *const *args, size_t nargs,
				   strlist *out)
{
	sqlite3_stmt *st;
	accounts_status s = acc_prepare(acc, sql, args, nargs, &st);
	if (s != ACC_OK)
		return s;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		strlist_add(out, v != NULL ? (const char *)v : "");
	}
	if (rc != SQLITE_DONE)
		s = acc_db_error(acc, "read");
	acc_release(acc, st);
	return s;
}

/* *found_r = whether the query returns at least one row. */
static accounts_status acc_exists(accounts *acc, const char *sql,
				  const char *arg, bool *found_r)
{
	strlist rows;
	strlist_init(&rows);
	accounts_status s = acc_collect(acc, sql, &arg, 1, &rows);
	*found_r = rows.n > 0;
	strlist_free(&rows);
	return s;
}

/* ---- open / close ------------------------------------------------------ */

static bool acc_setup(accounts *acc, char **err_r)
{
	sqlite3_busy_timeout(acc->db, ACC_BUSY_MS);
	char *why = NULL;
	/* the self-service tables too, so that deleting a user deletes its rows */
	if (sql_setup_wal(acc->db, acc_schema, ACC_BUSY_MS, &why) &&
	    sql_setup_wal(acc->db, selfdb_schema, ACC_BUSY_MS, &why))
		return true;
	*err_r = xasprintf("cannot set up the account database: %s", why);
	free(why);
	return false;
}

accounts *accounts_open(const char *path, const strlist *static_domains, char **err_r)
{
	accounts *acc = xcalloc(1, sizeof(*acc));
	strlist_init(&acc->static_domains);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &acc->db, flags, NULL) != SQLITE_OK) {
		*err_r = xasprintf("cannot open %s: %s", path,
				   acc->db != NULL ? sqlite3_errmsg(acc->db) : "out of memory");
		accounts_close(&acc);
		return NULL;
	}
	if (!acc_setup(acc, err_r)) {
		accounts_close(&acc);
		return NULL;
	}
	for (size_t i = 0; static_domains != NULL && i < static_domains->n; i++) {
		char *d = xstrdup(static_domains->items[i]);
		str_ascii_lower(d);
		strlist_add_owned(&acc->static_domains, d);
	}
	return acc;
}

void accounts_close(accounts **accp)
{
	accounts *acc = *accp;
	if (acc == NULL)
		return;
	for (size_t i = 0; i < acc->n_cached; i++)
		sqlite3_finalize(acc->cache[i].st);
	sqlite3_close(acc->db);
	strlist_free(&acc->static_domains);
	free(acc->last_error);
	free(acc);
	*accp = NULL;
}

const char *accounts_last_error(accounts *acc)
{
	return acc->last_error != NULL ? acc->last_error : "no error";
}

/* ---- domains ----------------------------------------------------------- */

/* *local_r = whether the normalised domain d is local. */
static accounts_status acc_domain_local(accounts *acc, const char *d, bool *local_r)
{
	if (strlist_contains(&acc->static_domains, d)) {
		*local_r = true;
		return ACC_OK;
	}
	return acc_exists(acc, "SELECT 1 FROM domains WHERE name = ?1", d, local_r);
}

bool accounts_domain_is_local(accounts *acc, const char *domain)
{
	char *d = acc_domain_normalize(domain);
	bool local = false;
	if (d != NULL && acc_domain_local(acc, d, &local) != ACC_OK)
		local = false;
	free(d);
	return local;
}

/* Adding a domain that the configuration already makes local is ACC_EXISTS. */
accounts_status accounts_domain_add(accounts *acc, const char *domain)
{
	char *d = acc_domain_normalize(domain);
	if (d == NULL)
		return ACC_INVALID;
	accounts_status s = ACC_EXISTS;
	if (!strlist_contains(&acc->static_domains, d)) {
		const char *args[] = { d };
		s = acc_exec(acc, "INSERT INTO domains(name) VALUES (?1)", args, 1, NULL);
	}
	free(d);
	return s;
}

/* *used_r = whether a user or an alias (catch-all included) lives in d. */
static accounts_status acc_domain_used(accounts *acc, const char *d, bool *used_r)
{
	accounts_status s = acc_exists(acc,
		"SELECT 1 FROM users WHERE substr(address, instr(address, '@') + 1) = ?1"
		" UNION ALL "
		"SELECT 1 FROM aliases WHERE substr(alias, instr(alias, '@') + 1) = ?1"
		" LIMIT 1", d, used_r);
	return s;
}

/* Deleting a domain is refused with ACC_EXISTS while users or aliases are
 * still in it (we never delete accounts as a side effect; the operator
 * removes them first).  A domain that is local only through the
 * configuration is not in the database: ACC_NOT_FOUND (the caller can tell
 * the two apart with accounts_domain_is_local).  When the configuration also
 * lists the domain, the database row goes without the check, since the
 * domain stays local. */
accounts_status accounts_domain_del(accounts *acc, const char *domain)
{
	char *d = acc_domain_normalize(domain);
	if (d == NULL)
		return ACC_INVALID;
	bool used = false;
	accounts_status s = ACC_OK;
	if (!strlist_contains(&acc->static_domains, d))
		s = acc_domain_used(acc, d, &used);
	if (s == ACC_OK && used)
		s = ACC_EXISTS;
	int changes = 0;
	const char *args[] = { d };
	if (s == ACC_OK)
		s = acc_exec(acc, "DELETE FROM domains WHERE name = ?1", args, 1, &changes);
	if (s == ACC_OK && changes == 0)
		s = ACC_NOT_FOUND;
	free(d);
	return s;
}

static int acc_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

accounts_status accounts_domain_list(accounts *acc, strlist *out)
{
	strlist all;
	strlist_init(&all);
	accounts_status s = acc_collect(acc, "SELECT name FROM domains", NULL, 0, &all);
	for (size_t i = 0; s == ACC_OK && i < acc->static_domains.n; i++)
		strlist_add(&all, acc->static_domains.items[i]);
	if (s == ACC_OK && all.n > 0)
		qsort(all.items, all.n, sizeof(all.items[0]), acc_strcmp_p);
	for (size_t i = 0; s == ACC_OK && i < all.n; i++)
		if (i == 0 || strcmp(all.items[i], all.items[i - 1]) != 0)
			strlist_add(out, all.items[i]);
	strlist_free(&all);
	return s;
}

/* ---- users ------------------------------------------------------------- */

/* Normalise address into *norm_r and check that its domain is local. */
static accounts_status acc_local_address(accounts *acc, const char *address, char **norm_r)
{
	*norm_r = accounts_normalize(address);
	if (*norm_r == NULL)
		return ACC_INVALID;
	bool local = false;
	accounts_status s = acc_domain_local(acc, acc_domain_of(*norm_r), &local);
	if (s == ACC_OK && !local)
		s = ACC_NO_DOMAIN;
	if (s != ACC_OK) {
		free(*norm_r);
		*norm_r = NULL;
	}
	return s;
}

accounts_status accounts_user_add(accounts *acc, const char *address, const char *hash)
{
	if (hash == NULL || hash[0] == '\0')
		return ACC_INVALID;
	char *a;
	accounts_status s = acc_local_address(acc, address, &a);
	if (s != ACC_OK)
		return s;
	const char *args[] = { a, hash };
	s = acc_exec(acc, "INSERT INTO users(address, hash, created)"
		     " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))",
		     args, 2, NULL);
	free(a);
	return s;
}

accounts_status accounts_user_set_hash(accounts *acc, const char *address, const char *hash)
{
	char *a = accounts_normalize(address);
	if (a == NULL || hash == NULL || hash[0] == '\0') {
		free(a);
		return ACC_INVALID;
	}
	const char *args[] = { a, hash };
	int changes = 0;
	accounts_status s = acc_exec(acc, "UPDATE users SET hash = ?2 WHERE address = ?1",
				     args, 2, &changes);
	if (s == ACC_OK && changes == 0)
		s = ACC_NOT_FOUND;
	free(a);
	return s;
}

/* The user's aliases are left alone: they may point at several targets. */
accounts_status accounts_user_del(accounts *acc, const char *address)
{
	char *a = accounts_normalize(address);
	if (a == NULL)
		return ACC_INVALID;
	const char *args[] = { a };
	int changes = 0;
	accounts_status s = acc_exec(acc, "DELETE FROM users WHERE address = ?1",
				     args, 1, &changes);
	if (s == ACC_OK && changes == 0)
		s = ACC_NOT_FOUND;
	/* a later user of the same name must not inherit the send-as list,
	 * the app passwords or the log-ins */
	if (s == ACC_OK)
		s = acc_exec(acc, "DELETE FROM sendas WHERE user = ?1", args, 1, NULL);
	/* nor its quota and warning state */
	if (s == ACC_OK)
		s = acc_exec(acc, "DELETE FROM quotas WHERE address = ?1", args, 1, NULL);
	if (s == ACC_OK)
		s = acc_exec(acc, "DELETE FROM apppass WHERE user = ?1", args, 1, NULL);
	if (s == ACC_OK)
		s = acc_exec(acc, "DELETE FROM logins WHERE user = ?1", args, 1, NULL);
	free(a);
	return s;
}

accounts_status accounts_user_list(accounts *acc, strlist *out)
{
	return acc_collect(acc, "SELECT address FROM users ORDER BY address",
			   NULL, 0, out);
}

/* A malformed address is simply not found (this is the log-in path). */
accounts_status accounts_user_get_hash(accounts *acc, const char *address, char **hash_r)
{
	*hash_r = NULL;
	char *a = accounts_normalize(address);
	if (a == NULL)
		return ACC_NOT_FOUND;
	strlist rows;
	strlist_init(&rows);
	const char *args[] = { a };
	accounts_status s = acc_collect(acc, "SELECT hash FROM users WHERE address = ?1",
					args, 1, &rows);
	if (s == ACC_OK && rows.n == 0)
		s = ACC_NOT_FOUND;
	if (s == ACC_OK) {
		*hash_r = rows.items[0];
		rows.items[0] = xstrdup("");
	}
	strlist_free(&rows);
	free(a);
	return s;
}

/* ---- aliases ----------------------------------------------------------- */

/* An alias whose only target is itself is refused with ACC_LOOP at once;
 * longer loops are found when resolving. */
accounts_status accounts_alias_add(accounts *acc, const char *alias, const char *target)
{
	char *a = acc_alias_normalize(alias);
	char *t = accounts_normalize(target);
	accounts_status s = ACC_INVALID;
	bool local = false;
	if (a != NULL && t != NULL)
		s = acc_domain_local(acc, acc_domain_of(a), &local);
	if (s == ACC_OK && !local)
		s = ACC_NO_DOMAIN;
	if (s == ACC_OK && strcmp(a, t) == 0)
		s = ACC_LOOP;
	const char *args[] = { a, t };
	if (s == ACC_OK)
		s = acc_exec(acc, "INSERT INTO aliases(alias, target) VALUES (?1, ?2)",
			     args, 2, NULL);
	free(a);
	free(t);
	return s;
}

/* Deleting works even when the domain is no longer local, so that leftovers
 * can be cleaned up. */
accounts_status accounts_alias_del(accounts *acc, const char *alias, const char *target)
{
	char *a = acc_alias_normalize(alias);
	char *t = target != NULL ? accounts_normalize(target) : NULL;
	accounts_status s = ACC_INVALID;
	int changes = 0;
	if (a != NULL && target == NULL) {
		const char *args[] = { a };
		s = acc_exec(acc, "DELETE FROM aliases WHERE alias = ?1", args, 1, &changes);
	} else if (a != NULL && t != NULL) {
		const char *args[] = { a, t };
		s = acc_exec(acc, "DELETE FROM aliases WHERE alias = ?1 AND target = ?2",
			     args, 2, &changes);
	}
	if (s == ACC_OK && changes == 0)
		s = ACC_NOT_FOUND;
	free(a);
	free(t);
	return s;
}

accounts_status accounts_alias_list(accounts *acc, strlist *out)
{
	return acc_collect(acc, "SELECT alias || ' ' || target FROM aliases"
			   " ORDER BY alias, target", NULL, 0, out);
}

/* ---- resolution -------------------------------------------------------- */

/* State of one accounts_resolve call. */
typedef struct acc_walk {
	accounts *acc;
	strlist path;     /* addresses being expanded, outermost first */
	strlist local;
	strlist remote;
} acc_walk;

static accounts_status acc_resolve_addr(acc_walk *w, const char *addr, int depth);

static void acc_add_unique(strlist *l, const char *s)
{
	if (!strlist_contains(l, s))
		strlist_add(l, s);
}

/* Expand every target of an alias one level deeper, with addr on the path. */
static accounts_status acc_expand(acc_walk *w, const char *addr,
				  const strlist *targets, int depth)
{
	strlist_add(&w->path, addr);
	accounts_status s = ACC_OK;
	for (size_t i = 0; s == ACC_OK && i < targets->n; i++)
		s = acc_resolve_addr(w, targets->items[i], depth + 1);
	free(w->path.items[--w->path.n]);
	return s;
}

/* Look up name as an alias (expanding it) and, unless it is a catch-all, as
 * a user.  *done_r is false when it is neither. */
static accounts_status acc_try(acc_walk *w, const char *addr, const char *name,
			       int depth, bool *done_r)
{
	strlist targets;
	strlist_init(&targets);
	const char *args[] = { name };
	accounts_status s = acc_collect(w->acc, "SELECT target FROM aliases WHERE alias = ?1"
					" ORDER BY target", args, 1, &targets);
	*done_r = s == ACC_OK && targets.n > 0;
	if (*done_r)
		s = acc_expand(w, addr, &targets, depth);
	strlist_free(&targets);
	if (s != ACC_OK || *done_r || name[0] == '@')
		return s;
	s = acc_exists(w->acc, "SELECT 1 FROM users WHERE address = ?1", name, done_r);
	if (s == ACC_OK && *done_r)
		acc_add_unique(&w->local, name);
	return s;
}

/* The look-up order of accounts.h for one local address. */
static accounts_status acc_resolve_local(acc_walk *w, const char *addr, int depth)
{
	bool done = false;
	accounts_status s = acc_try(w, addr, addr, depth, &done);
	char *base = acc_strip_tag(addr);
	if (s == ACC_OK && !done && base != NULL)
		s = acc_try(w, addr, base, depth, &done);
	free(base);
	if (s == ACC_OK && !done) {
		char *catchall = xasprintf("@%s", acc_domain_of(addr));
		s = acc_try(w, addr, catchall, depth, &done);
		free(catchall);
	}
	if (s == ACC_OK && !done)
		s = ACC_NOT_FOUND;
	return s;
}

/* addr is normalised; depth = alias expansions that led to it. */
static accounts_status acc_resolve_addr(acc_walk *w, const char *addr, int depth)
{
	if (depth > ACC_DEPTH_MAX || strlist_contains(&w->path, addr))
		return ACC_LOOP;
	bool local = false;
	accounts_status s = acc_domain_local(w->acc, acc_domain_of(addr), &local);
	if (s != ACC_OK)
		return s;
	if (!local) {
		acc_add_unique(&w->remote, addr);
		return ACC_OK;
	}
	return acc_resolve_local(w, addr, depth);
}

/* Results are appended only on success, and only addresses not already in
 * local_r / remote_r (so a caller may collect several recipients into the
 * same lists without duplicates).  Any target that fails (unknown local
 * address, loop) fails the whole resolution: mail is never silently dropped
 * for part of an alias. */
accounts_status accounts_resolve(accounts *acc, const char *address,
				 strlist *local_r, strlist *remote_r)
{
	char *a = accounts_normalize(address);
	if (a == NULL)
		return ACC_INVALID;
	acc_walk w = { .acc = acc };
	strlist_init(&w.path);
	strlist_init(&w.local);
	strlist_init(&w.remote);
	bool local = false;
	accounts_status s = acc_domain_local(acc, acc_domain_of(a), &local);
	if (s == ACC_OK && !local)
		s = ACC_NO_DOMAIN;
	if (s == ACC_OK)
		s = acc_resolve_addr(&w, a, 0);
	for (size_t i = 0; s == ACC_OK && i < w.local.n; i++)
		acc_add_unique(local_r, w.local.items[i]);
	for (size_t i = 0; s == ACC_OK && i < w.remote.n; i++)
		acc_add_unique(remote_r, w.remote.items[i]);
	strlist_free(&w.path);
	strlist_free(&w.local);
	strlist_free(&w.remote);
	free(a);
	return s;
}

/* The address itself, its "+tag"-less form, or anything that resolves to
 * the user (an alias, or a catch-all for an address nobody else has). */
/* ---- send-as ----------------------------------------------------------- */

/* A send-as entry: an address (any domain), or "@domain" for every address
 * of that domain; the user must exist. */
static accounts_status acc_sendas_args(accounts *acc, const char *user, const char *address,
				       char **u_r, char **a_r)
{
	*u_r = accounts_normalize(user);
	*a_r = acc_alias_normalize(address);
	if (*u_r == NULL || *a_r == NULL)
		return ACC_INVALID;
	bool found = false;
	accounts_status s = acc_exists(acc, "SELECT 1 FROM users WHERE address = ?1", *u_r, &found);
	return s == ACC_OK && !found ? ACC_NOT_FOUND : s;
}

accounts_status accounts_sendas_add(accounts *acc, const char *user, const char *address)
{
	char *u, *a;
	accounts_status s = acc_sendas_args(acc, user, address, &u, &a);
	const char *args[] = { u, a };
	if (s == ACC_OK)
		s = acc_exec(acc, "INSERT INTO sendas(user, address) VALUES (?1, ?2)", args, 2, NULL);
	free(u);
	free(a);
	return s;
}

accounts_status accounts_sendas_del(accounts *acc, const char *user, const char *address)
{
	char *u = accounts_normalize(user);
	char *a = acc_alias_normalize(address);
	accounts_status s = ACC_INVALID;
	int changes = 0;
	const char *args[] = { u, a };
	if (u != NULL && a != NULL)
		s = acc_exec(acc, "DELETE FROM sendas WHERE user = ?1 AND address = ?2", args, 2, &changes);
	if (s == ACC_OK && changes == 0)
		s = ACC_NOT_FOUND;
	free(u);
	free(a);
	return s;
}

accounts_status accounts_sendas_list(accounts *acc, const char *user, strlist *out)
{
	char *u = accounts_normalize(user);
	if (u == NULL)
		return ACC_INVALID;
	const char *args[] = { u };
	accounts_status s = acc_collect(acc, "SELECT address FROM sendas WHERE user = ?1 ORDER BY address",
					args, 1, out);
	free(u);
	return s;
}

/* Is the normalised a (or its untagged base, or its domain) on u's list? */
static accounts_status acc_sendas_has(accounts *acc, const char *u, const char *a, const char *base)
{
	char *dom = xasprintf("@%s", acc_domain_of(a));
	const char *args[] = { u, a, base != NULL ? base : a, dom };
	strlist rows;
	strlist_init(&rows);
	accounts_status s = acc_collect(acc, "SELECT 1 FROM sendas WHERE user = ?1"
					" AND address IN (?2, ?3, ?4) LIMIT 1", args, 4, &rows);
	if (s == ACC_OK && rows.n == 0)
		s = ACC_NOT_FOUND;
	strlist_free(&rows);
	free(dom);
	return s;
}

accounts_status accounts_user_may_send_as(accounts *acc, const char *user, const char *address)
{
	char *u = accounts_normalize(user);
	char *a = accounts_normalize(address);
	char *base = a != NULL ? acc_strip_tag(a) : NULL;
	accounts_status s = ACC_NOT_FOUND;
	if (u != NULL && a != NULL && (strcmp(u, a) == 0 || (base != NULL && strcmp(u, base) == 0)))
		s = ACC_OK;
	if (u != NULL && a != NULL && s != ACC_OK) {
		strlist local, remote;
		strlist_init(&local);
		strlist_init(&remote);
		s = accounts_resolve(acc, a, &local, &remote);
		if (s == ACC_OK && !strlist_contains(&local, u))
			s = ACC_NOT_FOUND;
		if (s != ACC_OK && s != ACC_ERROR)
			s = acc_sendas_has(acc, u, a, base);
		strlist_free(&local);
		strlist_free(&remote);
	}
	free(base);
	free(u);
	free(a);
	return s;
}


/* ---- quotas ------------------------------------------------------------ */

static int64_t acc_quota_column(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return ACC_QUOTA_DEFAULT;
	return sqlite3_column_int64(st, col);
}

accounts_status accounts_quota_get(accounts *acc, const char *address, accounts_quota *q_r)
{
	*q_r = (accounts_quota){.storage = ACC_QUOTA_DEFAULT, .messages = ACC_QUOTA_DEFAULT};
	char *a = accounts_normalize(address);
	if (a == NULL)
		return ACC_NOT_FOUND;
	sqlite3_stmt *st;
	const char *args[] = { a };
	accounts_status s = acc_prepare(acc, "SELECT q.storage, q.messages, q.warned FROM users u"
	                                " LEFT JOIN quotas q ON q.address = u.address WHERE u.address = ?1",
	                                args, 1, &st);
	if (s == ACC_OK) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			q_r->storage = acc_quota_column(st, 0);
			q_r->messages = acc_quota_column(st, 1);
			q_r->warned = (unsigned)sqlite3_column_int64(st, 2);
		} else if (rc == SQLITE_DONE) {
			s = ACC_NOT_FOUND;
		} else {
			s = acc_db_error(acc, "read");
		}
		acc_release(acc, st);
	}
	free(a);
	return s;
}

/* Bind v as ?n: NULL for the default. */
static bool acc_bind_quota(sqlite3_stmt *st, int n, int64_t v)
{
	return (v < 0 ? sqlite3_bind_null(st, n) : sqlite3_bind_int64(st, n, v)) == SQLITE_OK;
}

/* Upsert the quotas row of the user a (normalised); the user must exist. */
static accounts_status acc_quota_write(accounts *acc, const char *a, const accounts_quota *q)
{
	sqlite3_stmt *st;
	const char *args[] = { a };
	accounts_status s = acc_prepare(acc, "INSERT INTO quotas(address, storage, messages, warned)"
	                                " SELECT address, ?2, ?3, ?4 FROM users WHERE address = ?1"
	                                " ON CONFLICT(address) DO UPDATE SET storage = excluded.storage,"
	                                " messages = excluded.messages, warned = excluded.warned",
	                                args, 1, &st);
	if (s != ACC_OK)
		return s;
	if (!acc_bind_quota(st, 2, q->storage) || !acc_bind_quota(st, 3, q->messages) ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)q->warned) != SQLITE_OK)
		s = acc_db_error(acc, "bind");
	else if (sqlite3_step(st) != SQLITE_DONE)
		s = acc_db_error(acc, "write");
	else if (sqlite3_changes(acc->db) == 0)
		s = ACC_NOT_FOUND;
	acc_release(acc, st);
	return s;
}

accounts_status accounts_quota_set(accounts *acc, const char *address, const accounts_quota *q)
{
	if (q->storage < ACC_QUOTA_DEFAULT || q->messages < ACC_QUOTA_DEFAULT)
		return ACC_INVALID;
	char *a = accounts_normalize(address);
	if (a == NULL)
		return ACC_INVALID;
	accounts_status s = acc_quota_write(acc, a, q);
	free(a);
	return s;
}
