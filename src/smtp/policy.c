/* policy.c (smtp) — the policy runner (see policy.h): which steps run at
 * each stage and in what order, the facts they see, reading the message
 * back for the steps of the end of data, and the one log line per
 * verdict.  What a verdict means for the reply is the caller's; what the
 * message actions do to the spool is smtp_policy_apply's, here too. */
#include "smtp/policy.h"

#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "envelope/dsnparam.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "mime/header.h"
#include "smtp/auditrec.h"
#include "smtp/pol_steps.h"

static void pol_message_step(policy_run *r);

/* Order matters: facts before what reads them; at the end of data the
 * milters before the rules, which can read their spam score and virus. */
static policy_step *const connect_steps[] = {pol_facts_step, pol_dnsbl_step, pol_rules_step,
                                                   pol_milter_step, NULL};
static policy_step *const helo_steps[] = {pol_facts_step, pol_rules_step, pol_defaults_step,
                                                pol_milter_step, NULL};
static policy_step *const mail_steps[] = {pol_facts_step, pol_dnsbl_step, pol_rules_step,
                                                pol_defaults_step, pol_rate_step, pol_milter_step, NULL};
static policy_step *const rcpt_steps[] = {pol_facts_step, pol_dnsbl_step, pol_rules_step,
                                                pol_greylist_step, pol_rate_step, pol_milter_step, NULL};
static policy_step *const data_steps[] = {pol_message_step, pol_milter_step, pol_rules_step,
                                                pol_rate_step, NULL};

static policy_step *const *const stage_steps[POLICY_STAGES] = {connect_steps, helo_steps, mail_steps,
                                                                     rcpt_steps, data_steps};

static void fill_facts(policy_run *r, const char *rcpt)
{
	smtp_session *s = r->s;
	policy_facts *f = &r->facts;
	memset(f, 0, sizeof(*f));
	f->sid = s->sid;
	f->qid = s->txn.qid[0] ? s->txn.qid : NULL;
	f->client_ip = s->ip;
	f->client_name = s->pol.client_name;
	f->client_name_tempfail = s->pol.client_name_tempfail;
	f->helo = s->helo;
	f->role = s->lst->role;
	f->user = s->auth_user;
	f->sender = s->txn.sender;
	f->rcpt = rcpt;
	f->rcpts = &s->txn.rcpt_cmds;
	f->size = s->txn.size;
	f->spf = s->pol.spf;
	f->dkim = s->pol.dkim;
	f->dmarc = s->pol.dmarc;
	f->dnsbl = s->pol.dnsbl;
	f->n_dnsbl = s->pol.n_dnsbl;
	f->dnsbl_score = s->pol.dnsbl_score;
	f->now = time(NULL);
}

/* ---- reading the message back (end of data) ---- */

typedef struct msg_load {
	policy_run *r;
	char *msg;
	size_t len;
} msg_load;

static void load_work(void *arg, const char *msg, size_t len)
{
	msg_load *l = arg;
	if (msg == NULL)
		return;
	l->msg = xmalloc(len + 1);
	memcpy(l->msg, msg, len);
	l->msg[len] = '\0';
	l->len = len;
}

static void load_done(void *arg)
{
	msg_load *l = arg;
	policy_run *r = l->r;
	r->msg = l->msg;
	r->msg_len = l->len;
	free(l);
	if (r->msg == NULL) {
		log_event(LOG_LVL_ERROR, "policy", "sid=%s qid=%s error=\"the message could not be read back\"",
		          r->s->sid, r->s->txn.qid);
		policy_verdict_decide(&r->v, POLICY_TEMPFAIL, 451, "4.3.0", "Local error while checking the message",
		                      "policy");
	} else {
		r->facts.msg = r->msg;
		r->facts.msg_len = r->msg_len;
		r->facts.size = r->msg_len;
	}
	policy_step_next(r);
}

static void pol_message_step(policy_run *r)
{
	smtp_session *s = r->s;
	r->facts.size = spool_size(s->txn.sp);
	bool removals = s->pol.conn_actions.remove_headers.n > 0 || s->pol.txn_actions.remove_headers.n > 0;
	if (!removals && !pol_rules_want_message(s) && !pol_milter_want_message(s)) {
		policy_step_next(r);
		return;
	}
	msg_load *l = xcalloc(1, sizeof(*l));
	l->r = r;
	/* a worker job cannot be called back: the session stays paused (and
	 * so alive) until load_done */
	spool_inspect(s->txn.sp, load_work, load_done, l);
}

