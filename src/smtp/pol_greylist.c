/* pol_greylist.c — the policy step for greylist (see pol_steps.h).  Not written yet:
 * lets everything through. */
#include "smtp/pol_steps.h"

void pol_greylist_step(policy_run *r)
{
	policy_step_next(r);
}
