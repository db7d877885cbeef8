/* pol_milter.c — the policy step for milters (see pol_steps.h): each
 * session gets one connection per configured milter whose roles include
 * its listener's, opened at its first stage; at every stage the session's
 * part of the conversation goes to each milter in turn (what a milter
 * missed, because it was connected late or reconnected after a failure,
 * is sent first), and its answer becomes the stage's verdict:
 *   accept      no objection; the milter sits out the rest of the message
 *               (of the session, at connect and HELO); the other checks
 *               and rules still run
 *   reject      550 5.7.1 (554 at connect); tempfail 451 4.7.1
 *   replycode   that reply, its code kept to 4xx/5xx and to the stage
 *   discard     POLICY_DISCARD; quarantine: held in the queue
 * At the end of data the message is sent in full, the changes each milter
 * asks for are made on the message the next milter sees, and once all
 * have answered they become edits of the spooled message (milter/msgedit.c)
 * and facts for the rules (the spam score and virus name the milters'
 * header fields carry).  A milter that is down, hangs or breaks the
 * protocol is left out (on_failure = "accept", logged) or makes the stage
 * 451 4.7.1 ("tempfail"), never 5xx; it is reconnected for the next
 * message.  The protocol itself is milter/client.c's. */
#include "smtp/pol_steps.h"

#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "lib/log.h"
#include "milter/client.h"
#include "milter/msgedit.h"
#include "milter/verdict.h"
#include "policy/polconf.h"

typedef struct milter_slot {
	const milter_def *def;
	milter_conn *c;
	bool skip_session;      /* accepted at connect or HELO */
	bool skip_msg;          /* accepted, or left out after a failure, for this message */
	bool sent_connect;
	char *sent_helo;        /* the HELO name it has, NULL none */
	bool sent_tls;          /* ... given over TLS (STARTTLS makes the client say HELO again) */
	bool in_msg;            /* MAIL sent, the message not finished */
	size_t rcpts_sent;      /* RCPT commands of this message it has */
	bool body_replaced;     /* a REPLBODY of this milter started a new body */
	bool body_refused;      /* ... that was too large, and was not taken */
} milter_slot;

struct pol_milters {
	milter_slot *v;
	size_t n, cur;
	policy_run *r;          /* the run waiting for a milter, NULL when none */
	milter_msg msg;         /* end of data: the message as the milters change it */
	bool have_msg;
	bool has_score;
	double score;
	char *virus;            /* "" clean, NULL not said */
	bool envelope_changed;  /* CHGFROM / DELRCPT: the spool gets the new envelope */
	const char *deleted_by; /* the milter that last removed a recipient */
};

static const milter_defs *configured(const smtp_session *s)
{
	const policy_config *pc = s->srv->policy;
	return pc != NULL ? pc->milters : NULL;
}

static pol_milters *session_milters(smtp_session *s)
{
	if (s->pol.milters != NULL)
		return s->pol.milters;
	const milter_defs *d = configured(s);
	pol_milters *pm = xcalloc(1, sizeof(*pm));
	pm->v = xcalloc(d && d->n ? d->n : 1, sizeof(*pm->v));
	for (size_t i = 0; d != NULL && i < d->n; i++)
		if (d->v[i].roles & (1u << s->lst->role))
			pm->v[pm->n++].def = &d->v[i];
	s->pol.milters = pm;
	return pm;
}

bool pol_milter_want_message(const smtp_session *s)
{
	const milter_defs *d = configured(s);
	for (size_t i = 0; d != NULL && i < d->n; i++)
		if (d->v[i].roles & (1u << s->lst->role))
			return true;
	return false;
}

/* ---- what each stage sends ---- */

static void add_macros(milter_conn *c, char cmd, milter_macro_stage st, const char *const *pairs, size_t n)
{
	milter_stage_macros(c, cmd, st, pairs, n);
}

