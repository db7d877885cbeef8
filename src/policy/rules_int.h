/* rules_int.h — the shape of a compiled rule, shared by the reader
 * (rules.c) and the evaluator (eval.c) only. */
#ifndef YUBIN_POLICY_RULES_INT_H
#define YUBIN_POLICY_RULES_INT_H

#include "policy/match.h"
#include "policy/rules.h"

typedef enum cond_kind {
	C_CLIENT, C_CLIENT_NAME, C_HELO, C_ROLE, C_USER, C_AUTHENTICATED,
	C_SENDER, C_SENDER_DOMAIN, C_RCPT, C_RCPT_DOMAIN, C_SIZE_OVER,
	C_HEADER, C_BODY, C_SPF, C_DKIM, C_DMARC, C_DNSBL, C_DNSBL_SCORE,
	C_SPAM_SCORE, C_VIRUS, C_TIME, C_WEEKDAY,
} cond_kind;

typedef enum cmp_op { CMP_LT, CMP_LE, CMP_EQ, CMP_GE, CMP_GT } cmp_op;

typedef struct rule_cond {
	cond_kind kind;
	bool negate;
	policy_match *m;        /* patterns: any one matching is enough */
	size_t n_m;
	char *field;            /* C_HEADER: the field name */
	bool flag;              /* C_AUTHENTICATED, C_VIRUS (true/false form) */
	bool any_virus;         /* C_VIRUS = true */
	cmp_op op;              /* scores */
	double num;
	int64_t size;           /* C_SIZE_OVER */
	int from_min, to_min;   /* C_TIME: minutes of the day, [from, to) */
	unsigned days;          /* C_WEEKDAY: bit 0 Sunday .. 6 Saturday */
	unsigned roles;         /* C_ROLE: bit per listener_role */
} rule_cond;

typedef struct rule {
	char *name;
	int line;
	policy_stage stage;
	rule_cond *conds;
	size_t n_conds;
	policy_decision decision;   /* CONTINUE for the gathering actions */
	bool hold, junk;
	int code;
	char *status, *text;
	strlist add_headers, remove_headers, bcc;
	char *redirect;
} rule;

struct policy_rules {
	rule *v;
	size_t n;
	bool need_name, need_message;
};

#endif
