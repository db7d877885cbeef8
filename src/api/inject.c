/* inject.c — an API message through an internal SMTP submission session
 * (see inject.h).  Owns the bufferevent pair, the session's start, the client
 * job, and the choice of a kept session (through delivery/connpool.h, the
 * pool outbound delivery uses too); must not decide what the replies mean
 * for HTTP. */
#include "api/inject.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "api/state.h"
#include "delivery/connpool.h"
#include "delivery/smtpc.h"
#include "lib/buf.h"
#include "lib/log.h"

struct api_inject {
	server *srv;
	connpool *pool;
	char *dest;               /* the pool's name for ip + identity */
	char *ip;
	smtp_identity id;
	smtpc_job job;
	char *sender;
	char **rcpts;
	size_t n;
	char *body;
	size_t len;
	bool utf8;
	bool requiretls;          /* MAIL ... REQUIRETLS */
	inject_done_fn *done;
	void *arg;
	bool waiting;             /* in the pool's line for a session */
	bool running;             /* job in flight (holds a slot) */
	bool retried;             /* a broken kept session was replaced once */
	struct event *later;      /* reports a session that could not start */
};

static void inject_free(api_inject *j)
{
	smtpc_job_clear(&j->job);
	for (size_t i = 0; i < j->n; i++)
		free(j->rcpts[i]);
	free(j->rcpts);
	free(j->sender);
	free(j->body);
	free(j->dest);
	free(j->ip);
	free(j->id.listener);
	free(j->id.apikey);
	strlist_free(&j->id.domains);
	if (j->later != NULL)
		event_free(j->later);
	free(j);
}

char *api_inject_qid(const char *reply)
{
	const char *p = strstr(reply, "queued as ");
	if (p == NULL || strncmp(reply, "250", 3) != 0)
		return NULL;
	p += 10;
	size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_");
	return n > 0 && n < 64 ? xstrndup(p, n) : NULL;
}

static void not_started(evutil_socket_t fd, short what, void *arg)
{
	api_inject *j = arg;
	inject_outcome o = {.started = false, .n = j->n};
	j->done(j->arg, &o);
	inject_free(j);
}

/* No session: give the slot back and say so on the next loop turn. */
static void report_not_started(api_inject *j)
{
	connpool_release(j->pool, j->dest, NULL);
	j->later = evtimer_new(j->srv->base, not_started, j);
	struct timeval now = {0, 0};
	evtimer_add(j->later, &now);
}

/* A broken kept session that the server never answered in this
 * transaction (smtpc's stale: closed or 421 while idle) decided nothing:
 * the message goes again, once, on a new session.  Anything else stands,
 * a lost final reply included (the body may have been queued). */
static bool worth_retry(const api_inject *j)
{
	return !j->retried && j->job.reuse != NULL && j->job.stale && j->job.kept == NULL;
}

static void client_done(smtpc_job *job);

/* The transaction on the slot now held: on idle (a kept session), or on a
 * new session. */
static void run(api_inject *j, smtpc_conn *idle)
{
	smtpc_job_clear(&j->job);
	const config *cfg = j->srv->cfg;
	smtpc_job *c = &j->job;
	*c = (smtpc_job){0};
	if (idle == NULL) {
		/* in memory: deferred callbacks, so that neither end runs inside
		 * the other's write */
		struct bufferevent *pair[2];
		if (bufferevent_pair_new(j->srv->base, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, pair) != 0) {
			log_event(LOG_LVL_WARN, "api_inject", "client=%s apikey=%s result=\"no internal session\"",
			          j->ip, j->id.apikey);
			report_not_started(j);
			return;
		}
		smtp_session_start_internal(j->srv, pair[0], j->ip, &j->id);
		c->given_bev = pair[1];
	}
	c->base = j->srv->base;
	c->reuse = idle;
	c->keep = true;
	c->pipe_body = true; /* our own server: a body to nobody costs nothing */
	c->helo = cfg->hostname;
	c->mx_host = "internal";
	c->sender = j->sender;
	c->rcpts = (const char *const *)j->rcpts;
	c->n_rcpts = j->n;
	c->body = j->body;
	c->body_len = j->len;
	c->needs_smtputf8 = j->utf8;
	c->requiretls = j->requiretls;
	c->dsn_ret = DSN_RET_UNSET;
	c->connect_timeout = cfg->limits.command_timeout;
	c->command_timeout = cfg->limits.command_timeout;
	c->data_timeout = cfg->limits.data_timeout;
	c->done = client_done;
	c->arg = j;
	j->running = true;
	smtpc_start(c);
}

