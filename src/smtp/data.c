/* data.c — the message body: DATA (dot-terminated) and BDAT (RFC 3030
 * chunks), streamed through dotstream into the spool, then committed.  The
 * 250 is sent only from commit_done, after the queue says the message is
 * durable. */
#include "smtp/session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "metrics/metrics.h"
#include "queue/qid.h"
#include "smtp/auditrec.h"
#include "smtp/msgauth.h"
#include "smtp/parse.h"
#include "smtp/policy.h"

/* The reply for a spool that could not be made or committed: a full disk
 * (or quota) is 452 4.3.1, anything else 451 4.3.0; both temporary. */
static smtp_reply_id spool_error_reply(int error)
{
	return error == ENOSPC || error == EDQUOT ? RPL_NO_STORAGE : RPL_LOCAL_ERROR;
}

void txn_envelope(smtp_session *s, const char *id, time_t now, qenvelope *env_r)
{
	smtp_txn *t = &s->txn;
	qenvelope env = {0};
	env.id = (char *)id;
	env.time = now;
	env.sender = t->sender_rw ? t->sender_rw : t->sender;
	env.client = s->ip;
	env.helo = s->helo;
	env.auth_user = s->auth_user;
	env.utf8 = t->smtputf8;
	env.requiretls = t->requiretls;
	env.ret = t->ret;
	env.envid = t->envid;
	/* local mailboxes first, then remote addresses */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < t->targets.n_rcpts; i++) {
			const qrcpt *from = &t->targets.rcpts[i];
			if (from->kind != (pass == 0 ? 'L' : 'R'))
				continue;
			qrcpt *r = qenvelope_add_rcpt(&env, from->address, from->kind);
			r->notify = from->notify;
			r->orcpt = from->orcpt ? xstrdup(from->orcpt) : NULL;
		}
	}
	*env_r = env;
}

/* Open the spool for the transaction: queue id, envelope, Received. */
static bool begin_spool(smtp_session *s)
{
	smtp_txn *t = &s->txn;
	char id[QID_LEN + 1];
	qid_new(id);
	time_t now = time(NULL);
	t->time = now;
	qenvelope env;
	txn_envelope(s, id, now, &env);
	t->sp = spool_begin(s->srv->q, &env);
	qenvelope_free_rcpts(&env);
	hdrscan_init(&t->authres, "authentication-results");
	if (t->sp == NULL) {
		t->spool_error = errno ? errno : EIO;
		log_event(LOG_LVL_ERROR, "spool", "sid=%s error=%s", s->sid, strerror(t->spool_error));
		return false;
	}
	memcpy(t->qid, id, sizeof id);
	char *rcv = received_header(s, id, now);
	t->trace_len = strlen(rcv);
	spool_write(t->sp, rcv, t->trace_len);
	free(rcv);
	log_event(LOG_LVL_INFO, "queue_begin", "sid=%s qid=%s client=%s from=%s rcpts=%zu user=%s tls=%s",
	          s->sid, id, s->ip, t->sender, t->rcpt_cmds.n, s->auth_user,
	          conn_is_tls(s->c) ? session_tls_version(s) : "no");
	return true;
}

static bool txn_ready(smtp_session *s)
{
	if (s->txn.sender == NULL) {
		session_reply(s, RPL_NEED_MAIL);
		return false;
	}
	if (s->txn.rcpt_cmds.n == 0) {
		session_reply(s, RPL_NEED_RCPT);
		return false;
	}
	return true;
}

void data_start(smtp_session *s)
{
	if (s->txn.bdat) {
		session_reply(s, RPL_BDAT_AFTER_DATA);
		return;
	}
	if (!txn_ready(s))
		return;
	if (!begin_spool(s)) {
		session_reply(s, spool_error_reply(s->txn.spool_error));
		return;
	}
	dotstream_init(&s->txn.ds);
	s->phase = PH_DATA;
	session_reply(s, RPL_DATA_GO);
}

