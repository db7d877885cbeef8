/* commands.c — the SMTP verbs (RFC 5321, 3207 STARTTLS, 4954 AUTH), one
 * handler each, dispatched from a table.  Each handler checks its
 * preconditions and answers with a reply id from reply.c; DATA and BDAT are
 * in data.c. */
#include "smtp/session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/login.h"
#include "auth/sasl.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "smtp/addrrewrite.h"
#include "smtp/msgcheck.h"
#include "smtp/parse.h"
#include "smtp/pol_steps.h"
#include "smtp/auditrec.h"
#include "smtp/policy.h"
#include "smtp/rcptquota.h"

typedef struct smtp_command {
	const char *verb;
	void (*handle)(smtp_session *s, const char *args);
	bool junk;      /* counts toward commands_before_mail */
} smtp_command;

static bool is_submission(const smtp_session *s)
{
	return s->lst->role != ROLE_SMTP;
}

void session_greet(smtp_session *s)
{
	char *text = xasprintf("%s ESMTP yubin", s->srv->cfg->hostname);
	session_reply_text(s, 220, NULL, text);
	free(text);
	session_flush(s);
}

/* A refusal of the policy layer, with its reply (policy/policy.c gives
 * the defaults of the stage). */
bool session_policy_refused(smtp_session *s, policy_stage st, const policy_verdict *v)
{
	if (v->decision != POLICY_REJECT && v->decision != POLICY_TEMPFAIL)
		return false;
	int code;
	const char *status, *text;
	policy_verdict_reply(v, st, &code, &status, &text);
	session_reply_text(s, code, status, text);
	return true;
}

static void connect_done(smtp_session *s, const policy_verdict *v)
{
	if (v->decision == POLICY_REJECT || v->decision == POLICY_TEMPFAIL) {
		/* RFC 5321 3.1 / 4.2.4: 554 (or 421) as the greeting, then close */
		policy_verdict refused = *v;
		if (v->decision == POLICY_TEMPFAIL)
			refused.code = 421;
		session_policy_refused(s, POLICY_CONNECT, &refused);
		conn_close_after(s->c);
		return;
	}
	if (!pol_greet_later(s))
		session_greet(s);
}

void session_open(smtp_session *s)
{
	smtp_policy_run(s, POLICY_CONNECT, NULL, connect_done);
}

void txn_reset(smtp_session *s)
{
	smtp_txn *t = &s->txn;
	free(t->sender);
	t->sender = NULL;
	free(t->sender_rw);
	t->sender_rw = NULL;
	t->smtputf8 = t->requiretls = t->body_8bit = t->too_big = t->failed = t->bdat = false;
	t->spool_error = 0;
	t->size = 0;
	t->ret = DSN_RET_UNSET;
	free(t->envid);
	t->envid = NULL;
	smtp_policy_cancel(s);
	pol_milter_txn_reset(s);
	s->pol.txn_accepted = s->pol.txn_discard = false;
	policy_verdict_free(&s->pol.txn_actions);
	s->pol.spf = s->pol.dkim = s->pol.dmarc = NULL;
	free(s->pol.pending_rcpt);
	s->pol.pending_rcpt = NULL;
	strlist_free(&t->rcpt_cmds);
	qenvelope_free_rcpts(&t->targets);
	msgcheck_cancel(s);
	spool_abort(&t->sp);
	smtp_audit_txn_end(s);
	t->qid[0] = '\0';
}

/* RFC 8689 2: REQUIRETLS is offered, and taken, only where the session
 * itself is encrypted: after STARTTLS, on implicit TLS, or the HTTPS API's
 * in-process session (its client came over HTTPS). */
static bool requiretls_session(const smtp_session *s)
{
	return conn_is_tls(s->c) || s->api != NULL;
}

