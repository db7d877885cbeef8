/* inject.c — an API message through an internal SMTP submission session
 * (see inject.h).  Owns the socketpair, the session's start and the
 * client job; must not decide what the replies mean for HTTP. */
#include "api/inject.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "delivery/smtpc.h"
#include "lib/log.h"

struct api_inject {
	server *srv;
	smtpc_job job;
	char *sender;
	char **rcpts;
	size_t n;
	char *body;
	size_t len;
	inject_done_fn *done;
	void *arg;
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

static void client_done(smtpc_job *job)
{
	api_inject *j = job->arg;
	char *qid = NULL;
	for (size_t i = 0; i < j->n && qid == NULL; i++)
		if (job->codes[i] / 100 == 2)
			qid = api_inject_qid(job->replies[i]);
	inject_outcome o = {.started = true, .n = j->n, .codes = job->codes, .replies = job->replies, .qid = qid};
	j->done(j->arg, &o);
	free(qid);
	inject_free(j);
}

static void not_started(evutil_socket_t fd, short what, void *arg)
{
	api_inject *j = arg;
	inject_outcome o = {.started = false, .n = j->n};
	j->done(j->arg, &o);
	inject_free(j);
}

static bool non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

api_inject *api_inject_start(server *srv, const char *ip, const smtp_identity *id, const char *sender,
                             const char *const *rcpts, size_t n, const char *body, size_t len,
                             inject_done_fn *done, void *arg)
{
	api_inject *j = xcalloc(1, sizeof(*j));
	j->srv = srv;
	j->done = done;
	j->arg = arg;
	j->sender = xstrdup(sender);
	j->rcpts = xcalloc(n ? n : 1, sizeof(char *));
	bool utf8 = non_ascii(sender);
	for (size_t i = 0; i < n; i++) {
		j->rcpts[i] = xstrdup(rcpts[i]);
		utf8 = utf8 || non_ascii(rcpts[i]);
	}
	j->n = n;
	j->body = xmalloc(len + 1);
	memcpy(j->body, body, len);
	j->body[len] = '\0';
	j->len = len;

	int sv[2] = {-1, -1};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0 ||
	    !smtp_session_start_internal(srv, sv[0], ip, id)) {
		if (sv[1] >= 0)
			close(sv[1]);
		log_event(LOG_LVL_WARN, "api_inject", "client=%s apikey=%s result=\"no internal session\"", ip,
		          id->apikey);
		j->later = evtimer_new(srv->base, not_started, j);
		struct timeval now = {0, 0};
		evtimer_add(j->later, &now);
		return j;
	}
	const config *cfg = srv->cfg;
	smtpc_job *c = &j->job;
	c->base = srv->base;
	c->helo = cfg->hostname;
	c->mx_host = "internal";
	c->given_fd = true;
	c->fd = sv[1];
	c->sender = j->sender;
	c->rcpts = (const char *const *)j->rcpts;
	c->n_rcpts = n;
	c->body = j->body;
	c->body_len = len;
	c->needs_smtputf8 = utf8;
	c->dsn_ret = DSN_RET_UNSET;
	c->connect_timeout = cfg->limits.command_timeout;
	c->command_timeout = cfg->limits.command_timeout;
	c->data_timeout = cfg->limits.data_timeout;
	c->done = client_done;
	c->arg = j;
	smtpc_start(c);
	return j;
}

void api_inject_cancel(api_inject **inj)
{
	api_inject *j = *inj;
	if (j == NULL)
		return;
	if (j->later == NULL)
		smtpc_abort(&j->job);
	inject_free(j);
	*inj = NULL;
}
