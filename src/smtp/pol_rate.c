/* pol_rate.c — the policy step for rate limits (policy.ratelimits): checks
 * at MAIL (messages) and RCPT (recipients; messages per recipient), and
 * counts at the end of data.  The counters are the server's
 * (policy/ratesync.h); what a limit means is policy/ratelimit.c's.
 *
 * What is counted, and when: nothing at MAIL or RCPT, so a refused
 * recipient (by this step or any later one) never counts, and the
 * recipients of the open transaction are added to the window's count by
 * the RCPT check itself.  The message and its accepted recipients are
 * counted once, here at the end of data, which is the last step of that
 * stage: every other check has passed by then.  A message refused after
 * this point (the policy's message actions or the spool commit failing,
 * both local errors) has counted once; one refused before has not, so a
 * client that retries a refused message is not counted twice for it.
 * Sessions in flight at once are each checked before the others count:
 * a limit can be passed by the number of messages in flight together. */
#include "smtp/pol_steps.h"

#include <stdlib.h>

#include "lib/log.h"
#include "policy/ratelimit.h"
#include "policy/ratesync.h"

/* The replies: temporary, so that a client that is only busy retries. */
#define RATE_MAIL_CODE 451
#define RATE_RCPT_CODE 450
#define RATE_STATUS "4.7.1"

static void refuse(policy_run *r, rate_exceeded *ex, int code)
{
	char *text = rate_exceeded_text(ex);
	char *by = xasprintf("ratelimit %s", ex->rule->name);
	policy_verdict_decide(&r->v, POLICY_TEMPFAIL, code, RATE_STATUS, text, by);
	log_event(LOG_LVL_INFO, "ratelimit", "sid=%s limit=%s key=%s counted=%llu limit_max=%u window=%u", r->s->sid,
	          ex->rule->name, ex->key, (unsigned long long)ex->count, ex->rule->limit, ex->rule->window);
	free(by);
	free(text);
	rate_exceeded_free(ex);
}

void pol_rate_step(policy_run *r)
{
	rate_sync *rs = r->s->srv->rate;
	if (rs == NULL) {
		policy_step_next(r);
		return;
	}
	rate_table *t = rate_sync_table(rs);
	const policy_facts *f = &r->facts;
	rate_subject sub = {.client_ip = f->client_ip, .user = f->user, .sender = f->sender, .role = (int)f->role,
	                    .rcpts = f->rcpts};
	rate_exceeded ex;
	switch (r->stage) {
	case POLICY_MAIL:
		if (rate_check_mail(t, &sub, f->now, &ex))
			refuse(r, &ex, RATE_MAIL_CODE);
		break;
	case POLICY_RCPT:
		if (rate_check_rcpt(t, &sub, f->rcpt, f->now, &ex))
			refuse(r, &ex, RATE_RCPT_CODE);
		break;
	case POLICY_DATA:
		rate_charge(t, &sub, f->now);
		break;
	default:
		break;
	}
	policy_step_next(r);
}
