/* policy.h — the facts a policy decision is made on, the stages at which
 * they become known, and the verdict.  Shared by every part of the policy
 * layer (rules, DNS lists, greylisting, rate limits, milters, rewriting)
 * and by the protocol glue that runs them (smtp/policy.c).  Pure types: no
 * I/O here. */
#ifndef YUBIN_POLICY_POLICY_H
#define YUBIN_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/config.h"
#include "lib/strutil.h"

/* When in the SMTP dialogue a check runs: each stage knows what the
 * earlier ones knew and more. */
typedef enum policy_stage {
	POLICY_CONNECT,   /* client address (and its name, if a rule asks) */
	POLICY_HELO,      /* + HELO/EHLO name */
	POLICY_MAIL,      /* + envelope sender, SIZE=, authenticated user */
	POLICY_RCPT,      /* + one recipient (the one being given) */
	POLICY_DATA,      /* + the whole message and SPF/DKIM/DMARC results */
	POLICY_STAGES
} policy_stage;

const char *policy_stage_name(policy_stage st);
/* "connect", "helo", ...; false when name is none of them. */
bool policy_stage_parse(const char *name, policy_stage *st_r);

/* A DNS list the client or sender is on (policy/dnsbl.c fills these). */
typedef struct policy_dnsbl_hit {
	char *list;        /* the list's name in the config */
	char *answer;      /* the A record it returned, "127.0.0.2" */
	double weight;     /* negative for allow-lists (DNSWL) */
	char *subject;     /* what is listed: the client address or a domain */
	bool domain;       /* a domain list's hit (RHSBL) */
} policy_dnsbl_hit;

/* What is known about a connection and its message.  Fields not known yet
 * (or not looked up because no rule asks) are NULL / false; strings are
 * owned by whoever filled the struct. */
typedef struct policy_facts {
	const char *sid;
	const char *qid;             /* from POLICY_DATA on */
	const char *client_ip;
	const char *client_name;     /* forward-confirmed reverse name; "" when
	                              * it has none; NULL: not looked up */
	bool client_name_tempfail;   /* "" because a look-up failed for now */
	const char *helo;
	listener_role role;
	const char *user;            /* authenticated user, NULL if none */
	const char *sender;          /* envelope sender, "" for <> */
	const char *rcpt;            /* POLICY_RCPT: the recipient being given */
	const strlist *rcpts;        /* recipients accepted so far (at DATA: all) */
	uint64_t size;               /* SIZE= at MAIL, the real size at DATA */
	const char *msg;             /* POLICY_DATA: the message (LF line ends) */
	size_t msg_len;
	const char *spf, *dkim, *dmarc; /* "pass", "fail", ...; NULL unknown */
	const policy_dnsbl_hit *dnsbl;
	size_t n_dnsbl;
	double dnsbl_score;          /* sum of the hits' weights */
	bool has_spam_score;
	double spam_score;           /* from a milter (rspamd) */
	const char *virus;           /* name found by a milter; "" clean; NULL not scanned */
	time_t now;
} policy_facts;

/* What to do with the connection, the command or the message. */
typedef enum policy_decision {
	POLICY_CONTINUE,  /* no objection: go on */
	POLICY_ACCEPT,    /* take it; no later rule or greylisting applies */
	POLICY_REJECT,    /* 5xx */
	POLICY_TEMPFAIL,  /* 4xx */
	POLICY_DISCARD,   /* say 250, deliver nothing (logged) */
} policy_decision;

const char *policy_decision_name(policy_decision d);

/* The outcome of one stage.  A refusal carries its reply; the message
 * actions gather over the stages and are applied at the end of data. */
typedef struct policy_verdict {
	policy_decision decision;
	int code;                 /* reply code for REJECT / TEMPFAIL (0: the default) */
	char *status;             /* enhanced status, "5.7.1" (NULL: the default) */
	char *text;               /* reply text (NULL: the default) */
	char *by;                 /* who decided: "rule NAME", "dnsbl", "greylist",
	                           * "ratelimit NAME", "milter NAME" */
	bool hold;                /* keep in the queue until released */
	bool junk;                /* local recipients get it in Junk */
	strlist add_headers;      /* whole fields, "Name: value" */
	strlist remove_headers;   /* field names */
	strlist add_rcpts;        /* copies (BCC) */
	char *redirect;           /* every recipient replaced by this one */
	strlist matched;          /* every rule or check that matched, in order */
} policy_verdict;

void policy_verdict_init(policy_verdict *v);
void policy_verdict_free(policy_verdict *v);
/* Decide: set decision, reply and who decided (replacing any earlier). */
void policy_verdict_decide(policy_verdict *v, policy_decision d, int code, const char *status,
                           const char *text, const char *by);
/* The reply for a refusal: code, status and text with the defaults of
 * the stage filled in (REJECT 550 5.7.1 / connect 554 5.7.1; TEMPFAIL
 * 451 4.7.1).  Pointers into v or static strings. */
void policy_verdict_reply(const policy_verdict *v, policy_stage st, int *code_r, const char **status_r,
                          const char **text_r);

#endif