static void queue_connect(smtp_session *s, milter_slot *m)
{
	const char *name = s->pol.client_name && s->pol.client_name[0] ? s->pol.client_name : NULL;
	char *bracketed = xasprintf("[%s]", s->ip);
	char *underscore = xasprintf("%s [%s]", name ? name : "unknown", s->ip);
	const char *macros[] = {"j", s->srv->cfg->hostname, "{daemon_name}", "yubin", "_", underscore,
	                        "{client_addr}", s->ip, "{client_name}", name ? name : "unknown",
	                        "{if_addr}", s->lst->address};
	add_macros(m->c, SMFIC_CONNECT, SMFIM_CONNECT, macros, 6);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	milter_put_connect(&b, name ? name : bracketed, strchr(s->ip, ':') ? '6' : '4', 0, s->ip);
	milter_stage_add(m->c, SMFIC_CONNECT, b.data + 5, b.len - 5, SMFIP_NOCONNECT, SMFIP_NR_CONN);
	buf_free(&b);
	free(bracketed);
	free(underscore);
	m->sent_connect = true;
}

static void queue_helo(smtp_session *s, milter_slot *m)
{
	const char *tls = session_tls_version(s);
	const char *macros[] = {"{tls_version}", tls && tls[0] ? tls : NULL, "{cipher}",
	                        tls && tls[0] ? session_tls_cipher(s) : NULL};
	add_macros(m->c, SMFIC_HELO, SMFIM_HELO, macros, 2);
	milter_stage_add(m->c, SMFIC_HELO, s->helo, strlen(s->helo) + 1, SMFIP_NOHELO, SMFIP_NR_HELO);
	free(m->sent_helo);
	m->sent_helo = xstrdup(s->helo);
	m->sent_tls = tls && tls[0];
}

static void queue_mail(smtp_session *s, milter_slot *m)
{
	smtp_txn *t = &s->txn;
	const char *macros[] = {"i", t->qid[0] ? t->qid : NULL, "{auth_authen}", s->auth_user,
	                        "{mail_addr}", t->sender};
	add_macros(m->c, SMFIC_MAIL, SMFIM_ENVFROM, macros, 3);
	const char *args[3];
	size_t n = 0;
	char *size = t->size ? xasprintf("SIZE=%llu", (unsigned long long)t->size) : NULL;
	if (size)
		args[n++] = size;
	if (t->body_8bit)
		args[n++] = "BODY=8BITMIME";
	if (t->smtputf8)
		args[n++] = "SMTPUTF8";
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	milter_put_args(&b, SMFIC_MAIL, t->sender, args, n);
	milter_stage_add(m->c, SMFIC_MAIL, b.data + 5, b.len - 5, SMFIP_NOMAIL, SMFIP_NR_MAIL);
	buf_free(&b);
	free(size);
	m->in_msg = true;
	m->rcpts_sent = 0;
	m->body_replaced = m->body_refused = false;
}

static void queue_rcpt(smtp_session *s, milter_slot *m, const char *rcpt)
{
	const char *macros[] = {"{rcpt_addr}", rcpt};
	add_macros(m->c, SMFIC_RCPT, SMFIM_ENVRCPT, macros, 1);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	milter_put_args(&b, SMFIC_RCPT, rcpt, NULL, 0);
	milter_stage_add(m->c, SMFIC_RCPT, b.data + 5, b.len - 5, SMFIP_NORCPT, SMFIP_NR_RCPT);
	buf_free(&b);
	m->rcpts_sent++;
}

/* The body in CR LF, in chunks of at most MILTER_CHUNK bytes. */
static void queue_body(milter_slot *m, const char *body, size_t len)
{
	buf chunk;
	buf_init(&chunk, BUF_UNBOUNDED);
	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\n')
			BUF_PUTC(&chunk, '\r');
		BUF_PUTC(&chunk, body[i]);
		if (chunk.len >= MILTER_CHUNK - 1 || i + 1 == len) {
			milter_stage_add(m->c, SMFIC_BODY, chunk.data, chunk.len, SMFIP_NOBODY, SMFIP_NR_BODY);
			buf_clear(&chunk);
		}
	}
	buf_free(&chunk);
}

