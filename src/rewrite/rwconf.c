/* rwconf.c — reads rewrite.canonical and rewrite.masquerade (see
 * rwconf.h) into the rules of the policy configuration; every mistake is
 * one "file:line: sentence".  Must not read the scalar settings
 * (lib/config.c does). */
#include "rewrite/rwconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define add_error policy_config_error

/* The rules of pc, made on first use. */
static rw_rules *rules_of(policy_config *pc)
{
	if (pc->rewrite == NULL) {
		pc->rewrite = xcalloc(1, sizeof(*pc->rewrite));
		rw_rules_init(pc->rewrite);
	}
	return pc->rewrite;
}

static const char *get_string(const config_setting_t *g, const char *name, const char *file, strlist *errors,
                              bool required, const char *where)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	if (s == NULL) {
		if (required)
			add_error(errors, file, g, "%s needs %s = \"...\";", where, name);
		return NULL;
	}
	const char *v = config_setting_get_string(s);
	if (v == NULL)
		add_error(errors, file, s, "%s.%s must be a string in quotes", where, name);
	return v;
}

/* targets = [ ... ] into a bit set; def when absent; 0 on an error. */
static unsigned read_targets(const config_setting_t *g, unsigned def, const char *file, strlist *errors,
                             const char *where)
{
	const config_setting_t *s = config_setting_get_member(g, "targets");
	if (s == NULL)
		return def;
	int type = config_setting_type(s);
	int n = (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST) ? config_setting_length(s) : 0;
	if (n == 0) {
		add_error(errors, file, s, "%s.targets must be a list like [ \"envelope_sender\", \"from\" ]", where);
		return 0;
	}
	unsigned bits = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int t = v ? rw_target_parse(v) : -1;
		if (t < 0) {
			add_error(errors, file, e,
			          "%s.targets entry %d is not one of envelope_sender, envelope_recipient, from, to, cc, "
			          "reply-to, sender", where, i + 1);
			return 0;
		}
		bits |= RW_TARGET_BIT(t);
	}
	return bits;
}

static unsigned read_direction(const config_setting_t *g, unsigned def, const char *file, strlist *errors,
                               const char *where)
{
	const char *v = get_string(g, "direction", file, errors, false, where);
	if (v == NULL)
		return config_setting_get_member(g, "direction") ? 0 : def;
	unsigned d = rw_direction_parse(v);
	if (d == 0)
		add_error(errors, file, config_setting_get_member(g, "direction"),
		          "%s.direction must be \"inbound\", \"outbound\" or \"both\"", where);
	return d;
}

static bool known_members(const config_setting_t *g, const char *const *names, const char *file,
                          strlist *errors, const char *where)
{
	bool ok = true;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		bool known = false;
		for (size_t k = 0; names[k] != NULL && !known; k++)
			known = strcmp(config_setting_name(m), names[k]) == 0;
		if (!known) {
			add_error(errors, file, m, "%s has no setting \"%s\"", where, config_setting_name(m));
			ok = false;
		}
	}
	return ok;
}

bool rw_config_read_canonical(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	rw_rules *r = rules_of(pc);
	static const char *const names[] = {"match", "replace", "targets", "direction", NULL};
	size_t before = errors->n;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		add_error(errors, file, s, "rewrite.canonical must be a list of groups: ( { match = ...; replace = ...; } )");
		return false;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		char where[48];
		snprintf(where, sizeof where, "rewrite.canonical entry %d", i + 1);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			add_error(errors, file, g, "%s must be a group in braces", where);
			continue;
		}
		if (!known_members(g, names, file, errors, where))
			continue;
		const char *match = get_string(g, "match", file, errors, true, where);
		const char *replace = get_string(g, "replace", file, errors, true, where);
		unsigned targets = read_targets(g, RW_ALL_TARGETS, file, errors, where);
		unsigned dirs = read_direction(g, RW_BOTH, file, errors, where);
		char *err = NULL;
		if (match && replace && targets && dirs && !rw_canon_add(&r->canon, match, replace, targets, dirs, &err)) {
			add_error(errors, file, g, "%s: %s", where, err);
			free(err);
		}
	}
	return errors->n == before;
}

/* A list of strings into out, lower-cased by add; false on an error. */
static bool read_words(const config_setting_t *g, const char *name, rw_masq *m,
                       void (*add)(rw_masq *, const char *), const char *file, strlist *errors)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	if (s == NULL)
		return true;
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		add_error(errors, file, s, "rewrite.masquerade.%s must be a list of strings", name);
		return false;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
		if (v == NULL || *v == '\0') {
			add_error(errors, file, s, "rewrite.masquerade.%s entry %d must be a non-empty string", name, i + 1);
			return false;
		}
		add(m, v);
	}
	return true;
}

bool rw_config_read_masquerade(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	rw_rules *r = rules_of(pc);
	static const char *const names[] = {"domains", "except", "targets", "direction", NULL};
	const char *where = "rewrite.masquerade";
	size_t before = errors->n;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		add_error(errors, file, s, "rewrite.masquerade must be a group: { domains = [ \"example.org\" ]; }");
		return false;
	}
	if (!known_members(s, names, file, errors, where))
		return false;
	rw_masq *m = &r->masq;
	if (config_setting_get_member(s, "domains") == NULL)
		add_error(errors, file, s, "rewrite.masquerade needs domains = [ \"example.org\" ];");
	if (read_words(s, "domains", m, rw_masq_add_domain, file, errors) &&
	    read_words(s, "except", m, rw_masq_add_except, file, errors)) {
		m->targets = read_targets(s, RW_TARGET_BIT(RW_ENV_SENDER) | RW_HEADER_TARGETS, file, errors, where);
		m->dirs = read_direction(s, RW_OUTBOUND, file, errors, where);
	}
	return errors->n == before;
}

void rw_config_free(rw_rules **r)
{
	if (*r == NULL)
		return;
	rw_rules_free(*r);
	free(*r);
	*r = NULL;
}
