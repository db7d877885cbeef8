/* folders.h — the folders every account has: INBOX (the Maildir delivery
 * writes) and the special-use folders of RFC 6154, as Maildir++ folders
 * (".Sent" and so on, each a Maildir with a "maildirfolder" marker), so
 * that mail programs find Sent, Drafts, Trash, Junk and Archive without
 * any setup. */
#ifndef YUBIN_STORE_FOLDERS_H
#define YUBIN_STORE_FOLDERS_H

#include <stdbool.h>

typedef struct store_folder {
	const char *name;       /* as IMAP shows it */
	const char *special;    /* RFC 6154 attribute, NULL for INBOX */
} store_folder;

extern const store_folder store_default_folders[];
extern const int store_n_default_folders;

/* Create dir as a Maildir (tmp/ new/ cur/, mode 0700) where missing; a
 * subfolder also gets the Maildir++ "maildirfolder" marker. */
bool store_make_maildir(const char *dir, bool subfolder, char **err_r);
/* Create the account's Maildir and its default folders where missing.
 * False with *err_r (malloc'd) naming what could not be made. */
bool store_create_account(const char *maildir, char **err_r);

/* The Maildir of folder name (UTF-8, "." between levels, as IMAP shows
 * it) in the account's maildir: maildir itself for INBOX (any case),
 * maildir/.name otherwise; NULL when name cannot be a folder (empty, an
 * empty level, a '/'). malloc'd. */
char *store_folder_path(const char *maildir, const char *name);

#endif