/* ---- the message actions, on the spool before the commit ---- */

/* Recipients a policy adds (BCC copies, a redirect) as the queue's
 * targets: local mailboxes after alias expansion, or remote.  They ask
 * for no DSN: the sender must not learn of a hidden copy (journaling,
 * smtp/auditrec.c, adds its copy the same way). */
bool smtp_add_hidden_rcpt(smtp_session *s, const char *addr)
{
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	accounts_status st = accounts_resolve(s->srv->acc, addr, &local, &remote);
	if (st == ACC_NO_DOMAIN)
		strlist_add(&remote, addr);
	else if (st != ACC_OK)
		log_event(LOG_LVL_WARN, "policy", "sid=%s qid=%s rcpt=%s error=\"%s\"", s->sid, s->txn.qid, addr,
		          st == ACC_ERROR ? "account database error" : "the address a rule names has no mailbox");
	for (int pass = 0; pass < 2; pass++) {
		const strlist *l = pass == 0 ? &local : &remote;
		for (size_t i = 0; i < l->n; i++)
			qenvelope_add_rcpt(&s->txn.targets, l->items[i], pass == 0 ? 'L' : 'R')->notify = DSN_NOTIFY_NEVER;
	}
	strlist_free(&local);
	strlist_free(&remote);
	return st != ACC_ERROR;
}

static bool change_recipients(smtp_session *s, const policy_verdict *c, const policy_verdict *t)
{
	const char *redirect = t->redirect ? t->redirect : c->redirect;
	if (redirect == NULL && c->add_rcpts.n == 0 && t->add_rcpts.n == 0)
		return true;
	bool ok = true;
	if (redirect != NULL) {
		qenvelope_truncate_rcpts(&s->txn.targets, 0);
		ok = smtp_add_hidden_rcpt(s, redirect);
	}
	for (int k = 0; k < 2; k++) {
		const strlist *l = k == 0 ? &c->add_rcpts : &t->add_rcpts;
		for (size_t i = 0; i < l->n; i++)
			ok &= smtp_add_hidden_rcpt(s, l->items[i]);
	}
	qenvelope env;
	txn_envelope(s, s->txn.qid, s->txn.time, &env);
	spool_set_envelope(s->txn.sp, &env);
	qenvelope_free_rcpts(&env);
	return ok;
}

static bool named_in(const char *data, const mime_field *f, const strlist *names)
{
	for (size_t i = 0; i < names->n; i++)
		if (mime_field_is(data, f, names->items[i]))
			return true;
	return false;
}

/* The fields to remove, in the client's header (below our Received). */
static void remove_fields(policy_run *r, const strlist *a, const strlist *b)
{
	if ((a->n == 0 && b->n == 0) || r->msg == NULL)
		return;
	size_t pos = r->s->txn.trace_len;
	mime_field f;
	while (pos <= r->msg_len && mime_header_next(r->msg, r->msg_len, &pos, &f))
		if (named_in(r->msg, &f, a) || named_in(r->msg, &f, b))
			spool_drop(r->s->txn.sp, f.start, f.end);
}

/* False when the recipients could not be resolved for now (451). */
static bool apply_actions(policy_run *r)
{
	smtp_session *s = r->s;
	spool *sp = s->txn.sp;
	const policy_verdict *c = &s->pol.conn_actions, *t = &s->pol.txn_actions;
	if (c->junk || t->junk)
		spool_mark_junk(sp);
	if (c->hold || t->hold)
		spool_mark_hold(sp);
	buf add;
	buf_init(&add, BUF_UNBOUNDED);
	for (int k = 0; k < 2; k++) {
		const strlist *l = k == 0 ? &c->add_headers : &t->add_headers;
		for (size_t i = 0; i < l->n; i++)
			BUF_PRINTF(&add, "%s\n", l->items[i]);
	}
	if (add.len > 0) /* below our Received field */
		spool_replace(sp, s->txn.trace_len, s->txn.trace_len, add.data, add.len);
	buf_free(&add);
	remove_fields(r, &c->remove_headers, &t->remove_headers);
	return change_recipients(s, c, t);
}

/* ---- the run ---- */

static void run_free(policy_run *r)
{
	policy_verdict_free(&r->v);
	free(r->msg);
	free(r);
}

/* Message actions decided at this stage go with the session (connect,
 * HELO) or the transaction. */
