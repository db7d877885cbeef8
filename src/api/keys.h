/* keys.h — the API key store (data_dir/apikeys.db): keys with their sender
 * domains and limits, the per-key daily message counts, and (idem.h) the
 * Idempotency-Key records, all in one small SQLite file of the API's own.
 *
 * Why a file of its own and not a table in accounts.db: the accounts store
 * belongs to auth/ and is read on every login; the API writes here on
 * every accepted message (the daily count, the idempotency record), and
 * those writes should neither wait for nor hold up the account store's
 * lock.  The file can also be dropped or backed up on its own.
 *
 * A key is "yk_" and 32 random bytes in base64url (43 characters).  Only
 * its SHA-256 is stored, with a non-secret prefix ("yk_" and the next 8
 * characters) for listings and logs.
 *
 * Every call blocks on SQLite: run them on a worker, at start-up or in the
 * CLI, except apikeys_find on a handle of its own (see there).  A handle
 * may be shared by threads (its calls are serialised). */
#ifndef YUBIN_API_KEYS_H
#define YUBIN_API_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/strutil.h"

#define APIKEY_PREFIX "yk_"
/* "yk_" + base64url of 32 bytes without padding */
#define APIKEY_LEN (3 + 43)
/* the shown part: "yk_" + 8 characters */
#define APIKEY_SHOWN 11
#define APIKEY_NAME_MAX 64
#define APIKEY_DOMAINS_MAX 100

typedef struct apikeys apikeys;

typedef enum apikeys_status {
	APIKEYS_OK,
	APIKEYS_NOT_FOUND,   /* no such key or name */
	APIKEYS_REVOKED,     /* apikeys_find: the key was revoked */
	APIKEYS_EXISTS,      /* apikeys_add: the name is taken */
	APIKEYS_ERROR,       /* the database failed (*err_r says why) */
} apikeys_status;

typedef struct apikey {
	int64_t id;
	char *name;
	char *prefix;            /* "yk_AbCd1234": not secret */
	strlist domains;         /* lower case */
	int64_t rate_per_min;    /* messages per minute, 0: no limit */
	int64_t daily;           /* messages per UTC day, 0: no limit */
	int64_t created;         /* unix seconds */
	int64_t last_used;       /* 0: never */
	int64_t revoked;         /* 0: not revoked */
} apikey;

void apikey_free(apikey *k);

/* data_dir/apikeys.db (malloc'd). */
char *apikeys_path(const config *cfg);

/* Open the store (created with its tables when missing if create).  NULL
 * and *err_r (a malloc'd sentence naming the file) on failure. */
apikeys *apikeys_open(const config *cfg, bool create, char **err_r);
void apikeys_close(apikeys **ks);

/* How long a call waits for another writer's lock (2 s by default); the
 * loop's handle waits at most a moment, then fails (503, try again). */
void apikeys_set_busy_timeout(apikeys *ks, int ms);

/* A valid key name: 1..APIKEY_NAME_MAX of [A-Za-z0-9._-]. */
bool apikeys_valid_name(const char *name);
/* A plausible domain name (letters, digits, '-', dots between labels). */
bool apikeys_valid_domain(const char *domain);

/* Make a key.  *secret_r gets the key itself (malloc'd; shown once, never
 * stored).  domains must be non-empty and valid. */
apikeys_status apikeys_add(apikeys *ks, const char *name, const strlist *domains, int64_t rate_per_min,
                           int64_t daily, int64_t now, char **secret_r, char **err_r);
/* Every key, by name; free with apikeys_list_free. */
apikeys_status apikeys_list(apikeys *ks, apikey **v_r, size_t *n_r, char **err_r);
void apikeys_list_free(apikey *v, size_t n);
/* Revoke by name (a key revoked stays listed). */
apikeys_status apikeys_revoke(apikeys *ks, const char *name, int64_t now, char **err_r);

/* The hex SHA-256 of a secret: what the store keeps of a key. */
#define APIKEY_HASH_LEN 64
void apikeys_hash(const char *secret, char out[APIKEY_HASH_LEN + 1]);
/* A number that changes whenever another handle or process commits to the
 * store (SQLite's PRAGMA data_version): what was read from the store is
 * still true while it stays the same.  Cheaper than a look-up. */
apikeys_status apikeys_version(apikeys *ks, int64_t *version_r, char **err_r);

/* The key whose secret this is (out filled on APIKEYS_OK and
 * APIKEYS_REVOKED).  A look-up by the secret's hash in a unique index:
 * short enough for the event loop on a handle used by nobody else (WAL:
 * a reader never waits for a writer). */
apikeys_status apikeys_find(apikeys *ks, const char *secret, apikey *out, char **err_r);
/* Note a use (last_used). */
apikeys_status apikeys_touch(apikeys *ks, int64_t id, int64_t now, char **err_r);

/* The key's count for UTC day `day` (unix days), 0 when none is stored.
 * The running server counts in memory (api/quota.h) and adds what it
 * counted every second with apikeys_daily_add (n may be negative: messages
 * given back; a count never falls below 0), so a restart does not reset
 * the quota. */
apikeys_status apikeys_daily_get(apikeys *ks, int64_t id, int64_t day, int64_t *count_r, char **err_r);
apikeys_status apikeys_daily_add(apikeys *ks, int64_t id, int64_t day, int64_t n, char **err_r);

/* For idem.c: run fn with the store's database, serialised with every
 * other call on the handle. */
struct sqlite3;
apikeys_status apikeys_with_db(apikeys *ks, apikeys_status (*fn)(struct sqlite3 *db, void *arg),
                               void *arg);

#endif
