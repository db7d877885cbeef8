/* client.h — one connection to one milter (a content filter such as
 * rspamd or clamav-milter) for one SMTP session, on the event loop: it
 * connects, negotiates (version 6, the actions we carry out, the protocol
 * steps the filter wants and answers), then runs one stage of the
 * conversation at a time (connect, HELO, MAIL, RCPT, the message) and
 * reports the filter's answer.  Commands the filter said it does not want
 * are not sent; steps it said it does not answer are not waited for;
 * SMFIR_PROGRESS extends the wait; SMFIR_SKIP ends the body early.  The
 * message changes a filter asks for at the end of a message are kept, as
 * packets, for the caller (smtp/pol_milter.c) to apply.
 *
 * A filter that cannot be reached, stops answering (connect and reply
 * timeouts), closes or breaks the protocol fails the connection: the stage
 * ends with MILTER_FAILED and a sentence (milter_conn_error), and so does
 * every later one.  Nothing here blocks. */
#ifndef YUBIN_MILTER_CLIENT_H
#define YUBIN_MILTER_CLIENT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "milter/conf.h"
#include "milter/proto.h"

typedef enum milter_result {
	MILTER_CONTINUE,  /* go on (every answer was "continue") */
	MILTER_ACCEPT,    /* no objection and no more interest: skip this filter
	                   * for the rest of the message (of the session at
	                   * connect and HELO) */
	MILTER_REJECT,    /* SMFIR_REJECT */
	MILTER_TEMPFAIL,  /* SMFIR_TEMPFAIL */
	MILTER_REPLYCODE, /* SMFIR_REPLYCODE: milter_conn_reply() is the reply */
	MILTER_DISCARD,   /* SMFIR_DISCARD */
	MILTER_FAILED,    /* down, timed out, closed, or broke the protocol */
} milter_result;

const char *milter_result_name(milter_result r);

typedef struct milter_conn milter_conn;
typedef void milter_done_fn(void *arg, milter_result res);

/* Connect to def's filter and negotiate.  sid names the session in logs.
 * Commands may be queued and a stage run at once: they wait for the
 * negotiation. */
milter_conn *milter_conn_open(struct event_base *base, const milter_def *def, const char *sid);
/* Say goodbye (SMFIC_QUIT) if the filter is still there, close, free. */
void milter_conn_free(milter_conn **c);

/* Queue a command of the next stage (data[0, len) is copied).  step is
 * the SMFIP_NO* flag that makes the filter not want it (0: always sent),
 * noreply the SMFIP_NR_* flag that makes it not answer (0: always
 * answered; SMFIC_ABORT, SMFIC_MACRO and SMFIC_QUIT never are). */
void milter_stage_add(milter_conn *c, char cmd, const void *data, size_t len, uint32_t step, uint32_t noreply);
/* Queue the macros for command cmd (pairs of name and value; only those
 * the filter asked for at that stage when it asked); sent only if the
 * command after them is. */
void milter_stage_macros(milter_conn *c, char cmd, milter_macro_stage st, const char *const *pairs, size_t n);
/* Send what is queued and wait for the answers; done(arg, result) runs
 * once (perhaps before this returns). */
void milter_stage_run(milter_conn *c, milter_done_fn *done, void *arg);

/* The negotiated protocol steps (0 before the negotiation). */
uint32_t milter_conn_protocol(const milter_conn *c);
/* The negotiated actions. */
uint32_t milter_conn_actions(const milter_conn *c);
/* Why the connection failed (NULL if it has not). */
const char *milter_conn_error(const milter_conn *c);
/* The reply of MILTER_REPLYCODE ("550 5.7.1 text", lines CRLF-separated). */
const char *milter_conn_reply(const milter_conn *c);

/* The changes asked for at the end of the last message, in order: each a
 * whole reply packet (command byte, data).  The caller parses them with
 * milter_reply_parse and clears them. */
typedef struct milter_mod {
	char cmd;
	char *data;
	size_t len;
} milter_mod;
const milter_mod *milter_conn_mods(const milter_conn *c, size_t *n_r);
void milter_conn_clear_mods(milter_conn *c);

#endif
