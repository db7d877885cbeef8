/* login.c — password checks for every protocol (see login.h). */
#include "auth/login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "lib/addrkey.h"
#include "lib/log.h"
#include "lib/strutil.h"

typedef struct login_job login_job;

struct login_gate {
	int running, max;
	login_job *first, *last; /* waiting, in order */
};

struct login_job {
	login_job *next;      /* in the gate's line */
	login_ctx ctx;
	char sid[32];
	char ip[64];
	char addr[ADDRKEY_MAX]; /* the throttle's key of ip */
	char *user;           /* normalised; NULL when it is no address at all */
	char *password;
	char *hash;
	bool ok;
	struct event *delay;
	login_done_fn *done;
	void *arg;
};

login_gate *login_gate_new(int max)
{
	login_gate *g = xcalloc(1, sizeof(*g));
	g->max = max > 0 ? max : 1;
	return g;
}



static void job_free(login_job *j)
{
	if (j->delay != NULL)
		event_free(j->delay);
	free(j->user);
	str_secure_free(j->password);
	free(j->hash);
	free(j);
}

void login_gate_free(login_gate **g)
{
	if (*g == NULL)
		return;
	/* the server is going: checks still in line are never made */
	for (login_job *j = (*g)->first, *next; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	free(*g);
	*g = NULL;
}

static void work(void *arg)
{
	login_job *j = arg;
	j->ok = password_verify(j->password, j->hash) && j->user != NULL;
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	login_job *j = arg;
	j->done(j->arg, LOGIN_FAILED, NULL);
	job_free(j);
}

static void checked(void *arg);

/* Start the check now, or put it in line. */
static void gate_enter(login_job *j)
{
	login_gate *g = j->ctx.gate;
	if (g->running < g->max) {
		g->running++;
		workers_submit(j->ctx.wk, work, checked, j);
	} else if (g->last != NULL) {
		g->last->next = j;
		g->last = j;
	} else {
		g->first = g->last = j;
	}
}

/* A check is done: the next in line starts. */
static void gate_leave(login_gate *g)
{
	g->running--;
	login_job *n = g->first;
	if (n == NULL)
		return;
	g->first = n->next;
	if (g->first == NULL)
		g->last = NULL;
	n->next = NULL;
	g->running++;
	workers_submit(n->ctx.wk, work, checked, n);
}

static void checked(void *arg)
{
	login_job *j = arg;
	gate_leave(j->ctx.gate);
	time_t now = time(NULL);
	if (j->ok) {
		throttle_succeeded(j->ctx.thr, j->addr, j->user, now);
		log_event(LOG_LVL_INFO, "auth", "sid=%s client=%s user=%s result=ok", j->sid, j->ip, j->user);
		j->done(j->arg, LOGIN_OK, j->user);
		job_free(j);
		return;
	}
	int delay = throttle_failed(j->ctx.thr, j->addr, j->user, now);
	log_event(LOG_LVL_INFO, "auth", "sid=%s client=%s user=%s result=failed delay_ms=%d", j->sid,
	          j->ip, j->user, delay);
	struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
	j->delay = evtimer_new(j->ctx.base, on_delay, j);
	evtimer_add(j->delay, &tv);
}

static void on_locked(evutil_socket_t fd, short what, void *arg)
{
	login_job *j = arg;
	j->done(j->arg, LOGIN_LOCKED, NULL);
	job_free(j);
}

void login_check(const login_ctx *ctx, const char *sid, const char *ip, char *user, char *password,
                 login_done_fn *done, void *arg)
{
	login_job *j = xcalloc(1, sizeof(*j));
	j->ctx = *ctx;
	snprintf(j->sid, sizeof j->sid, "%s", sid);
	snprintf(j->ip, sizeof j->ip, "%s", ip);
	j->user = accounts_normalize(user);
	free(user);
	j->password = password;
	j->done = done;
	j->arg = arg;
	addrkey_of(j->ip, j->addr);
	throttle_scope refused = throttle_refused(ctx->thr, j->addr, j->user, time(NULL));
	if (refused != THROTTLE_NONE) {
		log_event(LOG_LVL_INFO, "auth", "sid=%s client=%s user=%s result=locked scope=%s", j->sid,
		          j->ip, j->user, throttle_scope_name(refused));
		j->delay = evtimer_new(ctx->base, on_locked, j); /* answered on the next turn */
		struct timeval zero = {0, 0};
		evtimer_add(j->delay, &zero);
		return;
	}
	if (j->user == NULL || accounts_user_get_hash(ctx->acc, j->user, &j->hash) != ACC_OK)
		j->hash = xstrdup(ctx->dummy_hash); /* the same work for unknown users */
	gate_enter(j);
}
