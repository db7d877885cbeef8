/* addrrewrite.c — the SMTP session's side of address rewriting and SRS
 * (see addrrewrite.h): which direction a session is, the log lines, the
 * SRS refusals, and the inbound header job.  Must not send replies (the
 * callers in commands.c and msgauth.c do) or decide addresses itself
 * (src/rewrite/ does). */
#include "smtp/addrrewrite.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "rewrite/rwmsg.h"
#include "rewrite/state.h"

rw_direction smtp_rewrite_direction(const smtp_session *s)
{
	return s->auth_user != NULL ? RW_OUTBOUND : RW_INBOUND;
}

char *smtp_rewrite_envelope(smtp_session *s, rw_target t, const char *address)
{
	const rewrite_state *st = s->srv->rewrite;
	if (st == NULL || address == NULL || *address == '\0')
		return NULL;
	rw_direction d = smtp_rewrite_direction(s);
	char *out = rw_rules_apply(st->rules, t, d, address);
	if (out != NULL)
		log_event(LOG_LVL_INFO, "rewrite", "sid=%s target=%s direction=%s old=%s new=%s", s->sid,
		          rw_target_name(t), d == RW_INBOUND ? "inbound" : "outbound", address, out);
	return out;
}

smtp_reply_id smtp_srs_reverse(smtp_session *s, const char *address, char **orig_r)
{
	const rewrite_state *st = s->srv->rewrite;
	*orig_r = NULL;
	if (!rewrite_is_our_srs(st, address))
		return RPL_COUNT;
	srs_status r = srs_reverse(&st->srs, address, time(NULL), orig_r);
	if (r == SRS_OK)
		log_event(LOG_LVL_INFO, "srs_reverse", "sid=%s address=%s result=ok original=%s", s->sid, address, *orig_r);
	else
		log_event(LOG_LVL_WARN, "srs_reverse", "sid=%s address=%s result=refused reason=%s", s->sid, address,
		          srs_status_text(r));
	switch (r) {
	case SRS_OK: return RPL_RCPT_OK;
	case SRS_EXPIRED: return RPL_SRS_EXPIRED;
	default: return RPL_SRS_FORGED;
	}
}

/* ---- inbound header fields ---- */

typedef struct hdr_job {
	smtp_session *s;
	msgauth_done_fn *done;
	smtp_rewrite_next_fn *next;
	size_t from;
	bool failed;
	rw_plan plan;
} hdr_job;

static void hdr_work(void *arg, const char *msg, size_t len)
{
	hdr_job *j = arg;
	if (msg == NULL) {
		j->failed = true;
		return;
	}
	rw_plan_header(j->s->srv->rewrite->rules, RW_INBOUND, msg, len, j->from <= len ? j->from : 0, &j->plan);
}


static void hdr_done(void *arg)
{
	hdr_job *j = arg;
	smtp_session *s = j->s;
	for (size_t i = 0; i < j->plan.n; i++)
		spool_replace(s->txn.sp, j->plan.e[i].start, j->plan.e[i].end, j->plan.e[i].text, j->plan.e[i].len);
	if (j->plan.n > 0 || j->plan.skipped.n > 0) {
		char *changed = rw_plan_list(&j->plan.changed), *skipped = rw_plan_list(&j->plan.skipped);
		log_event(LOG_LVL_INFO, "rewrite_header", "sid=%s qid=%s direction=inbound fields=%s skipped=%s", s->sid, s->txn.qid,
		          changed, skipped);
		free(changed);
		free(skipped);
	}
	msgauth_done_fn *done = j->done;
	smtp_rewrite_next_fn *next = j->next;
	bool failed = j->failed;
	rw_plan_free(&j->plan);
	free(j);
	if (failed) {
		log_event(LOG_LVL_ERROR, "rewrite_header", "sid=%s qid=%s error=\"the message could not be read back\"",
		          s->sid, s->txn.qid);
		done(s, RPL_LOCAL_ERROR);
		return;
	}
	next(s, done);
}

void smtp_rewrite_inbound_headers(smtp_session *s, msgauth_done_fn *done, smtp_rewrite_next_fn *next)
{
	const rewrite_state *st = s->srv->rewrite;
	if (st == NULL || !rw_rules_touch_headers(st->rules, RW_INBOUND)) {
		next(s, done);
		return;
	}
	hdr_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->done = done;
	j->next = next;
	j->from = s->txn.trace_len;
	spool_inspect(s->txn.sp, hdr_work, hdr_done, j);
}