static void ehlo_reply(smtp_session *s)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PRINTF(&b, "%s Hello %s [%s]\n", s->srv->cfg->hostname, s->helo, s->ip);
	BUF_PUTS(&b, "PIPELINING\n");
	BUF_PRINTF(&b, "SIZE %lld\n", (long long)s->srv->cfg->limits.message_size);
	BUF_PUTS(&b, "8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8\nCHUNKING\nDSN\n");
	if (!conn_is_tls(s->c))
		BUF_PUTS(&b, "STARTTLS\n");
	if (is_submission(s) && conn_is_tls(s->c) && s->auth_user == NULL)
		BUF_PUTS(&b, "AUTH PLAIN LOGIN\n");
	if (requiretls_session(s))
		BUF_PUTS(&b, "REQUIRETLS\n");
	BUF_PUTS(&b, "HELP");
	session_reply_text(s, 250, NULL, buf_str(&b));
	buf_free(&b);
}

/* A HELO/EHLO argument: one printable word (a domain or address literal). */
static bool valid_helo(const char *a)
{
	if (*a == '\0' || strlen(a) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static void helo_done(smtp_session *s, const policy_verdict *v)
{
	if (session_policy_refused(s, POLICY_HELO, v)) {
		free(s->helo); /* refused: as if none was given */
		s->helo = NULL;
	} else if (s->esmtp) {
		ehlo_reply(s);
	} else {
		char *t = xasprintf("%s", s->srv->cfg->hostname);
		session_reply_text(s, 250, NULL, t);
		free(t);
	}
}

static void do_helo(smtp_session *s, const char *args, bool esmtp)
{
	if (!valid_helo(args)) {
		session_reply(s, RPL_SYNTAX);
		return;
	}
	txn_reset(s);
	free(s->helo);
	s->helo = xstrdup(args);
	s->esmtp = esmtp;
	smtp_policy_run(s, POLICY_HELO, NULL, helo_done);
}

static void cmd_ehlo(smtp_session *s, const char *args)
{
	do_helo(s, args, true);
}

static void cmd_helo(smtp_session *s, const char *args)
{
	do_helo(s, args, false);
}

static void cmd_noop(smtp_session *s, const char *args)
{
	session_reply(s, RPL_OK);
}

static void cmd_rset(smtp_session *s, const char *args)
{
	txn_reset(s);
	session_reply(s, RPL_RESET);
}

static void cmd_vrfy(smtp_session *s, const char *args)
{
	session_reply(s, *args ? RPL_VRFY : RPL_SYNTAX);
}

static void cmd_help(smtp_session *s, const char *args)
{
	session_reply(s, RPL_HELP);
}

static void cmd_quit(smtp_session *s, const char *args)
{
	session_close_with(s, RPL_BYE);
}

static void cmd_starttls(smtp_session *s, const char *args)
{
	if (*args) {
		session_reply(s, RPL_SYNTAX);
		return;
	}
	if (conn_is_tls(s->c)) {
		session_reply(s, RPL_TLS_ALREADY);
		return;
	}
	session_reply(s, RPL_TLS_GO);
	/* RFC 3207 4.2: forget everything learnt before the handshake */
	txn_reset(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	session_start_tls(s);
}

/* Common gate for MAIL on submission ports: TLS, then AUTH. */
static bool submission_gate(smtp_session *s)
{
	if (!is_submission(s))
		return true;
	if (!conn_is_tls(s->c) && s->api == NULL) { /* the API's came over HTTPS */
		session_reply(s, RPL_NEED_TLS);
		return false;
	}
	if (s->auth_user == NULL) {
		session_reply(s, RPL_NEED_AUTH);
		return false;
	}
	return true;
}

static smtp_reply_id parse_error_reply(smtp_parse_status st, bool sender)
{
	switch (st) {
	case SP_BAD_ADDRESS: return sender ? RPL_SENDER_SYNTAX : RPL_RCPT_SYNTAX;
	case SP_UNKNOWN_PARAM: return RPL_PARAM_UNKNOWN;
	case SP_BAD_PARAM: return RPL_PARAM_SYNTAX;
	case SP_NEEDS_UTF8: return RPL_NEEDS_UTF8;
	case SP_BAD_RET: return RPL_DSN_RET;
	case SP_BAD_ENVID: return RPL_DSN_ENVID;
	case SP_BAD_NOTIFY: return RPL_DSN_NOTIFY;
	case SP_BAD_ORCPT: return RPL_DSN_ORCPT;
	case SP_REPEATED_PARAM: return RPL_PARAM_REPEATED;
	default: return RPL_SYNTAX;
	}
}

/* The queue's disk has room for the message (size as declared, or 0)
 * above the reserve; otherwise 452 4.3.1 now, before any body is sent.
 * While the audit trail is backlogged (audit/audit.h), 451 4.3.0. */
static bool room_for(smtp_session *s, uint64_t size, const char *address)
{
	if (audit_backlogged()) {
		/* the trail cannot store what it has: no new message adds to it */
		log_event(LOG_LVL_WARN, "refuse", "sid=%s address=%s reason=%s", s->sid, address,
		          "the audit trail is behind");
		session_reply(s, RPL_LOCAL_ERROR);
		return false;
	}
	if (queue_has_room(s->srv->q, size))
		return true;
	log_event(LOG_LVL_WARN, "refuse", "sid=%s address=%s size=%llu reason=%s", s->sid, address,
	          (unsigned long long)size, "queue file system below its free-space reserve");
	session_reply(s, RPL_NO_STORAGE);
	return false;
}

static void mail_done(smtp_session *s, const policy_verdict *v)
{
	if (session_policy_refused(s, POLICY_MAIL, v))
		txn_reset(s);
	else
		session_reply(s, RPL_SENDER_OK);
}

static void cmd_mail(smtp_session *s, const char *args)
{
	if (s->api != NULL)
		s->errors = 0; /* the API's kept session: each message is a new request */
	if (s->helo == NULL) {
		session_reply(s, RPL_NEED_HELO);
		return;
	}
	if (s->txn.sender != NULL) {
		session_reply(s, RPL_NESTED_MAIL);
		return;
	}
	if (!submission_gate(s))
		return;
	smtp_path p;
	smtp_parse_status st = smtp_parse_mail(args, &p);
	if (st != SP_OK) {
		session_reply(s, parse_error_reply(st, true));
		smtp_path_free(&p);
		return;
	}
	if (p.requiretls && !requiretls_session(s)) {
		session_reply(s, RPL_REQUIRETLS_CLEAR);
		smtp_path_free(&p);
		return;
	}
	if (p.has_size && p.size > (uint64_t)s->srv->cfg->limits.message_size) {
		session_reply(s, RPL_SIZE_DECLARED);
		smtp_path_free(&p);
		return;
	}
	if (!room_for(s, p.has_size ? p.size : 0, p.address)) {
		smtp_path_free(&p);
		return;
	}
	accounts_status owned = s->auth_user != NULL ? smtp_may_send_as(s, p.address) : ACC_OK;
	if (owned != ACC_OK) {
		/* a database error is temporary: never a 5xx for it */
		log_event(LOG_LVL_INFO, "mail_refused", "sid=%s user=%s from=%s reason=%s", s->sid,
		          s->auth_user, p.address, owned == ACC_ERROR ? "account database error" : "sender not owned");
		session_reply(s, owned == ACC_ERROR ? RPL_LOCAL_ERROR : RPL_SENDER_NOT_OWNED);
		smtp_path_free(&p);
		return;
	}
	s->txn.sender = p.address;
	/* queued as rewritten; the checks and the policy see the client's */
	s->txn.sender_rw = smtp_rewrite_envelope(s, RW_ENV_SENDER, p.address);
	s->txn.size = p.has_size ? p.size : 0;
	s->txn.ret = p.ret;
	s->txn.envid = p.envid;
	p.envid = NULL;
	s->txn.smtputf8 = p.smtputf8;
	s->txn.requiretls = p.requiretls;
	s->txn.body_8bit = p.body == BODY_8BITMIME;
	s->junk_commands = 0;
	smtp_policy_run(s, POLICY_MAIL, NULL, mail_done);
}

/* "<Postmaster>" with no domain (RFC 5321 4.5.1): the postmaster of the
 * first local domain that has one. */
static accounts_status resolve_bare_postmaster(smtp_session *s, strlist *local, strlist *remote)
{
	strlist domains;
	strlist_init(&domains);
	accounts_status st = accounts_domain_list(s->srv->acc, &domains);
	if (st == ACC_OK)
		st = ACC_NOT_FOUND;
	for (size_t i = 0; i < domains.n && st == ACC_NOT_FOUND; i++) {
		char *a = xasprintf("postmaster@%s", domains.items[i]);
		st = accounts_resolve(s->srv->acc, a, local, remote);
		free(a);
	}
	strlist_free(&domains);
	return st;
}

/* Add the targets of one RCPT (kind 'L' or 'R') to the transaction, once
 * each.  They keep the RCPT's NOTIFY and ORCPT; a target that is not the
 * address the client gave (an alias, a +tag, another case) gets that
 * address as its ORCPT when the client sent none (RFC 3461 4.2), so that
 * reports name the address the sender knows. */
static void add_targets(smtp_txn *t, const strlist *to, char kind, const smtp_path *p)
{
	for (size_t i = 0; i < to->n; i++) {
		bool dup = false;
		for (size_t k = 0; k < t->targets.n_rcpts && !dup; k++)
			dup = t->targets.rcpts[k].kind == kind &&
			      strcmp(t->targets.rcpts[k].address, to->items[i]) == 0;
		if (dup)
			continue; /* the first RCPT's NOTIFY and ORCPT stay */
		qrcpt *r = qenvelope_add_rcpt(&t->targets, to->items[i], kind);
		r->notify = p->notify;
		if (p->orcpt != NULL)
			r->orcpt = xstrdup(p->orcpt);
		else if (strcmp(to->items[i], p->address) != 0)
			r->orcpt = xasprintf("%s;%s", p->non_ascii ? "utf-8" : "rfc822", p->address);
	}
}

/* Where RCPT's address goes: local mailboxes and remote targets added to
 * the transaction, or the refusal. */
static smtp_reply_id route_rcpt(smtp_session *s, const smtp_path *p)
{
	/* the canonical map first, then a bounce to one of our SRS addresses
	 * goes back to the address it stands for (the ORCPT stays the
	 * client's address) */
	char *rewritten = smtp_rewrite_envelope(s, RW_ENV_RCPT, p->address), *srs_orig;
	const char *addr = rewritten ? rewritten : p->address;
	smtp_reply_id r = smtp_srs_reverse(s, addr, &srs_orig);
	if (r != RPL_COUNT && r != RPL_RCPT_OK) {
		free(rewritten);
		return r;
	}
	addr = srs_orig ? srs_orig : addr;
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	accounts_status st = strchr(addr, '@') == NULL
		? resolve_bare_postmaster(s, &local, &remote)
		: accounts_resolve(s->srv->acc, addr, &local, &remote);
	r = RPL_RCPT_OK;
	switch (st) {
	case ACC_OK:
		break;
	case ACC_NO_DOMAIN:
		if (s->auth_user != NULL || srs_orig != NULL)
			strlist_add(&remote, addr); /* authenticated submission may relay; so may a verified SRS bounce */
		else
			r = RPL_RELAY_DENIED;
		break;
	case ACC_NOT_FOUND: r = RPL_NO_USER; break;
	case ACC_LOOP: r = RPL_ALIAS_LOOP; break;
	case ACC_INVALID: r = RPL_RCPT_SYNTAX; break;
	default: r = RPL_LOCAL_ERROR; break;
	}
	if (r == RPL_RCPT_OK) {
		add_targets(&s->txn, &local, 'L', p);
		add_targets(&s->txn, &remote, 'R', p);
	}
	strlist_free(&local);
	strlist_free(&remote);
	free(rewritten);
	free(srs_orig);
	return r;
}

static void rcpt_done(smtp_session *s, const policy_verdict *v)
{
	char *addr = s->pol.pending_rcpt;
	s->pol.pending_rcpt = NULL;
	int code;
	if (session_policy_refused(s, POLICY_RCPT, v)) {
		qenvelope_truncate_rcpts(&s->txn.targets, s->pol.pending_targets);
		code = v->code ? v->code : v->decision == POLICY_TEMPFAIL ? 451 : 550;
	} else {
		strlist_add(&s->txn.rcpt_cmds, addr);
		session_reply(s, RPL_RCPT_OK);
		code = 250;
	}
	log_event(LOG_LVL_INFO, "rcpt", "sid=%s from=%s to=%s result=%d", s->sid, s->txn.sender, addr, code);
	free(addr);
}

/* The targets are in (from index first on); the policy may still take
 * them out again. */
static void rcpt_policy(smtp_session *s, size_t first, const char *address)
{
	s->pol.pending_rcpt = xstrdup(address);
	s->pol.pending_targets = first;
	smtp_policy_run(s, POLICY_RCPT, s->pol.pending_rcpt, rcpt_done);
}

static void cmd_rcpt(smtp_session *s, const char *args)
{
	if (s->txn.sender == NULL) {
		session_reply(s, RPL_NEED_MAIL);
		return;
	}
	if (s->txn.rcpt_cmds.n >= (size_t)s->srv->cfg->limits.recipients) {
		session_reply(s, RPL_TOO_MANY_RCPTS);
		return;
	}
	smtp_path p;
	smtp_parse_status st = smtp_parse_rcpt(args, s->txn.smtputf8, &p);
	if (st != SP_OK) {
		session_reply(s, parse_error_reply(st, false));
		smtp_path_free(&p);
		return;
	}
	if (!room_for(s, s->txn.size, p.address)) {
		smtp_path_free(&p);
		return;
	}
	size_t before = s->txn.targets.n_rcpts;
	smtp_reply_id r = route_rcpt(s, &p);
	if (r != RPL_RCPT_OK) {
		log_event(LOG_LVL_INFO, "rcpt", "sid=%s from=%s to=%s result=%d", s->sid, s->txn.sender, p.address,
		          reply_get(r)->code);
		session_reply(s, r);
		smtp_path_free(&p);
		return;
	}
	smtp_rcpt_quota(s, before, p.address, rcpt_policy);
	smtp_path_free(&p);
}

/* ---- AUTH ---- */

static void auth_done(void *arg, login_result r, const char *user, const char *app)
{
	smtp_session *s = arg;
	if (!conn_is_closing(s->c) && r == LOGIN_OK) {
		s->auth_user = xstrdup(user);
		s->auth_app = app != NULL ? xstrdup(app) : NULL;
		conn_set_deadline(s->c, 0);
		session_reply(s, RPL_AUTH_OK);
	} else if (!conn_is_closing(s->c)) {
		metrics_auth_failed(METRICS_SMTP);
		session_reply(s, r == LOGIN_LOCKED ? RPL_AUTH_LOCKED : RPL_AUTH_FAILED);
	}
	session_resume(s);
}

/* Check user/password off the loop; takes ownership of both. */
static void auth_check(smtp_session *s, char *user, char *password)
{
	s->phase = PH_COMMAND;
	s->auth = AUTH_NONE;
	session_pause(s); /* until the answer, after any delay */
	login_req req = {.protocol = "smtp", .sid = s->sid, .ip = s->ip};
	login_check(&s->srv->login, &req, user, password, auth_done, s);
}

/* Leave the SASL exchange without a login, answering with id. */
static void auth_abort(smtp_session *s, smtp_reply_id id)
{
	s->phase = PH_COMMAND;
	s->auth = AUTH_NONE;
	str_secure_free(s->auth_login_user);
	s->auth_login_user = NULL;
	session_reply(s, id);
}

static void auth_plain(smtp_session *s, const char *b64)
{
	char *user, *pass;
	sasl_status st = sasl_plain_parse(b64, &user, &pass);
	if (st != SASL_OK) {
		auth_abort(s, st == SASL_BAD_BASE64 ? RPL_AUTH_BAD_B64 : RPL_AUTH_FAILED);
		return;
	}
	auth_check(s, user, pass);
}

static void cmd_auth(smtp_session *s, const char *args)
{
	if (!is_submission(s)) {
		session_reply(s, RPL_AUTH_NOT_OFFERED);
		return;
	}
	if (!conn_is_tls(s->c)) {
		session_reply(s, RPL_NEED_TLS);
		return;
	}
	if (s->helo == NULL) {
		session_reply(s, RPL_NEED_HELO);
		return;
	}
	if (s->auth_user != NULL) {
		session_reply(s, RPL_AUTH_ALREADY);
		return;
	}
	if (s->txn.sender != NULL) {
		session_reply(s, RPL_BAD_SEQUENCE);
		return;
	}
	char mech[32];
	const char *initial = smtp_split_verb(args, mech, sizeof mech);
	if (initial == NULL) {
		session_reply(s, RPL_SYNTAX);
		return;
	}
	if (strcmp(mech, "PLAIN") == 0) {
		if (*initial && strcmp(initial, "=") != 0) {
			auth_plain(s, initial);
			return;
		}
		s->phase = PH_AUTH;
		s->auth = AUTH_PLAIN_WAIT;
		session_reply_text(s, 334, NULL, "");
	} else if (strcmp(mech, "LOGIN") == 0) {
		s->phase = PH_AUTH;
		if (*initial) {
			char *user;
			if (sasl_login_field(initial, &user) != SASL_OK) {
				auth_abort(s, RPL_AUTH_BAD_B64);
				return;
			}
			s->auth_login_user = user;
			s->auth = AUTH_LOGIN_PASS;
			session_reply_text(s, 334, NULL, "UGFzc3dvcmQ6"); /* "Password:" */
		} else {
			s->auth = AUTH_LOGIN_USER;
			session_reply_text(s, 334, NULL, "VXNlcm5hbWU6"); /* "Username:" */
		}
	} else {
		session_reply(s, RPL_AUTH_MECH);
	}
}

void cmd_auth_response(smtp_session *s, char *line)
{
	if (strcmp(line, "*") == 0) {
		auth_abort(s, RPL_AUTH_CANCELLED);
		return;
	}
	if (s->auth == AUTH_PLAIN_WAIT) {
		auth_plain(s, line);
		return;
	}
	char *field;
	if (sasl_login_field(line, &field) != SASL_OK) {
		auth_abort(s, RPL_AUTH_BAD_B64);
		return;
	}
	if (s->auth == AUTH_LOGIN_USER) {
		s->auth_login_user = field;
		s->auth = AUTH_LOGIN_PASS;
		session_reply_text(s, 334, NULL, "UGFzc3dvcmQ6");
		return;
	}
	char *user = s->auth_login_user;
	s->auth_login_user = NULL;
	auth_check(s, user, field);
}

/* ---- dispatch ---- */

static void cmd_data(smtp_session *s, const char *args)
{
	if (*args) {
		session_reply(s, RPL_SYNTAX);
		return;
	}
	data_start(s);
}

static void cmd_bdat(smtp_session *s, const char *args)
{
	bdat_command(s, args);
}

static const smtp_command commands[] = {
	{"EHLO", cmd_ehlo, true},
	{"HELO", cmd_helo, true},
	{"MAIL", cmd_mail, false},
	{"RCPT", cmd_rcpt, false},
	{"DATA", cmd_data, false},
	{"BDAT", cmd_bdat, false},
	{"RSET", cmd_rset, true},
	{"NOOP", cmd_noop, true},
	{"QUIT", cmd_quit, false},
	{"VRFY", cmd_vrfy, true},
	{"HELP", cmd_help, true},
	{"STARTTLS", cmd_starttls, false},
	{"AUTH", cmd_auth, false},
};

void cmd_dispatch(smtp_session *s, char *line)
{
	char verb[16];
	const char *args = smtp_split_verb(line, verb, sizeof verb);
	if (args == NULL) {
		session_reply(s, RPL_UNKNOWN_CMD);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(verb, commands[i].verb) != 0)
			continue;
		if (commands[i].junk &&
		    ++s->junk_commands > s->srv->cfg->limits.commands_before_mail) {
			session_close_with(s, RPL_TOO_MANY_COMMANDS);
			return;
		}
		commands[i].handle(s, args);
		return;
	}
	session_reply(s, RPL_UNKNOWN_CMD);
}
