/* rateconf.c — reads policy.ratelimits, a list of groups:
 *   policy.ratelimits = ( { name = "user-rcpts"; key = "user";
 *       count = "recipients"; limit = 500; window = 3600;
 *       roles = [ "submission", "submissions" ]; max_keys = 65536; } );
 * into rate rules, with "file:line: ratelimit NAME: sentence" for what is
 * wrong.  It checks and converts; the counting is policy/ratelimit.c's. */
#include "policy/rateconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ratelimit.h"

/* A window of at most 30 days: more is no rate. */
#define RATE_WINDOW_MAX (30 * 86400)
#define RATE_MAX_KEYS_MAX 10000000

static const char *const smtp_roles[] = {"smtp", "submission", "submissions"};

typedef struct rc_ctx {
	const char *file;
	strlist *errors;
	const char *name;       /* the limit's name, or "#N" */
	bool ok;
} rc_ctx;

static void rc_err(rc_ctx *c, const config_setting_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rc_err(rc_ctx *c, const config_setting_t *at, const char *fmt, ...)
{
	char *prefix = xasprintf("ratelimit %s: ", c->name);
	va_list ap;
	va_start(ap, fmt);
	policy_config_verror(c->errors, c->file, at, prefix, fmt, ap);
	va_end(ap);
	free(prefix);
	c->ok = false;
}

static const char *rc_string(rc_ctx *c, const config_setting_t *g, const char *key, bool required)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL) {
		if (required)
			rc_err(c, g, "%s = ... is missing", key);
		return NULL;
	}
	const char *v = config_setting_get_string(s);
	if (v == NULL)
		rc_err(c, s, "%s must be a string in double quotes", key);
	return v;
}

static long long rc_int(rc_ctx *c, const config_setting_t *g, const char *key, long long dflt, long long lo,
                        long long hi)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return dflt;
	int t = config_setting_type(s);
	long long v = t == CONFIG_TYPE_INT64 ? config_setting_get_int64(s) : config_setting_get_int(s);
	if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) || v < lo || v > hi) {
		rc_err(c, s, "%s must be a whole number from %lld to %lld", key, lo, hi);
		return dflt;
	}
	return v;
}

static unsigned rc_roles(rc_ctx *c, const config_setting_t *g)
{
	const config_setting_t *s = config_setting_get_member(g, "roles");
	if (s == NULL)
		return 0;
	int t = config_setting_type(s);
	unsigned roles = 0;
	int n = (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) ? config_setting_length(s) : 0;
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
		size_t k = 0;
		while (v != NULL && k < sizeof(smtp_roles) / sizeof(smtp_roles[0]) && strcmp(v, smtp_roles[k]) != 0)
			k++;
		if (v == NULL || k == sizeof(smtp_roles) / sizeof(smtp_roles[0])) {
			rc_err(c, s, "roles: \"%s\" is none of \"smtp\", \"submission\", \"submissions\"",
			       v != NULL ? v : "(not a string)");
			return 0;
		}
		roles |= 1u << (ROLE_SMTP + k);
	}
	if (n == 0)
		rc_err(c, s, "roles must be a non-empty list, like [ \"submission\", \"submissions\" ]");
	return roles;
}

static const char *const known_settings[] = {"name", "key", "count", "limit", "window", "roles", "max_keys"};

static void rc_unknown(rc_ctx *c, const config_setting_t *g)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		size_t k = 0;
		while (k < sizeof(known_settings) / sizeof(known_settings[0]) && strcmp(name, known_settings[k]) != 0)
			k++;
		if (k == sizeof(known_settings) / sizeof(known_settings[0]))
			rc_err(c, m, "unknown setting \"%s\" (known: name, key, count, limit, window, roles, max_keys)",
			       name);
	}
}

/* One group into *r; false after errors. */
static bool rc_one(rc_ctx *c, const config_setting_t *g, const rate_rules *done, rate_rule *r)
{
	const char *name = rc_string(c, g, "name", true);
	if (name != NULL && (*name == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                                 "0123456789_-.") != strlen(name))) {
		rc_err(c, g, "name must be letters, digits, '-', '_' or '.'");
		name = NULL;
	}
	if (name != NULL)
		c->name = name;
	for (size_t i = 0; name != NULL && i < done->n; i++)
		if (strcmp(done->items[i].name, name) == 0)
			rc_err(c, g, "another rate limit has this name");
	rc_unknown(c, g);
	const char *key = rc_string(c, g, "key", true);
	const char *count = rc_string(c, g, "count", true);
	if (key != NULL && !rate_keykind_parse(key, &r->key))
		rc_err(c, config_setting_get_member(g, "key"),
		       "key must be \"client\", \"user\", \"sender_domain\" or \"recipient\", not \"%s\"", key);
	if (count != NULL && !rate_countkind_parse(count, &r->count))
		rc_err(c, config_setting_get_member(g, "count"), "count must be \"messages\" or \"recipients\", not \"%s\"",
		       count);
	if (config_setting_get_member(g, "limit") == NULL)
		rc_err(c, g, "limit = ... is missing");
	r->limit = (unsigned)rc_int(c, g, "limit", 1, 1, 100000000);
	r->window = (unsigned)rc_int(c, g, "window", 3600, 1, RATE_WINDOW_MAX);
	r->max_keys = (size_t)rc_int(c, g, "max_keys", RATE_MAX_KEYS_DEFAULT, 1, RATE_MAX_KEYS_MAX);
	r->roles = rc_roles(c, g);
	if (!c->ok)
		return false;
	r->name = xstrdup(name);
	return true;
}

bool policy_ratelimits_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	rc_ctx c = {.file = file, .errors = errors, .ok = true};
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY) {
		c.name = "";
		policy_config_error(errors, file, s,
		                    "policy.ratelimits must be a list of groups: ( { name = \"...\"; key = \"user\"; "
		                    "count = \"recipients\"; limit = 500; window = 3600; } )");
		return false;
	}
	rate_rules *rr = xcalloc(1, sizeof(*rr));
	int n = config_setting_length(s);
	rr->items = xcalloc(n > 0 ? (size_t)n : 1, sizeof(rate_rule));
	bool all_ok = true;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		char num[32];
		snprintf(num, sizeof num, "#%d", i + 1);
		c = (rc_ctx){.file = file, .errors = errors, .name = num, .ok = true};
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			rc_err(&c, g, "each rate limit is a group in braces: { name = \"...\"; ... }");
			all_ok = false;
			continue;
		}
		rate_rule r = {0};
		if (rc_one(&c, g, rr, &r))
			rr->items[rr->n++] = r;
		else
			all_ok = false;
	}
	rate_rules_free(&pc->ratelimits);
	pc->ratelimits = rr;
	return all_ok;
}
