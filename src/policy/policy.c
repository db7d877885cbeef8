/* policy.c — names of stages and decisions, and the verdict's life (see
 * policy.h).  The one place where a refusal gets its default reply. */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

static const char *const stage_names[POLICY_STAGES] = {"connect", "helo", "mail", "rcpt", "data"};

const char *policy_stage_name(policy_stage st)
{
	return st < POLICY_STAGES ? stage_names[st] : "?";
}

bool policy_stage_parse(const char *name, policy_stage *st_r)
{
	for (int i = 0; i < POLICY_STAGES; i++)
		if (strcmp(name, stage_names[i]) == 0) {
			*st_r = (policy_stage)i;
			return true;
		}
	return false;
}

const char *policy_decision_name(policy_decision d)
{
	switch (d) {
	case POLICY_CONTINUE: return "continue";
	case POLICY_ACCEPT: return "accept";
	case POLICY_REJECT: return "reject";
	case POLICY_TEMPFAIL: return "tempfail";
	case POLICY_DISCARD: return "discard";
	}
	return "?";
}

void policy_verdict_init(policy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	strlist_init(&v->add_headers);
	strlist_init(&v->remove_headers);
	strlist_init(&v->add_rcpts);
	strlist_init(&v->matched);
}

void policy_verdict_free(policy_verdict *v)
{
	free(v->status);
	free(v->text);
	free(v->by);
	free(v->redirect);
	strlist_free(&v->add_headers);
	strlist_free(&v->remove_headers);
	strlist_free(&v->add_rcpts);
	strlist_free(&v->matched);
	policy_verdict_init(v);
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void policy_verdict_decide(policy_verdict *v, policy_decision d, int code, const char *status,
                           const char *text, const char *by)
{
	v->decision = d;
	v->code = code;
	set_str(&v->status, status);
	set_str(&v->text, text);
	set_str(&v->by, by);
}

void policy_verdict_reply(const policy_verdict *v, policy_stage st, int *code_r, const char **status_r,
                          const char **text_r)
{
	bool temp = v->decision == POLICY_TEMPFAIL;
	int code = v->code;
	if (code == 0)
		code = temp ? 451 : st == POLICY_CONNECT ? 554 : 550;
	const char *status = v->status;
	if (status == NULL)
		status = code / 100 == 4 ? "4.7.1" : "5.7.1";
	const char *text = v->text;
	if (text == NULL)
		text = temp ? "Try again later: refused for now by local policy" : "Refused by local policy";
	*code_r = code;
	*status_r = status;
	*text_r = text;
}