static void queue_message(smtp_session *s, pol_milters *pm, milter_slot *m)
{
	const char *qid = s->txn.qid[0] ? s->txn.qid : NULL;
	const char *macros[] = {"i", qid};
	add_macros(m->c, SMFIC_DATA, SMFIM_DATA, macros, 1);
	milter_stage_add(m->c, SMFIC_DATA, NULL, 0, SMFIP_NODATA, SMFIP_NR_DATA);
	bool leadspc = milter_conn_protocol(m->c) & SMFIP_HDR_LEADSPC;
	for (size_t k = 0; k < milter_msg_count(&pm->msg); k++) {
		const milter_field *f = milter_msg_field(&pm->msg, k);
		const char *v = f->value;
		if (!leadspc)
			v += strspn(v, " \t");
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		milter_put_header(&b, f->name, v);
		milter_stage_add(m->c, SMFIC_HEADER, b.data + 5, b.len - 5, SMFIP_NOHDRS, SMFIP_NR_HDR);
		buf_free(&b);
	}
	add_macros(m->c, SMFIC_EOH, SMFIM_EOH, macros, 1);
	milter_stage_add(m->c, SMFIC_EOH, NULL, 0, SMFIP_NOEOH, SMFIP_NR_EOH);
	size_t len;
	const char *body = milter_msg_body(&pm->msg, &len);
	queue_body(m, body, len);
	add_macros(m->c, SMFIC_BODYEOB, SMFIM_EOM, macros, 1);
	milter_stage_add(m->c, SMFIC_BODYEOB, NULL, 0, 0, 0);
}

/* Everything this milter should have heard by the end of stage r->stage. */
static void queue_stage(policy_run *r, pol_milters *pm, milter_slot *m)
{
	smtp_session *s = r->s;
	if (!m->sent_connect)
		queue_connect(s, m);
	const char *tls = session_tls_version(s);
	bool tls_now = tls && tls[0];
	if (r->stage >= POLICY_HELO && s->helo != NULL &&
	    (m->sent_helo == NULL || strcmp(m->sent_helo, s->helo) != 0 || m->sent_tls != tls_now))
		queue_helo(s, m);
	if (r->stage < POLICY_MAIL)
		return;
	if (!m->in_msg)
		queue_mail(s, m);
	if (r->stage == POLICY_RCPT && r->facts.rcpt != NULL)
		queue_rcpt(s, m, r->facts.rcpt);
	if (r->stage == POLICY_DATA) {
		/* a milter connected after the recipients were given hears them now */
		bool late = m->rcpts_sent == 0;
		for (size_t i = 0; late && i < s->txn.rcpt_cmds.n; i++)
			queue_rcpt(s, m, s->txn.rcpt_cmds.items[i]);
		queue_message(s, pm, m);
	}
}

/* ---- answers ---- */

static void run_next(pol_milters *pm);

static char *by_name(const milter_slot *m)
{
	return xasprintf("milter %s", m->def->name);
}

static void decide(policy_run *r, const milter_slot *m, policy_decision d, int code, const char *status,
                   const char *text)
{
	char *by = by_name(m);
	policy_verdict_decide(&r->v, d, code, status, text, by);
	free(by);
}

/* An SMFIR_REPLYCODE reply, kept to what the stage may answer: at
 * connect 554 or 421, elsewhere the milter's own 4xx or 5xx, but not 421
 * (which promises to close the connection: 451 instead). */
static void decide_reply(policy_run *r, const milter_slot *m, const char *reply)
{
	int code;
	char *status, *text;
	milter_reply_split(reply, &code, &status, &text);
	policy_decision d = code >= 500 ? POLICY_REJECT : POLICY_TEMPFAIL;
	if (r->stage == POLICY_CONNECT)
		code = code >= 500 ? 554 : 421;
	else if (code == 421)
		code = 451;
	decide(r, m, d, code, status, text[0] ? text : NULL);
	free(status);
	free(text);
}

static void log_failure(policy_run *r, const milter_slot *m)
{
	log_event(LOG_LVL_WARN, "milter", "sid=%s qid=%s milter=%s stage=%s error=%s action=%s", r->s->sid,
	          r->s->txn.qid[0] ? r->s->txn.qid : "-", m->def->name, policy_stage_name(r->stage),
	          m->c ? milter_conn_error(m->c) : "not connected", m->def->tempfail ? "tempfail" : "accept");
}

/* Score and virus from a header field a milter added or changed. */
static void note_field(pol_milters *pm, const char *name, const char *value)
{
	double sc;
	if (milter_spam_score(name, value, &sc)) {
		pm->score = sc;
		pm->has_score = true;
	}
	char *virus = milter_virus_name(name, value);
	if (virus != NULL) {
		free(pm->virus);
		pm->virus = virus;
	}
}

/* An address a milter gives ("<a@b>", "a@b", "<>"): without the angle
 * brackets, or NULL when it is not one address (malloc'd). */
static char *milter_addr(const char *a)
{
	size_t n = strlen(a);
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a++;
		n -= 2;
	}
	if (n > 320)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] <= ' ' || a[i] == '<' || a[i] == '>' || a[i] == 127)
			return NULL;
	return xstrndup(a, n);
}

