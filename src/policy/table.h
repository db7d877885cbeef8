/* table.h — named lists for the policy layer (policy.lists), behind one
 * small interface in the shape of OpenSMTPD's tables: the rules engine asks
 * "is this key on list NAME?" and never knows where the list lives.
 *
 * Backends (one file each):
 *   static  values written in the config (table_static.c)
 *   file    one entry per line, # comments; reloaded when the file changes
 *           (table_file.c)
 *   sqlite  the `value` column of a table in an SQLite database, managed
 *           with `yubin policy list add|del|show` (table_sqlite.c)
 * What an entry matches is tableset.h's.  A file or database is looked at
 * again at most once a second, from the look-up that finds it due; a
 * changed file or table is read whole and swapped in.  A source that
 * disappears or cannot be read keeps the last contents that could be, and
 * says so in the log once (not every second).
 *
 * Used on the event-loop thread (a reload reads the file there: lists are
 * small and a read of a few thousand lines takes well under a millisecond);
 * the CLI uses it on its own. */
#ifndef YUBIN_POLICY_TABLE_H
#define YUBIN_POLICY_TABLE_H

#include <stdbool.h>
#include <time.h>

#include "lib/strutil.h"
#include "policy/tableset.h"

/* How a list is configured. */
typedef struct table_config {
	const char *name;
	const char *type;        /* "static", "file", "sqlite" */
	const strlist *values;   /* static */
	const char *path;        /* file, sqlite */
	const char *table;       /* sqlite: the SQL table (default: the list's name) */
	const char *where;       /* "file:line" of the list in the config, for errors */
} table_config;

typedef struct table table;

/* One backend: its state is private to its file. */
typedef struct table_backend {
	const char *type;
	/* Check cfg and load what can be loaded now; on a problem add
	 * "where: list NAME: sentence" to errors and return NULL. */
	void *(*open)(const table_config *cfg, strlist *errors);
	/* The entries as of now: reload first if the source is due for a look
	 * (at most once a second) and has changed.  Never NULL. */
	const tableset *(*current)(void *state, time_t now);
	/* Add or remove one entry (already checked and normalised) in the
	 * source, for `yubin policy list add|del`; NULL when the source is
	 * the config.  *changed_r: whether it changed. */
	bool (*edit)(void *state, bool add, const char *entry, bool *changed_r, char **err_r);
	void (*close)(void *state);
} table_backend;

/* Open list cfg with the backend its type names (errors as above; an
 * unknown type is one).  NULL when anything was added to errors. */
table *table_open(const table_config *cfg, strlist *errors);
void table_free(table **t);
const char *table_name(const table *t);
const char *table_type(const table *t);
/* Whether an address, domain or name is on the list. */
bool table_contains(table *t, const char *key);
/* Whether an IP address (text) is in one of the list's networks. */
bool table_contains_ip(table *t, const char *ip);
/* The same at a given time (tests pass their own clock). */
bool table_contains_at(table *t, time_t now, const char *key);
bool table_contains_ip_at(table *t, time_t now, const char *ip);
/* The current entries (for `policy list show`), refreshed as a look-up
 * would at now. */
const strlist *table_entries(table *t, time_t now);

/* For the backends: add "where: list NAME: sentence" to errors. */
void table_config_error(strlist *errors, const table_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* For the backends: log that list name could not be (re)loaded from
 * source, and that it keeps what it had. */
void table_log_problem(const char *name, const char *source, const char *why);

/* The backends, for table.c's dispatch table. */
extern const table_backend table_backend_static;
extern const table_backend table_backend_file;
extern const table_backend table_backend_sqlite;

/* `yubin policy list add|del`: value is checked as tableset_check does
 * and stored normalised (names lower-cased).  An sqlite list's database
 * and table are created when missing; a file list's file is rewritten
 * (comments kept) and renamed into place.  *changed_r: whether the list
 * changed (false: already there / not there).  A running server sees the
 * change within a second.  False and *err_r (a sentence) on failure,
 * including for a static list. */
bool table_edit(table *t, bool add, const char *value, bool *changed_r, char **err_r);

/* ---- the configured lists, by name ---- */

typedef struct policy_lists policy_lists;

policy_lists *policy_lists_new(void);
void policy_lists_free(policy_lists **l);
/* Add t (owned from now on). */
void policy_lists_add(policy_lists *l, table *t);
/* The list called name, or NULL. */
table *policy_list_find(const policy_lists *l, const char *name);
size_t policy_lists_count(const policy_lists *l);
table *policy_list_at(policy_lists *l, size_t i);

#endif