static void commit_done(void *arg, int error)
{
	smtp_session *s = arg;
	smtp_txn *t = &s->txn;
	bool ok = error == 0;
	t->sp = NULL; /* consumed by the queue */
	if (ok) /* the API's internal session submits for the https listener */
		metrics_received(s->api != NULL ? ROLE_HTTPS : s->lst->role);
	log_event(LOG_LVL_INFO, "queue_accept", "sid=%s qid=%s result=%s", s->sid, t->qid,
	          ok ? "queued" : "failed");
	if (!conn_is_closing(s->c)) {
		if (ok)
			smtp_audit_received(s);
		if (ok) {
			char *text = xasprintf("Ok: queued as %s", t->qid);
			session_reply_text(s, 250, "2.0.0", text);
			free(text);
			s->junk_commands = 0;
		} else {
			session_reply(s, spool_error_reply(error));
		}
	}
	txn_reset(s);
	session_resume(s);
}

/* Throw the message away; the reply says what the client must hear. */
static void drop_message(smtp_session *s)
{
	txn_reset(s);
	session_resume(s);
}

/* The policy's end-of-data stage is over: commit (its message actions are
 * on the spool already), or refuse, or discard. */
static void after_policy(smtp_session *s, const policy_verdict *v)
{
	smtp_txn *t = &s->txn;
	if (session_policy_refused(s, POLICY_DATA, v)) {
		log_event(LOG_LVL_INFO, "queue_refuse", "sid=%s qid=%s reason=policy", s->sid, t->qid);
		drop_message(s);
		return;
	}
	if (s->pol.discard || s->pol.txn_discard) {
		/* as Postfix's DISCARD: the client hears 250, nothing is delivered */
		log_event(LOG_LVL_INFO, "queue_discard", "sid=%s qid=%s from=%s rcpts=%zu", s->sid, t->qid, t->sender,
		          t->rcpt_cmds.n);
		char *text = xasprintf("Ok: queued as %s", t->qid);
		session_reply_text(s, 250, "2.0.0", text);
		free(text);
		drop_message(s);
		return;
	}
	if (!smtp_journal_add(s)) {
		log_event(LOG_LVL_ERROR, "queue_refuse", "sid=%s qid=%s reason=\"journal address not resolved\"", s->sid,
		          t->qid);
		session_reply(s, RPL_LOCAL_ERROR);
		drop_message(s);
		return;
	}
	spool *sp = t->sp;
	t->sp = NULL;
	spool_commit(sp, commit_done, s);
}

/* Signed or checked (msgauth.c): the policy, then commit; or refuse. */
static void after_msgauth(smtp_session *s, smtp_reply_id refuse)
{
	smtp_txn *t = &s->txn;
	spool *sp = t->sp;
	/* the spool could not take the message (a full disk, say): the commit
	 * fails with that error, cleans up and answers it, whatever reading the
	 * message back for the checks made of it */
	if (spool_error(sp) != 0) {
		t->sp = NULL;
		spool_commit(sp, commit_done, s);
		return;
	}
	if (refuse == RPL_COUNT) {
		smtp_policy_run(s, POLICY_DATA, NULL, after_policy);
		return;
	}
	t->sp = NULL;
	spool_abort(&sp);
	log_event(LOG_LVL_INFO, "queue_refuse", "sid=%s qid=%s reason=%s", s->sid, t->qid,
	          reply_get(refuse)->text);
	if (!conn_is_closing(s->c))
		session_reply(s, refuse);
	txn_reset(s);
	session_resume(s);
}

/* The message is complete: refuse it, or commit it and wait. */
static void finish_message(smtp_session *s)
{
	smtp_txn *t = &s->txn;
	s->phase = PH_COMMAND;
	smtp_reply_id refuse = RPL_COUNT;
	if (t->ds.bare_eol)
		refuse = RPL_BARE_EOL_DATA;
	else if (t->too_big)
		refuse = RPL_SIZE_EXCEEDED;
	if (refuse != RPL_COUNT) {
		log_event(LOG_LVL_INFO, "queue_refuse", "sid=%s qid=%s reason=%s", s->sid, t->qid,
		          refuse == RPL_BARE_EOL_DATA ? "bare CR or LF" : "too big");
		session_reply(s, refuse);
		txn_reset(s);
		return;
	}
	session_pause(s);
	msgauth_before_commit(s, after_msgauth);
}