/* SMFIR_CHGFROM: the envelope sender of this message becomes addr. */
static void change_from(policy_run *r, pol_milters *pm, const milter_slot *m, const char *given)
{
	smtp_txn *t = &r->s->txn;
	char *addr = milter_addr(given);
	if (addr == NULL) {
		log_event(LOG_LVL_WARN, "milter", "sid=%s qid=%s milter=%s error=\"a new sender that is not an address; "
		          "left as it was\" sender=%s", r->s->sid, t->qid, m->def->name, given);
		return;
	}
	log_event(LOG_LVL_INFO, "milter", "sid=%s qid=%s milter=%s action=chgfrom from=%s to=%s", r->s->sid, t->qid,
	          m->def->name, t->sender, addr);
	free(t->sender);
	t->sender = addr;
	r->facts.sender = addr;
	pm->envelope_changed = true;
}

/* Take one target called addr out of the envelope; false if none is. */
static bool drop_target(qenvelope *env, const char *addr)
{
	for (size_t i = 0; i < env->n_rcpts; i++) {
		if (!str_ascii_ieq(env->rcpts[i].address, addr))
			continue;
		qrcpt gone = env->rcpts[i];
		memmove(env->rcpts + i, env->rcpts + i + 1, (env->n_rcpts - i - 1) * sizeof(*env->rcpts));
		env->rcpts[env->n_rcpts - 1] = gone;  /* freed by the truncation */
		qenvelope_truncate_rcpts(env, env->n_rcpts - 1);
		return true;
	}
	return false;
}

/* SMFIR_DELRCPT: the recipient given as RCPT addr, and the mailboxes and
 * addresses it led to (its aliases resolved again), leave the message. */
static void delete_rcpt(policy_run *r, pol_milters *pm, const milter_slot *m, const char *given)
{
	smtp_session *s = r->s;
	smtp_txn *t = &s->txn;
	char *addr = milter_addr(given);
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	accounts_status st = addr ? accounts_resolve(s->srv->acc, addr, &local, &remote) : ACC_ERROR;
	if (st == ACC_NO_DOMAIN)
		strlist_add(&remote, addr);
	size_t dropped = 0;
	for (int pass = 0; pass < 2; pass++) {
		const strlist *l = pass == 0 ? &local : &remote;
		for (size_t i = 0; i < l->n; i++)
			dropped += drop_target(&t->targets, l->items[i]);
	}
	for (size_t i = 0; addr != NULL && i < t->rcpt_cmds.n; i++)
		if (str_ascii_ieq(t->rcpt_cmds.items[i], addr)) {
			free(t->rcpt_cmds.items[i]);
			memmove(t->rcpt_cmds.items + i, t->rcpt_cmds.items + i + 1,
			        (t->rcpt_cmds.n - i - 1) * sizeof(*t->rcpt_cmds.items));
			t->rcpt_cmds.n--;
			break;
		}
	log_event(dropped ? LOG_LVL_INFO : LOG_LVL_WARN, "milter", "sid=%s qid=%s milter=%s action=delrcpt rcpt=%s "
	          "targets=%zu", s->sid, t->qid, m->def->name, given, dropped);
	pm->envelope_changed |= dropped > 0;
	if (dropped > 0)
		pm->deleted_by = m->def->name;
	strlist_free(&local);
	strlist_free(&remote);
	free(addr);
}

/* SMFIR_REPLBODY: one more piece of this milter's new body.  A new body
 * larger than the message size limit is not taken (the message keeps the
 * body it had, never half of the new one). */
static void replace_body(policy_run *r, pol_milters *pm, milter_slot *m, const milter_reply *rp)
{
	if (m->body_refused)
		return;
	if (!m->body_replaced)
		m->body_replaced = milter_msg_body_start(&pm->msg);
	if (milter_msg_body_add(&pm->msg, rp->body, rp->body_len, (size_t)r->s->srv->cfg->limits.message_size))
		return;
	m->body_refused = true;
	milter_msg_body_undo(&pm->msg);
	log_event(LOG_LVL_WARN, "milter", "sid=%s qid=%s milter=%s error=\"the new body passes the message size "
	          "limit; the message keeps its body\"", r->s->sid, r->s->txn.qid, m->def->name);
}

