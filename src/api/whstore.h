/* whstore.h — webhook endpoints registered through the API (POST
 * /v1/webhooks), kept in data_dir/hooks.db next to the outbox: each with
 * its url, the events it wants and the secret yubin made for it (stored as
 * it is, since signing needs it; hooks.db is the service user's, mode
 * 0600).  The configuration's endpoints (api/whconf.h) are not here; the
 * follower and the sender use both.  Blocking SQLite calls. */
#ifndef YUBIN_API_WHSTORE_H
#define YUBIN_API_WHSTORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/whconf.h"

typedef enum whstore_status {
	WHS_OK = 0,
	WHS_NOT_FOUND,
	WHS_EXISTS,      /* an endpoint with this url is registered already */
	WHS_FULL,        /* WEBHOOK_ENDPOINTS_MAX registered */
	WHS_ERROR,
} whstore_status;

typedef struct whstore_entry {
	int64_t id;
	char *url;
	unsigned kinds;  /* bit (1u << audit_kind) per event type */
	int64_t created;
} whstore_entry;

/* Register url (an https URL webhook_url_host accepts) for kinds; *id_r
 * gets its id and *secret_r (malloc'd, shown once to the caller) the
 * secret made for it, "whsec_" and the base64 of 32 random bytes. */
whstore_status whstore_add(sqlite3 *db, const char *url, unsigned kinds, int64_t now, int64_t *id_r,
                           char **secret_r);
whstore_status whstore_del(sqlite3 *db, int64_t id);
/* Every registered endpoint, by id (no secrets): *v_r / *n_r, free each
 * url, then the array. */
whstore_status whstore_list(sqlite3 *db, whstore_entry **v_r, size_t *n_r);
/* Every registered endpoint with its HMAC key, as webhook_defs (NULL on a
 * database error; an empty list when there are none). */
webhook_defs *whstore_defs(sqlite3 *db);

#endif