static void keep_actions(smtp_session *s, policy_stage st, const policy_verdict *v)
{
	policy_verdict *to = st <= POLICY_HELO ? &s->pol.conn_actions : &s->pol.txn_actions;
	to->hold |= v->hold;
	to->junk |= v->junk;
	for (size_t i = 0; i < v->add_headers.n; i++)
		strlist_add(&to->add_headers, v->add_headers.items[i]);
	for (size_t i = 0; i < v->remove_headers.n; i++)
		strlist_add(&to->remove_headers, v->remove_headers.items[i]);
	for (size_t i = 0; i < v->add_rcpts.n; i++)
		strlist_add(&to->add_rcpts, v->add_rcpts.items[i]);
	if (v->redirect != NULL) {
		free(to->redirect);
		to->redirect = xstrdup(v->redirect);
	}
}

static void log_verdict(policy_run *r)
{
	const policy_verdict *v = &r->v;
	smtp_session *s = r->s;
	bool actions = v->hold || v->junk || v->add_headers.n || v->remove_headers.n || v->add_rcpts.n || v->redirect;
	if (v->decision == POLICY_CONTINUE && !actions && v->matched.n == 0)
		return;
	metrics_policy_verdict(policy_decision_name(v->decision));
	char *matched = strlist_join(&v->matched, ",");
	int code = 0;
	const char *status = "", *text = "";
	if (v->decision == POLICY_REJECT || v->decision == POLICY_TEMPFAIL)
		policy_verdict_reply(v, r->stage, &code, &status, &text);
	log_event(LOG_LVL_INFO, "policy",
	          "sid=%s qid=%s stage=%s client=%s from=%s to=%s decision=%s by=%s matched=%s hold=%d junk=%d "
	          "code=%d status=%s text=%s",
	          s->sid, s->txn.qid[0] ? s->txn.qid : "-", policy_stage_name(r->stage), s->ip,
	          s->txn.sender ? s->txn.sender : "-", r->facts.rcpt ? r->facts.rcpt : "-",
	          policy_decision_name(v->decision), v->by ? v->by : "-", matched[0] ? matched : "-", v->hold, v->junk,
	          code, status, text);
	smtp_audit_policy(s, r->stage, r->facts.rcpt, v, code, status, text);
	free(matched);
}

static void run_end(policy_run *r)
{
	smtp_session *s = r->s;
	s->pol.run = NULL;
	log_verdict(r);
	keep_actions(s, r->stage, &r->v);
	if (r->stage == POLICY_DATA && r->v.decision == POLICY_CONTINUE && !s->pol.discard && !s->pol.txn_discard &&
	    !apply_actions(r))
		policy_verdict_decide(&r->v, POLICY_TEMPFAIL, 451, "4.3.0", "Local error: please try again later",
		                      "policy");
	if (r->v.decision == POLICY_DISCARD) {
		if (r->stage <= POLICY_HELO)
			s->pol.discard = true;
		else
			s->pol.txn_discard = true;
	}
	policy_run_done *done = r->done;
	done(s, &r->v);
	run_free(r);
	session_resume(s);
}

void policy_step_next(policy_run *r)
{
	r->cancel = NULL;
	r->wait = NULL;
	if (r->v.decision == POLICY_ACCEPT) {
		/* accept: the later rules and greylisting stand aside; milters
		 * and rate limits still see the message */
		if (r->stage <= POLICY_HELO)
			r->s->pol.accepted = true;
		else
			r->s->pol.txn_accepted = true;
		r->v.decision = POLICY_CONTINUE;
	}
	if (r->v.decision != POLICY_CONTINUE || r->steps[r->step] == NULL) {
		run_end(r);
		return;
	}
	policy_step *step = r->steps[r->step++];
	step(r);
}

void smtp_policy_run(smtp_session *s, policy_stage st, const char *rcpt, policy_run_done *done)
{
	policy_run *r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->stage = st;
	r->done = done;
	r->steps = stage_steps[st];
	policy_verdict_init(&r->v);
	fill_facts(r, rcpt);
	s->pol.run = r;
	session_pause(s);
	policy_step_next(r);
}

void smtp_policy_cancel(smtp_session *s)
{
	policy_run *r = s->pol.run;
	if (r == NULL)
		return;
	s->pol.run = NULL;
	if (r->cancel != NULL)
		r->cancel(r);
	run_free(r);
}
