/* pol_steps.h — the steps the policy runner (smtp/policy.c) calls at each
 * stage, one file each: pol_facts.c (the client's verified name),
 * pol_dnsbl.c (DNS lists), pol_rules.c (the rules), pol_defaults.c (the
 * built-in checks of port 25), pol_greylist.c,
 * pol_rate.c (rate limits), pol_milter.c (milters).  Each follows the
 * contract of policy_step in smtp/policy.h. */
#ifndef YUBIN_SMTP_POL_STEPS_H
#define YUBIN_SMTP_POL_STEPS_H

#include "smtp/policy.h"

void pol_facts_step(policy_run *r);
void pol_dnsbl_step(policy_run *r);
void pol_rules_step(policy_run *r);
void pol_defaults_step(policy_run *r);
void pol_greylist_step(policy_run *r);
void pol_rate_step(policy_run *r);
void pol_milter_step(policy_run *r);

/* Server start-up and shutdown of the steps' state (srv->dnsblq,
 * srv->greylist); the open functions return false with *err_r. */
bool pol_dnsbl_open(server *srv, char **err_r);
void pol_dnsbl_close(server *srv);
bool pol_greylist_open(server *srv, char **err_r);
void pol_greylist_close(server *srv);
/* The session ends: its DNS-list hits go. */
void pol_dnsbl_free(smtp_session *s);

/* pol_defaults.c: is the client in policy.trusted_networks? */
bool pol_trusted_client(const smtp_session *s);
/* The greeting pause: true when the 220 waits (the session is paused and
 * greets, or refuses an early talker, by itself later). */
bool pol_greet_later(smtp_session *s);
/* The session ends before its greeting. */
void pol_greet_cancel(smtp_session *s);

/* Does a step of this stage need the message's bytes (r->msg)?  The runner
 * reads them back from the spool once, before the steps of POLICY_DATA. */
bool pol_rules_want_message(const smtp_session *s);
bool pol_milter_want_message(const smtp_session *s);

/* Milters: the transaction ends (abort what a milter has of it) and the
 * session ends (say goodbye to each milter, close, free). */
typedef struct pol_milters pol_milters;
void pol_milter_txn_reset(smtp_session *s);
void pol_milter_session_end(smtp_session *s);

#endif