static void client_done(smtpc_job *job)
{
	api_inject *j = job->arg;
	j->running = false;
	if (worth_retry(j)) {
		j->retried = true;
		log_event(LOG_LVL_INFO, "api_inject", "client=%s apikey=%s result=\"kept session closed; new session\"",
		          j->ip, j->id.apikey);
		run(j, NULL); /* on the same slot: the old session is gone */
		return;
	}
	connpool_release(j->pool, j->dest, job->kept); /* kept: for the next message */
	job->kept = NULL;
	char *qid = NULL;
	for (size_t i = 0; i < j->n && qid == NULL; i++)
		if (job->codes[i] / 100 == 2)
			qid = api_inject_qid(job->replies[i]);
	inject_outcome o = {.started = true, .n = j->n, .codes = job->codes, .replies = job->replies, .qid = qid};
	j->done(j->arg, &o);
	free(qid);
	inject_free(j);
}

/* The pool's answer after a wait: a slot, with a kept session or none. */
static void on_grant(void *arg, smtpc_conn *idle)
{
	api_inject *j = arg;
	j->waiting = false;
	if (j->srv->stopping) { /* no new work on a session now */
		if (idle != NULL)
			connpool_discard(j->pool, j->dest, idle);
		report_not_started(j);
		return;
	}
	run(j, idle);
}

static bool non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* Sessions are shared only by requests that would open the same one: the
 * same client address (its connection count, the policy's view), key and
 * domains (what the session may send as). */
static char *dest_of(const char *ip, const smtp_identity *id)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PRINTF(&b, "%s %s %s", ip, id->listener, id->apikey);
	for (size_t i = 0; i < id->domains.n; i++)
		BUF_PRINTF(&b, " %s", id->domains.items[i]);
	return buf_steal(&b);
}

api_inject *api_inject_start(server *srv, const char *ip, const smtp_identity *id, const char *sender,
                             const char *const *rcpts, size_t n, const char *body, size_t len,
                             bool requiretls, inject_done_fn *done, void *arg)
{
	api_inject *j = xcalloc(1, sizeof(*j));
	j->srv = srv;
	j->pool = srv->api->pool;
	j->done = done;
	j->arg = arg;
	j->ip = xstrdup(ip);
	j->id.listener = xstrdup(id->listener);
	j->id.apikey = xstrdup(id->apikey);
	strlist_init(&j->id.domains);
	for (size_t i = 0; i < id->domains.n; i++)
		strlist_add(&j->id.domains, id->domains.items[i]);
	j->dest = dest_of(ip, id);
	j->sender = xstrdup(sender);
	j->rcpts = xcalloc(n ? n : 1, sizeof(char *));
	j->utf8 = non_ascii(sender);
	for (size_t i = 0; i < n; i++) {
		j->rcpts[i] = xstrdup(rcpts[i]);
		j->utf8 = j->utf8 || non_ascii(rcpts[i]);
	}
	j->n = n;
	j->requiretls = requiretls;
	j->body = xmalloc(len + 1);
	memcpy(j->body, body, len);
	j->body[len] = '\0';
	j->len = len;
	smtpc_conn *idle = NULL;
	if (connpool_acquire(j->pool, j->dest, on_grant, j, &idle))
		run(j, idle);
	else
		j->waiting = true;
	return j;
}

void api_inject_cancel(api_inject **inj)
{
	api_inject *j = *inj;
	if (j == NULL)
		return;
	if (j->waiting) {
		connpool_cancel(j->pool, j);
	} else if (j->running) {
		smtpc_abort(&j->job); /* closes its session: not kept mid-way */
		connpool_release(j->pool, j->dest, NULL);
	}
	inject_free(j);
	*inj = NULL;
}
