/* pol_dnsbl.c — the policy step for dnsbl (see pol_steps.h).  Not written yet:
 * lets everything through. */
#include "smtp/pol_steps.h"

void pol_dnsbl_step(policy_run *r)
{
	policy_step_next(r);
}
