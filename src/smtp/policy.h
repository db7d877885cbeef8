/* policy.h (smtp) — runs the policy layer at each stage of an SMTP
 * session: connect, HELO, MAIL, RCPT and the end of data.  A run is a
 * fixed list of steps per stage (facts, DNS lists, rules, greylisting,
 * rate limits, milters); each step looks at the facts, may wait for an
 * answer (DNS, a milter, a worker), and either lets the run go on or
 * decides.  The first decision ends the run; the caller gets the verdict
 * and turns it into its reply (smtp/commands.c, smtp/data.c).  Steps own
 * their files (smtp/pol_*.c); this file owns the order and the waiting. */
#ifndef YUBIN_SMTP_POLICY_H
#define YUBIN_SMTP_POLICY_H

#include "policy/policy.h"
#include "smtp/session.h"

typedef struct policy_run policy_run;

/* Called once per run, on the loop, unless the run was cancelled.  The
 * verdict is valid during the call only. */
typedef void policy_run_done(smtp_session *s, const policy_verdict *v);

/* One step of a stage.  It reads r (r->s, r->stage, r->facts, r->v) and
 * calls policy_step_next(r) exactly once, now or later.  To decide, it sets
 * r->v with policy_verdict_decide() before that call.  While it waits it
 * sets r->cancel (and whatever it needs in r->wait) so that a session that
 * ends can stop it; policy_step_next clears both. */
typedef void policy_step(policy_run *r);

struct policy_run {
	smtp_session *s;
	policy_stage stage;
	policy_facts facts;       /* filled from the session by the runner */
	policy_verdict v;
	char *msg;                /* POLICY_DATA: the message as spooled, read
	                           * back when a step needs it (LF line ends) */
	size_t msg_len;
	policy_step *const *steps;
	size_t step;
	void (*cancel)(policy_run *r);
	void *wait;
	policy_run_done *done;
};

/* Run stage st for session s (rcpt: the recipient at POLICY_RCPT, else
 * NULL).  The session is paused until done runs.  Runs done at once (no
 * pause) when nothing is configured for the stage. */
void smtp_policy_run(smtp_session *s, policy_stage st, const char *rcpt, policy_run_done *done);
/* The step is finished (decided or not): go to the next step or end. */
void policy_step_next(policy_run *r);
/* The session ends or its transaction is reset: stop a run in flight
 * (done never runs). */
void smtp_policy_cancel(smtp_session *s);
/* Add addr (resolved: local mailboxes after alias expansion, or remote)
 * to the transaction's targets with NOTIFY=NEVER, as a hidden copy (BCC
 * rules, a redirect, the audit journal); the caller updates the spool's
 * envelope.  False on an account database error. */
bool smtp_add_hidden_rcpt(smtp_session *s, const char *addr);

#endif
