/* eval.c — evaluating the rules of one stage against its facts (see
 * rules.h).  Pure: the facts come in, the verdict goes out; the message's
 * decoded text is made at most once per evaluation, on first need. */
#include "policy/rules.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mime/charset.h"
#include "mime/header.h"
#include "mime/mime.h"
#include "mime/text.h"
#include "policy/rules_int.h"

typedef struct eval_state {
	const policy_facts *f;
	const policy_eval_env *env;
	bool have_text;
	buf text;                 /* decoded text of the message (body rules) */
	size_t hdr_end;           /* end of the message's header block */
	bool have_hdr_end;
} eval_state;

static bool any_pattern(const rule_cond *k, const char *v, size_t len, const eval_state *st)
{
	for (size_t i = 0; i < k->n_m; i++)
		if (policy_match_test(&k->m[i], v, len, st->env->lists))
			return true;
	return false;
}

static bool str_pattern(const rule_cond *k, const char *v, const eval_state *st)
{
	return v != NULL && any_pattern(k, v, strlen(v), st);
}

static const char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	return at ? at + 1 : addr ? "" : NULL;
}

static bool compare(cmp_op op, double a, double b)
{
	switch (op) {
	case CMP_LT: return a < b;
	case CMP_LE: return a <= b;
	case CMP_EQ: return a == b;
	case CMP_GE: return a >= b;
	case CMP_GT: return a > b;
	}
	return false;
}

/* The recipient at RCPT; at DATA any of them. */
static bool rcpt_cond(const rule_cond *k, const eval_state *st, bool domain)
{
	const policy_facts *f = st->f;
	if (f->rcpt != NULL)
		return str_pattern(k, domain ? domain_of(f->rcpt) : f->rcpt, st);
	for (size_t i = 0; f->rcpts != NULL && i < f->rcpts->n; i++)
		if (str_pattern(k, domain ? domain_of(f->rcpts->items[i]) : f->rcpts->items[i], st))
			return true;
	return false;
}

static size_t header_end(eval_state *st)
{
	if (!st->have_hdr_end) {
		const char *m = st->f->msg;
		size_t n = st->f->msg_len, pos = 0;
		mime_field fl;
		while (mime_header_next(m, n, &pos, &fl))
			;
		st->hdr_end = pos;
		st->have_hdr_end = true;
	}
	return st->hdr_end;
}

/* Every field called k->field, unfolded and with its encoded-words
 * decoded, against the patterns. */
static bool header_cond(const rule_cond *k, eval_state *st)
{
	const char *m = st->f->msg;
	if (m == NULL)
		return false;
	size_t end = header_end(st), pos = 0;
	mime_field fl;
	while (mime_header_next(m, end, &pos, &fl)) {
		if (!mime_field_is(m, &fl, k->field))
			continue;
		char *raw = mime_field_value(m, &fl);
		char *v = mime_decode_header(raw);
		const char *p = v;
		while (*p == ' ' || *p == '\t')
			p++;
		bool hit = any_pattern(k, p, strlen(p), st);
		free(raw);
		free(v);
		if (hit)
			return true;
	}
	return false;
}

static bool body_cond(const rule_cond *k, eval_state *st)
{
	if (st->f->msg == NULL)
		return false;
	if (!st->have_text) {
		mime_message *mm = mime_parse(st->f->msg, st->f->msg_len);
		mime_message_text(mm, &st->text);
		mime_free(&mm);
		st->have_text = true;
	}
	return any_pattern(k, st->text.data ? st->text.data : "", st->text.len, st);
}

static bool time_cond(const rule_cond *k, const policy_facts *f, bool weekday)
{
	struct tm tm;
	time_t now = f->now;
	localtime_r(&now, &tm);
	if (weekday)
		return (k->days >> tm.tm_wday) & 1u;
	int m = tm.tm_hour * 60 + tm.tm_min;
	return k->from_min < k->to_min ? m >= k->from_min && m < k->to_min : m >= k->from_min || m < k->to_min;
}

static bool dnsbl_cond(const rule_cond *k, const eval_state *st)
{
	for (size_t i = 0; i < st->f->n_dnsbl; i++)
		if (str_pattern(k, st->f->dnsbl[i].list, st))
			return true;
	return false;
}