static void apply_mod(policy_run *r, pol_milters *pm, milter_slot *m, const milter_mod *mod)
{
	milter_reply rp;
	const char *why;
	if (!milter_reply_parse(mod->cmd, mod->data, mod->len, &rp, &why))
		return; /* checked when it arrived */
	bool leadspc = milter_conn_protocol(m->c) & SMFIP_HDR_LEADSPC;
	char *v = rp.value && rp.value[0] ? milter_msg_value(rp.value, leadspc) : xstrdup("");
	switch (mod->cmd) {
	case SMFIR_ADDHEADER: milter_msg_add(&pm->msg, rp.name, v); break;
	case SMFIR_INSHEADER: milter_msg_insert(&pm->msg, rp.index, rp.name, v); break;
	case SMFIR_CHGHEADER: milter_msg_change(&pm->msg, rp.index, rp.name, v); break;
	case SMFIR_REPLBODY: replace_body(r, pm, m, &rp); break;
	case SMFIR_ADDRCPT:
	case SMFIR_ADDRCPT_PAR: {
		char *a = milter_addr(rp.addr);
		if (a != NULL && a[0] != '\0')
			strlist_add_owned(&r->v.add_rcpts, a);
		else
			free(a);
		break;
	}
	case SMFIR_CHGFROM: change_from(r, pm, m, rp.addr); break;
	case SMFIR_DELRCPT: delete_rcpt(r, pm, m, rp.addr); break;
	case SMFIR_QUARANTINE:
		r->v.hold = true;
		log_event(LOG_LVL_INFO, "milter", "sid=%s qid=%s milter=%s action=quarantine reason=%s", r->s->sid,
		          r->s->txn.qid, m->def->name, rp.text);
		break;
	default: break;
	}
	if (mod->cmd == SMFIR_ADDHEADER || mod->cmd == SMFIR_INSHEADER || mod->cmd == SMFIR_CHGHEADER)
		note_field(pm, rp.name, v);
	free(v);
}

static void apply_mods(policy_run *r, pol_milters *pm, milter_slot *m)
{
	size_t n;
	const milter_mod *mods = milter_conn_mods(m->c, &n);
	for (size_t i = 0; i < n; i++)
		apply_mod(r, pm, m, &mods[i]);
	milter_conn_clear_mods(m->c);
}

static void on_done(void *arg, milter_result res)
{
	pol_milters *pm = arg;
	policy_run *r = pm->r;
	milter_slot *m = &pm->v[pm->cur];
	if (r == NULL)
		return;
	if (r->stage == POLICY_DATA && (res == MILTER_CONTINUE || res == MILTER_ACCEPT))
		apply_mods(r, pm, m);
	else if (m->c != NULL && res != MILTER_FAILED)
		milter_conn_clear_mods(m->c);
	if (r->stage == POLICY_DATA && res != MILTER_FAILED)
		m->in_msg = false; /* the milter has seen the end of it: no abort */
	switch (res) {
	case MILTER_CONTINUE: break;
	case MILTER_ACCEPT:
		if (r->stage <= POLICY_HELO)
			m->skip_session = true;
		else
			m->skip_msg = true;
		break;
	case MILTER_REJECT:
		decide(r, m, POLICY_REJECT, 0, NULL, r->stage == POLICY_DATA ? "Message content rejected" : NULL);
		break;
	case MILTER_TEMPFAIL: decide(r, m, POLICY_TEMPFAIL, 0, NULL, NULL); break;
	case MILTER_REPLYCODE: decide_reply(r, m, milter_conn_reply(m->c)); break;
	case MILTER_DISCARD: decide(r, m, POLICY_DISCARD, 0, NULL, NULL); break;
	case MILTER_FAILED:
		log_failure(r, m);
		/* fail-open: the message goes on without it; fail-closed: every
		 * later stage of the message is refused too (a recipient given
		 * before the failure must not let the message in unscanned) */
		if (m->def->tempfail)
			decide(r, m, POLICY_TEMPFAIL, 451, "4.7.1", "Content filter unavailable, try again later");
		else
			m->skip_msg = true;
		break;
	}
	pm->cur++;
	if (r->v.decision != POLICY_CONTINUE) {
		pm->r = NULL;
		policy_step_next(r);
		return;
	}
	run_next(pm);
}

/* ---- the end of data ---- */

static void spool_edit_cb(void *arg, size_t start, size_t end, const char *text, size_t len)
{
	spool_replace(arg, start, end, text, len);
}