/* Pass n decoded bytes to the spool unless the message is already too big. */
static void store(smtp_session *s, const char *data, size_t n, uint64_t wire_total)
{
	smtp_txn *t = &s->txn;
	if (wire_total > (uint64_t)s->srv->cfg->limits.message_size)
		t->too_big = true;
	if (!t->too_big && !t->ds.bare_eol && t->sp != NULL) {
		hdrscan_feed(&t->authres, data, n);
		smtp_audit_header(s, data, n);
		spool_write(t->sp, data, n);
	}
}

static bool consume_data(smtp_session *s, struct evbuffer *in)
{
	smtp_txn *t = &s->txn;
	struct evbuffer_iovec v;
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return false;
	char *out = xmalloc(v.iov_len + 2);
	size_t out_len;
	bool end;
	size_t used = dotstream_feed(&t->ds, v.iov_base, v.iov_len, out, &out_len, &end);
	store(s, out, out_len, t->ds.wire_bytes);
	free(out);
	evbuffer_drain(in, used);
	if (end)
		finish_message(s);
	return true;
}

static bool consume_bdat(smtp_session *s, struct evbuffer *in)
{
	smtp_txn *t = &s->txn;
	struct evbuffer_iovec v;
	if (s->bdat_left > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			return false;
		size_t n = v.iov_len < s->bdat_left ? v.iov_len : (size_t)s->bdat_left;
		if (t->sp != NULL && !t->failed) {
			char *out = xmalloc(n + 2);
			size_t out_len;
			bool end;
			dotstream_feed(&t->ds, v.iov_base, n, out, &out_len, &end);
			store(s, out, out_len, t->ds.wire_bytes);
			free(out);
		}
		evbuffer_drain(in, n);
		s->bdat_left -= n;
		if (s->bdat_left > 0)
			return true;
	}
	/* the whole chunk is in */
	s->phase = PH_COMMAND;
	if (t->sp == NULL || t->failed) {
		session_reply(s, t->spool_error != 0 ? spool_error_reply(t->spool_error)
		                 : t->failed      ? RPL_BAD_SEQUENCE
		                                  : RPL_LOCAL_ERROR);
		txn_reset(s);
		return true;
	}
	if (t->too_big) {
		session_reply(s, RPL_SIZE_EXCEEDED);
		txn_reset(s);
		return true;
	}
	if (spool_error(t->sp) != 0) {
		/* a full disk shows at this chunk, not only at the last one */
		session_reply(s, spool_error_reply(spool_error(t->sp)));
		log_event(LOG_LVL_ERROR, "queue_refuse", "sid=%s qid=%s reason=%s", s->sid, t->qid,
		          strerror(spool_error(t->sp)));
		txn_reset(s);
		return true;
	}
	if (s->bdat_last) {
		dotstream_finish_raw(&t->ds);
		finish_message(s);
	} else {
		char *text = xasprintf("%llu octets received", (unsigned long long)t->ds.wire_bytes);
		session_reply_text(s, 250, "2.0.0", text);
		free(text);
	}
	return true;
}

bool data_consume(smtp_session *s, struct evbuffer *in)
{
	return s->phase == PH_DATA ? consume_data(s, in) : consume_bdat(s, in);
}

void bdat_command(smtp_session *s, const char *args)
{
	uint64_t size;
	bool last;
	if (!smtp_parse_bdat(args, &size, &last)) {
		/* without a size we cannot find the next command: close */
		session_close_with(s, RPL_BDAT_SYNTAX);
		return;
	}
	smtp_txn *t = &s->txn;
	/* The chunk's bytes are read (and thrown away if refused) in every
	 * case, so they can never be taken for commands. */
	s->phase = PH_BDAT;
	s->bdat_left = size;
	s->bdat_last = last;
	if (t->sp == NULL) {
		if (t->sender == NULL || t->rcpt_cmds.n == 0 || t->failed) {
			t->failed = true; /* answered once the chunk is read */
			return;
		}
		if (!begin_spool(s)) {
			t->failed = true;
			return;
		}
		t->bdat = true;
		dotstream_init_raw(&t->ds);
	}
}