static bool cond_holds(const rule_cond *k, eval_state *st)
{
	const policy_facts *f = st->f;
	switch (k->kind) {
	case C_CLIENT: return str_pattern(k, f->client_ip, st);
	case C_CLIENT_NAME: return str_pattern(k, f->client_name && *f->client_name ? f->client_name : "unknown", st);
	case C_HELO: return str_pattern(k, f->helo, st);
	case C_ROLE: return (k->roles >> f->role) & 1u;
	case C_USER: return str_pattern(k, f->user, st);
	case C_AUTHENTICATED: return (f->user != NULL) == k->flag;
	case C_SENDER: return str_pattern(k, f->sender, st);
	case C_SENDER_DOMAIN: return str_pattern(k, domain_of(f->sender), st);
	case C_RCPT: return rcpt_cond(k, st, false);
	case C_RCPT_DOMAIN: return rcpt_cond(k, st, true);
	case C_SIZE_OVER: return f->size > (uint64_t)k->size;
	case C_HEADER: return header_cond(k, st);
	case C_BODY: return body_cond(k, st);
	case C_SPF: return str_pattern(k, f->spf ? f->spf : "none", st);
	case C_DKIM: return str_pattern(k, f->dkim ? f->dkim : "none", st);
	case C_DMARC: return str_pattern(k, f->dmarc ? f->dmarc : "none", st);
	case C_DNSBL: return dnsbl_cond(k, st);
	case C_DNSBL_SCORE: return compare(k->op, f->dnsbl_score, k->num);
	case C_SPAM_SCORE: return f->has_spam_score && compare(k->op, f->spam_score, k->num);
	case C_VIRUS:
		if (k->any_virus)
			return (f->virus != NULL && *f->virus != '\0') == k->flag;
		return f->virus != NULL && *f->virus != '\0' && str_pattern(k, f->virus, st);
	case C_TIME: return time_cond(k, f, false);
	case C_WEEKDAY: return time_cond(k, f, true);
	}
	return false;
}

/* A condition on a fact that could not be found for now (the client's
 * name, when DNS failed) is "unknown"; a rule with one holds only as far
 * as its other conditions go. */
typedef enum rule_match { RM_NO, RM_YES, RM_UNKNOWN } rule_match;

static rule_match rule_holds(const rule *r, eval_state *st)
{
	bool unknown = false;
	for (size_t i = 0; i < r->n_conds; i++) {
		if (r->conds[i].kind == C_CLIENT_NAME && st->f->client_name_tempfail) {
			unknown = true;
			continue;
		}
		if (cond_holds(&r->conds[i], st) == r->conds[i].negate)
			return RM_NO;
	}
	return unknown ? RM_UNKNOWN : RM_YES;
}

static void gather(const rule *r, policy_verdict *v)
{
	v->hold |= r->hold;
	v->junk |= r->junk;
	for (size_t i = 0; i < r->add_headers.n; i++)
		strlist_add(&v->add_headers, r->add_headers.items[i]);
	for (size_t i = 0; i < r->remove_headers.n; i++)
		strlist_add(&v->remove_headers, r->remove_headers.items[i]);
	for (size_t i = 0; i < r->bcc.n; i++)
		strlist_add(&v->add_rcpts, r->bcc.items[i]);
	if (r->redirect != NULL) {
		free(v->redirect);
		v->redirect = xstrdup(r->redirect);
	}
}

void policy_rules_eval(const policy_rules *rs, policy_stage stage, const policy_facts *f,
                       const policy_eval_env *env, policy_verdict *v)
{
	if (rs == NULL)
		return;
	eval_state st = {.f = f, .env = env};
	buf_init(&st.text, env->body_limit);
	for (size_t i = 0; i < rs->n; i++) {
		const rule *r = &rs->v[i];
		if (r->stage != stage)
			continue;
		rule_match hm = rule_holds(r, &st);
		if (hm == RM_UNKNOWN && r->decision == POLICY_REJECT) {
			/* it might refuse for good on a fact we lack for now: defer,
			 * so that a DNS hiccup never bounces mail */
			if (env->trace != NULL)
				env->trace(env->trace_arg, r->name, true);
			strlist_add(&v->matched, r->name);
			char *by = xasprintf("rule %s", r->name);
			policy_verdict_decide(v, POLICY_TEMPFAIL, 450, "4.7.25",
			                      "Cannot look up your host name now; please try again later", by);
			free(by);
			break;
		}
		bool hit = hm == RM_YES;
		if (env->trace != NULL)
			env->trace(env->trace_arg, r->name, hit);
		if (!hit)
			continue;
		strlist_add(&v->matched, r->name);
		gather(r, v);
		if (r->decision != POLICY_CONTINUE) {
			char *by = xasprintf("rule %s", r->name);
			policy_verdict_decide(v, r->decision, r->code, r->status, r->text, by);
			free(by);
			break;
		}
	}
	buf_free(&st.text);
}