static void finish_message(policy_run *r, pol_milters *pm)
{
	smtp_session *s = r->s;
	if (milter_msg_changed(&pm->msg))
		milter_msg_edits(&pm->msg, spool_edit_cb, s->txn.sp);
	if (pm->envelope_changed) {
		qenvelope env;
		txn_envelope(s, s->txn.qid, s->txn.time, &env);
		spool_set_envelope(s->txn.sp, &env);
		qenvelope_free_rcpts(&env);
		if (s->txn.targets.n_rcpts == 0 && r->v.add_rcpts.n == 0 && pm->deleted_by != NULL) {
			/* every recipient taken away: nobody to deliver to */
			char *by = xasprintf("milter %s", pm->deleted_by);
			policy_verdict_decide(&r->v, POLICY_DISCARD, 0, NULL, "every recipient was removed by a milter", by);
			free(by);
		}
	}
	r->facts.has_spam_score = pm->has_score;
	r->facts.spam_score = pm->score;
	r->facts.virus = pm->virus;
}

/* Forget the slot's connection (it failed or was cut): the next stage
 * opens a new one and tells it again what it missed. */
static void slot_disconnect(milter_slot *m)
{
	milter_conn_free(&m->c);
	m->sent_connect = false;
	free(m->sent_helo);
	m->sent_helo = NULL;
	m->in_msg = false;
}

static void run_next(pol_milters *pm)
{
	policy_run *r = pm->r;
	while (pm->cur < pm->n) {
		milter_slot *m = &pm->v[pm->cur];
		if (m->skip_session || m->skip_msg) {
			pm->cur++;
			continue;
		}
		if (m->c != NULL && milter_conn_error(m->c) != NULL && !m->in_msg)
			slot_disconnect(m); /* it went away between messages (an idle close) */
		if (m->c == NULL)
			m->c = milter_conn_open(r->s->srv->base, m->def, r->s->sid);
		queue_stage(r, pm, m);
		milter_stage_run(m->c, on_done, pm);
		return;
	}
	if (r->stage == POLICY_DATA)
		finish_message(r, pm);
	pm->r = NULL;
	policy_step_next(r);
}

static void cancel(policy_run *r)
{
	pol_milters *pm = r->wait;
	milter_slot *m = &pm->v[pm->cur];
	pm->r = NULL;
	/* a conversation cut in the middle cannot go on: a new connection
	 * for the next message */
	slot_disconnect(m);
}

void pol_milter_step(policy_run *r)
{
	smtp_session *s = r->s;
	if (!pol_milter_want_message(s)) {
		policy_step_next(r);
		return;
	}
	pol_milters *pm = session_milters(s);
	if (r->stage == POLICY_DATA) {
		milter_msg_free(&pm->msg);
		milter_msg_parse(&pm->msg, r->msg ? r->msg : "", r->msg ? r->msg_len : 0);
		pm->have_msg = true;
	}
	pm->r = r;
	pm->cur = 0;
	r->cancel = cancel;
	r->wait = pm;
	run_next(pm);
}

/* ---- the session's life ---- */

void pol_milter_txn_reset(smtp_session *s)
{
	pol_milters *pm = s->pol.milters;
	if (pm == NULL)
		return;
	for (size_t i = 0; i < pm->n; i++) {
		milter_slot *m = &pm->v[i];
		if (m->c != NULL && milter_conn_error(m->c) != NULL)
			slot_disconnect(m); /* failed: a new connection for the next message */
		if (m->c != NULL && m->in_msg) {
			milter_stage_add(m->c, SMFIC_ABORT, NULL, 0, 0, 0);
			m->in_msg = false;
		}
		m->skip_msg = false;
	}
	if (pm->have_msg)
		milter_msg_free(&pm->msg);
	pm->have_msg = false;
	pm->has_score = false;
	pm->envelope_changed = false;
	pm->deleted_by = NULL;
	free(pm->virus);
	pm->virus = NULL;
}

void pol_milter_session_end(smtp_session *s)
{
	pol_milters *pm = s->pol.milters;
	if (pm == NULL)
		return;
	for (size_t i = 0; i < pm->n; i++) {
		milter_conn_free(&pm->v[i].c);
		free(pm->v[i].sent_helo);
	}
	milter_msg_free(&pm->msg);
	free(pm->virus);
	free(pm->v);
	free(pm);
	s->pol.milters = NULL;
}
