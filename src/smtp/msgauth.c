/* msgauth.c — what happens to a message between its last byte and its
 * commit (see msgauth.h): mail an authenticated user submitted goes through
 * submission hygiene and DKIM signing (submit.c); mail on port 25 is
 * rewritten as rewrite.canonical / rewrite.masquerade say for inbound mail
 * (addrrewrite.c; the edits apply at the commit, so the checks see the
 * fields as they came), then checked (msgcheck.c), or, with the checks
 * off, only loses the Authentication-Results fields that claim our
 * authserv-id (RFC 8601 5: a forged field must not reach the user as if
 * we had written it). */
#include "smtp/msgauth.h"

#include <stdlib.h>

#include "lib/log.h"
#include "msgauth/authres.h"
#include "smtp/addrrewrite.h"
#include "smtp/msgcheck.h"
#include "smtp/submit.h"

const char *msgauth_authserv_id(const config *cfg)
{
	return cfg->msgauth.authserv_id ? cfg->msgauth.authserv_id : cfg->hostname;
}

/* Port 25 without the checks: only the forged fields go. */
typedef struct strip_job {
	smtp_session *s;
	msgauth_done_fn *done;
	char *authserv_id;
	authres_range *ours;
	size_t n;
	bool failed;
} strip_job;

static void strip_work(void *arg, const char *msg, size_t len)
{
	strip_job *j = arg;
	if (msg == NULL)
		j->failed = true;
	else
		j->ours = authres_find_ours(msg, len, j->authserv_id, &j->n);
}

static void strip_done(void *arg)
{
	strip_job *j = arg;
	smtp_session *s = j->s;
	msgauth_done_fn *done = j->done;
	for (size_t i = 0; i < j->n; i++)
		spool_drop(s->txn.sp, j->ours[i].start, j->ours[i].end);
	if (j->n > 0)
		log_event(LOG_LVL_INFO, "msgauth", "sid=%s qid=%s forged_authres_removed=%zu", s->sid, s->txn.qid, j->n);
	if (j->failed)
		log_event(LOG_LVL_ERROR, "msgauth", "sid=%s qid=%s error=\"the message could not be read back\"", s->sid,
		          s->txn.qid);
	bool failed = j->failed;
	free(j->ours);
	free(j->authserv_id);
	free(j);
	done(s, failed ? RPL_LOCAL_ERROR : RPL_COUNT);
}

static void strip_forged(smtp_session *s, msgauth_done_fn *done)
{
	if (!hdrscan_found(&s->txn.authres)) {
		/* no such field arrived: nothing to read back (the common case) */
		done(s, RPL_COUNT);
		return;
	}
	strip_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->done = done;
	j->authserv_id = xstrdup(msgauth_authserv_id(s->srv->cfg));
	spool_inspect(s->txn.sp, strip_work, strip_done, j);
}

/* Port 25 after the header rewriting: the checks, or the strip alone. */
static void check_received(smtp_session *s, msgauth_done_fn *done)
{
	const config_msgauth *m = &s->srv->cfg->msgauth;
	if (s->lst->role == ROLE_SMTP && m->verify && s->srv->dns != NULL && s->srv->psl != NULL)
		msgcheck_start(s, done);
	else
		strip_forged(s, done);
}

void msgauth_before_commit(smtp_session *s, msgauth_done_fn *done)
{
	if (s->auth_user != NULL)
		submit_start(s, done); /* rewrites the header itself, before it signs */
	else
		smtp_rewrite_inbound_headers(s, done, check_received);
}
