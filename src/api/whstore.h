/* whstore.h — webhook endpoints registered through the API (POST
 * /v1/webhooks), kept in data_dir/hooks.db next to the outbox: each with
 * its url, the events it wants and the secret yubin made for it (stored as
 * it is, since signing needs it; hooks.db is the service user's, mode
 * 0600).  Each belongs to the API key that registered it: it gets the
 * events of the messages that key sent, and only that key lists or
 * deletes it.  The configuration's endpoints (api/whconf.h) are not here;
 * the follower and the sender use both.  Blocking SQLite calls. */
#ifndef YUBIN_API_WHSTORE_H
#define YUBIN_API_WHSTORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/whconf.h"

typedef enum whstore_status {
	WHS_OK = 0,
	WHS_NOT_FOUND,
	WHS_EXISTS,      /* the key has an endpoint with this url already */
	WHS_FULL,        /* the key has WEBHOOK_ENDPOINTS_MAX registered */
	WHS_ERROR,
} whstore_status;

typedef struct whstore_entry {
	int64_t id;
	char *url;
	unsigned kinds;  /* bit (1u << audit_kind) per event type */
	int64_t created;
} whstore_entry;

/* Register url (an https URL webhook_url_host accepts) for kinds, as the
 * key apikey's; *id_r gets its id and *secret_r (malloc'd, shown once to
 * the caller) the secret made for it, "whsec_" and the base64 of 32
 * random bytes. */
whstore_status whstore_add(sqlite3 *db, const char *apikey, const char *url, unsigned kinds, int64_t now,
                           int64_t *id_r, char **secret_r);
/* Delete the key's endpoint id (WHS_NOT_FOUND: none, or another key's). */
whstore_status whstore_del(sqlite3 *db, const char *apikey, int64_t id);
/* The key's endpoints, by id (no secrets): *v_r / *n_r, free each url,
 * then the array. */
whstore_status whstore_list(sqlite3 *db, const char *apikey, whstore_entry **v_r, size_t *n_r);
/* Every registered endpoint (of every key) with its HMAC key and owner,
 * as webhook_defs (NULL on a database error; an empty list when there
 * are none). */
webhook_defs *whstore_defs(sqlite3 *db);

#endif
