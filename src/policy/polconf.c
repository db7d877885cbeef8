/* polconf.c — reads the policy parts of the configuration file (see
 * polconf.h).  One table maps each setting path to its module's reader;
 * lib/config.c has the same paths in its list of settings it skips. */
#include "policy/polconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/dnsbl.h"
#include "policy/listconf.h"
#include "policy/rateconf.h"
#include "policy/ratelimit.h"
#include "milter/conf.h"
#include "policy/rules.h"
#include "policy/table.h"
#include "rewrite/rwconf.h"
#include "api/whconf.h"

static const struct {
	const char *path;
	policy_config_reader *read;
} readers[] = {
	{"policy.rules", policy_rules_read},
	{"policy.dnsbl", dnsbl_config_read},
	{"policy.dnsbl_reject_score", dnsbl_config_read_score},
	{"policy.lists", policy_lists_read},
	{"policy.ratelimits", policy_ratelimits_read},
	{"rewrite.canonical", rw_config_read_canonical},
	{"rewrite.masquerade", rw_config_read_masquerade},
	{"policy.milters", milter_defs_policy_read},
	{"webhooks.endpoints", webhook_defs_policy_read},
};

void policy_config_verror(strlist *errors, const char *file, const config_setting_t *at, const char *prefix,
                          const char *fmt, va_list ap)
{
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	int line = at ? (int)config_setting_source_line(at) : 0;
	if (line > 0)
		strlist_add_owned(errors, xasprintf("%s:%d: %s%s", file, line, prefix, msg));
	else
		strlist_add_owned(errors, xasprintf("%s: %s%s", file, prefix, msg));
	free(msg);
}

void policy_config_error(strlist *errors, const char *file, const config_setting_t *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	policy_config_verror(errors, file, at, "", fmt, ap);
	va_end(ap);
}

policy_config *policy_config_empty(void)
{
	return xcalloc(1, sizeof(policy_config));
}

policy_config *policy_config_load(const config *cfg, strlist *errors)
{
	policy_config *pc = policy_config_empty();
	if (cfg->path == NULL || cfg->dev)
		return pc;
	config_t cf;
	config_init(&cf);
	if (config_read_file(&cf, cfg->path) != CONFIG_TRUE) {
		/* config_load read it a moment ago: say so rather than guess */
		strlist_add_owned(errors, xasprintf("%s: cannot read the file again: %s", cfg->path,
		                                    config_error_text(&cf) ? config_error_text(&cf) : "I/O error"));
		config_destroy(&cf);
		policy_config_free(&pc);
		return NULL;
	}
	size_t before = errors->n;
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		const config_setting_t *s = config_lookup(&cf, readers[i].path);
		if (s != NULL)
			readers[i].read(pc, s, cfg->path, errors);
	}
	config_destroy(&cf);
	if (errors->n == before)
		policy_rules_check(pc->rules, pc->lists, cfg->path, errors);
	if (errors->n != before)
		policy_config_free(&pc);
	return pc;
}

void policy_config_free(policy_config **pcp)
{
	policy_config *pc = *pcp;
	if (pc == NULL)
		return;
	policy_rules_free(&pc->rules);
	dnsbl_lists_free(&pc->dnsbl);
	policy_lists_free(&pc->lists);
	rate_rules_free(&pc->ratelimits);
	rw_config_free(&pc->rewrite);
	milter_defs_free(&pc->milters);
	webhook_defs_free(&pc->webhooks);
	free(pc);
	*pcp = NULL;
}
