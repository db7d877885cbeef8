/* auditrec.c — the audit records of an SMTP session (see auditrec.h).
 * Owns which session facts go into RECEIVED and POLICY records and the
 * journal's matching; must not store records (audit/) or decide verdicts
 * (policy). */
#include "smtp/auditrec.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "envelope/dsnparam.h"
#include "lib/log.h"
#include "mime/charset.h"
#include "mime/header.h"
#include "smtp/policy.h"

#define HEAD_MAX 16384 /* header bytes kept for Subject and Message-ID */

void smtp_audit_header(smtp_session *s, const char *data, size_t n)
{
	smtp_txn *t = &s->txn;
	if (!audit_is_open())
		return;
	t->audit_size += n; /* the message as stored, DATA or BDAT */
	if (t->audit_head_done)
		return;
	if (t->audit_head == NULL)
		t->audit_head = xcalloc(1, HEAD_MAX + 1);
	size_t from = t->audit_head_len > 0 ? t->audit_head_len - 1 : 0;
	size_t room = HEAD_MAX - t->audit_head_len;
	size_t take = n < room ? n : room;
	memcpy(t->audit_head + t->audit_head_len, data, take);
	t->audit_head_len += take;
	t->audit_head[t->audit_head_len] = '\0';
	/* the blank line ends the header: nothing more is needed (only the
	 * new bytes are searched, so input in tiny pieces costs no more) */
	if (take < n || t->audit_head[0] == '\n' || strstr(t->audit_head + from, "\n\n") != NULL)
		t->audit_head_done = true;
}

/* Subject (as audit.subject says) and Message-ID from the kept header. */
static void header_facts(smtp_session *s, json_t *d)
{
	smtp_txn *t = &s->txn;
	if (t->audit_head == NULL)
		return;
	const char *h = t->audit_head;
	const char *end = strstr(h, "\n\n");
	size_t len = end ? (size_t)(end - h) + 1 : t->audit_head_len;
	char *mid = mime_header_value(h, 0, len, "Message-ID");
	audit_set(d, "message_id", mid);
	free(mid);
	char *raw = mime_header_value(h, 0, len, "Subject");
	char *subj = raw ? mime_decode_header(raw) : NULL;
	char *form = subj ? audit_subject_form(s->srv->cfg, subj) : NULL;
	audit_set(d, "subject", form);
	free(form);
	free(subj);
	free(raw);
}

static json_t *rcpt_array(const qenvelope *targets)
{
	json_t *a = json_array();
	for (size_t i = 0; i < targets->n_rcpts; i++)
		json_array_append_new(a, audit_str(targets->rcpts[i].address));
	return a;
}

void smtp_audit_received(smtp_session *s)
{
	if (!audit_is_open())
		return;
	smtp_txn *t = &s->txn;
	json_t *d = json_object();
	audit_set(d, "listener", s->api ? s->api->listener : config_role_name(s->lst->role));
	audit_set(d, "client_ip", s->ip);
	audit_set(d, "client_name", s->pol.client_name);
	audit_set(d, "helo", s->helo);
	if (conn_is_tls(s->c)) {
		audit_set(d, "tls_version", session_tls_version(s));
		audit_set(d, "tls_cipher", session_tls_cipher(s));
	}
	audit_set(d, "user", s->auth_user);
	audit_set(d, "app_password", s->auth_app);
	audit_set(d, "apikey", s->api ? s->api->apikey : NULL);
	json_object_set_new(d, "sender", audit_str(t->sender_rw ? t->sender_rw : t->sender));
	json_object_set_new(d, "rcpts", rcpt_array(&t->targets));
	json_object_set_new(d, "size", json_integer((json_int_t)t->audit_size));
	header_facts(s, d);
	audit_set(d, "spf", s->pol.spf);
	audit_set(d, "dkim", s->pol.dkim);
	audit_set(d, "dmarc", s->pol.dmarc);
	audit_emit(AUDIT_RECEIVED, t->qid, NULL, d);
	/* the verdicts of MAIL and RCPT, now that the message has its id */
	size_t i;
	json_t *p;
	json_array_foreach(t->audit_policy, i, p)
		audit_emit(AUDIT_POLICY, t->qid, json_string_value(json_object_get(p, "rcpt")), json_incref(p));
	json_array_clear(t->audit_policy);
	if (t->journaled)
		audit_emit(AUDIT_JOURNALED, t->qid, NULL,
		           json_pack("{s:s, s:o}", "journal_qid", t->qid, "to", audit_str(s->srv->cfg->audit.journal)));
}

