/* selfdb.h — what an account manages about itself, kept in the account
 * database (data_dir/accounts.db) beside the users: its app passwords
 * (separate, revocable passwords for one device each, stored as yescrypt
 * hashes like account passwords) and its recent log-ins (time, protocol,
 * client address, result, which app password), bounded per account.
 *
 * One handle may be used by several threads: every call holds the
 * handle's lock (the log-in checks record from worker threads).  This
 * module does not hash or check passwords (password.h, login.h) and knows
 * nothing of any protocol's replies. */
#ifndef YUBIN_SELFDB_H
#define YUBIN_SELFDB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "auth/accounts.h"

/* App passwords an account may have at once. */
#define SELFDB_APPPASS_MAX 20
/* A name: 1..64 bytes of printable ASCII (space allowed inside). */
#define SELFDB_NAME_MAX 64
/* Log-ins kept for each account (older ones are pruned on insert). */
#define SELFDB_LOGINS_MAX 50
/* A generated app password: 24 characters of a 32-letter alphabet (120
 * bits), shown as six groups of four joined by '-'. */
#define SELFDB_APPPASS_LEN 24
#define SELFDB_APPPASS_SHOWN (SELFDB_APPPASS_LEN + SELFDB_APPPASS_LEN / 4 - 1)
/* The first characters of an app password, kept in the clear to find the
 * hash to check (20 of its 120 bits). */
#define SELFDB_SELECTOR_LEN 4

typedef struct selfdb selfdb;

/* Open (creating the tables if needed) the database at path; NULL with
 * *err_r (malloc'd sentence) on failure. */
selfdb *selfdb_open(const char *path, char **err_r);
void selfdb_close(selfdb **db);
/* The schema, also created by accounts_open (so that deleting a user can
 * delete its rows). */
extern const char selfdb_schema[];

/* ---- app passwords ---- */

typedef struct selfdb_apppass {
	char *name;
	long long created, last_used; /* unix seconds; last_used 0 = never */
} selfdb_apppass;

/* A fresh app password in the shown form (groups joined by '-'); false
 * when the system gives no random bytes. */
bool selfdb_apppass_generate(char out[SELFDB_APPPASS_SHOWN + 1]);
/* What a user typed, as the app password it may be: '-' and spaces taken
 * out, letters lowered; false when it is not 24 characters of the
 * alphabet (then it can only be an account password). */
bool selfdb_apppass_normalize(const char *typed, char out[SELFDB_APPPASS_LEN + 1]);
/* Is name acceptable for an app password? */
bool selfdb_name_valid(const char *name);

/* Add an app password for user (an existing account; checked by the
 * caller) with the hash of its normalised form.  ACC_INVALID for a bad
 * name, ACC_EXISTS when the user has one of that name, ACC_LIMIT past
 * SELFDB_APPPASS_MAX, ACC_ERROR on a database error. */
accounts_status selfdb_apppass_add(selfdb *db, const char *user, const char *name, const char *normalized,
                                   const char *hash, time_t now);
/* Revoke (delete) one: ACC_NOT_FOUND when the user has none of that name. */
accounts_status selfdb_apppass_revoke(selfdb *db, const char *user, const char *name);
/* The user's app passwords, by name, into a malloc'd array (*n_r). */
accounts_status selfdb_apppass_list(selfdb *db, const char *user, selfdb_apppass **list_r, size_t *n_r);
void selfdb_apppass_list_free(selfdb_apppass *list, size_t n);
/* The names and hashes of the user's app passwords whose selector matches
 * normalized (at most max), appended to names and hashes. */
accounts_status selfdb_apppass_candidates(selfdb *db, const char *user, const char *normalized, size_t max,
                                          strlist *names, strlist *hashes);
/* The app password was just used to log in. */
accounts_status selfdb_apppass_used(selfdb *db, const char *user, const char *name, time_t now);

/* ---- log-ins ---- */

typedef struct selfdb_login {
	long long at;       /* unix seconds */
	char *protocol;     /* smtp, imap, pop3, https */
	char *ip;
	char *result;       /* ok, failed */
	char *app;          /* the app password's name, or NULL */
} selfdb_login;

/* Record one log-in attempt of an existing account; keeps only the
 * newest SELFDB_LOGINS_MAX of that account. */
accounts_status selfdb_login_record(selfdb *db, const char *user, const char *protocol, const char *ip,
                                    const char *result, const char *app, time_t now);
/* The account's log-ins, newest first, at most max. */
accounts_status selfdb_login_list(selfdb *db, const char *user, size_t max, selfdb_login **list_r,
                                  size_t *n_r);
void selfdb_login_list_free(selfdb_login *list, size_t n);

#endif
