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
	bool stopping;
	login_job *first, *last; /* waiting, in order */
	login_job *timed;        /* answered when their timer runs out */
};

struct login_job {
	login_job *next;      /* in the gate's line, or its list of timed jobs */
	login_ctx ctx;
	char protocol[8];
	char sid[32];
	char ip[64];
	bool account_only;
	bool exists;          /* the account exists: the attempt is recorded */
	char apppw[SELFDB_APPPASS_LEN + 1]; /* the password as an app password, or "" */
	strlist app_names, app_hashes; /* the app passwords to check */
	int app;              /* index of the one that matched, or -1 */
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
	explicit_bzero(j->apppw, sizeof j->apppw);
	strlist_free(&j->app_names);
	strlist_free(&j->app_hashes);
	free(j->hash);
	free(j);
}

static void free_list(login_job *j)
{
	for (login_job *next; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
}

void login_gate_stop(login_gate *g)
{
	/* the server is going: checks in line are never made, delayed answers
	 * never given (their sessions go with the server) */
	if (g == NULL)
		return;
	g->stopping = true;
	free_list(g->first);
	free_list(g->timed);
	g->first = g->last = g->timed = NULL;
}

void login_gate_free(login_gate **g)
{
	if (*g == NULL)
		return;
	login_gate_stop(*g);
	free(*g);
	*g = NULL;
}

/* Answer j when its timer runs out (the delay after a failure, or the next
 * turn for a refusal); kept in a list so that a stop can free it. */
static void answer_later(login_job *j, event_callback_fn fn, int ms)
{
	login_gate *g = j->ctx.gate;
	j->delay = evtimer_new(j->ctx.base, fn, j);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(j->delay, &tv);
	j->next = g->timed;
	g->timed = j;
}

/* The timer ran out: j leaves the list. */
static void answered(login_job *j)
{
	for (login_job **pp = &j->ctx.gate->timed; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	job_free(j);
}

/* The app passwords the typed password may be (on the worker: the read
 * may wait for a log-in being recorded). */
static void find_app_candidates(login_job *j)
{
	if (j->account_only || j->ctx.self == NULL || !j->exists ||
	    !selfdb_apppass_normalize(j->password, j->apppw)) {
		j->apppw[0] = '\0';
		return;
	}
	if (selfdb_apppass_candidates(j->ctx.self, j->user, j->apppw, LOGIN_APP_CANDIDATES, &j->app_names,
	                              &j->app_hashes) != ACC_OK)
		log_event(LOG_LVL_WARN, "auth", "sid=%s user=%s error=\"cannot read the app passwords\"", j->sid,
		          j->user);
}

static void work(void *arg)
{
	login_job *j = arg;
	j->app = -1;
	find_app_candidates(j);
	for (size_t i = 0; i < j->app_hashes.n && j->app < 0; i++)
		if (password_verify(j->apppw, j->app_hashes.items[i]))
			j->app = (int)i;
	j->ok = (j->app >= 0 || password_verify(j->password, j->hash)) && j->user != NULL;
	if (!j->exists || j->ctx.self == NULL)
		return;
	/* recorded here, off the loop: a write can wait for the disk */
	time_t now = time(NULL);
	const char *app = j->app >= 0 ? j->app_names.items[j->app] : NULL;
	if (selfdb_login_record(j->ctx.self, j->user, j->protocol, j->ip, j->ok ? "ok" : "failed", app, now) !=
	    ACC_OK || (app != NULL && selfdb_apppass_used(j->ctx.self, j->user, app, now) != ACC_OK))
		log_event(LOG_LVL_WARN, "auth", "sid=%s user=%s error=\"cannot record the log-in\"", j->sid, j->user);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	login_job *j = arg;
	j->done(j->arg, LOGIN_FAILED, NULL, NULL);
	answered(j);
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
	if (n == NULL || g->stopping)
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
	if (j->ctx.gate->stopping) { /* finished while the server stops */
		job_free(j);
		return;
	}
	time_t now = time(NULL);
	if (j->ok) {
		const char *app = j->app >= 0 ? j->app_names.items[j->app] : NULL;
		throttle_succeeded(j->ctx.thr, j->addr, j->user, now);
		if (app != NULL)
			log_event(LOG_LVL_INFO, "auth", "sid=%s proto=%s client=%s user=%s app=\"%s\" result=ok", j->sid,
			          j->protocol, j->ip, j->user, app);
		else
			log_event(LOG_LVL_INFO, "auth", "sid=%s proto=%s client=%s user=%s result=ok", j->sid, j->protocol,
			          j->ip, j->user);
		j->done(j->arg, LOGIN_OK, j->user, app);
		job_free(j);
		return;
	}
	int delay = throttle_failed(j->ctx.thr, j->addr, j->user, now);
	log_event(LOG_LVL_INFO, "auth", "sid=%s proto=%s client=%s user=%s result=failed delay_ms=%d", j->sid,
	          j->protocol, j->ip, j->user, delay);
	answer_later(j, on_delay, delay);
}

static void on_locked(evutil_socket_t fd, short what, void *arg)
{
	login_job *j = arg;
	j->done(j->arg, LOGIN_LOCKED, NULL, NULL);
	answered(j);
}

void login_check(const login_ctx *ctx, const login_req *req, char *user, char *password,
                 login_done_fn *done, void *arg)
{
	login_job *j = xcalloc(1, sizeof(*j));
	j->ctx = *ctx;
	snprintf(j->protocol, sizeof j->protocol, "%s", req->protocol);
	snprintf(j->sid, sizeof j->sid, "%s", req->sid);
	snprintf(j->ip, sizeof j->ip, "%s", req->ip);
	j->account_only = req->account_only;
	strlist_init(&j->app_names);
	strlist_init(&j->app_hashes);
	j->user = accounts_normalize(user);
	free(user);
	j->password = password;
	j->done = done;
	j->arg = arg;
	addrkey_of(j->ip, j->addr);
	throttle_scope refused = throttle_refused(ctx->thr, j->addr, j->user, time(NULL));
	if (refused != THROTTLE_NONE) {
		log_event(LOG_LVL_INFO, "auth", "sid=%s proto=%s client=%s user=%s result=locked scope=%s", j->sid,
		          j->protocol, j->ip, j->user, throttle_scope_name(refused));
		answer_later(j, on_locked, 0); /* answered on the next turn */
		return;
	}
	j->exists = j->user != NULL && accounts_user_get_hash(ctx->acc, j->user, &j->hash) == ACC_OK;
	if (!j->exists) {
		free(j->hash);
		j->hash = xstrdup(ctx->dummy_hash); /* the same work for unknown users */
	}
	gate_enter(j);
}
