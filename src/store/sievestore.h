/* sievestore.h — an account's Sieve scripts on disk, next to its mail,
 * shared by ManageSieve, the dashboard and delivery: the folder "sieve" inside the account's Maildir (delivery/maildir.h's
 * maildir_path; Maildir++ folders start with a dot, so no folder can
 * clash), one file per script named after the script (escaped, see
 * sievestore.c) with ".sieve" appended, and ".active" holding the file name of
 * the active script, replaced atomically (fs_replace_file).  Every change
 * is fsync'd with its directory before it is reported done.  Operations on
 * one account are serialised with a lock file (.lock), so two sessions
 * cannot race past the script count or over a rename.
 * Blocking file I/O: call on a worker thread.  Knows nothing of the
 * protocol; script names are checked here because they become file
 * names. */
#ifndef YUBIN_STORE_SIEVESTORE_H
#define YUBIN_STORE_SIEVESTORE_H

#include <stdbool.h>
#include <stddef.h>

/* Octets of a script name (RFC 5804 §1.6 lets a server limit it). */
#define SIEVESTORE_NAME_MAX 128

typedef enum sievestore_status {
	SIEVESTORE_OK,
	SIEVESTORE_NONEXISTENT,   /* no script of that name */
	SIEVESTORE_ALREADYEXISTS, /* RENAMESCRIPT onto an existing name */
	SIEVESTORE_ACTIVE,        /* DELETESCRIPT of the active script */
	SIEVESTORE_MAXSCRIPTS,    /* one script more than the account may keep */
	SIEVESTORE_ERROR,         /* the file system failed (errno; logged by the caller) */
} sievestore_status;

typedef struct sievestore_script {
	char *name;
	size_t size;
	bool active;
} sievestore_script;

/* The scripts folder of the account whose Maildir is maildir (malloc'd). */
char *sievestore_dir(const char *maildir);

/* RFC 5804 §1.6: UTF-8, no controls (U+0000-001F, U+007F-009F), no
 * U+2028 / U+2029, not empty, at most SIEVESTORE_NAME_MAX octets.  False with
 * *why_r, a sentence for the client. */
bool sievestore_name_valid(const char *name, size_t len, const char **why_r);

/* Every script, sorted by name (*list_r malloc'd, free with
 * sievestore_scripts_free). */
sievestore_status sievestore_list(const char *dir, sievestore_script **list_r, size_t *n_r);
void sievestore_scripts_free(sievestore_script **list, size_t n);
/* The text of name (malloc'd, NUL-terminated), at most max octets. */
sievestore_status sievestore_get(const char *dir, const char *name, size_t max, char **text_r,
                                     size_t *len_r);
/* Store (or replace) name; a new script beyond max_scripts is refused. */
sievestore_status sievestore_put(const char *dir, const char *name, const char *text, size_t len,
                                     int max_scripts);
/* Could name of size octets be stored now (HAVESPACE)?  Only the count is
 * checked here; the caller checks the size. */
sievestore_status sievestore_havespace(const char *dir, const char *name, int max_scripts);
sievestore_status sievestore_delete(const char *dir, const char *name);
/* Rename; the active script stays active under its new name. */
sievestore_status sievestore_rename(const char *dir, const char *from, const char *to);
/* Make name the active script; NULL (SETACTIVE "") deactivates all. */
sievestore_status sievestore_activate(const char *dir, const char *name);
/* The path of the active script's file (malloc'd), or NULL when no script
 * is active: for delivery to run. */
char *sievestore_active_path(const char *dir);

#endif
