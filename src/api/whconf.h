/* whconf.h — the webhook endpoints of the configuration:
 *   webhooks: {
 *     endpoints = ( { url = "https://app.example/hooks";
 *                     secret_file = "/etc/yubin/hook.secret";   # or secret = "..."
 *                     events = [ "delivered", "bounced" ]; } );
 *   };
 * (the scalar webhooks.* settings are lib/config.c's).  Read from the
 * libconfig tree by policy/polconf.c's table, so `yubin config check`
 * reports every mistake as "file:line: sentence"; a secret never appears
 * in one. */
#ifndef YUBIN_API_WHCONF_H
#define YUBIN_API_WHCONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/strutil.h"

#define WEBHOOK_URL_MAX 2000
#define WEBHOOK_ENDPOINTS_MAX 64

typedef struct webhook_endpoint {
	char *url;               /* https://... as written */
	char *host;              /* its host[:port], for log lines */
	unsigned char *key;      /* the HMAC key (api/whsign.h) */
	size_t key_len;
	unsigned kinds;          /* bit (1u << audit_kind) per event type wanted */
	char *apikey;            /* registered through the API by this key: only the
	                          * events of messages it sent; NULL (the config's):
	                          * every event */
} webhook_endpoint;

typedef struct webhook_defs {
	webhook_endpoint *v;
	size_t n;
} webhook_defs;

/* The host[:port] of an https:// URL (malloc'd); NULL when url is not an
 * https URL with a host, or carries user information ('@' before the
 * path: a password would end up in logs). */
char *webhook_url_host(const char *url);

/* Read the list s (webhooks.endpoints) of file; NULL with errors added
 * when an entry is wrong. */
webhook_defs *webhook_defs_read(const config_setting_t *s, const char *file, strlist *errors);
void webhook_defs_free(webhook_defs **d);
/* The endpoint with this url, or NULL. */
const webhook_endpoint *webhook_defs_find(const webhook_defs *d, const char *url);

/* The reader in policy/polconf.c's table: into pc->webhooks. */
struct policy_config;
bool webhook_defs_policy_read(struct policy_config *pc, const config_setting_t *s, const char *file,
                              strlist *errors);

#endif
