/* polconf.h — the parts of the configuration file that are lists of
 * groups or named groups (policy.rules, policy.lists, policy.dnsbl, ...):
 * lib/config.c reads the scalar settings and skips these; this module
 * reads the same file again and hands each part to its module's reader.
 * Errors come back as "file:line: sentence", as from config_load. */
#ifndef YUBIN_POLICY_POLCONF_H
#define YUBIN_POLICY_POLCONF_H

#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>

#include "lib/config.h"
#include "lib/strutil.h"

struct policy_rules;
struct dnsbl_lists;
struct rate_rules;
struct rw_rules;

typedef struct policy_config {
	struct policy_rules *rules;        /* policy/rules.h */
	struct policy_lists *lists;        /* policy.lists: policy/table.h */
	struct rate_rules *ratelimits;     /* policy.ratelimits: policy/ratelimit.h */
	struct dnsbl_lists *dnsbl;         /* policy/dnsbl.h; NULL: none */
	double dnsbl_reject_score;         /* refuse at RCPT from this score on; 0: never */
	struct rw_rules *rewrite;          /* rewrite.canonical, rewrite.masquerade (rewrite/rwconf.h); NULL: none */
	struct milter_defs *milters;       /* milter/conf.h: policy.milters */
	struct webhook_defs *webhooks;     /* api/whconf.h: webhooks.endpoints; NULL: none */
} policy_config;

/* A reader takes one setting (s, found at its path) into pc; false with
 * one or more errors added when it is wrong. */
typedef bool policy_config_reader(policy_config *pc, const config_setting_t *s, const char *file,
                                  strlist *errors);

/* Read the policy parts of the file cfg came from (cfg->path; a config
 * made in code has none: the result is empty).  NULL with errors_r filled
 * when a part is wrong.  cfg must outlive the result. */
policy_config *policy_config_load(const config *cfg, strlist *errors_r);
/* Nothing configured (every stage lets everything through but the
 * built-in defaults). */
policy_config *policy_config_empty(void);
void policy_config_free(policy_config **pc);

/* "file:line: <prefix>sentence" into errors (for the readers: the prefix
 * names the item, "rule block-x: "). */
void policy_config_verror(strlist *errors, const char *file, const config_setting_t *at, const char *prefix,
                          const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* "file:line: sentence" into errors (for the readers). */
void policy_config_error(strlist *errors, const char *file, const config_setting_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
