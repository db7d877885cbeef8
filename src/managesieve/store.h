/* store.h — an account's Sieve scripts on disk, next to its mail: the
 * folder "sieve" inside the account's Maildir (delivery/maildir.h's
 * maildir_path; Maildir++ folders start with a dot, so no folder can
 * clash), one file per script named after the script (escaped, see
 * store.c) with ".sieve" appended, and ".active" holding the file name of
 * the active script, replaced atomically (fs_replace_file).  Every change
 * is fsync'd with its directory before it is reported done.  Operations on
 * one account are serialised with a lock file (.lock), so two sessions
 * cannot race past the script count or over a rename.
 * Blocking file I/O: call on a worker thread.  Knows nothing of the
 * protocol; script names are checked here because they become file
 * names. */
#ifndef YUBIN_MANAGESIEVE_STORE_H
#define YUBIN_MANAGESIEVE_STORE_H

#include <stdbool.h>
#include <stddef.h>

/* Octets of a script name (RFC 5804 §1.6 lets a server limit it). */
#define MSIEVE_NAME_MAX 128

typedef enum msieve_store_status {
	MSIEVE_STORE_OK,
	MSIEVE_STORE_NONEXISTENT,   /* no script of that name */
	MSIEVE_STORE_ALREADYEXISTS, /* RENAMESCRIPT onto an existing name */
	MSIEVE_STORE_ACTIVE,        /* DELETESCRIPT of the active script */
	MSIEVE_STORE_MAXSCRIPTS,    /* one script more than the account may keep */
	MSIEVE_STORE_ERROR,         /* the file system failed (errno; logged by the caller) */
} msieve_store_status;

typedef struct msieve_script {
	char *name;
	size_t size;
	bool active;
} msieve_script;

/* The scripts folder of the account whose Maildir is maildir (malloc'd). */
char *msieve_store_dir(const char *maildir);

/* RFC 5804 §1.6: UTF-8, no controls (U+0000-001F, U+007F-009F), no
 * U+2028 / U+2029, not empty, at most MSIEVE_NAME_MAX octets.  False with
 * *why_r, a sentence for the client. */
bool msieve_name_valid(const char *name, size_t len, const char **why_r);

/* Every script, sorted by name (*list_r malloc'd, free with
 * msieve_scripts_free). */
msieve_store_status msieve_store_list(const char *dir, msieve_script **list_r, size_t *n_r);
void msieve_scripts_free(msieve_script **list, size_t n);
/* The text of name (malloc'd, NUL-terminated), at most max octets. */
msieve_store_status msieve_store_get(const char *dir, const char *name, size_t max, char **text_r,
                                     size_t *len_r);
/* Store (or replace) name; a new script beyond max_scripts is refused. */
msieve_store_status msieve_store_put(const char *dir, const char *name, const char *text, size_t len,
                                     int max_scripts);
/* Could name of size octets be stored now (HAVESPACE)?  Only the count is
 * checked here; the caller checks the size. */
msieve_store_status msieve_store_havespace(const char *dir, const char *name, int max_scripts);
msieve_store_status msieve_store_delete(const char *dir, const char *name);
/* Rename; the active script stays active under its new name. */
msieve_store_status msieve_store_rename(const char *dir, const char *from, const char *to);
/* Make name the active script; NULL (SETACTIVE "") deactivates all. */
msieve_store_status msieve_store_activate(const char *dir, const char *name);
/* The path of the active script's file (malloc'd), or NULL when no script
 * is active: for delivery to run. */
char *msieve_store_active_path(const char *dir);

#endif
