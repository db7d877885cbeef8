/* rules.h — the ordered rules of policy.rules: read from the configuration
 * (with file:line errors), and evaluated against the facts of a stage.
 *
 * A rule is a group of conditions (all must hold; a condition's list of
 * patterns holds when any matches; "not_" before a condition's name turns
 * it around) and an action.  A rule runs at the earliest stage at which
 * every fact its conditions need is known, or later when it says so
 * (stage = "rcpt").  Rules run in the order written; accept, reject,
 * tempfail and discard end the evaluation; hold, junk, header edits, bcc
 * and redirect gather and evaluation goes on. */
#ifndef YUBIN_POLICY_RULES_H
#define YUBIN_POLICY_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/polconf.h"
#include "policy/policy.h"

struct policy_lists;
typedef struct policy_rules policy_rules;

/* The reader of policy.rules (polconf.c's table). */
bool policy_rules_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors);
/* Check what the rules name that other parts define (lists); after every
 * reader ran.  False with errors added. */
bool policy_rules_check(const policy_rules *r, const struct policy_lists *lists, const char *file,
                        strlist *errors);
void policy_rules_free(policy_rules **r);

/* Is there a rule at stage st?  (NULL rules: none.) */
bool policy_rules_at(const policy_rules *r, policy_stage st);
/* Do the rules need the client's verified name / the message's bytes? */
bool policy_rules_need_client_name(const policy_rules *r);
bool policy_rules_need_message(const policy_rules *r);

typedef struct policy_eval_env {
	const struct policy_lists *lists;
	size_t body_limit;          /* bytes of decoded text a body rule reads */
	/* called for every rule evaluated (policy test): its name and
	 * whether it matched; may be NULL */
	void (*trace)(void *arg, const char *rule, bool matched);
	void *trace_arg;
} policy_eval_env;

/* Evaluate the rules of stage st against f, into v: the names of those
 * that matched go to v->matched, message actions gather, and the first
 * accept / reject / tempfail / discard decides (by = "rule NAME"). */
void policy_rules_eval(const policy_rules *r, policy_stage st, const policy_facts *f, const policy_eval_env *env,
                       policy_verdict *v);

#endif
