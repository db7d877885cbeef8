/* whconf.c — reading webhooks.endpoints (see whconf.h).  It must not
 * send anything, and never puts a secret into an error message. */
#include "api/whconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/event.h"
#include "api/whsign.h"
#include "policy/polconf.h"

#define SECRET_FILE_MAX 4096

static void err(strlist *errors, const char *file, const config_setting_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err(strlist *errors, const char *file, const config_setting_t *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	policy_config_verror(errors, file, at, "webhooks.endpoints: ", fmt, ap);
	va_end(ap);
}

char *webhook_url_host(const char *url)
{
	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return NULL;
	const char *h = url + 8;
	size_t n = strcspn(h, "/?#");
	if (n == 0 || memchr(h, '@', n) != NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h[i] <= ' ' || h[i] == 0x7f)
			return NULL;
	return xstrndup(h, n);
}

/* The secret file's first line, without its line end (malloc'd); NULL
 * with *why_r. */
static char *read_secret_file(const char *path, const char **why_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*why_r = strerror(errno);
		return NULL;
	}
	char *buf = xcalloc(1, SECRET_FILE_MAX + 1);
	size_t n = fread(buf, 1, SECRET_FILE_MAX, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (bad || buf[0] == '\0') {
		*why_r = bad ? "read error" : "it is empty";
		str_secure_free(buf);
		return NULL;
	}
	return buf;
}

/* The secret (secret = or secret_file =) as an HMAC key into e. */
static void read_key(const config_setting_t *g, webhook_endpoint *e, const char *file, strlist *errors)
{
	const char *secret = NULL, *path = NULL, *why = NULL;
	config_setting_lookup_string(g, "secret", &secret);
	config_setting_lookup_string(g, "secret_file", &path);
	if ((secret == NULL) == (path == NULL)) {
		err(errors, file, g, "endpoint \"%s\" needs one of secret or secret_file", e->url);
		return;
	}
	char *owned = path != NULL ? read_secret_file(path, &why) : NULL;
	if (path != NULL && owned == NULL) {
		err(errors, file, config_setting_get_member(g, "secret_file"), "cannot read the secret file %s: %s", path,
		    why);
		return;
	}
	e->key = whsign_key(owned != NULL ? owned : secret, &e->key_len);
	if (e->key == NULL)
		err(errors, file, config_setting_get_member(g, path ? "secret_file" : "secret"),
		    "endpoint \"%s\": a secret starting whsec_ must be base64 after it (the secret is not shown)", e->url);
	str_secure_free(owned);
}

static void read_events(const config_setting_t *g, webhook_endpoint *e, const char *file, strlist *errors)
{
	const config_setting_t *s = config_setting_get_member(g, "events");
	if (s == NULL) {
		e->kinds = event_kinds_all() & ~(1u << AUDIT_RECEIVED);
		return;
	}
	if (!config_setting_is_aggregate(s) || config_setting_length(s) == 0) {
		err(errors, file, s, "events must be a list such as [\"delivered\", \"bounced\"]");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		int k = event_type_parse(config_setting_get_string_elem(s, i));
		if (k < 0) {
			err(errors, file, s, "an event must be \"received\", \"delivered\", \"deferred\", \"bounced\" or "
			                     "\"suppressed\"");
			return;
		}
		e->kinds |= 1u << k;
	}
}

static const char *const known_keys[] = {"url", "secret", "secret_file", "events"};

static bool read_one(const config_setting_t *g, webhook_endpoint *e, const char *file, strlist *errors)
{
	size_t before = errors->n;
	if (!config_setting_is_group(g)) {
		err(errors, file, g, "each endpoint is a group { url = \"https://...\"; secret_file = \"...\"; }");
		return false;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		size_t k = 0;
		while (k < 4 && strcmp(config_setting_name(m), known_keys[k]) != 0)
			k++;
		if (k == 4)
			err(errors, file, m, "unknown setting \"%s\" (known: url, secret, secret_file, events)",
			    config_setting_name(m));
	}
	const char *url = NULL;
	if (!config_setting_lookup_string(g, "url", &url)) {
		err(errors, file, g, "each endpoint needs a url = \"https://...\"");
		return false;
	}
	e->url = xstrdup(url);
	e->host = strlen(url) <= WEBHOOK_URL_MAX ? webhook_url_host(url) : NULL;
	if (e->host == NULL)
		err(errors, file, config_setting_get_member(g, "url"),
		    "\"%.100s\" is not an https:// URL with a host and no user information (at most %d bytes)", url,
		    WEBHOOK_URL_MAX);
	read_key(g, e, file, errors);
	read_events(g, e, file, errors);
	return errors->n == before;
}

webhook_defs *webhook_defs_read(const config_setting_t *s, const char *file, strlist *errors)
{
	if (!config_setting_is_list(s)) {
		err(errors, file, s, "must be a list: ( { url = \"https://...\"; secret_file = \"...\"; }, ... )");
		return NULL;
	}
	size_t n = (size_t)config_setting_length(s);
	if (n > WEBHOOK_ENDPOINTS_MAX) {
		err(errors, file, s, "at most %d endpoints", WEBHOOK_ENDPOINTS_MAX);
		return NULL;
	}
	webhook_defs *d = xcalloc(1, sizeof(*d));
	d->v = xcalloc(n ? n : 1, sizeof(*d->v));
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		ok = read_one(g, &d->v[d->n++], file, errors) && ok;
		for (size_t j = 0; j + 1 < d->n && d->v[d->n - 1].url != NULL; j++)
			if (strcmp(d->v[j].url, d->v[d->n - 1].url) == 0) {
				err(errors, file, g, "two endpoints have the url \"%s\"", d->v[j].url);
				ok = false;
			}
	}
	if (!ok)
		webhook_defs_free(&d);
	return d;
}

void webhook_defs_free(webhook_defs **dp)
{
	webhook_defs *d = *dp;
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].url);
		free(d->v[i].host);
		free(d->v[i].apikey);
		if (d->v[i].key != NULL)
			memset(d->v[i].key, 0, d->v[i].key_len);
		free(d->v[i].key);
	}
	free(d->v);
	free(d);
	*dp = NULL;
}

const webhook_endpoint *webhook_defs_find(const webhook_defs *d, const char *url)
{
	for (size_t i = 0; d != NULL && i < d->n; i++)
		if (strcmp(d->v[i].url, url) == 0)
			return &d->v[i];
	return NULL;
}

bool webhook_defs_policy_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	webhook_defs_free(&pc->webhooks);
	pc->webhooks = webhook_defs_read(s, file, errors);
	return pc->webhooks != NULL;
}
