/* pol_milter.c — the policy step for milter (see pol_steps.h).  Not written yet:
 * lets everything through. */
#include "smtp/pol_steps.h"

void pol_milter_step(policy_run *r)
{
	policy_step_next(r);
}

bool pol_milter_want_message(const smtp_session *s)
{
	(void)s;
	return false;
}
