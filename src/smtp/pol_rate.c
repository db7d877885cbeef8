/* pol_rate.c — the policy step for rate (see pol_steps.h).  Not written yet:
 * lets everything through. */
#include "smtp/pol_steps.h"

void pol_rate_step(policy_run *r)
{
	policy_step_next(r);
}
