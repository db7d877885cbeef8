/* listconf.c — reads policy.lists, a group of named lists:
 *   policy.lists = {
 *     partners = { type = "static"; values = [ "192.0.2.0/24" ]; };
 *     blocked  = { type = "file"; path = "/etc/yubin/blocked-senders"; };
 *     vips     = { type = "sqlite"; path = "/var/lib/yubin/lists.db"; table = "vips"; };
 *   };
 * and opens each through policy/table.h, which checks the entries (a
 * file's at file:line).  Errors are "file:line: list NAME: sentence". */
#include "policy/listconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/table.h"

static const char *const list_settings[] = {"type", "values", "path", "table"};

/* The string member key of g, or NULL (an error when present and no string). */
static const char *lc_string(const config_setting_t *g, const char *key, const char *file, const char *name,
                             strlist *errors, bool *ok)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return NULL;
	const char *v = config_setting_get_string(s);
	if (v == NULL) {
		policy_config_error(errors, file, s, "list %s: %s must be a string in double quotes", name, key);
		*ok = false;
	}
	return v;
}

static bool lc_values(const config_setting_t *g, const char *file, const char *name, strlist *out,
                      strlist *errors)
{
	const config_setting_t *s = config_setting_get_member(g, "values");
	if (s == NULL)
		return true;
	int t = config_setting_type(s);
	int n = (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) ? config_setting_length(s) : -1;
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
		if (v == NULL)
			n = -1;
		else
			strlist_add(out, v);
	}
	if (n < 0)
		policy_config_error(errors, file, s, "list %s: values must be a list of strings, like [ \"a\", \"b\" ]",
		                    name);
	return n >= 0;
}

static bool lc_one(policy_lists *lists, const config_setting_t *g, const char *file, strlist *errors)
{
	const char *name = config_setting_name(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		policy_config_error(errors, file, g, "list %s must be a group: %s = { type = \"file\"; path = \"...\"; };",
		                    name, name);
		return false;
	}
	bool ok = true;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		size_t k = 0;
		while (k < sizeof(list_settings) / sizeof(list_settings[0]) &&
		       strcmp(config_setting_name(m), list_settings[k]) != 0)
			k++;
		if (k == sizeof(list_settings) / sizeof(list_settings[0])) {
			policy_config_error(errors, file, m, "list %s: unknown setting \"%s\" (known: type, values, path, table)",
			                    name, config_setting_name(m));
			ok = false;
		}
	}
	strlist values;
	strlist_init(&values);
	char *where = xasprintf("%s:%d", file, (int)config_setting_source_line(g));
	table_config cfg = {
		.name = name,
		.type = lc_string(g, "type", file, name, errors, &ok),
		.values = config_setting_get_member(g, "values") != NULL ? &values : NULL,
		.path = lc_string(g, "path", file, name, errors, &ok),
		.table = lc_string(g, "table", file, name, errors, &ok),
		.where = where,
	};
	if (cfg.type == NULL && ok) {
		policy_config_error(errors, file, g, "list %s: type = \"static\", \"file\" or \"sqlite\" is missing", name);
		ok = false;
	}
	ok = lc_values(g, file, name, &values, errors) && ok;
	table *t = ok ? table_open(&cfg, errors) : NULL;
	if (t != NULL)
		policy_lists_add(lists, t);
	strlist_free(&values);
	free(where);
	return t != NULL;
}

bool policy_lists_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		policy_config_error(errors, file, s,
		                    "policy.lists must be a group of named lists: { blocked = { type = \"file\"; "
		                    "path = \"...\"; }; }");
		return false;
	}
	policy_lists *lists = policy_lists_new();
	bool ok = true;
	for (int i = 0; i < config_setting_length(s); i++)
		ok = lc_one(lists, config_setting_get_elem(s, (unsigned)i), file, errors) && ok;
	policy_lists_free(&pc->lists);
	pc->lists = lists;
	return ok;
}
