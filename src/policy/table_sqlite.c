/* table_sqlite.c — the "sqlite" list backend: the `value` column of a
 * table in an SQLite database (policy list add|del writes it).  The server
 * opens the database on the first look-up (creating it and the table when
 * missing, so that an empty list needs no set-up), asks SQLite's
 * data_version at most once a second whether another connection committed
 * a change, and then reads the whole table into a new set.  A database
 * that cannot be opened or read leaves the list as it was, logged once
 * until it works again; a row that is no valid entry is logged and
 * skipped (the CLI never writes one). */
#include "policy/table.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "policy/pdb.h"

/* Rows logged as bad per reload (the rest are skipped quietly). */
#define SQLITE_BAD_ROWS_LOGGED 5

typedef struct sqlite_state {
	char *name, *path, *table;
	sqlite3 *db;
	tableset *set;
	time_t last_check;
	sqlite3_int64 version;   /* data_version of the rows in set */
	bool loaded;
	bool failing;            /* the last look failed (logged) */
} sqlite_state;

/* A name SQL needs no quoting for, so that it can be written into the
 * statements as it is. */
static bool valid_table_name(const char *t)
{
	if (t == NULL || *t == '\0' || strlen(t) > 64 || (*t >= '0' && *t <= '9'))
		return false;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(t);
}

static char *schema_for(const char *sqltab)
{
	return xasprintf("CREATE TABLE IF NOT EXISTS %s (value TEXT PRIMARY KEY NOT NULL);", sqltab);
}

static sqlite3 *open_db(const char *path, const char *sqltab, char **err_r)
{
	char *schema = schema_for(sqltab);
	sqlite3 *db = pdb_open(path, true, schema, err_r);
	free(schema);
	return db;
}

static const char *table_of(const table_config *cfg)
{
	return cfg->table != NULL ? cfg->table : cfg->name;
}

static bool check_config(const table_config *cfg, strlist *errors)
{
	if (cfg->path == NULL || *cfg->path == '\0') {
		table_config_error(errors, cfg, "an sqlite list needs path = \"...\"");
		return false;
	}
	if (!valid_table_name(table_of(cfg))) {
		table_config_error(errors, cfg, "table = \"%s\" must be letters, digits and _ (set table = to name it)",
		                   table_of(cfg));
		return false;
	}
	char *copy = xstrdup(cfg->path);
	struct stat st;
	bool dir_ok = stat(dirname(copy), &st) == 0 && S_ISDIR(st.st_mode);
	free(copy);
	if (!dir_ok)
		table_config_error(errors, cfg, "the folder of %s does not exist", cfg->path);
	return dir_ok;
}

static void *sqlite_open(const table_config *cfg, strlist *errors)
{
	if (!check_config(cfg, errors))
		return NULL;
	sqlite_state *ss = xcalloc(1, sizeof(*ss));
	ss->name = xstrdup(cfg->name);
	ss->path = xstrdup(cfg->path);
	ss->table = xstrdup(table_of(cfg));
	ss->set = tableset_new();
	tableset_seal(ss->set);
	ss->last_check = (time_t)-1;
	return ss;
}

static void sqlite_problem(sqlite_state *ss, const char *why)
{
	if (!ss->failing)
		table_log_problem(ss->name, ss->path, why);
	ss->failing = true;
}

/* Read every row into a new set. */
static tableset *read_rows(sqlite_state *ss, char **err_r)
{
	char *sql = xasprintf("SELECT value FROM %s", ss->table);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ss->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		*err_r = xstrdup(sqlite3_errmsg(ss->db));
		return NULL;
	}
	tableset *s = tableset_new();
	unsigned bad = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		char *why = NULL;
		if (v != NULL && !tableset_add(s, v, &why) && bad++ < SQLITE_BAD_ROWS_LOGGED)
			log_event(LOG_LVL_WARN, "policy_list", "list=%s source=%s error=%s action=skipped", ss->name,
			          ss->path, why);
		free(why);
	}
	if (rc != SQLITE_DONE) {
		*err_r = xstrdup(sqlite3_errmsg(ss->db));
		tableset_free(&s);
	} else {
		tableset_seal(s);
	}
	sqlite3_finalize(st);
	return s;
}

static bool data_version(sqlite3 *db, sqlite3_int64 *v_r)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_step(st) == SQLITE_ROW;
	if (ok)
		*v_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ok;
}

/* Open if needed, and reload when another connection changed the data. */
static void sqlite_look(sqlite_state *ss)
{
	char *why = NULL;
	if (ss->db == NULL && (ss->db = open_db(ss->path, ss->table, &why)) == NULL) {
		sqlite_problem(ss, why);
		free(why);
		return;
	}
	sqlite3_int64 v;
	if (!data_version(ss->db, &v)) {
		sqlite_problem(ss, sqlite3_errmsg(ss->db));
		return;
	}
	if (ss->loaded && v == ss->version && !ss->failing)
		return;
	tableset *s = read_rows(ss, &why);
	if (s == NULL) {
		sqlite_problem(ss, why);
		free(why);
		return;
	}
	tableset_free(&ss->set);
	ss->set = s;
	ss->version = v;
	if (ss->loaded)
		log_event(LOG_LVL_INFO, "policy_list", "list=%s source=%s action=reloaded entries=%zu", ss->name,
		          ss->path, tableset_entries(s)->n);
	ss->loaded = true;
	ss->failing = false;
}

static const tableset *sqlite_current(void *state, time_t now)
{
	sqlite_state *ss = state;
	if (now != ss->last_check) {
		ss->last_check = now;
		sqlite_look(ss);
	}
	return ss->set;
}

static void sqlite_close(void *state)
{
	sqlite_state *ss = state;
	sqlite3_close(ss->db);
	tableset_free(&ss->set);
	free(ss->name);
	free(ss->path);
	free(ss->table);
	free(ss);
}

/* A connection of its own, so that the change is another connection's
 * commit for a server in the same process too (data_version). */
static bool sqlite_edit(void *state, bool add, const char *entry, bool *changed_r, char **err_r)
{
	sqlite_state *ss = state;
	sqlite3 *db = open_db(ss->path, ss->table, err_r);
	if (db == NULL)
		return false;
	char *sql = add ? xasprintf("INSERT OR IGNORE INTO %s (value) VALUES (?1)", ss->table)
	                : xasprintf("DELETE FROM %s WHERE lower(value) = ?1", ss->table);
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_bind_text(st, 1, entry, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
	if (ok)
		*changed_r = sqlite3_changes(db) > 0;
	else
		*err_r = xasprintf("%s: %s", ss->path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	free(sql);
	sqlite3_close(db);
	return ok;
}

const table_backend table_backend_sqlite = {
	.type = "sqlite",
	.open = sqlite_open,
	.current = sqlite_current,
	.edit = sqlite_edit,
	.close = sqlite_close,
};
