/* pol_rules.c — the policy step that evaluates the configured rules of
 * the stage (policy/rules.h) against the run's facts.  A session or
 * transaction that a rule already accepted is not evaluated again. */
#include "smtp/pol_steps.h"

#include "policy/polconf.h"
#include "policy/rules.h"

void pol_rules_step(policy_run *r)
{
	smtp_session *s = r->s;
	const policy_config *pc = s->srv->policy;
	if (pc != NULL && pc->rules != NULL && !s->pol.accepted && !s->pol.txn_accepted) {
		policy_eval_env env = {.lists = pc->lists, .body_limit = (size_t)s->srv->cfg->policy.body_scan_limit};
		policy_rules_eval(pc->rules, r->stage, &r->facts, &env, &r->v);
	}
	policy_step_next(r);
}

bool pol_rules_want_message(const smtp_session *s)
{
	const policy_config *pc = s->srv->policy;
	return pc != NULL && policy_rules_need_message(pc->rules) && policy_rules_at(pc->rules, POLICY_DATA);
}