void smtp_audit_policy(smtp_session *s, policy_stage st, const char *rcpt, const policy_verdict *v,
                       int code, const char *status, const char *text)
{
	if (!audit_is_open())
		return;
	smtp_txn *t = &s->txn;
	json_t *d = json_object();
	audit_set(d, "stage", policy_stage_name(st));
	audit_set(d, "decision", policy_decision_name(v->decision));
	audit_set(d, "by", v->by);
	if (v->matched.n > 0) {
		json_t *m = json_array();
		for (size_t i = 0; i < v->matched.n; i++)
			json_array_append_new(m, audit_str(v->matched.items[i]));
		json_object_set_new(d, "matched", m);
	}
	if (v->hold)
		json_object_set_new(d, "hold", json_true());
	if (v->junk)
		json_object_set_new(d, "junk", json_true());
	audit_set(d, "rcpt", rcpt);
	audit_set(d, "client_ip", s->ip);
	audit_set(d, "sender", t->sender);
	if (code != 0) {
		json_object_set_new(d, "code", json_integer(code));
		audit_set(d, "status", status);
		audit_set(d, "text", text);
	}
	if (t->sender == NULL) { /* connect, HELO: about no message */
		audit_emit(AUDIT_POLICY, NULL, rcpt, d);
		return;
	}
	if (t->audit_policy == NULL)
		t->audit_policy = json_array();
	json_array_append_new(t->audit_policy, d);
}

void smtp_audit_txn_end(smtp_session *s)
{
	smtp_txn *t = &s->txn;
	size_t i;
	json_t *p;
	json_array_foreach(t->audit_policy, i, p) /* a message refused at DATA has a queue id */
		audit_emit(AUDIT_POLICY, t->qid[0] ? t->qid : NULL, json_string_value(json_object_get(p, "rcpt")),
		           json_incref(p));
	json_decref(t->audit_policy);
	t->audit_policy = NULL;
	free(t->audit_head);
	t->audit_head = NULL;
	t->audit_head_len = 0;
	t->audit_size = 0;
	t->audit_head_done = false;
	t->journaled = false;
}

/* ---- journaling ---- */

/* addr's domain is dom or below it. */
static bool in_domain(const char *addr, const char *dom, size_t dlen)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	if (at == NULL || dlen == 0)
		return false;
	const char *d = at + 1;
	size_t n = strlen(d);
	return (n == dlen && strncasecmp(d, dom, dlen) == 0) ||
	       (n > dlen && d[n - dlen - 1] == '.' && strncasecmp(d + n - dlen, dom, dlen) == 0);
}

/* audit.journal_match: sender or any recipient in one of the domains. */
static bool journal_matches(smtp_session *s)
{
	const char *m = s->srv->cfg->audit.journal_match;
	if (m == NULL || m[strspn(m, " ,\t")] == '\0')
		return true;
	while (*m != '\0') {
		m += strspn(m, " ,\t");
		size_t len = strcspn(m, " ,\t");
		const char *dom = m[0] == '@' ? m + 1 : m;
		size_t dlen = m[0] == '@' ? len - 1 : len;
		if (in_domain(s->txn.sender, dom, dlen))
			return true;
		for (size_t i = 0; i < s->txn.rcpt_cmds.n; i++)
			if (in_domain(s->txn.rcpt_cmds.items[i], dom, dlen))
				return true;
		for (size_t i = 0; i < s->txn.targets.n_rcpts; i++)
			if (in_domain(s->txn.targets.rcpts[i].address, dom, dlen))
				return true;
		m += len;
	}
	return false;
}

bool smtp_journal_add(smtp_session *s)
{
	const char *to = s->srv->cfg->audit.journal;
	if (to == NULL || s->txn.sp == NULL || !journal_matches(s))
		return true;
	for (size_t i = 0; i < s->txn.targets.n_rcpts; i++)
		if (strcasecmp(s->txn.targets.rcpts[i].address, to) == 0)
			return true; /* sent to the journal itself: one copy is enough */
	if (!smtp_add_hidden_rcpt(s, to))
		return false;
	qenvelope env;
	txn_envelope(s, s->txn.qid, s->txn.time, &env);
	spool_set_envelope(s->txn.sp, &env);
	qenvelope_free_rcpts(&env);
	s->txn.journaled = true;
	return true;
}
